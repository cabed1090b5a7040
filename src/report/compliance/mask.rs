//! Account-number masking for reports (SPEC: first 4 and last 4 visible unless `--unmask`).

pub(crate) use crate::model::account_number::mask;

/// Mask `number` unless the operator asked to see it.
pub(crate) fn mask_unless(number: String, unmask: bool) -> String {
    if unmask {
        number
    } else {
        mask(&number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_middle_of_sixteen_digits() {
        assert_eq!(mask("4000123412341234"), "4000********1234");
    }

    #[test]
    fn keeps_four_at_each_end_from_twelve_characters() {
        assert_eq!(mask("ABCD1234WXYZ"), "ABCD****WXYZ");
        assert_eq!(
            mask("GB82WEST12345698765432ABCDEFGHIJKL"),
            "GB82**************************IJKL"
        );
    }

    #[test]
    fn short_numbers_always_hide_four() {
        assert_eq!(mask("12345678901"), "123*****901");
        assert_eq!(mask("12345678"), "12****78");
        assert_eq!(mask("12345"), "*****");
        assert_eq!(mask("1234"), "****");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn unmask_returns_the_raw_number() {
        assert_eq!(
            mask_unless("4000123412341234".into(), true),
            "4000123412341234"
        );
        assert_eq!(
            mask_unless("4000123412341234".into(), false),
            "4000********1234"
        );
    }
}
