//! Review texts for the generator: honest reviews composed from everyday fragments, and
//! brushing templates with a few words swapped per review.

use rand::Rng;
use rand::seq::IndexedRandom;

/// Fragments honest buyers write, in Chinese and English.
const FRAGMENTS_ZH: &[&str] = &[
    "质量不错",
    "物流有点慢",
    "包装完好",
    "颜色和图片一样",
    "尺码偏大一点",
    "性价比还可以",
    "客服回复很及时",
    "味道很好吃",
    "孩子很喜欢",
    "做工一般",
    "第二次买了",
    "比超市便宜",
    "发货速度快",
    "有点色差",
    "用了一周再来评价",
    "面料舒服",
    "电池续航还行",
    "安装简单",
    "声音有点大",
    "送给爸妈的",
    "快递小哥态度好",
    "分量足",
    "日期很新鲜",
    "和描述一致",
    "总体满意",
    "稍微有点异味",
    "散热不错",
    "手感很好",
    "价格实惠",
    "说明书看不太懂",
    "盒子压坏了但东西没事",
    "比想象中小",
    "老公说好用",
    "办公室同事都说好看",
    "等了五天才到",
    "赠品没有收到",
    "拉链不太顺",
    "充电很快",
    "吃完再来买",
    "凑单买的",
];
const FRAGMENTS_EN: &[&str] = &[
    "arrived on time",
    "fits well",
    "a bit smaller than expected",
    "good value",
    "works as described",
    "the box was dented",
    "my kids love it",
    "would buy again",
    "battery lasts long",
    "colour is slightly off",
    "easy to set up",
    "decent quality for the price",
    "shipping took a week",
    "smells fine",
    "sturdy enough",
    "instructions were unclear",
    "my wife uses it daily",
    "not as soft as I hoped",
    "nice gift",
    "cheaper than in stores",
];
/// Short reviews that repeat honestly everywhere.
const SHORT: &[&str] = &[
    "好评",
    "不错",
    "满意",
    "good",
    "ok",
    "还行",
    "👍👍👍",
    "五星",
    "nice",
];

/// An honest review text.
pub fn honest(rng: &mut impl Rng) -> String {
    if rng.random_bool(0.3) {
        return SHORT.choose(rng).copied().unwrap_or("好评").to_string();
    }
    let english = rng.random_bool(0.25);
    let pool = if english { FRAGMENTS_EN } else { FRAGMENTS_ZH };
    let n = rng.random_range(2..=4);
    let parts: Vec<&str> = pool.choose_multiple(rng, n).copied().collect();
    if english {
        parts.join(", ")
    } else {
        parts.join("，")
    }
}

/// A brushing template: fixed text with slots, each slot a list of variants (the first
/// is the template's own word).
pub struct Template(pub &'static [&'static [&'static str]]);

/// The templates a brushing crew is handed, one per ring seller (by index).
pub const TEMPLATES: &[Template] = &[
    Template(&[
        &["质量"],
        &["非常好", "特别好", "超级好"],
        &["，做工精细，"],
        &["物流超级快", "物流很快", "发货超快"],
        &["，包装也很用心，已经"],
        &["推荐给朋友了", "安利给同事了", "推荐给家人了"],
        &["，"],
        &["会一直回购的", "下次还来", "还会再买"],
        &["！"],
    ]),
    Template(&[
        &["Absolutely "],
        &["amazing", "fantastic", "excellent"],
        &[" quality, "],
        &[
            "super fast delivery",
            "very fast shipping",
            "lightning fast delivery",
        ],
        &[", exactly as described, highly recommend this seller to "],
        &["everyone", "all my friends", "anyone"],
        &["! Five stars!"],
    ]),
    Template(&[
        &["宝贝收到了，"],
        &["跟描述的一模一样", "和图片完全一致", "与描述完全相符"],
        &["，卖家服务态度"],
        &["超级好", "特别热情", "非常好"],
        &["，物流也快，"],
        &["强烈推荐", "值得购买", "五星好评"],
        &["，下次还会光顾的！"],
    ]),
    Template(&[
        &["掌柜人很好，"],
        &["东西很正", "货真价实", "正品无疑"],
        &["，包装严实，"],
        &["用起来效果很明显", "用了效果特别好", "效果真的很好"],
        &["，朋友看了也想买，"],
        &["好评", "五星好评", "必须好评"],
        &["！！"],
    ]),
    Template(&[
        &["This is the "],
        &["best", "greatest", "finest"],
        &[" purchase I made this year, the quality is "],
        &["outstanding", "incredible", "superb"],
        &[" and the seller is very responsive, "],
        &[
            "will definitely order again",
            "will order again soon",
            "ordering more for sure",
        ],
        &["!"],
    ]),
    Template(&[
        &["第"],
        &["三", "四", "五"],
        &["次回购了，品质一如既往的"],
        &["好", "稳定", "棒"],
        &["，发货神速，客服耐心，"],
        &["全家都在用", "家里人都说好", "全家都很喜欢"],
        &["，推荐购买！"],
    ]),
];

/// One review from template `index`: each slot keeps its own word with probability 0.6.
pub fn templated(rng: &mut impl Rng, index: usize) -> String {
    let template = &TEMPLATES[index % TEMPLATES.len()];
    template
        .0
        .iter()
        .map(|slot| {
            if slot.len() > 1 && rng.random_bool(0.4) {
                slot[rng.random_range(1..slot.len())]
            } else {
                slot[0]
            }
        })
        .collect()
}
