//! The built-in rules: what each one looks for, its category, its severity per product
//! class, and the law or practice behind it.
//!
//! Everything here is a default. A compliance team changes terms, severities and whole
//! rules through the plugin's `settings` (see `settings.rs`) without rebuilding; this table
//! is only what a deployment gets when it says nothing.

use probity_sdk::prelude::{Category, Severity};

/// The kind of product a listing is, from its `category` path. Rules apply per class:
/// a medical claim on a face cream is worse than on a mattress, and a drug may name the
/// illness it is approved for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Anything not in another class (and listings without a category).
    General,
    /// Food, drinks and dietary supplements.
    Food,
    /// Cosmetics and personal care.
    Cosmetics,
    /// Drugs and medical devices, which have their own, narrower advertising rules.
    Drug,
}

impl Class {
    /// Every class, in table order.
    pub const ALL: [Class; 4] = [Class::General, Class::Food, Class::Cosmetics, Class::Drug];

    /// The name used in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::General => "general",
            Class::Food => "food",
            Class::Cosmetics => "cosmetics",
            Class::Drug => "drug",
        }
    }

    /// The class named `name` in settings.
    pub fn parse(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|class| class.as_str() == name)
    }

    /// Position in per-class arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How a rule's terms are matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A term is a finding unless something around it says otherwise.
    Term,
    /// A claim of evidence ("studies show") is a finding only when no source is cited
    /// near it.
    NeedsSource,
}

/// One built-in rule.
pub struct RuleDef {
    /// The id without the plugin prefix: `absolute_term` (reported as `claims.absolute_term`).
    pub id: &'static str,
    /// The contract category of its findings.
    pub category: Category,
    /// How its terms are matched.
    pub kind: Kind,
    /// Severity per [`Class`] (indexed by [`Class::index`]); `None`: the rule does not
    /// apply to that class.
    pub severity: [Option<Severity>; 4],
    /// Whether describing the seller's own range ("our best model yet", 本店最畅销) takes
    /// the claim out of this rule (the absolute-term guidelines treat internal comparison
    /// as no comparison with competitors).
    pub self_comparable: bool,
    /// What one match is, for messages: "absolute term".
    pub what: &'static str,
    /// The legal basis or practice, for reviewers.
    pub basis: &'static str,
    /// The default terms, Chinese then English. English terms match whole words and
    /// ignore ASCII case.
    pub terms: &'static [&'static str],
}

use Severity::{Critical, High, Medium};

/// The same severity for every class.
const ALL: fn(Severity) -> [Option<Severity>; 4] = |s| [Some(s); 4];

/// The built-in rules, in report order.
pub fn builtin() -> Vec<RuleDef> {
    vec![
        RuleDef {
            id: "absolute_term",
            category: Category::MisleadingClaim,
            kind: Kind::Term,
            severity: ALL(High),
            self_comparable: true,
            what: "absolute term",
            basis: "PRC Advertising Law art. 9(3) bans superlatives such as 国家级, 最高级, 最佳",
            terms: ABSOLUTE,
        },
        RuleDef {
            id: "unproven_claim",
            category: Category::MisleadingClaim,
            kind: Kind::Term,
            severity: ALL(Medium),
            self_comparable: true,
            what: "claim that needs proof",
            basis: "PRC Advertising Law art. 4, 11 and 28: claims like 唯一, 独家, 100% must be true and provable",
            terms: UNPROVEN,
        },
        RuleDef {
            id: "medical_claim",
            category: Category::ProhibitedClaim,
            kind: Kind::Term,
            severity: [Some(High), Some(Critical), Some(Critical), None],
            self_comparable: false,
            what: "medical claim",
            basis: "PRC Advertising Law art. 17-18 and the cosmetics rules: only drugs and medical devices may claim to treat, cure or prevent disease (FTC health-claims guidance likewise)",
            terms: MEDICAL,
        },
        RuleDef {
            id: "clinical_claim",
            category: Category::ProhibitedClaim,
            kind: Kind::Term,
            severity: [None, Some(High), Some(High), None],
            self_comparable: false,
            what: "clinical or regulatory claim",
            basis: "supplements and cosmetics are not approved as drugs: \"clinically proven\" and \"FDA approved\" mislead (PRC Advertising Law art. 18, FTC health-claims guidance)",
            terms: CLINICAL,
        },
        RuleDef {
            id: "cosmeceutical",
            category: Category::ProhibitedClaim,
            kind: Kind::Term,
            severity: [None, None, Some(High), None],
            self_comparable: false,
            what: "drug-like cosmetics term",
            basis: "NMPA: cosmetics must not call themselves 药妆 or 医学护肤 (Cosmetics Supervision Regulation art. 37)",
            terms: COSMECEUTICAL,
        },
        RuleDef {
            id: "drug_guarantee",
            category: Category::ProhibitedClaim,
            kind: Kind::Term,
            severity: [None, None, None, Some(High)],
            self_comparable: false,
            what: "efficacy or safety guarantee",
            basis: "PRC Advertising Law art. 16(1)-(2): drug and device ads must not guarantee efficacy or safety or state cure rates",
            terms: DRUG_GUARANTEE,
        },
        RuleDef {
            id: "unsupported_evidence",
            category: Category::MisleadingClaim,
            kind: Kind::NeedsSource,
            severity: ALL(Medium),
            self_comparable: false,
            what: "evidence claim without a source",
            basis: "PRC Advertising Law art. 11: data, studies and quotations must be true and give their source",
            terms: EVIDENCE,
        },
        RuleDef {
            id: "state_endorsement",
            category: Category::ProhibitedClaim,
            kind: Kind::Term,
            severity: ALL(High),
            self_comparable: false,
            what: "state endorsement",
            basis: "PRC Advertising Law art. 9(2): no use of state organs or their staff (特供, 国宴)",
            terms: STATE,
        },
        RuleDef {
            id: "well_known_mark",
            category: Category::ProhibitedClaim,
            kind: Kind::Term,
            severity: ALL(High),
            self_comparable: false,
            what: "well-known trademark claim",
            basis: "PRC Trademark Law art. 14(5): 驰名商标 must not be used in advertising",
            terms: WELL_KNOWN_MARK,
        },
        RuleDef {
            id: "guaranteed_outcome",
            category: Category::ProhibitedClaim,
            kind: Kind::Term,
            severity: ALL(High),
            self_comparable: false,
            what: "guaranteed outcome",
            basis: "PRC Advertising Law art. 24-25: no promises of passing exams or of returns on investment",
            terms: GUARANTEED_OUTCOME,
        },
        RuleDef {
            id: "unfair_term",
            category: Category::MisleadingClaim,
            kind: Kind::Term,
            severity: ALL(Medium),
            self_comparable: false,
            what: "unfair standard term",
            basis: "Consumer Rights Protection Law art. 26: a seller cannot reserve the final interpretation of its own promotion",
            terms: UNFAIR_TERM,
        },
    ]
}

const ABSOLUTE: &[&str] = &[
    "国家级",
    "世界级",
    "全球级",
    "宇宙级",
    "最高级",
    "最佳",
    "最好",
    "最强",
    "最优",
    "最优秀",
    "最先进",
    "最顶级",
    "最便宜",
    "最低价",
    "顶级",
    "顶尖",
    "极品",
    "第一品牌",
    "全网最低",
    "全网最低价",
    "全网第一",
    "全国第一",
    "世界第一",
    "中国第一",
    "天下第一",
    "史上最低",
    "史上最强",
    "史无前例",
    "销量第一",
    "行业第一",
    "排名第一",
    "独一无二",
    "绝无仅有",
    "空前绝后",
    "无与伦比",
    "遥遥领先",
    "至尊",
    "NO.1",
    "NO1",
    "TOP1",
    "TOP.1",
    "best in the world",
    "world's best",
    "world's first",
    "world-class",
    "#1",
    "no. 1",
    "number one",
    "number 1",
    "unbeatable",
    "unrivaled",
    "unrivalled",
    "best ever",
    "lowest price ever",
    "lowest price online",
    "cheapest online",
    "best on the market",
    "first-ever",
    // The open family 最 + an adjective (最新, 最大, 最高 and 最低 state facts and specs).
    "最安全",
    "最有效",
    "最健康",
    "最天然",
    "最正宗",
    "最权威",
    "最专业",
    "最舒适",
    "最实惠",
    "最划算",
    "最耐用",
    "最畅销",
    "最热销",
    "最受欢迎",
    "最好用",
    "最放心",
    "最安心",
    "最环保",
    "最科学",
    "最营养",
    "最温和",
    "最纯正",
    "最地道",
    "最优质",
    "最靠谱",
    "最时尚",
    "最流行",
    "最值得",
    "最强大",
    "最精准",
    "最专注",
    "最保险",
    "最稳定",
    "最持久",
    // First and only: 首发, 首款 and a bare 第一 as a rank (ordinals are allowed phrases).
    "第一",
    "首发",
    "全网首发",
    "全球首发",
    "全国首发",
    "首款",
    "全球首款",
    "全国首款",
    // Pinyin of the commonest terms.
    "guojiaji",
    "zuijia",
    "zuihao",
    "dingji",
    "quanwangzuidi",
];

const UNPROVEN: &[&str] = &[
    "唯一",
    "独家",
    "首选",
    "首家",
    "首个",
    "万能",
    "100%",
    "百分百",
    "冠军",
    "领先",
    "完美",
    "极致",
    "永久",
    "领导品牌",
    "领袖品牌",
    "guaranteed",
    "perfect",
    "flawless",
    "ultimate",
    "miracle",
    "permanent",
    "permanently",
    "leading",
    "champion",
];

const MEDICAL: &[&str] = &[
    "治疗",
    "治愈",
    "根治",
    "疗效",
    "药效",
    "抗癌",
    "防癌",
    "治癌",
    "降血压",
    "降血糖",
    "降血脂",
    "降三高",
    "消炎",
    "抗炎",
    "无副作用",
    "无毒副作用",
    "包治",
    "药到病除",
    "防治",
    "抗病毒",
    "预防疾病",
    "治病",
    "祖传秘方",
    "miracle cure",
    "anti-cancer",
    "anticancer",
    "cancer-fighting",
    "no side effects",
    // Health claims on ordinary foods, supplements and children's products.
    "增强免疫力",
    "提高免疫力",
    "提升免疫力",
    "增强抵抗力",
    "提高抵抗力",
    "增强体质",
    "预防感冒",
    "预防疾病",
    "排毒",
    "减肥",
    "壮阳",
    "补肾壮阳",
    "告别三高",
    "告别高血压",
    "告别糖尿病",
    "降尿酸",
    "boosts immunity",
    "boost immunity",
    "boosts your immunity",
    "boosts the immune system",
    "boosts your immune system",
    "boost your immune system",
    "immune booster",
    "immune-boosting",
    "strengthens immunity",
    "detoxifies",
    "burns fat",
    "fat burner",
];

const CLINICAL: &[&str] = &[
    "clinically proven",
    "FDA approved",
    "FDA-approved",
    "FDA认证",
    "FDA批准",
    "FDA认可",
];

const COSMECEUTICAL: &[&str] = &[
    "药妆",
    "医学护肤",
    "医用护肤",
    "医护级",
    "械字号",
    "cosmeceutical",
    "medical-grade skincare",
    "medical grade skincare",
];

const DRUG_GUARANTEE: &[&str] = &[
    "根治",
    "保证治愈",
    "包治",
    "治愈率",
    "有效率",
    "无副作用",
    "无毒副作用",
    "药到病除",
    "100%有效",
    "百分百有效",
    "完全治愈",
    "彻底治愈",
    "永不复发",
    "一次根治",
    "无效退款",
    "guaranteed cure",
    "guaranteed to cure",
    "no side effects",
    "100% effective",
    "cure rate",
    "permanent cure",
];

const EVIDENCE: &[&str] = &[
    "临床证明",
    "临床验证",
    "临床试验证明",
    "研究表明",
    "研究证明",
    "研究显示",
    "实验证明",
    "实验表明",
    "科学证明",
    "专家推荐",
    "医生推荐",
    "专家证实",
    "clinically proven",
    "studies show",
    "research shows",
    "research proves",
    "scientifically proven",
    "proven by science",
    "doctor recommended",
    "doctor-recommended",
];

const STATE: &[&str] = &[
    "特供",
    "国宴",
    "国家领导人",
    "人民大会堂",
    "中南海",
    "部队特供",
    "军队特供",
];

const WELL_KNOWN_MARK: &[&str] = &["驰名商标", "well-known trademark"];

const GUARANTEED_OUTCOME: &[&str] = &[
    "包过",
    "保过",
    "保证通过",
    "保本",
    "稳赚",
    "稳赚不赔",
    "保收益",
    "保底收益",
    "只赚不赔",
    "包赚",
    "guaranteed returns",
    "guaranteed profit",
    "risk-free investment",
    "guaranteed pass",
];

const UNFAIR_TERM: &[&str] = &[
    "最终解释权",
    "right of final interpretation",
    "final interpretation",
];
