//! Unit tests of the `claims` plugin's building blocks (kept here, in the workspace
//! test suite, because the plugin crate belongs to the separate `plugins/` workspace):
//! the price history and the text helpers.

mod price {
    use claims::price::*;
    use probity_sdk::prelude::Money;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    const WEEK: i64 = 7 * DAY;

    fn cny(amount: i64) -> Money {
        Money::new(amount, 0, "CNY")
    }

    fn history(points: &[(i64, i64)]) -> History {
        let mut h = History::default();
        for &(at, price) in points {
            h.record(at, &cny(price), WEEK);
        }
        h
    }

    #[test]
    fn an_honest_discount_is_honest() {
        let h = history(&[(0, 300)]);
        let check = h.check(10 * DAY, &cny(200), Some(&cny(300)), WEEK);
        assert_eq!(check, Check::Honest);
    }

    #[test]
    fn a_reference_price_never_charged_is_above_the_lowest() {
        let h = history(&[(0, 100)]);
        let check = h.check(10 * DAY, &cny(150), Some(&cny(300)), WEEK);
        assert_eq!(
            check,
            Check::AboveLowest {
                lowest: cny(100),
                since: 0
            }
        );
    }

    #[test]
    fn a_two_hour_hike_does_not_make_the_higher_price_honest() {
        let t = 30 * DAY;
        let h = history(&[(0, 100), (t - 2 * HOUR, 300)]);
        let check = h.check(t, &cny(200), Some(&cny(300)), WEEK);
        assert!(matches!(check, Check::AboveLowest { ref lowest, .. } if *lowest == cny(100)));
        // Eight days later the low price has left the window.
        let later = t - 2 * HOUR + 8 * DAY;
        assert_eq!(
            h.check(later, &cny(200), Some(&cny(300)), WEEK),
            Check::Honest
        );
    }

    #[test]
    fn no_history_is_unverified_and_other_currencies_do_not_count() {
        assert_eq!(
            History::default().check(0, &cny(1), Some(&cny(2)), WEEK),
            Check::Unverified
        );
        let h = history(&[(0, 100)]);
        let eur = Money::new(300, 0, "EUR");
        assert_eq!(
            h.check(DAY, &Money::new(200, 0, "EUR"), Some(&eur), WEEK),
            Check::Unverified
        );
    }

    #[test]
    fn scales_compare_exactly() {
        let h = history(&[(0, 100)]);
        let reference = Money::new(10001, 2, "CNY");
        assert!(matches!(
            h.check(DAY, &cny(90), Some(&reference), WEEK),
            Check::AboveLowest { .. }
        ));
        let reference = Money::new(10000, 2, "CNY");
        assert_eq!(
            h.check(DAY, &cny(90), Some(&reference), WEEK),
            Check::Honest
        );
    }

    #[test]
    fn late_events_are_placed_in_order_and_old_points_pruned() {
        let mut h = history(&[(0, 100), (20 * DAY, 300), (10 * DAY, 200)]);
        assert_eq!(
            h.points.iter().map(|p| p.at).collect::<Vec<_>>(),
            [10 * DAY, 20 * DAY]
        );
        h.record(20 * DAY + HOUR, &cny(300), WEEK);
        assert_eq!(h.points.len(), 2, "an unchanged price adds no point");
    }

    #[test]
    fn history_is_bounded_and_merging_keeps_the_lower_price() {
        let mut h = History::default();
        for i in 0..1000 {
            h.record(i * 60_000, &cny(if i == 5 { 1 } else { 100 + i % 2 }), WEEK);
        }
        assert!(h.points.len() <= MAX_POINTS);
        assert_eq!(h.points[0].mantissa, 1, "the lowest price survives merging");
    }
}

mod text {
    use claims::text::*;

    #[test]
    fn english_terms_need_word_boundaries() {
        assert!(!is_whole("secure", 2, 6, true, true));
        assert!(is_whole("cures acne", 0, 5, true, true));
        assert!(!is_whole("#10", 0, 2, false, true));
        assert!(is_whole("最好的", 0, 6, false, false));
    }

    #[test]
    fn clause_breaks_are_punctuation_not_dots_inside_words() {
        assert!(has_clause_break("，"));
        assert!(has_clause_break("done. next"));
        assert!(!has_clause_break("No.1 seller"));
        assert!(!has_clause_break("我们不是"));
    }

    #[test]
    fn units_count_words_and_characters() {
        assert_eq!(units("we do not claim"), 4);
        assert_eq!(units("代替药物"), 4);
        assert_eq!(units(" the "), 1);
    }
}
