//! Amount parsing: property-tested on the library, spot-checked through the binary.

use fincore::error::ErrorCode;
use fincore::money::{format_minor, parse_minor, AMOUNT_MINOR_MAX};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn valid_amounts_round_trip(minor in -AMOUNT_MINOR_MAX..=AMOUNT_MINOR_MAX, minor_units in 0u32..=3) {
        let text = format_minor(minor, minor_units);
        prop_assert_eq!(parse_minor(&text, minor_units).unwrap(), minor);
    }

    #[test]
    fn fewer_decimals_scale_exactly(whole in 0i64..1_000_000_000, fraction in 0i64..10) {
        let text = format!("{whole}.{fraction}");
        prop_assert_eq!(parse_minor(&text, 2).unwrap(), whole * 100 + fraction * 10);
    }

    #[test]
    fn extra_decimals_are_rejected_never_rounded(whole in 0i64..1_000_000, extra in 0u32..1000) {
        let text = format!("{whole}.{:03}", extra);
        prop_assert_eq!(parse_minor(&text, 2).unwrap_err().code, ErrorCode::AmountPrecisionExceeded);
    }

    #[test]
    fn beyond_range_is_out_of_range(excess in 1i64..1_000_000) {
        let text = format_minor(AMOUNT_MINOR_MAX, 0).parse::<i128>().unwrap() + i128::from(excess);
        prop_assert_eq!(parse_minor(&text.to_string(), 0).unwrap_err().code, ErrorCode::AmountOutOfRange);
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,60}") {
        match parse_minor(&text, 2) {
            Ok(minor) => prop_assert!(minor.abs() <= AMOUNT_MINOR_MAX),
            Err(error) => prop_assert!(matches!(
                error.code,
                ErrorCode::InvalidInput | ErrorCode::AmountPrecisionExceeded | ErrorCode::AmountOutOfRange
            )),
        }
    }

    #[test]
    fn non_numeric_is_invalid_input(text in "[a-zA-Z ,_eE]{1,12}") {
        prop_assert_eq!(parse_minor(&text, 2).unwrap_err().code, ErrorCode::InvalidInput);
    }
}
