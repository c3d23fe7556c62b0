//! The `claims` plugin's rules one by one, natively through the SDK harness: what each
//! rule catches (with exact spans), every false-positive trap of the issue, and what a
//! compliance team can change in settings.

use probity_sdk::prelude::*;
use probity_sdk::testing::{self, Harness};

fn harness(settings: &str) -> Harness<claims::Claims> {
    Harness::new(settings).expect("valid settings")
}

struct Listing {
    title: String,
    description: Option<String>,
    category: Option<String>,
    attributes: Vec<(String, String)>,
}

fn listing(title: &str) -> Listing {
    Listing {
        title: title.into(),
        description: None,
        category: None,
        attributes: Vec::new(),
    }
}

impl Listing {
    fn description(mut self, text: &str) -> Self {
        self.description = Some(text.into());
        self
    }
    fn category(mut self, category: &str) -> Self {
        self.category = Some(category.into());
        self
    }
    fn attribute(mut self, key: &str, value: &str) -> Self {
        self.attributes.push((key.into(), value.into()));
        self
    }
    fn envelope(self, id: &str) -> Envelope {
        let record = ListingUpserted {
            listing_id: id.into(),
            seller_id: "S-1".into(),
            title: self.title,
            price: testing::money("10.00", "CNY"),
            description: self.description,
            category: self.category,
            reference_price: None,
            attributes: self.attributes,
            language: None,
        };
        Envelope::new(format!("e-{id}"), 0, Event::ListingUpserted(record))
    }
}

fn findings(settings: &str, listing: Listing) -> Vec<Finding> {
    let outcome = harness(settings).handle(listing.envelope("L-1"));
    assert!(outcome.errors().is_empty(), "{:?}", outcome.errors());
    outcome.findings().into_iter().cloned().collect()
}

fn rules(listing: Listing) -> Vec<String> {
    findings("{}", listing)
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn an_absolute_term_is_reported_with_field_span_and_excerpt() {
    let found = findings("{}", listing("国家级品质 面霜"));
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.rule, "claims.absolute_term");
    assert_eq!(f.category, Category::MisleadingClaim);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.subject, Subject::listing("L-1"));
    let e = &f.evidence[0];
    assert_eq!(e.field, "title");
    assert_eq!(e.span, Some(Span { start: 0, end: 9 }));
    assert_eq!(e.excerpt.as_deref(), Some("国家级"));
}

#[test]
fn every_match_of_a_rule_is_evidence_of_one_finding() {
    let found = findings(
        "{}",
        listing("最好的茶").description("We are the best in the world. 销量第一！"),
    );
    assert_eq!(found.len(), 1);
    let excerpts: Vec<_> = found[0]
        .evidence
        .iter()
        .map(|e| (e.field.as_str(), e.excerpt.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        excerpts,
        [
            ("title", "最好"),
            ("description", "best in the world"),
            ("description", "销量第一")
        ]
    );
}

#[test]
fn each_rule_catches_its_claims() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("唯一获得认证的品牌", None, "claims.unproven_claim"),
        ("100%纯天然", None, "claims.unproven_claim"),
        ("Flawless skin, guaranteed", None, "claims.unproven_claim"),
        ("降血糖 苦瓜茶", Some("food/tea"), "claims.medical_claim"),
        (
            "This cream treats eczema and psoriasis",
            Some("cosmetics/skincare"),
            "claims.medical_claim",
        ),
        ("Cures arthritis pain fast", None, "claims.medical_claim"),
        (
            "Clinically proven collagen",
            Some("health/supplements"),
            "claims.clinical_claim",
        ),
        (
            "FDA approved face serum",
            Some("beauty/serum"),
            "claims.clinical_claim",
        ),
        (
            "药妆级修护精华",
            Some("cosmetics/skincare"),
            "claims.cosmeceutical",
        ),
        (
            "止痛贴 一次根治",
            Some("drugs/otc"),
            "claims.drug_guarantee",
        ),
        (
            "研究表明能提升睡眠质量",
            None,
            "claims.unsupported_evidence",
        ),
        (
            "Scientifically proven to boost focus",
            None,
            "claims.unsupported_evidence",
        ),
        ("国宴特供白酒", None, "claims.state_endorsement"),
        ("中国驰名商标 老字号", None, "claims.well_known_mark"),
        (
            "考证培训 包过",
            Some("education/courses"),
            "claims.guaranteed_outcome",
        ),
        (
            "Guaranteed returns of 12% a year",
            None,
            "claims.guaranteed_outcome",
        ),
        ("满减活动，最终解释权归本店所有", None, "claims.unfair_term"),
    ];
    for (title, category, rule) in cases {
        let mut l = listing(title);
        if let Some(category) = category {
            l = l.category(category);
        }
        assert_eq!(rules(l), [rule.to_string()], "{title}");
    }
}

#[test]
fn medical_claims_are_critical_on_cosmetics_and_food_high_elsewhere_and_not_for_drugs() {
    let severity = |category: Option<&str>| {
        let mut l = listing("消炎 祛痘");
        if let Some(c) = category {
            l = l.category(c);
        }
        findings("{}", l)
            .first()
            .map(|f| (f.rule.clone(), f.severity))
    };
    let medical = |s| Some(("claims.medical_claim".to_string(), s));
    assert_eq!(
        severity(Some("cosmetics/skincare")),
        medical(Severity::Critical)
    );
    assert_eq!(severity(Some("food/snacks")), medical(Severity::Critical));
    assert_eq!(severity(Some("home/bedding")), medical(Severity::High));
    assert_eq!(severity(None), medical(Severity::High));
    assert_eq!(
        severity(Some("drugs/otc")),
        None,
        "a drug may name its indication"
    );
    assert_eq!(severity(Some("medical-devices/thermometers")), None);
}

/// A title, its category, and its attributes.
type Trap<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);

#[test]
fn none_of_the_false_positive_traps_is_flagged() {
    let traps: &[Trap] = &[
        ("第一次使用请先阅读说明书，第一步清洁面部", None, &[]),
        ("下单后第一时间发货", None, &[]),
        ("最近到货 最新款 最后一批", None, &[]),
        (
            "鲜牛奶 最佳赏味期7天，最好冷藏保存",
            Some("food/dairy"),
            &[],
        ),
        ("比上一代续航提升30%，本店最畅销的款式", None, &[]),
        (
            "Our lightest model yet, compared to our previous generation",
            None,
            &[],
        ),
        ("一级能效 变频空调", None, &[]),
        ("特级初榨橄榄油 500ml", Some("food/oil"), &[]),
        ("冠军 运动卫衣", None, &[("brand", "冠军")]),
        (
            "Champion hoodie, reverse weave",
            None,
            &[("brand", "Champion")],
        ),
        ("极品飞车 游戏典藏版", None, &[("series", "极品飞车")]),
        (
            "完美日记 口红",
            Some("beauty/makeup"),
            &[("品牌", "完美日记")],
        ),
        ("我们不是全网最便宜的，但品质有保障", None, &[]),
        ("We don't claim to be the best in the world", None, &[]),
        ("100%棉 短袖T恤", None, &[]),
        ("100% cotton crew neck", None, &[]),
        (
            "Epoxy resin cures in 24 h, UV-cure available",
            Some("tools/adhesives"),
            &[],
        ),
        ("Chicken dog treats for training", Some("pets/food"), &[]),
        ("Best before: see lid", Some("food/snacks"), &[]),
        ("Self-healing cutting mat A3", None, &[]),
        (
            "布洛芬缓释胶囊 用于缓解轻至中度疼痛，治疗感冒引起的发热",
            Some("drugs/otc"),
            &[],
        ),
        (
            "鱼油软胶囊 本品不能代替药物",
            Some("health/supplements"),
            &[],
        ),
        (
            "保健食品不是药物，不能代替药物治疗疾病",
            Some("health/supplements"),
            &[],
        ),
        (
            "Vitamin D3. This product is not intended to diagnose, treat, cure, or prevent any disease.",
            Some("health/supplements"),
            &[],
        ),
        ("库存保本价清仓", None, &[]),
    ];
    for (title, category, attributes) in traps {
        let mut l = listing(title);
        if let Some(category) = category {
            l = l.category(category);
        }
        for (k, v) in *attributes {
            l = l.attribute(k, v);
        }
        assert_eq!(rules(l), Vec::<String>::new(), "trap flagged: {title}");
    }
}

#[test]
fn attribute_values_are_checked_and_only_registered_product_names_are_not() {
    let found = findings(
        "{}",
        listing("祛痘凝胶")
            .category("cosmetics/skincare")
            .attribute("功效", "治疗痤疮")
            .attribute("品牌", "冠军"),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule, "claims.medical_claim");
    assert_eq!(found[0].evidence[0].field, "attributes.功效");
    // A brand the platform never registered is text the seller typed.
    let found = findings(
        "{}",
        listing("祛痘凝胶")
            .category("cosmetics/skincare")
            .attribute("品牌", "顶级"),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule, "claims.absolute_term");
    assert_eq!(found[0].evidence[0].field, "attributes.品牌");
    let off = r#"{"scan_attributes": false}"#;
    let l = listing("祛痘凝胶")
        .category("cosmetics/skincare")
        .attribute("功效", "治疗痤疮");
    assert!(findings(off, l).is_empty());
}

#[test]
fn an_evidence_claim_with_a_source_is_not_reported() {
    assert_eq!(
        rules(listing("研究表明每日饮用有助睡眠")),
        ["claims.unsupported_evidence"]
    );
    assert!(
        rules(listing(
            "研究表明每日饮用有助睡眠（来源：《营养学报》2024年第3期）"
        ))
        .is_empty()
    );
    assert!(
        rules(listing(
            "Studies show better sleep (Source: Smith et al., 2023)"
        ))
        .is_empty()
    );
}

#[test]
fn an_external_scope_beats_a_self_comparison() {
    assert!(rules(listing("本店最好的一款")).is_empty());
    assert_eq!(rules(listing("我家是全网最低价")), ["claims.absolute_term"]);
}

#[test]
fn a_fixed_listing_clears_its_findings() {
    let mut h = harness("{}");
    let first = h.handle(listing("最好的面霜").envelope("L-1"));
    assert_eq!(first.rules(), ["claims.absolute_term"]);
    let fixed = h.handle(listing("滋润面霜").envelope("L-1"));
    let cleared = fixed.findings();
    assert_eq!(cleared.len(), 1);
    assert_eq!(cleared[0].rule, "claims.absolute_term");
    assert_eq!(cleared[0].severity, Severity::Info);
    assert!(cleared[0].message.starts_with("cleared"));
    assert!(
        h.handle(listing("滋润面霜").envelope("L-1"))
            .findings()
            .is_empty(),
        "cleared once"
    );
}

#[test]
fn teams_add_and_remove_terms_and_change_severities_in_settings() {
    let settings = r#"{
        "rules": {
            "absolute_term": {"add": ["宇宙第一"], "remove": ["最好"]},
            "unproven_claim": {"severity": "low"},
            "medical_claim": {"severity": {"general": "off"}},
            "slogan": {"category": "other", "terms": ["秒杀全网"], "severity": "high", "what": "banned slogan"}
        },
        "allow_phrases": {"add": ["顶级食材"]}
    }"#;
    let got = |title: &str| -> Vec<(String, Severity)> {
        findings(settings, listing(title))
            .into_iter()
            .map(|f| (f.rule, f.severity))
            .collect()
    };
    assert_eq!(
        got("宇宙第一面霜"),
        [("claims.absolute_term".into(), Severity::High)]
    );
    assert!(got("最好的面霜").is_empty());
    assert!(got("顶级食材").is_empty());
    assert_eq!(
        got("独家配方"),
        [("claims.unproven_claim".into(), Severity::Low)]
    );
    assert!(got("消炎 床垫").is_empty());
    assert_eq!(
        got("秒杀全网的价格"),
        [("claims.slogan".into(), Severity::High)]
    );
}

#[test]
fn bad_settings_are_refused_with_the_path_of_the_setting() {
    let refused = |settings: &str| {
        Harness::<claims::Claims>::new(settings)
            .err()
            .map(|e| e.field)
    };
    assert_eq!(
        refused(r#"{"rules": {"absolute_term": {"remove": ["no such term"]}}}"#).as_deref(),
        Some("rules.absolute_term.remove[0]")
    );
    assert_eq!(
        refused(r#"{"rules": {"absolute_term": {"severity": "severe"}}}"#).as_deref(),
        Some("rules.absolute_term.severity")
    );
    assert_eq!(
        refused(r#"{"rules": {"nonsense": {"add": ["x"]}}}"#).as_deref(),
        Some("rules.nonsense")
    );
    assert_eq!(
        refused(r#"{"price": {"window_days": 0}}"#).as_deref(),
        Some("price.window_days")
    );
    assert_eq!(
        refused(r#"{"allow_phrases": {"add": [""]}}"#).as_deref(),
        Some("allow_phrases.add[0]")
    );
    assert_eq!(
        refused(r#"{"rules": {"medical_claim": {"severity": {"pets": "high"}}}}"#).as_deref(),
        Some("rules.medical_claim.severity.pets")
    );
    assert_eq!(refused(r#"{"unknown": 1}"#).as_deref(), Some("unknown"));
}

#[test]
fn full_width_forms_and_spacing_tricks_are_seen_through_with_original_spans() {
    let excerpts = |title: &str| -> Vec<(String, u32, u32, String)> {
        findings("{}", listing(title))
            .into_iter()
            .flat_map(|f| {
                let rule = f.rule.clone();
                f.evidence.into_iter().map(move |e| {
                    let span = e.span.expect("span");
                    (
                        rule.clone(),
                        span.start,
                        span.end,
                        e.excerpt.unwrap_or_default(),
                    )
                })
            })
            .collect()
    };
    let title = "ＮＯ．１ 面霜";
    let got = excerpts(title);
    assert_eq!(
        got,
        [("claims.absolute_term".into(), 0, 12, "ＮＯ．１".into())]
    );
    assert_eq!(&title[0..12], "ＮＯ．１");
    assert_eq!(
        excerpts("国 家 级品质"),
        [("claims.absolute_term".into(), 0, 11, "国 家 级".into())]
    );
    assert_eq!(
        excerpts("最\u{200B}好的面霜"),
        [("claims.absolute_term".into(), 0, 9, "最\u{200B}好".into())]
    );
    assert_eq!(
        excerpts("１００％有效"),
        [("claims.unproven_claim".into(), 0, 12, "１００％".into())]
    );
    assert!(
        excerpts("１００％棉 T恤").is_empty(),
        "full-width fibre content"
    );
    assert!(excerpts("Hello World 你好").is_empty());
}
