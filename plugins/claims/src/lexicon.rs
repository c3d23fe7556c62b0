//! The default word lists that keep the rules honest: phrases that look like a claim but
//! are not (usage hints, ordinals, grades, disclaimers, product names), negations, signs
//! of self-comparison, citations, and the two halves of an English medical claim.
//!
//! Every list can be edited in settings (`add`, `remove`, or `replace`).

/// Phrases that are never a claim. A term overlapping one of them is not reported:
/// `最佳赏味期` hides `最佳`, `第一次` hides the `第一` of `销量第一次破万`.
pub const ALLOW_PHRASES: &[&str] = &[
    // Ordinals and fixed phrases.
    "第一次",
    "第一步",
    "第一时间",
    "第一天",
    "第一代",
    "第一季",
    "第一批",
    "第一眼",
    "第一口",
    "第一件",
    "第一单",
    "第一期",
    "第一课",
    "第一站",
    // Usage hints.
    "最佳赏味期",
    "最佳食用期",
    "最佳饮用期",
    "最佳使用期",
    "最佳保存",
    "最佳观赏期",
    "最佳饮用温度",
    "最佳食用温度",
    "最好冷藏",
    "最好冷冻",
    "最好在",
    "最好不要",
    "最好放",
    "最好避免",
    "最好用温水",
    "最好先",
    // Standard grades and technical terms.
    "一级能效",
    "特级初榨",
    "顶级域名",
    // Mandatory and voluntary disclaimers.
    "不能代替药物治疗",
    "不能替代药物治疗",
    "不能代替药品治疗",
    "不能代替药物",
    "不能替代药物",
    "不能代替药品",
    "不能替代药品",
    "不具有疾病治疗",
    "不具有治疗",
    "不能治疗疾病",
    "不能治疗",
    "不能治愈",
    "不能预防",
    "并非药品",
    "不是药品",
    "不是药物",
    "非药品",
    // Words that contain a term across their own boundary: 面包过敏 is not 包过, 确保过塑
    // is not 保过, 独特供应链 is not 特供. Chinese has no spaces, so these guard the short
    // terms. (The price: 确保本金 no longer reads as 保本.)
    "面包",
    "钱包",
    "书包",
    "背包",
    "红包",
    "打包",
    "承包",
    "确保",
    "担保",
    "环保",
    "独特",
    "奇特",
    "治愈系",
    // Factual uses.
    "唯一序列号",
    "唯一编号",
    "唯一标识",
    "唯一识别码",
    "唯一码",
    "唯一ID",
    // Product names and ordinary products.
    "万能表",
    "万能胶",
    "万能充",
    "万能钥匙",
    "万能轮",
    "万能插座",
    "完美日记",
    "永久牌",
    "永久自行车",
    "极品飞车",
    "保本价",
    // English.
    "best before",
    "best by",
    "best if used by",
    "self-healing",
    "satisfaction guaranteed",
    "dog treats",
    "dog treat",
    "cat treats",
    "cat treat",
    "pet treats",
    "puppy treats",
    "training treats",
    "uv-cure",
    "uv cure",
    "uv-cured",
    "uv-curing",
    "not intended to diagnose, treat, cure, or prevent any disease",
    "not intended to diagnose, treat, cure or prevent any disease",
];

/// What [`CONTENT_TERMS`] may be followed by without being a claim: fibre and material
/// content. `100%` (or `百分百`) followed in the same clause, within
/// [`MATERIAL_REACH`] words or characters, by one of these is a content statement
/// (`100%棉`, `100%新疆长绒棉`, `100% organic merino wool`).
pub const MATERIALS: &[&str] = &[
    "棉",
    "纯棉",
    "全棉",
    "长绒棉",
    "精梳棉",
    "有机棉",
    "羊毛",
    "羊绒",
    "山羊绒",
    "蚕丝",
    "桑蚕丝",
    "真丝",
    "涤纶",
    "聚酯纤维",
    "亚麻",
    "锦纶",
    "氨纶",
    "粘纤",
    "莫代尔",
    "牛皮",
    "真皮",
    "头层牛皮",
    "纯铜",
    "实木",
    "原木",
    "纯果汁",
    "果汁",
    "cotton",
    "organic cotton",
    "pure cotton",
    "wool",
    "merino",
    "merino wool",
    "silk",
    "mulberry silk",
    "linen",
    "polyester",
    "cashmere",
    "leather",
    "nylon",
    "bamboo",
    "juice",
    "solid wood",
    "recycled",
];

/// The terms that a following material turns into a content statement.
pub const CONTENT_TERMS: &[&str] = &["100%", "百分百"];

/// How far (in words or CJK characters) a material may follow a content term.
pub const MATERIAL_REACH: usize = 6;

/// Words that deny what follows in the same clause: `我们不是全网最便宜的`.
pub const NEGATIONS: &[&str] = &[
    "不是",
    "并非",
    "并不是",
    "绝非",
    "绝不是",
    "不敢说",
    "不敢称",
    "不宣称",
    "不承诺",
    "不保证",
    "不属于",
    "不具有",
    "不具备",
    "没有",
    "不代表",
    "不等于",
    "not",
    "never",
    "no",
    "isn't",
    "aren't",
    "don't",
    "doesn't",
    "cannot",
    "can't",
    "won't",
];

/// Signs that a superlative compares the seller's own products (本店最畅销, "our best
/// model yet", 比上一代): not a comparison with competitors.
pub const SELF_COMPARISONS: &[&str] = &[
    "本店",
    "店内",
    "本品牌",
    "我们家",
    "我家",
    "自家",
    "上一代",
    "上代",
    "前代",
    "前一代",
    "老款",
    "旧款",
    "同系列",
    "本系列",
    "our previous",
    "previous generation",
    "previous model",
    "last generation",
    "our range",
    "in our store",
    "in our shop",
    "our own",
];

/// Words that make a comparison external again, overriding [`SELF_COMPARISONS`]:
/// `我家是全网最低价` still compares with the whole internet.
pub const EXTERNAL_SCOPES: &[&str] = &[
    "全网", "全国", "全球", "世界", "史上", "行业", "国家", "中国", "天下", "world", "industry",
    "ever", "internet", "market",
];

/// Signs that an evidence claim cites its source: `研究表明（来源：《…》2024）`. These
/// match at the start of a word only, so `NCT0` finds trial ids like `NCT02948543`.
pub const SOURCE_MARKERS: &[&str] = &[
    "《",
    "来源",
    "出处",
    "数据来自",
    "报告编号",
    "检测报告",
    "参考文献",
    "文献",
    "注册号",
    "doi:",
    "doi.org",
    "source:",
    "sources:",
    "according to",
    "et al",
    "journal",
    "NCT0",
    "[1]",
    "study no",
    "report no",
];

/// English verbs that, followed by an illness in the same clause, make a medical claim
/// (`cures acne`); alone they are ordinary words (`epoxy cures in 24 h`).
pub const MEDICAL_VERBS: &[&str] = &[
    "cure",
    "cures",
    "cured",
    "curing",
    "treat",
    "treats",
    "treating",
    "heal",
    "heals",
    "healing",
    "prevent",
    "prevents",
    "preventing",
    "reverse",
    "reverses",
    "reversing",
    "eliminate",
    "eliminates",
];

/// Illnesses and conditions that complete a medical claim.
pub const CONDITIONS: &[&str] = &[
    "cancer",
    "cancers",
    "tumor",
    "tumors",
    "tumour",
    "tumours",
    "diabetes",
    "hypertension",
    "high blood pressure",
    "arthritis",
    "acne",
    "eczema",
    "psoriasis",
    "rosacea",
    "dermatitis",
    "infection",
    "infections",
    "inflammation",
    "covid",
    "covid-19",
    "coronavirus",
    "virus",
    "viruses",
    "flu",
    "influenza",
    "insomnia",
    "depression",
    "anxiety",
    "alzheimer's",
    "alzheimer",
    "dementia",
    "asthma",
    "disease",
    "diseases",
    "illness",
    "illnesses",
    "hair loss",
    "alopecia",
    "obesity",
    "migraine",
    "migraines",
    "osteoporosis",
    "hepatitis",
    "ulcer",
    "ulcers",
    "herpes",
    "gout",
    "wounds",
];

/// Attribute keys whose values name the product (brand, model): a term inside such a name
/// is the name, not a claim (`冠军` the sportswear brand, `极品飞车` the game). Their values
/// are not scanned either.
pub const NAME_ATTRIBUTES: &[&str] = &[
    "brand",
    "model",
    "series",
    "product_name",
    "name",
    "品牌",
    "型号",
    "系列",
    "品名",
    "商品名称",
];

/// Brand and product names registered by the platform whose words would otherwise read
/// as claims: the sportswear brand 冠军 (Champion), the bicycle maker 永久 (Forever), Perfect Diary
/// (完美日记). Exempt only when a listing's brand (or other name attribute) is exactly one
/// of them; teams add their marketplace's registry in settings.
pub const REGISTERED_NAMES: &[&str] = &[
    "冠军",
    "Champion",
    "永久",
    "Forever",
    "完美日记",
    "Perfect Diary",
];

/// Markers of a registration number of a licensed drug (国药准字) or medical device
/// (械注准, 械注进, 械备: China's NMPA formats, e.g. 苏械注准20212070123).
pub const DRUG_REGISTRATIONS: &[&str] = &["国药准字", "械注准", "械注进", "械注许", "械备"];

/// Category entries per product class (see `rules::Class` and `category`): an entry with a
/// `/` is a path prefix (the longest wins); any entry also names its class inside one
/// segment of a real taxonomy path (`美容护肤/面部精华`, `Beauty & Personal Care > Skin
/// Care > Serums`), the deepest segment first. Matching ignores ASCII case.
pub const FOOD_CATEGORIES: &[&str] = &[
    "food",
    "grocery",
    "beverages",
    "drinks",
    "snacks",
    "supplements",
    "health/supplements",
    "health-food",
    "health_food",
    "食品",
    "保健食品",
    "保健品",
    "营养品",
    "酒水",
    "生鲜",
    "饮料",
    "饮品",
    "茶饮",
    "茶叶",
    "冲饮",
    "零食",
    "粮油",
    "乳品",
    "奶粉",
    "维生素",
    "膳食补充",
    "gourmet",
    "vitamin",
    "vitamins",
    "dietary supplements",
    "nutrition",
    "snack",
    "beverage",
    "tea",
    "coffee",
];

/// See [`FOOD_CATEGORIES`].
pub const COSMETICS_CATEGORIES: &[&str] = &[
    "cosmetics",
    "beauty",
    "skincare",
    "makeup",
    "personal-care",
    "personal_care",
    "美妆",
    "化妆品",
    "护肤",
    "个护",
    "美容",
    "彩妆",
    "面膜",
    "精华",
    "面霜",
    "香水",
    "洗护",
    "skin care",
    "hair care",
    "personal care",
    "serums",
    "moisturizers",
    "fragrance",
];

/// See [`FOOD_CATEGORIES`].
pub const DRUG_CATEGORIES: &[&str] = &[
    "drugs",
    "pharmacy",
    "medicine",
    "otc",
    "medical-devices",
    "medical_devices",
    "health/drugs",
    "health/medical-devices",
    "药品",
    "医药",
    "医疗器械",
    "家用器械",
    "中西药",
    "感冒药",
    "处方药",
    "非处方药",
    "medications",
    "cold & flu",
    "pain relievers",
];
