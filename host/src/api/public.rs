//! `GET /public/ratings`: the public page of the latest published ratings (公示), with no
//! token, in Chinese and English, readable on a phone. `[rating] public_page = false`
//! switches it off.
//!
//! It shows only what a publication holds — seller ids, grades, scores, reasons and
//! measures — never personal data. HTML is written with `maud`, which escapes every
//! value (seller ids come from clients). The page needs no script: the search is a plain
//! form (`?q=`), and each grade links to its seller's reasons further down the page.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::rejection::query_problem;
use super::verdicts::store_problem;
use super::{AppState, Problem};
use crate::rating;

/// Most sellers one page lists; a search narrows it.
const MAX_SHOWN: usize = 500;

/// The query of the page.
#[derive(Debug, Deserialize)]
pub struct PageParams {
    /// A part of a seller id to look for.
    q: Option<String>,
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC',sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:16px}
h1{font-size:1.25rem;margin:0}h1 small{display:block;font-weight:normal;opacity:.85;font-size:.9rem}
main{padding:12px;max-width:960px;margin:auto}
.meta{font-size:.85rem;color:#555;margin:8px 0}
form{display:flex;gap:8px;margin:12px 0}input{flex:1;padding:10px;font-size:1rem;border:1px solid #bbb;border-radius:6px}
button{padding:10px 14px;font-size:1rem;border:0;border-radius:6px;background:#1f3a5f;color:#fff}
.counts{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0}.counts span{background:#fff;border-radius:6px;padding:4px 8px;font-size:.85rem}
.card{background:#fff;border-radius:8px;padding:12px;margin:8px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.row{display:flex;align-items:center;gap:12px}.seller{font-weight:600;word-break:break-all;flex:1}
.grade{display:inline-block;min-width:2.2em;text-align:center;font-weight:700;font-size:1.2rem;border-radius:6px;padding:4px 6px;color:#fff;text-decoration:none}
.A{background:#1a7f37}.B{background:#4d8f2a}.C{background:#b7791f}.D{background:#c2410c}.E{background:#b91c1c}.N{background:#6b7280}
.reason{font-size:.9rem;margin:6px 0 0}.en{color:#555}
.measure{font-size:.85rem;background:#fff4e5;border-left:3px solid #c2410c;padding:6px 8px;margin-top:6px}
section{scroll-margin-top:8px}
";

/// `GET /public/ratings[?q=]`.
pub async fn ratings(
    State(state): State<Arc<AppState>>,
    query: Result<Query<PageParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query.map_err(query_problem)?;
    if !state.reloader.running().config.rating.public_page {
        return Err(Problem::not_found(
            "the public ratings page is switched off (`[rating] public_page = false`)",
        ));
    }
    let store = state.store.as_ref();
    let latest = rating::publish::periods(store)
        .map_err(|err| store_problem(&state, err))?
        .pop();
    let period = match &latest {
        Some(summary) => rating::publish::period(store, &summary.period)
            .map_err(|err| store_problem(&state, err))?,
        None => None,
    };
    let query = params.q.unwrap_or_default();
    let page = render(period.as_ref(), query.trim());
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        page.into_string(),
    )
        .into_response())
}

fn text<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    let mut at = value;
    for key in path {
        at = &at[*key];
    }
    at.as_str().unwrap_or("")
}

fn render(period: Option<&Value>, query: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "商家信用评级公示 · Seller credit ratings" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "商家信用评级公示" small { "Seller credit ratings, as published" } }
                }
                main {
                    @match period {
                        None => p.card { "暂无公示。" br; span.en { "Nothing has been published yet." } },
                        Some(period) => (render_period(period, query)),
                    }
                }
            }
        }
    }
}

fn render_period(period: &Value, query: &str) -> Markup {
    let all: Vec<&Value> = period["ratings"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let needle = query.to_lowercase();
    let shown: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|r| needle.is_empty() || text(r, &["seller_id"]).to_lowercase().contains(&needle))
        .take(MAX_SHOWN)
        .collect();
    let counts = period["grades"].as_object().cloned().unwrap_or_default();
    html! {
        p.meta {
            "公示期 Period: " strong { (text(period, &["period"])) }
            " · 评级截至 As of: " (text(period, &["as_of"]))
            " · 发布 Published: " (text(period, &["published_at"]))
        }
        div.counts {
            @for (grade, count) in &counts {
                span { (grade) ": " (count.as_u64().unwrap_or(0)) }
            }
        }
        form method="get" action="/public/ratings" role="search" {
            input type="search" name="q" value=(query) placeholder="商家编号 Seller id" aria-label="商家编号 Seller id";
            button type="submit" { "查找 Find" }
        }
        @if shown.is_empty() {
            p.card { "没有找到商家。" br; span.en { "No seller matches." } }
        }
        @if shown.len() == MAX_SHOWN {
            p.meta { "仅显示前" (MAX_SHOWN) "家，请输入编号查找。 Showing the first " (MAX_SHOWN) "; search to find a seller." }
        }
        @for (k, r) in shown.iter().enumerate() {
            (summary_card(k, r))
        }
        h2 { "评级依据 · Reasons" }
        @for (k, r) in shown.iter().enumerate() {
            (reasons_section(k, r))
        }
    }
}

fn grade_of(r: &Value) -> (&str, &str) {
    match r["grade"].as_str() {
        Some(grade) => (grade, grade),
        None => ("未评级 Not rated", "N"),
    }
}

fn summary_card(k: usize, r: &Value) -> Markup {
    let (grade, class) = grade_of(r);
    let first = &r["reasons"][0];
    html! {
        div.card.seller-card data-seller=(text(r, &["seller_id"])) {
            div.row {
                span.seller { (text(r, &["seller_id"])) }
                @if let Some(score) = r["score"].as_f64() { span { (score) } }
                a class={"grade " (class)} href={"#s-" (k)} title="评级依据 Reasons" { (grade) }
            }
            @if first.is_object() {
                p.reason { (text(first, &["text", "zh"])) br; span.en { (text(first, &["text", "en"])) } }
            }
            @for m in r["measures"].as_array().into_iter().flatten() {
                div.measure { (text(m, &["notice_zh"])) br; span.en { (text(m, &["notice_en"])) } }
            }
        }
    }
}

fn reasons_section(k: usize, r: &Value) -> Markup {
    let (grade, _) = grade_of(r);
    html! {
        section.card id={"s-" (k)} {
            h3 { (text(r, &["seller_id"])) " · " (grade) }
            ul {
                @for reason in r["reasons"].as_array().into_iter().flatten() {
                    li.reason {
                        (text(reason, &["text", "zh"]))
                        @if let Some(effect) = reason["effect"].as_f64().filter(|e| *e != 0.0) { " (" (effect) ")" }
                        br; span.en { (text(reason, &["text", "en"])) }
                    }
                }
            }
            @for m in r["measures"].as_array().into_iter().flatten() {
                div.measure {
                    strong { (text(m, &["measure"])) } " · " (text(m, &["started_period"])) ": "
                    (text(m, &["notice_zh"])) br; span.en { (text(m, &["notice_en"])) }
                }
            }
        }
    }
}
