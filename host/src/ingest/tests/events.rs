//! Every event type parses from realistic contract JSON.

use super::{ok, pz};
use crate::model::event::{BuyerProfile, EventBody, EventType};
use crate::model::money::Money;
use crate::model::subject::{Subject, SubjectType};
use crate::model::time::parse_rfc3339;
use crate::privacy::PersonalField;

pub(super) const LISTING_ZH: &str = r#"{
  "event_id": "evt-0001", "type": "listing.upserted", "occurred_at": "2026-11-01T09:30:00+08:00",
  "listing_id": "L-88001", "seller_id": "S-7",
  "title": "国家级认证 纯天然蜂蜜 500g 包邮",
  "price": {"amount": "59.90", "currency": "CNY"},
  "reference_price": {"amount": "199.00", "currency": "CNY"},
  "description": "源自秦岭深山，100%纯天然，无任何添加。假一赔十！",
  "category": "food/honey",
  "attributes": {"品牌": "蜂之语", "产地": "陕西", "weight": "500g"},
  "language": "zh-CN",
  "channel": "app", "extra": {"nested": [1, 2, 3]}
}"#;

pub(super) const LISTING_EN: &str = r#"{"event_id":"evt-0002","type":"listing.upserted",
  "occurred_at":"2026-11-01T01:30:00Z","listing_id":"L-1","seller_id":"S-1",
  "title":"Wireless earbuds, 40h battery","price":{"amount":"24.99","currency":"EUR"}}"#;

pub(super) const ORDER_PLACED: &str = r#"{
  "event_id": "evt-0003", "type": "order.placed", "occurred_at": "2026-11-01T10:00:00.120Z",
  "order_id": "O-1001", "listing_id": "L-88001", "seller_id": "S-7",
  "buyer_id": "U-55501", "quantity": 2, "total": {"amount": "119.80", "currency": "CNY"},
  "buyer": {
    "account_created_at": "2026-10-30T22:15:00+08:00",
    "device_id": "DEV-9F3A-77", "ip": "::ffff:203.0.113.7",
    "shipping_address": "上海市 浦东新区 世纪大道100号 3楼",
    "phone": "+86 138-0013-8000"
  }
}"#;

pub(super) const ORDER_PAID: &str = r#"{"event_id":"evt-0004","type":"order.paid",
  "occurred_at":"2026-11-01T10:01:00Z","order_id":"O-1001","payment_fingerprint":"card:6222-XXXX-1234",
  "presale":true,"promised_ship_by":"2026-11-11T23:59:59+08:00"}"#;

pub(super) const ORDER_SHIPPED: &str = r#"{"event_id":"evt-0005","type":"order.shipped",
  "occurred_at":"2026-11-02T08:00:00+08:00","order_id":"O-1001","carrier":"顺丰速运",
  "tracking_number":"SF1234567890","parcel_weight_grams":35,"origin_city":"西安","destination_city":"上海"}"#;

pub(super) const ORDER_DELIVERED: &str = r#"{"event_id":"evt-0006","type":"order.delivered",
  "occurred_at":"2026-11-03T15:20:00+08:00","order_id":"O-1001"}"#;

pub(super) const ORDER_CANCELLED: &str = r#"{"event_id":"evt-0007","type":"order.cancelled",
  "occurred_at":"2026-11-01T12:00:00Z","order_id":"O-2002","reason":"buyer changed their mind"}"#;

pub(super) const REFUND_REQUESTED: &str = r#"{"event_id":"evt-0008","type":"refund.requested",
  "occurred_at":"2026-11-04T09:00:00+08:00","order_id":"O-1001","refund_id":"R-1",
  "reason":"收到的是空盒子","amount":{"amount":"119.80","currency":"CNY"},"return_required":false}"#;

pub(super) const REFUND_COMPLETED: &str = r#"{"event_id":"evt-0009","type":"refund.completed",
  "occurred_at":"2026-11-05T09:00:00+08:00","order_id":"O-1001","refund_id":"R-1"}"#;

pub(super) const REVIEW_POSTED: &str = r#"{"event_id":"evt-0010","type":"review.posted",
  "occurred_at":"2026-11-03T16:00:00+08:00","order_id":"O-1001","review_id":"RV-1","rating":5,
  "text":"好评！物流很快，蜂蜜很纯，回购第三次了。"}"#;

pub(super) const COMPLAINT_OPENED: &str = r#"{"event_id":"evt-0011","type":"complaint.opened",
  "occurred_at":"2026-11-04T10:00:00+08:00","complaint_id":"C-1","seller_id":"S-7","order_id":"O-1001",
  "text":"Seller claims \"national-level certification\" but cannot show it."}"#;

pub(super) const COMPLAINT_RESPONDED: &str = r#"{"event_id":"evt-0012","type":"complaint.responded",
  "occurred_at":"2026-11-05T10:00:00+08:00","complaint_id":"C-1","text":"我们已补充检测报告。"}"#;

pub(super) const COMPLAINT_RESOLVED: &str = r#"{"event_id":"evt-0013","type":"complaint.resolved",
  "occurred_at":"2026-11-06T10:00:00+08:00","complaint_id":"C-1","outcome":"upheld; listing corrected"}"#;

/// One sample of every event type (two listings).
pub(super) const ALL_SAMPLES: [&str; 13] = [
    LISTING_ZH,
    LISTING_EN,
    ORDER_PLACED,
    ORDER_PAID,
    ORDER_SHIPPED,
    ORDER_DELIVERED,
    ORDER_CANCELLED,
    REFUND_REQUESTED,
    REFUND_COMPLETED,
    REVIEW_POSTED,
    COMPLAINT_OPENED,
    COMPLAINT_RESPONDED,
    COMPLAINT_RESOLVED,
];

fn ts(text: &str) -> i64 {
    parse_rfc3339(text).expect("test timestamp")
}

fn cny(amount: &str) -> Money {
    Money::parse(amount, "CNY").expect("test money")
}

fn subjects(list: &[(SubjectType, &str)]) -> Vec<Subject> {
    list.iter()
        .map(|&(kind, id)| Subject::new(kind, id))
        .collect()
}

#[test]
fn every_event_type_is_covered_by_a_sample() {
    let types: Vec<EventType> = ALL_SAMPLES.iter().map(|raw| ok(raw).event_type()).collect();
    for kind in EventType::ALL {
        assert!(types.contains(&kind), "no sample of {kind}");
    }
}

#[test]
fn listing_upserted_in_chinese_keeps_texts_money_and_attribute_order() {
    let event = ok(LISTING_ZH);
    assert_eq!(event.event_id, "evt-0001");
    assert_eq!(event.occurred_at, ts("2026-11-01T01:30:00Z"));
    let EventBody::ListingUpserted(l) = &event.body else {
        panic!("wrong body")
    };
    assert_eq!(l.title, "国家级认证 纯天然蜂蜜 500g 包邮");
    assert_eq!(l.price, cny("59.90"));
    assert_eq!(l.reference_price, Some(cny("199.00")));
    assert_eq!(
        l.description.as_deref(),
        Some("源自秦岭深山，100%纯天然，无任何添加。假一赔十！")
    );
    assert_eq!(l.category.as_deref(), Some("food/honey"));
    let attributes: Vec<(&str, &str)> = l
        .attributes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        attributes,
        [("品牌", "蜂之语"), ("产地", "陕西"), ("weight", "500g")]
    );
    assert_eq!(l.language.as_deref(), Some("zh-CN"));
    assert_eq!(
        event.subjects(),
        subjects(&[
            (SubjectType::Listing, "L-88001"),
            (SubjectType::Seller, "S-7")
        ])
    );
}

#[test]
fn listing_upserted_in_english_with_only_required_fields() {
    let EventBody::ListingUpserted(l) = ok(LISTING_EN).body else {
        panic!("wrong body")
    };
    assert_eq!(l.title, "Wireless earbuds, 40h battery");
    assert_eq!(l.price, Money::parse("24.99", "EUR").unwrap());
    assert_eq!(
        (l.description, l.category, l.reference_price),
        (None, None, None)
    );
    assert!(l.attributes.is_empty());
}

#[test]
fn order_placed_pseudonymises_the_buyer() {
    let pz = pz();
    let event = ok(ORDER_PLACED);
    assert_eq!(event.occurred_at, ts("2026-11-01T10:00:00.120Z"));
    let EventBody::OrderPlaced(o) = &event.body else {
        panic!("wrong body")
    };
    assert_eq!(
        (
            o.order_id.as_str(),
            o.listing_id.as_str(),
            o.seller_id.as_str()
        ),
        ("O-1001", "L-88001", "S-7")
    );
    assert_eq!(
        o.buyer_id,
        pz.pseudonymize(PersonalField::BuyerId, "u-55501")
    );
    assert_eq!(o.quantity, 2);
    assert_eq!(o.total, cny("119.80"));
    let expected = BuyerProfile {
        account_created_at: Some(ts("2026-10-30T14:15:00Z")),
        device_id: Some(pz.pseudonymize(PersonalField::DeviceId, "dev-9f3a-77")),
        ip: Some(pz.pseudonymize(PersonalField::Ip, "203.0.113.7")),
        shipping_address: Some(pz.pseudonymize(
            PersonalField::ShippingAddress,
            "上海市浦东新区世纪大道１００号３楼",
        )),
        phone: Some(pz.pseudonymize(PersonalField::Phone, "+8613800138000")),
    };
    assert_eq!(o.buyer.as_ref(), Some(&expected));
    assert_eq!(
        event.subjects(),
        subjects(&[
            (SubjectType::Listing, "L-88001"),
            (SubjectType::Order, "O-1001"),
            (SubjectType::Seller, "S-7"),
        ])
    );
}

#[test]
fn order_paid_reads_presale_and_promise() {
    let EventBody::OrderPaid(p) = ok(ORDER_PAID).body else {
        panic!("wrong body")
    };
    assert_eq!(p.order_id, "O-1001");
    assert_eq!(
        p.payment_fingerprint,
        Some(pz().pseudonymize(PersonalField::PaymentFingerprint, "CARD:6222-xxxx-1234"))
    );
    assert_eq!(p.presale, Some(true));
    assert_eq!(p.promised_ship_by, Some(ts("2026-11-11T15:59:59Z")));
}

#[test]
fn order_shipped_reads_carrier_facts() {
    let EventBody::OrderShipped(s) = ok(ORDER_SHIPPED).body else {
        panic!("wrong body")
    };
    assert_eq!(s.carrier.as_deref(), Some("顺丰速运"));
    assert_eq!(s.tracking_number.as_deref(), Some("SF1234567890"));
    assert_eq!(s.parcel_weight_grams, Some(35));
    assert_eq!(
        (s.origin_city.as_deref(), s.destination_city.as_deref()),
        (Some("西安"), Some("上海"))
    );
}

#[test]
fn order_delivered_and_cancelled_name_their_order() {
    let delivered = ok(ORDER_DELIVERED);
    assert_eq!(delivered.event_type(), EventType::OrderDelivered);
    assert_eq!(
        delivered.subjects(),
        subjects(&[(SubjectType::Order, "O-1001")])
    );
    let EventBody::OrderCancelled(c) = ok(ORDER_CANCELLED).body else {
        panic!("wrong body")
    };
    assert_eq!(
        (c.order_id.as_str(), c.reason.as_deref()),
        ("O-2002", Some("buyer changed their mind"))
    );
}

#[test]
fn refunds_read_amounts_and_flags() {
    let requested = ok(REFUND_REQUESTED);
    assert_eq!(
        requested.subjects(),
        subjects(&[(SubjectType::Order, "O-1001")])
    );
    let EventBody::RefundRequested(r) = requested.body else {
        panic!("wrong body")
    };
    assert_eq!(r.refund_id, "R-1");
    assert_eq!(r.reason.as_deref(), Some("收到的是空盒子"));
    assert_eq!(r.amount, Some(cny("119.80")));
    assert_eq!(r.return_required, Some(false));
    let EventBody::RefundCompleted(c) = ok(REFUND_COMPLETED).body else {
        panic!("wrong body")
    };
    assert_eq!(
        (c.order_id.as_str(), c.refund_id.as_str(), c.amount),
        ("O-1001", "R-1", None)
    );
}

#[test]
fn review_posted_reads_rating_and_text() {
    let EventBody::ReviewPosted(r) = ok(REVIEW_POSTED).body else {
        panic!("wrong body")
    };
    assert_eq!((r.review_id.as_str(), r.rating), ("RV-1", 5));
    assert_eq!(
        r.text.as_deref(),
        Some("好评！物流很快，蜂蜜很纯，回购第三次了。")
    );
}

#[test]
fn complaint_opened_names_complaint_seller_and_order() {
    let event = ok(COMPLAINT_OPENED);
    assert_eq!(
        event.subjects(),
        subjects(&[
            (SubjectType::Order, "O-1001"),
            (SubjectType::Seller, "S-7"),
            (SubjectType::Complaint, "C-1"),
        ])
    );
    let EventBody::ComplaintOpened(c) = event.body else {
        panic!("wrong body")
    };
    assert_eq!(
        c.text.as_deref(),
        Some("Seller claims \"national-level certification\" but cannot show it.")
    );
}

#[test]
fn complaint_opened_without_an_order_names_complaint_and_seller() {
    let raw = COMPLAINT_OPENED.replace(r#""order_id":"O-1001","#, "");
    assert_eq!(
        ok(&raw).subjects(),
        subjects(&[
            (SubjectType::Seller, "S-7"),
            (SubjectType::Complaint, "C-1")
        ])
    );
}

#[test]
fn complaint_responded_and_resolved_name_the_complaint() {
    let responded = ok(COMPLAINT_RESPONDED);
    assert_eq!(
        responded.subjects(),
        subjects(&[(SubjectType::Complaint, "C-1")])
    );
    let EventBody::ComplaintResponded(r) = responded.body else {
        panic!("wrong body")
    };
    assert_eq!(r.text.as_deref(), Some("我们已补充检测报告。"));
    let EventBody::ComplaintResolved(r) = ok(COMPLAINT_RESOLVED).body else {
        panic!("wrong body")
    };
    assert_eq!(r.outcome.as_deref(), Some("upheld; listing corrected"));
}

#[test]
fn null_optional_fields_and_blank_personal_values_read_as_absent() {
    let event = ok(
        r#"{"event_id":"e","type":"order.placed","occurred_at":"2026-11-01T10:00:00Z",
      "order_id":"O","listing_id":"L","seller_id":"S","buyer_id":"U","quantity":1,
      "total":{"amount":"1","currency":"CNY"},
      "buyer":{"account_created_at":null,"device_id":"  ","ip":"","phone":"--","shipping_address":null}}"#,
    );
    let EventBody::OrderPlaced(o) = event.body else {
        panic!("wrong body")
    };
    assert_eq!(o.buyer, Some(BuyerProfile::default()));
}

#[test]
fn a_leading_byte_order_mark_is_tolerated() {
    let raw = format!("\u{FEFF}{ORDER_DELIVERED}");
    assert_eq!(ok(&raw).event_id, "evt-0006");
}

#[test]
fn ids_may_be_128_characters_of_any_script() {
    let id = "订".repeat(128);
    let raw = ORDER_DELIVERED.replace("O-1001", &id);
    assert_eq!(ok(&raw).subjects(), subjects(&[(SubjectType::Order, &id)]));
}

#[test]
fn event_type_names_round_trip() {
    for kind in EventType::ALL {
        assert_eq!(kind.as_str().parse::<EventType>(), Ok(kind));
    }
    assert_eq!(EventType::ALL.len(), 12);
    assert!("order.refunded".parse::<EventType>().is_err());
}
