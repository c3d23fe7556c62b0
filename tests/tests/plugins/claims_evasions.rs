//! What a seller (or a real catalogue) does to the `claims` plugin (issue 20): attributes
//! that try to exempt a claim, obfuscated spellings, real category taxonomies, whole
//! families of claims, and the false positives a naive list brings. Each of these failed
//! before the issue's fixes.

use probity_sdk::prelude::*;
use probity_sdk::testing::{self, Harness};

fn check(
    settings: &str,
    title: &str,
    category: Option<&str>,
    attributes: &[(&str, &str)],
) -> Vec<Finding> {
    check_full(settings, title, None, category, attributes)
}

fn check_full(
    settings: &str,
    title: &str,
    description: Option<&str>,
    category: Option<&str>,
    attributes: &[(&str, &str)],
) -> Vec<Finding> {
    let mut harness: Harness<claims::Claims> = Harness::new(settings).expect("valid settings");
    let record = ListingUpserted {
        listing_id: "L-1".into(),
        seller_id: "S-1".into(),
        title: title.into(),
        price: testing::money("10.00", "CNY"),
        description: description.map(str::to_string),
        category: category.map(str::to_string),
        reference_price: None,
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        language: None,
    };
    let outcome = harness.handle(Envelope::new("e-1", 0, Event::ListingUpserted(record)));
    assert!(outcome.errors().is_empty(), "{:?}", outcome.errors());
    outcome.findings().into_iter().cloned().collect()
}

fn rules_of(findings: &[Finding]) -> Vec<String> {
    let mut rules: Vec<String> = findings
        .iter()
        .map(|f| f.rule.trim_start_matches("claims.").to_string())
        .collect();
    rules.sort();
    rules
}

fn rules(title: &str) -> Vec<String> {
    rules_of(&check("{}", title, None, &[]))
}

fn rules_in(title: &str, category: &str) -> Vec<String> {
    rules_of(&check("{}", title, Some(category), &[]))
}

/// Every finding's evidence excerpt is the original bytes its span points at.
fn spans_are_original(title: &str, findings: &[Finding]) {
    for finding in findings {
        for evidence in &finding.evidence {
            if let (Some(span), Some(excerpt)) = (&evidence.span, &evidence.excerpt)
                && evidence.field == "title"
            {
                assert_eq!(
                    &title[span.start as usize..span.end as usize],
                    excerpt,
                    "{title}"
                );
            }
        }
    }
}

#[test]
fn a_seller_cannot_switch_the_plugin_off_with_its_own_attributes() {
    let title = "国家级抗癌神药";
    let plain = rules(title);
    assert!(plain.contains(&"absolute_term".to_string()), "{plain:?}");
    for (key, value) in [
        ("name", title),
        ("brand", title),
        ("Brand", "级"),
        ("model", "国家级"),
        ("品牌", "国家级"),
        ("型号", "抗癌"),
        ("商品名称", title),
        ("NAME", "国家级抗癌神药"),
    ] {
        let got = rules_of(&check("{}", title, None, &[(key, value)]));
        assert_eq!(got, plain, "attribute {key} = {value}");
    }
    let english = "Herbal tea that cures cancer";
    let plain = rules(english);
    assert!(!plain.is_empty());
    let got = rules_of(&check("{}", english, None, &[("brand", "cure")]));
    assert_eq!(got, plain, "brand = cure");
}

#[test]
fn only_a_registered_name_matching_the_brand_exactly_is_exempt_and_never_from_a_health_claim() {
    let settings = r#"{"registered_names": {"add": ["冠军", "Forever"]}}"#;
    // The sportswear brand 冠军, registered by the platform and given as the brand.
    let found = check(settings, "冠军 纯棉运动卫衣", None, &[("brand", "冠军")]);
    assert!(found.is_empty(), "{:?}", rules_of(&found));
    // Not the brand field (or not exactly): no exemption.
    let found = check(
        settings,
        "冠军 纯棉运动卫衣",
        None,
        &[("brand", "冠军体育")],
    );
    assert_eq!(rules_of(&found), ["unproven_claim"]);
    let found = check(settings, "冠军 纯棉运动卫衣", None, &[]);
    assert_eq!(rules_of(&found), ["unproven_claim"]);
    // A registered name never hides a health claim, and the exemption is shown.
    let settings = r#"{"registered_names": {"add": ["抗癌"]}}"#;
    let found = check(
        settings,
        "冠军 抗癌 保健茶 顶级",
        None,
        &[("brand", "抗癌")],
    );
    let got = rules_of(&found);
    assert!(got.contains(&"medical_claim".to_string()), "{got:?}");
    assert!(got.contains(&"absolute_term".to_string()), "{got:?}");
    let found = check(
        settings,
        "冠军 纯棉运动卫衣 顶级",
        None,
        &[("brand", "冠军")],
    );
    assert_eq!(rules_of(&found), ["absolute_term"]);
    let shown = found[0].evidence.iter().any(|e| {
        e.field == "attributes.brand" && e.detail.as_deref().is_some_and(|d| d.contains("冠军"))
    });
    assert!(shown, "{:?}", found[0].evidence);
}

#[test]
fn obfuscated_spellings_are_seen_through_with_original_spans() {
    for title in [
        "国·家·级 面霜",
        "国・家・级 面霜",
        "国.家.级 面霜",
        "国-家-级 面霜",
        "国*家*级 面霜",
        "国\u{00AD}家级 面霜",
        "国家\u{034F}级 面霜",
        "国\u{180E}家级 面霜",
        "国家级\u{FE0F} 面霜",
        "国\u{202E}家级 面霜",
        "國家級 面霜",
        "頂級 面霜",
        "銷量第一 面霜",
        "guojiaji mianshuang",
        "Zuijia face cream",
        "best-in-the-world face cream",
        "best  in  the   world face cream",
        "the world’s first face cream",
        "b\u{0435}st in the world face cream",
        "N0.1 face cream",
    ] {
        let found = check("{}", title, None, &[]);
        assert_eq!(rules_of(&found), ["absolute_term"], "{title}");
        spans_are_original(title, &found);
    }
    let found = check("{}", "本品可治癒濕疹", None, &[]);
    assert_eq!(rules_of(&found), ["medical_claim"]);
}

#[test]
fn real_category_taxonomies_are_understood() {
    // Cosmetics-only and food-only rules fire on real taxonomy paths.
    for category in [
        "美容护肤/面部精华",
        "美妆/护肤/面霜",
        "Beauty & Personal Care > Skin Care > Serums",
        "Beauty & Personal Care > Skin Care > Face > Creams & Moisturizers",
    ] {
        assert_eq!(
            rules_in("药妆级修护精华", category),
            ["cosmeceutical"],
            "{category}"
        );
    }
    for category in [
        "食品/保健食品/维生素",
        "食品饮料/休闲零食",
        "Health & Household > Vitamins",
        "Grocery & Gourmet Food > Snacks",
    ] {
        assert_eq!(
            rules_in("FDA认证 复合维生素片", category),
            ["clinical_claim"],
            "{category}"
        );
    }
    // A licensed pharmacy's cold medicine states its indication.
    for category in [
        "药品/感冒药",
        "医药/OTC/感冒发烧",
        "Health & Household > Health Care > Cold & Flu",
    ] {
        assert!(
            rules_in("感冒灵颗粒 用于治疗感冒引起的头痛发热", category).is_empty(),
            "{category}"
        );
    }
    // A registered medical device, whatever its category, is not a medical claim.
    let found = check_full(
        "{}",
        "电子血压计 家用 上臂式",
        Some("用于测量血压，辅助治疗高血压患者的日常监测。注册证号：苏械注准20212070123"),
        Some("家用电器/个护健康"),
        &[],
    );
    assert!(found.is_empty(), "{:?}", rules_of(&found));
    // Teams extend the mapping in settings.
    let settings = r#"{"categories": {"cosmetics": {"add": ["我的分类/特调"]}}}"#;
    assert!(rules_in("药妆级修护精华", "我的分类/特调").is_empty());
    let found = check(settings, "药妆级修护精华", Some("我的分类/特调"), &[]);
    assert_eq!(rules_of(&found), ["cosmeceutical"]);
}

#[test]
fn whole_families_of_claims_are_caught() {
    for title in [
        "最安全的婴儿奶瓶",
        "最有效的驱蚊液",
        "全网首发 新款蓝牙耳机",
        "全球首发 智能手表",
        "行业第一 净水器",
        "The best coffee maker in the world",
        "#1 rated air fryer",
        "Unbeatable quality office chair",
    ] {
        assert_eq!(rules(title), ["absolute_term"], "{title}");
    }
    for (title, category) in [
        ("儿童益生菌 增强免疫力", "食品/保健食品"),
        ("蜂蜜柠檬茶 预防感冒", "食品/饮料"),
        ("酵素果冻 排毒减肥", "食品/休闲零食"),
        ("玛咖片 壮阳补肾", "食品/保健食品"),
        ("苦瓜茶 告别三高", "食品/茶饮"),
        (
            "Elderberry gummies boost immunity",
            "Grocery & Gourmet Food > Snacks",
        ),
        (
            "Vitamin C drink prevents colds",
            "Grocery & Gourmet Food > Beverages",
        ),
        (
            "Say goodbye to high blood pressure with this tea",
            "Grocery & Gourmet Food > Tea",
        ),
    ] {
        assert_eq!(rules_in(title, category), ["medical_claim"], "{title}");
    }
}

#[test]
fn naive_lists_bring_no_false_positives() {
    for title in [
        "100%棉 纯色T恤",
        "100% wool winter scarf",
        "Size #1 crochet hook",
        "南孚 1号电池 2节装",
        "No.1 grit sanding sponge",
        "Compact first aid kit for travel",
        "Best before date printed on the lid",
        "2026最新款 连衣裙",
    ] {
        assert!(rules(title).is_empty(), "{title}: {:?}", rules(title));
    }
    // Negation must not suppress a real claim.
    for title in [
        "不是最好的不卖 面霜",
        "Don't miss the world's best face cream",
    ] {
        assert_eq!(rules(title), ["absolute_term"], "{title}");
    }
}
