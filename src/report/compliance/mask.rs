//! Account-number masking for reports (SPEC: first 4 and last 4 visible unless `--unmask`).

/// Characters left visible at each end of a long number.
const VISIBLE_PER_END: usize = 4;
/// At least this many characters are always hidden, so a short number (the SPEC allows 4 to
/// 34 characters) is never printed in full: fewer ends are shown instead.
const HIDDEN_MIN: usize = 4;
const MASK_CHARACTER: char = '*';

/// `1234567890123456` → `1234********3456`. Numbers shorter than 12 characters show fewer
/// characters at each end (`12345678` → `12****78`, `1234` → `****`) so that at least four
/// are always hidden.
pub fn mask(number: &str) -> String {
    let characters: Vec<char> = number.chars().collect();
    let length = characters.len();
    let visible_per_end = VISIBLE_PER_END.min(length.saturating_sub(HIDDEN_MIN) / 2);
    characters
        .iter()
        .enumerate()
        .map(|(position, character)| {
            if position < visible_per_end || position >= length - visible_per_end {
                *character
            } else {
                MASK_CHARACTER
            }
        })
        .collect()
}

/// Mask `number` unless the operator asked to see it.
pub fn mask_unless(number: String, unmask: bool) -> String {
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
