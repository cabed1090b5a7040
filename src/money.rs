//! Exact money: amounts are integer minor units (i64) tagged with an ISO 4217 currency.
//! Text is parsed strictly (no rounding, no truncation) and printed with exactly the
//! currency's decimals.

use crate::error::{AppError, AppResult, ErrorCode};
use std::fmt;
use std::str::FromStr;

/// Largest absolute amount accepted in minor units (15 digits). Sums of many such amounts
/// still fit in i64 balances for any realistic ledger, and every addition is checked anyway.
pub const AMOUNT_MINOR_MAX: i64 = 999_999_999_999_999;

/// Longest amount text we look at; anything longer is out of range or garbage.
const AMOUNT_TEXT_LENGTH_MAX: usize = 40;

/// ISO 4217 codes of the national currencies the euro replaced, with their minor units
/// (ISO 4217 list three, historic denominations).
const WITHDRAWN_EURO_CURRENCIES: [(&str, u8); 12] = [
    ("ATS", 2),
    ("BEF", 0),
    ("DEM", 2),
    ("ESP", 0),
    ("FIM", 2),
    ("FRF", 2),
    ("GRD", 0),
    ("IEP", 2),
    ("ITL", 0),
    ("LUF", 0),
    ("NLG", 2),
    ("PTE", 0),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

impl Currency {
    /// ISO 4217 code, case-insensitive (`usd` is USD), surrounding spaces removed
    /// (`crate::text::trim`). Unknown, empty, or without minor units: `invalid_currency`.
    pub fn parse(text: &str) -> AppResult<Currency> {
        let text = crate::text::trim(text);
        if text.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidCurrency,
                "required (an ISO 4217 code such as USD)",
            ));
        }
        let upper = text.to_ascii_uppercase();
        let iso = iso_currency::Currency::from_code(&upper).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidCurrency,
                format!("unknown currency '{text}'"),
            )
        })?;
        // Currencies without minor units in ISO 4217 (precious metals, testing codes) cannot
        // carry money in this ledger.
        let minor_units = iso.exponent().ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidCurrency,
                format!("currency '{upper}' has no minor units"),
            )
        })?;
        let bytes = upper.as_bytes();
        Ok(Currency {
            code: [bytes[0], bytes[1], bytes[2]],
            minor_units: minor_units as u8,
        })
    }

    /// `parse`, and also the euro area's national currencies withdrawn in 1999–2002 (`DEM`,
    /// `NLG`, `FRF`, …), which old bank statements are written in. Only statement readers take
    /// them: a ledger account cannot be opened in one, so such a statement reads (for
    /// inspection) but never reconciles against an account.
    pub(crate) fn parse_on_statement(text: &str) -> AppResult<Currency> {
        let error = match Currency::parse(text) {
            Ok(currency) => return Ok(currency),
            Err(error) => error,
        };
        let upper = crate::text::trim(text).to_ascii_uppercase();
        WITHDRAWN_EURO_CURRENCIES
            .iter()
            .find(|(code, _)| *code == upper)
            .map(|(code, minor_units)| {
                let bytes = code.as_bytes();
                Currency {
                    code: [bytes[0], bytes[1], bytes[2]],
                    minor_units: *minor_units,
                }
            })
            .ok_or(error)
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).expect("currency codes are ASCII")
    }

    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }

    /// Parse a strictly positive amount (transfers, deposits, withdrawals).
    pub(crate) fn parse_positive(&self, text: &str) -> AppResult<i64> {
        let minor = self.parse_signed(text)?;
        if minor <= 0 {
            return Err(AppError::new(
                ErrorCode::AmountMustBePositive,
                format!("amount '{text}' must be greater than zero"),
            ));
        }
        Ok(minor)
    }

    /// Parse a non-negative amount (limits, tolerances).
    pub(crate) fn parse_non_negative(&self, text: &str) -> AppResult<i64> {
        let minor = self.parse_signed(text)?;
        if minor < 0 {
            return Err(AppError::new(
                ErrorCode::AmountMustBePositive,
                format!("amount '{text}' must not be negative"),
            ));
        }
        Ok(minor)
    }

    /// Parse a signed decimal (`-12.30`, `+5`, `7.5`) into minor units, exactly.
    pub fn parse_signed(&self, text: &str) -> AppResult<i64> {
        parse_minor(text, self.minor_units())
    }

    pub fn format(&self, minor: i64) -> String {
        format_minor(minor, self.minor_units())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = AppError;
    fn from_str(text: &str) -> AppResult<Currency> {
        Currency::parse(text)
    }
}

/// Strict grammar `[+-]?[0-9]+(\.[0-9]+)?` after removing surrounding spaces
/// (`crate::text::trim`); rust_decimal then does the exact conversion. `+1.00` is 1.00;
/// `1,000.00`, `1.`, `.5`, `1e3` and `1 000` are `invalid_input`: a thousands separator or a
/// lone point is read differently by different people and exporters, so it is refused, not
/// guessed.
pub fn parse_minor(text: &str, minor_units: u32) -> AppResult<i64> {
    let text = crate::text::trim(text);
    if text.is_empty() {
        return Err(AppError::invalid_input(
            "required (a decimal amount such as 12.50)",
        ));
    }
    let invalid = || AppError::invalid_input(format!("amount '{text}' is not a decimal number"));
    if text.len() > AMOUNT_TEXT_LENGTH_MAX {
        if is_decimal_grammar(text) {
            return Err(out_of_range(text));
        }
        return Err(invalid());
    }
    if !is_decimal_grammar(text) {
        return Err(invalid());
    }
    let decimal = rust_decimal::Decimal::from_str_exact(text).map_err(|_| out_of_range(text))?;
    let decimals_given = text
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len()) as u32;
    if decimals_given > minor_units {
        // Trailing zeros beyond the currency's decimals are still more precision than the
        // currency has: the spec says reject, never round.
        return Err(AppError::new(
            ErrorCode::AmountPrecisionExceeded,
            format!(
                "amount '{text}' has {decimals_given} decimals; the currency allows {minor_units}"
            ),
        ));
    }
    let mantissa = decimal.mantissa();
    let scale_factor = 10i128.pow(minor_units - decimal.scale());
    let minor = mantissa
        .checked_mul(scale_factor)
        .filter(|value| value.abs() <= i128::from(AMOUNT_MINOR_MAX))
        .ok_or_else(|| out_of_range(text))?;
    Ok(minor as i64)
}

fn is_decimal_grammar(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

fn out_of_range(text: &str) -> AppError {
    AppError::new(
        ErrorCode::AmountOutOfRange,
        format!("amount '{text}' is beyond the supported range"),
    )
}

pub fn format_minor(minor: i64, minor_units: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if minor_units == 0 {
        return format!("{sign}{magnitude}");
    }
    let divisor = 10u64.pow(minor_units);
    format!(
        "{sign}{}.{:0width$}",
        magnitude / divisor,
        magnitude % divisor,
        width = minor_units as usize
    )
}

/// Format a wide sum (reports add up many amounts) with the currency's decimals.
pub(crate) fn format_minor_wide(minor: i128, minor_units: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if minor_units == 0 {
        return format!("{sign}{magnitude}");
    }
    let divisor = 10u128.pow(minor_units);
    format!(
        "{sign}{}.{:0width$}",
        magnitude / divisor,
        magnitude % divisor,
        width = minor_units as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(usd().parse_positive("1234.50").unwrap(), 123450);
        assert_eq!(usd().parse_positive("0.01").unwrap(), 1);
        assert_eq!(usd().parse_positive("7").unwrap(), 700);
        assert_eq!(usd().parse_positive("+1.00").unwrap(), 100);
        assert_eq!(usd().parse_positive(" 1.00\t").unwrap(), 100);
        assert_eq!(Currency::parse(" usd ").unwrap(), usd());
        assert_eq!(
            Currency::parse("JPY")
                .unwrap()
                .parse_positive("15")
                .unwrap(),
            15
        );
        assert_eq!(
            Currency::parse("BHD")
                .unwrap()
                .parse_positive("1.234")
                .unwrap(),
            1234
        );
    }

    #[test]
    fn rejects_with_codes() {
        let code = |text: &str| usd().parse_positive(text).unwrap_err().code;
        assert_eq!(code("1.234"), ErrorCode::AmountPrecisionExceeded);
        assert_eq!(code("1.230"), ErrorCode::AmountPrecisionExceeded);
        assert_eq!(code("0"), ErrorCode::AmountMustBePositive);
        assert_eq!(code("-1"), ErrorCode::AmountMustBePositive);
        assert_eq!(code("abc"), ErrorCode::InvalidInput);
        assert_eq!(code("1e5"), ErrorCode::InvalidInput);
        assert_eq!(code("1_000"), ErrorCode::InvalidInput);
        assert_eq!(code("1 000"), ErrorCode::InvalidInput);
        assert_eq!(code("1,000.00"), ErrorCode::InvalidInput);
        assert_eq!(code("1."), ErrorCode::InvalidInput);
        assert_eq!(code(".5"), ErrorCode::InvalidInput);
        assert_eq!(code("1e3"), ErrorCode::InvalidInput);
        assert_eq!(code("++1"), ErrorCode::InvalidInput);
        assert_eq!(code(""), ErrorCode::InvalidInput);
        assert_eq!(code("  "), ErrorCode::InvalidInput);
        assert_eq!(code("10000000000000000"), ErrorCode::AmountOutOfRange);
        assert_eq!(
            Currency::parse("JPY")
                .unwrap()
                .parse_positive("1.5")
                .unwrap_err()
                .code,
            ErrorCode::AmountPrecisionExceeded
        );
        assert_eq!(
            Currency::parse("XYZ").unwrap_err().code,
            ErrorCode::InvalidCurrency
        );
    }

    #[test]
    fn formats_with_currency_decimals() {
        assert_eq!(usd().format(123450), "1234.50");
        assert_eq!(usd().format(-5), "-0.05");
        assert_eq!(Currency::parse("JPY").unwrap().format(15), "15");
        assert_eq!(Currency::parse("BHD").unwrap().format(1), "0.001");
    }
}
