//! Account numbers: generated as 16 digits whose last digit is a Luhn check digit, or given by
//! the operator (4–34 characters, A–Z and 0–9, as IBAN-like identifiers are).

use crate::error::{AppError, AppResult};

pub(crate) const NUMBER_LENGTH_MIN: usize = 4;
pub(crate) const NUMBER_LENGTH_MAX: usize = 34;
const GENERATED_DIGITS: usize = 16;

pub(crate) fn validate(number: &str) -> AppResult<String> {
    let upper = number.trim().to_ascii_uppercase();
    let valid_length = (NUMBER_LENGTH_MIN..=NUMBER_LENGTH_MAX).contains(&upper.len());
    if !valid_length
        || !upper
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(AppError::invalid_input(format!(
            "account number '{number}' must be {NUMBER_LENGTH_MIN}–{NUMBER_LENGTH_MAX} characters A–Z 0–9"
        )));
    }
    Ok(upper)
}

/// A fresh 16-digit number with a Luhn check digit. The first digit is never 0.
pub(crate) fn generate() -> String {
    let mut digits: Vec<u8> = Vec::with_capacity(GENERATED_DIGITS);
    digits.push(fastrand::u8(1..=9));
    for _ in 1..GENERATED_DIGITS - 1 {
        digits.push(fastrand::u8(0..=9));
    }
    digits.push(luhn_check_digit(&digits));
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

pub(crate) fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let digit = u32::from(digit);
            if position % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// `payload` (ASCII digits) followed by its Luhn check digit.
pub fn with_check_digit(payload: &str) -> String {
    let digits: Vec<u8> = payload.bytes().map(|b| b - b'0').collect();
    debug_assert!(digits.iter().all(|d| *d <= 9), "payload is digits");
    format!("{payload}{}", luhn_check_digit(&digits))
}

#[cfg(test)]
pub(crate) fn luhn_valid(number: &str) -> bool {
    let digits: Option<Vec<u8>> = number
        .bytes()
        .map(|b| b.is_ascii_digit().then(|| b - b'0'))
        .collect();
    match digits {
        Some(digits) if digits.len() >= 2 => {
            let (payload, check) = digits.split_at(digits.len() - 1);
            luhn_check_digit(payload) == check[0]
        }
        _ => false,
    }
}

/// Characters left visible at each end of a long number.
const MASK_VISIBLE_PER_END: usize = 4;
/// At least this many characters are always hidden, so a short number (4–34 characters are
/// allowed) is never shown in full: fewer ends are shown instead.
const MASK_HIDDEN_MIN: usize = 4;

/// `1234567890123456` → `1234********3456`; shorter numbers show fewer characters at each end
/// (`12345678` → `12****78`, `1234` → `****`) so at least four are always hidden.
pub(crate) fn mask(number: &str) -> String {
    let characters: Vec<char> = number.chars().collect();
    let length = characters.len();
    let visible = MASK_VISIBLE_PER_END.min(length.saturating_sub(MASK_HIDDEN_MIN) / 2);
    characters
        .iter()
        .enumerate()
        .map(|(index, &c)| {
            if index < visible || index >= length - visible {
                c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_numbers_pass_luhn() {
        for _ in 0..100 {
            let number = generate();
            assert_eq!(number.len(), 16);
            assert!(luhn_valid(&number), "{number}");
        }
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
    }

    #[test]
    fn masks_middle() {
        assert_eq!(mask("4111111111111111"), "4111********1111");
        assert_eq!(mask("ABCD"), "****");
    }

    #[test]
    fn validates_given_numbers() {
        assert_eq!(validate("de44abcd").unwrap(), "DE44ABCD");
        assert!(validate("abc").is_err());
        assert!(validate("AB-CD").is_err());
    }
}

/// Mask every account-number-like token (8–34 characters of A–Z/0–9 containing at least 4
/// digits) in free text, for telemetry and logs.
pub(crate) fn mask_in_text(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, result: &mut String| {
        let digits = token.bytes().filter(u8::is_ascii_digit).count();
        if (8..=NUMBER_LENGTH_MAX).contains(&token.len()) && digits >= 4 {
            result.push_str(&mask(token));
        } else {
            result.push_str(token);
        }
        token.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            token.push(c);
        } else {
            flush(&mut token, &mut result);
            result.push(c);
        }
    }
    flush(&mut token, &mut result);
    result
}

#[cfg(test)]
mod text_tests {
    #[test]
    fn masks_numbers_inside_messages() {
        assert_eq!(
            super::mask_in_text("account 4111111111111111 is frozen"),
            "account 4111********1111 is frozen"
        );
        assert_eq!(
            super::mask_in_text("transfer 42 rejected"),
            "transfer 42 rejected"
        );
    }
}
