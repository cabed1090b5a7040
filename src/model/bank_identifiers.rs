//! The bank's identifiers of a settlement account: its IBAN and the account string the bank
//! writes in MT940 `:25:` or camt `Acct/Id/Othr/Id`. A statement file holding several accounts'
//! statements is restricted to the part whose account equals one of them
//! (`reconcile::select`).
//!
//! - An IBAN is kept in its electronic form: upper case, without spaces (`DE89 3704 0044 …`
//!   → `DE89370400440532013000`), and must pass ISO 13616: a country of the SWIFT IBAN
//!   registry, that country's length and BBAN format, and the mod-97 check digits
//!   (`iban_validate`, which is generated from the registry).
//! - A bank account string is kept as the bank writes it, trimmed: 1–35 characters (the
//!   length of MT940's `:25:` and camt's `Othr/Id`), no control characters.

use crate::error::{AppError, AppResult};

/// Longest bank account string: MT940 `:25:` is `35x`, camt `Othr/Id` `Max34Text`.
pub const BANK_ACCOUNT_LENGTH_MAX: usize = 35;

/// The identifiers an account carries; both `None` for every account but a settlement one
/// whose operator recorded them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankIdentifiers {
    /// Electronic form (upper case, no spaces), valid.
    pub iban: Option<String>,
    /// Trimmed, as the bank writes it.
    pub bank_account: Option<String>,
}

impl BankIdentifiers {
    pub fn is_empty(&self) -> bool {
        self.iban.is_none() && self.bank_account.is_none()
    }

    /// The identifiers that are set, in order IBAN, bank account.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.iban
            .iter()
            .chain(&self.bank_account)
            .map(String::as_str)
    }

    /// `IBAN DE89…, bank account 0532013000`: for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(iban) = &self.iban {
            parts.push(format!("IBAN {iban}"));
        }
        if let Some(bank_account) = &self.bank_account {
            parts.push(format!("bank account {bank_account}"));
        }
        if parts.is_empty() {
            "no bank identifiers".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// Upper case, all whitespace removed: how IBANs are compared (a statement may print the
/// paper form with spaces).
pub fn normalize_iban(text: &str) -> String {
    text.chars()
        .filter(|character| !character.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A valid IBAN in its electronic form, or `invalid_input` saying what is wrong.
pub fn validate_iban(text: &str) -> AppResult<String> {
    let electronic = normalize_iban(text);
    let invalid = |why: &str| AppError::invalid_input(format!("IBAN '{}' {why}", text.trim()));
    if electronic.is_empty() {
        return Err(AppError::invalid_input("IBAN must not be empty"));
    }
    match electronic.parse::<iban::Iban>() {
        Ok(_) => Ok(electronic),
        Err(iban::ParseIbanError::InvalidBaseIban {
            source: iban::ParseBaseIbanError::InvalidChecksum,
        }) => Err(invalid("fails the mod-97 check (a mistyped character?)")),
        Err(iban::ParseIbanError::InvalidBaseIban { .. }) => Err(invalid(
            "is not an IBAN: two letters, two check digits and up to 30 letters or digits",
        )),
        Err(iban::ParseIbanError::UnknownCountry(_)) => Err(invalid(&format!(
            "has country code {}, which has no IBANs in the IBAN registry",
            electronic.get(..2).unwrap_or_default()
        ))),
        Err(iban::ParseIbanError::InvalidBban(_)) => Err(invalid(&format!(
            "does not have the length or format of a {} IBAN",
            electronic.get(..2).unwrap_or_default()
        ))),
    }
}

/// A bank account string, trimmed: 1–35 characters without control characters.
pub fn validate_bank_account(text: &str) -> AppResult<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid_input("bank account must not be empty"));
    }
    if trimmed.chars().count() > BANK_ACCOUNT_LENGTH_MAX {
        return Err(AppError::invalid_input(format!(
            "bank account '{trimmed}' is longer than {BANK_ACCOUNT_LENGTH_MAX} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::invalid_input(
            "bank account must not contain control characters",
        ));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn an_iban_is_kept_in_electronic_form() {
        assert_eq!(
            validate_iban(" de89 3704 0044 0532 0130 00 ").unwrap(),
            "DE89370400440532013000"
        );
        assert_eq!(
            validate_iban("GB29NWBK60161331926819").unwrap(),
            "GB29NWBK60161331926819"
        );
    }

    #[test]
    fn an_invalid_iban_says_why() {
        let message = |text: &str| {
            let error = validate_iban(text).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidInput);
            error.message
        };
        assert!(message("DE88370400440532013000").contains("mod-97"));
        // Right check digits for its text, wrong length for Germany.
        assert!(message("DE5137040044053201300").contains("length or format of a DE IBAN"));
        assert!(message("XX46370400440532013000").contains("country code XX"));
        assert!(message("not an iban!").contains("is not an IBAN"));
        assert!(message("  ").contains("must not be empty"));
    }

    #[test]
    fn a_bank_account_is_trimmed_and_bounded() {
        assert_eq!(
            validate_bank_account(" 37040044/0532013000 ").unwrap(),
            "37040044/0532013000"
        );
        assert!(validate_bank_account(&"1".repeat(35)).is_ok());
        assert!(validate_bank_account(&"1".repeat(36)).is_err());
        assert!(validate_bank_account(" ").is_err());
        assert!(validate_bank_account("12\u{1}34").is_err());
    }
}
