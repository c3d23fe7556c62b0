//! Who is in the benchmark's marketplace: sellers, buyers and listings, each derived from
//! its number by a hash rather than stored.
//!
//! A hundred thousand buyers with devices, phones, addresses and cards would be tens of
//! megabytes of strings if kept; deriving them keeps the generator small and still gives
//! every buyer the same identifiers on every order (which is what the brushing plugin
//! links on). A small share of buyers are households sharing an address and a tablet,
//! and a third are behind a few mobile-carrier IPs, as in a real marketplace.

use std::fmt::Write as _;

use super::json::{push_field, push_key, push_money, push_str, push_timestamp};

/// One day in milliseconds.
pub const DAY: i64 = 86_400_000;

/// Cities for sellers' warehouses and buyers' addresses.
pub const CITIES: [&str; 16] = [
    "Shanghai",
    "Beijing",
    "Guangzhou",
    "Shenzhen",
    "Hangzhou",
    "Chengdu",
    "Wuhan",
    "Xi'an",
    "Nanjing",
    "Chongqing",
    "Tianjin",
    "Suzhou",
    "Qingdao",
    "Xiamen",
    "Changsha",
    "Harbin",
];

/// Categories, with a typical item weight in grams and a base price in cents.
const CATEGORIES: [(&str, &str, u32, u64); 10] = [
    ("food/snacks", "零食礼包 snack box", 600, 3_990),
    ("food/fresh", "新鲜水果 fresh fruit", 2_500, 6_990),
    ("health/supplements", "维生素 vitamin tablets", 200, 12_900),
    ("cosmetics/skincare", "面霜 face cream", 150, 19_900),
    ("electronics/phones", "phone case 手机壳", 60, 2_990),
    (
        "electronics/audio",
        "bluetooth earbuds 蓝牙耳机",
        180,
        15_900,
    ),
    ("home/kitchen", "不粘锅 frying pan", 1_800, 8_990),
    ("apparel/tops", "cotton T-shirt 纯棉T恤", 250, 5_900),
    ("toys", "building blocks 积木", 900, 9_900),
    ("furniture", "folding chair 折叠椅", 6_000, 24_900),
];

/// Honest title words.
const ADJECTIVES: [&str; 8] = [
    "2026新款",
    "classic",
    "轻便",
    "family size",
    "日常",
    "gift edition",
    "简约",
    "value pack",
];

/// Misleading or prohibited claims the `claims` plugin should catch.
const CLAIMS: [&str; 8] = [
    "100%有效 国家级 best ever",
    "全网最低价 销量第一",
    "world's first, guaranteed results",
    "顶级 极品 no side effects",
    "治愈 失眠 miracle cure",
    "驰名商标 特供",
    "studies show it works",
    "最终解释权归本店所有",
];

/// Carriers, with their tracking-number prefix.
pub const CARRIERS: [(&str, &str); 5] = [
    ("SF Express", "SF"),
    ("ZTO Express", "ZT"),
    ("YTO Express", "YT"),
    ("JD Logistics", "JD"),
    ("EMS", "EM"),
];

/// A 64-bit mix of `seed` and `x` (SplitMix64's finaliser): the derivation behind every
/// derived attribute.
pub fn mix(seed: u64, x: u64) -> u64 {
    let mut z = seed ^ x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A listing's fixed traits.
pub struct ListingSpec {
    /// Index into the category table.
    category: usize,
    /// Index into [`ADJECTIVES`].
    adjective: usize,
    /// A claim in its title, for a misleading listing.
    claim: Option<&'static str>,
    /// Whether it shows a fake struck-through price far above its price.
    pub fake_reference: bool,
    /// Its list price, in cents.
    pub base_cents: u64,
    /// The weight of one item, in grams.
    pub grams: u32,
}

impl ListingSpec {
    /// The traits of listing `listing`: about 8 % carry a claim, 3 % a fake reference.
    pub fn of(seed: u64, listing: u32) -> ListingSpec {
        let h = mix(seed ^ 0x4C49_5354, u64::from(listing));
        let category = (h % CATEGORIES.len() as u64) as usize;
        let (_, _, grams, cents) = CATEGORIES[category];
        let scale = 50 + (h >> 8) % 150; // 0.5× to 2×
        ListingSpec {
            category,
            adjective: ((h >> 16) % ADJECTIVES.len() as u64) as usize,
            claim: ((h >> 24) % 100 < 8)
                .then(|| CLAIMS[((h >> 32) % CLAIMS.len() as u64) as usize]),
            fake_reference: (h >> 40) % 100 < 3,
            base_cents: cents * scale / 100 + 90,
            grams: grams * scale as u32 / 100 + 5,
        }
    }

    /// Append the `listing.upserted` fields after `occurred_at`.
    pub fn push_fields(
        &self,
        out: &mut String,
        listing: u32,
        seller: u32,
        cents: u64,
        reference: Option<u64>,
    ) {
        let (category, noun, _, _) = CATEGORIES[self.category];
        let _ = write!(
            out,
            r#","listing_id":"L{listing}","seller_id":"S{seller}","title":"#
        );
        let mut title = format!("{} {noun}", ADJECTIVES[self.adjective]);
        if let Some(claim) = self.claim {
            title.push(' ');
            title.push_str(claim);
        }
        push_str(out, &title);
        push_key(out, "price");
        push_money(out, cents);
        if let Some(reference) = reference {
            push_key(out, "reference_price");
            push_money(out, reference);
        }
        push_field(out, "category", category);
        if listing.is_multiple_of(3) {
            push_field(
                out,
                "description",
                "正品保障，七天无理由退货。Ships from our own warehouse within 48 hours; \
                 see the size chart before ordering. 如有问题请联系客服。",
            );
        }
        let _ = write!(
            out,
            r#","attributes":{{"brand":"Brand{}","weight_g":"{}"}},"language":"zh""#,
            seller % 500,
            self.grams
        );
    }
}

/// The city of seller `seller`'s warehouse.
pub fn seller_city(seed: u64, seller: u32) -> &'static str {
    CITIES[(mix(seed ^ 0x5345_4C4C, u64::from(seller)) % CITIES.len() as u64) as usize]
}

/// An honest buyer's identifiers, derived from its number.
pub struct BuyerSpec {
    h: u64,
    /// Households of three share a tablet and an address.
    household: Option<u32>,
    /// The buyer's city.
    pub city: &'static str,
}

impl BuyerSpec {
    /// The identifiers of buyer `buyer`.
    pub fn of(seed: u64, buyer: u32) -> BuyerSpec {
        let h = mix(seed ^ 0x4255_5945, u64::from(buyer));
        // Decided per group of three numbers, so all three members share.
        let group = buyer / 3;
        let household = (mix(seed ^ 0x484F_4D45, u64::from(group)) % 100 < 6).then_some(group);
        let city_of = u64::from(household.unwrap_or(buyer));
        BuyerSpec {
            h,
            household,
            city: CITIES[(mix(seed, city_of) % CITIES.len() as u64) as usize],
        }
    }

    /// Append `,"buyer":{…}` for buyer `buyer`, with account ages counted back from
    /// `start_ms`, the start of the stream.
    pub fn push_profile(&self, out: &mut String, buyer: u32, start_ms: i64) {
        let h = self.h;
        // One in 25 accounts is days old at the start of the stream, the rest years.
        let age_days = if (h >> 8).is_multiple_of(25) {
            (h >> 12) % 7
        } else {
            60 + (h >> 12) % 2_000
        };
        push_key(out, "buyer");
        out.push_str("{\"account_created_at\":\"");
        push_timestamp(
            out,
            start_ms - age_days as i64 * DAY - ((h >> 24) % 86_400) as i64 * 1000,
        );
        let device = self
            .household
            .map_or(u64::from(buyer), |g| 1 << 40 | u64::from(g));
        let _ = write!(out, r#"","device_id":"dev-{device:x}","ip":""#);
        if (h >> 32) % 100 < 35 {
            // Behind a mobile carrier's shared addresses.
            let _ = write!(out, "100.64.{}.{}", (h >> 40) % 5, 1 + (h >> 44) % 5);
        } else {
            let _ = write!(
                out,
                "{}.{}.{}.{}",
                1 + (h >> 40) % 222,
                (h >> 48) % 256,
                (h >> 56) % 256,
                1 + (h >> 20) % 254
            );
        }
        let place = u64::from(self.household.unwrap_or(buyer));
        let _ = write!(
            out,
            r#"","shipping_address":"{} Renmin Road, Room {}, {}","phone":"+86 13{:09}"}}"#,
            1 + place % 999,
            100 + place % 2_900,
            self.city,
            h % 1_000_000_000
        );
    }

    /// The buyer's payment card fingerprint.
    pub fn card(&self, buyer: u32) -> String {
        format!("card-{:x}", mix(self.h, u64::from(buyer)) >> 16)
    }
}

/// Honest review fragments, combined three at a time.
const REVIEW_OPENINGS: [&str; 8] = [
    "质量不错",
    "Arrived quickly",
    "包装完好",
    "Exactly as described",
    "第二次购买了",
    "Decent value",
    "物流有点慢",
    "Bought this for my mother",
];
const REVIEW_MIDDLES: [&str; 8] = [
    "，颜色和图片一样",
    ", the size runs a little small",
    "，用了一周感觉还行",
    ", works with my older model too",
    "，家里人都说好",
    ", the instructions were only in Chinese",
    "，味道比超市的好",
    ", one corner was slightly dented",
];
const REVIEW_ENDINGS: [&str; 6] = [
    "。",
    ", would buy again.",
    "，推荐。",
    ", four stars for the delivery.",
    "，客服回复很及时。",
    ".",
];

/// Append the text of an honest review, varied by `h`.
pub fn push_honest_review(out: &mut String, h: u64) {
    let text = format!(
        "{}{}{}",
        REVIEW_OPENINGS[(h % 8) as usize],
        REVIEW_MIDDLES[((h >> 8) % 8) as usize],
        REVIEW_ENDINGS[((h >> 16) % 6) as usize]
    );
    push_field(out, "text", &text);
}

/// The templated five-star text a brushing ring pastes, slightly varied.
pub fn push_farmed_review(out: &mut String, h: u64) {
    let text = format!(
        "非常好！质量超级好，物流超级快，卖家服务态度一流，强烈推荐大家购买！！{}",
        ["", "好评", "五星", "👍"][(h % 4) as usize]
    );
    push_field(out, "text", &text);
}

/// Reasons, outcomes and complaint texts: small pools, picked by a hash.
pub const CANCEL_REASONS: [&str; 3] = ["buyer changed mind", "out of stock", "拍错了"];
/// Why a refund is asked for.
pub const REFUND_REASONS: [&str; 4] = ["damaged", "not as described", "七天无理由", "late"];
/// What buyers complain about.
pub const COMPLAINTS: [&str; 4] = [
    "商品与描述不符",
    "The parcel never arrived",
    "卖家不发货",
    "Received a different colour",
];
/// How a complaint ends.
pub const OUTCOMES: [&str; 3] = ["refunded", "rejected", "replaced"];
