use super::*;

const KEY: &[u8] = b"test-key-0123456789abcdef";

fn pz() -> Pseudonymizer {
    Pseudonymizer::new(KEY).unwrap()
}

#[test]
fn keys_shorter_than_16_bytes_are_refused() {
    assert_eq!(
        Pseudonymizer::new(b"short").unwrap_err(),
        KeyError::TooShort { len: 5 }
    );
    assert!(Pseudonymizer::new(&[7; 15]).is_err());
    assert!(Pseudonymizer::new(&[7; 16]).is_ok());
}

#[test]
fn a_pseudonym_is_32_lower_case_hex_characters() {
    let p = pz().pseudonymize(PersonalField::BuyerId, "U-1001");
    assert_eq!(p.as_str().len(), 32);
    assert!(
        p.as_str()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
}

#[test]
fn the_pseudonym_is_the_truncated_hmac_of_tag_nul_and_normalised_value() {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
    mac.update(b"phone\0+8613800138000");
    let expected = hex::encode(&mac.finalize().into_bytes()[..16]);
    let p = pz().pseudonymize(PersonalField::Phone, "+86 138-0013-8000");
    assert_eq!(p.as_str(), expected);
}

#[test]
fn spelling_variants_give_equal_pseudonyms() {
    let pz = pz();
    let same = |kind, a: &str, b: &str| {
        assert_eq!(
            pz.pseudonymize(kind, a),
            pz.pseudonymize(kind, b),
            "{a:?} vs {b:?}"
        );
    };
    same(PersonalField::BuyerId, "U-1001", " u-1001 ");
    same(PersonalField::DeviceId, "DEV-ABC", "ｄｅｖ－ａｂｃ");
    same(PersonalField::PaymentFingerprint, "FP:9F2C", "fp:9f2c");
    same(PersonalField::Ip, "::ffff:203.0.113.7", "203.0.113.7");
    same(PersonalField::Ip, "2001:0db8::0001", "2001:DB8::1");
    same(
        PersonalField::Phone,
        "+86 138-0013-8000",
        "+86(138)0013.8000",
    );
    same(
        PersonalField::ShippingAddress,
        "上海市 浦东新区 世纪大道100号",
        "上海市浦东新区世纪大道100号",
    );
    same(
        PersonalField::ShippingAddress,
        "上海市浦东新区世纪大道１００号",
        "上海市，浦东新区、世纪大道100号。",
    );
}

#[test]
fn different_values_give_different_pseudonyms() {
    let pz = pz();
    assert_ne!(
        pz.pseudonymize(PersonalField::Phone, "+8613800138000"),
        pz.pseudonymize(PersonalField::Phone, "+8613800138001")
    );
    assert_ne!(
        pz.pseudonymize(PersonalField::ShippingAddress, "世纪大道100号"),
        pz.pseudonymize(PersonalField::ShippingAddress, "世纪大道101号")
    );
}

#[test]
fn the_same_text_under_different_kinds_gives_different_pseudonyms() {
    let pz = pz();
    let all: Vec<Pseudonym> = PersonalField::ALL
        .iter()
        .map(|&kind| pz.pseudonymize(kind, "12345"))
        .collect();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn different_keys_give_different_pseudonyms() {
    let other = Pseudonymizer::new(b"another-key-0123456789").unwrap();
    assert_ne!(
        pz().pseudonymize(PersonalField::BuyerId, "U-1001"),
        other.pseudonymize(PersonalField::BuyerId, "U-1001")
    );
}

#[test]
fn blank_values_have_no_pseudonym() {
    let pz = pz();
    assert_eq!(
        pz.pseudonymize_present(PersonalField::DeviceId, "   "),
        None
    );
    assert_eq!(
        pz.pseudonymize_present(PersonalField::Phone, "--- ()"),
        None
    );
    assert_eq!(
        pz.pseudonymize_present(PersonalField::ShippingAddress, "，。"),
        None
    );
    assert_eq!(
        pz.pseudonymize_present(PersonalField::Phone, "138"),
        Some(pz.pseudonymize(PersonalField::Phone, "138"))
    );
}

#[test]
fn debug_does_not_show_the_key() {
    let shown = format!("{:?}", pz());
    assert_eq!(shown, "Pseudonymizer { key: \"<redacted>\" }");
}
