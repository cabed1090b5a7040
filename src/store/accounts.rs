//! Account rows inside a write transaction.

use super::rows::{AccountRow, ACCOUNT_COLUMNS};
use super::write::{multi_row_insert, TxInner, WriteTx};
use super::{backend, dispatch, is_unique_violation};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::model::{Account, AccountStatus, BankIdentifiers};
use std::collections::HashMap;

impl WriteTx {
    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn account(&mut self, number: &str) -> AppResult<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE number = $1");
        let row: Option<AccountRow> = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query_as(&sql).bind(number).fetch_optional(&mut **tx).await?
        });
        row.map(AccountRow::into_account).transpose()
    }

    /// Load the named accounts (those that exist) keyed by number.
    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.read", skip_all, fields(db.system = self.system.as_str(), fincore.rows = numbers.len() as i64))]
    pub(crate) async fn accounts(
        &mut self,
        numbers: &[&str],
    ) -> AppResult<HashMap<String, Account>> {
        let mut found = HashMap::with_capacity(numbers.len());
        for row in backend::accounts(&mut self.inner, numbers).await? {
            let account = row.into_account()?;
            found.insert(account.number.clone(), account);
        }
        Ok(found)
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.write", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn insert_account(&mut self, account: &Account) -> AppResult<()> {
        let sql = multi_row_insert(
            self.system,
            &format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES "),
            11,
            1,
            1,
        );
        let outcome = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query(&sql)
                .bind(&account.number)
                .bind(&account.holder)
                .bind(account.account_type.as_str())
                .bind(account.currency.code())
                .bind(account.status.as_str())
                .bind(account.balance_minor)
                .bind(account.overdraft_limit_minor)
                .bind(account.created_at_us)
                .bind(account.updated_at_us)
                .bind(account.identifiers.iban.as_deref())
                .bind(account.identifiers.bank_account.as_deref())
                .execute(&mut **tx)
                .await
                .map(|done| done.rows_affected())
        });
        match outcome {
            Ok(_) => Ok(()),
            Err(error) if is_unique_violation(&error) => Err(AppError::new(
                ErrorCode::AccountExists,
                format!("account {} already exists", account.number),
            )),
            Err(error) => Err(error.into()),
        }
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.write", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn set_account_status(
        &mut self,
        number: &str,
        status: AccountStatus,
        now_us: i64,
    ) -> AppResult<()> {
        dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query("UPDATE accounts SET status = $1, updated_at_us = $2 WHERE number = $3")
                .bind(status.as_str())
                .bind(now_us)
                .bind(number)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Record a settlement account's bank identifiers (both columns, as given).
    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.write", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn set_account_identifiers(
        &mut self,
        number: &str,
        identifiers: &BankIdentifiers,
        now_us: i64,
    ) -> AppResult<()> {
        dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query(
                "UPDATE accounts SET iban = $1, bank_account = $2, updated_at_us = $3 WHERE number = $4",
            )
            .bind(identifiers.iban.as_deref())
            .bind(identifiers.bank_account.as_deref())
            .bind(now_us)
            .bind(number)
            .execute(&mut **tx)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    /// The account other than `except` that carries `identifier` as its IBAN or its bank
    /// account string, if any (an identifier names one account, whichever column holds it).
    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn account_with_identifier(
        &mut self,
        identifier: &str,
        except: &str,
    ) -> AppResult<Option<String>> {
        let number: Option<(String,)> = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query_as(
                "SELECT number FROM accounts WHERE (iban = $1 OR bank_account = $1) AND number <> $2 ORDER BY number LIMIT 1",
            )
            .bind(identifier)
            .bind(except)
            .fetch_optional(&mut **tx)
            .await?
        });
        Ok(number.map(|(number,)| number))
    }

    /// Write new absolute balances for the accounts a batch touched, in one statement per chunk.
    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.write", skip_all, fields(db.system = self.system.as_str(), fincore.rows = balances.len() as i64))]
    pub(crate) async fn set_balances(
        &mut self,
        balances: &[(String, i64)],
        now_us: i64,
    ) -> AppResult<()> {
        backend::set_balances(&mut self.inner, balances, now_us).await
    }
}

impl WriteTx {
    /// An existing account with this holder, type and currency (imports without a number).
    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn account_like(
        &mut self,
        holder: &str,
        account_type: crate::model::AccountType,
        currency: crate::money::Currency,
    ) -> AppResult<Option<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE holder = $1 AND account_type = $2 AND currency = $3 ORDER BY number LIMIT 1"
        );
        let row: Option<AccountRow> = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query_as(&sql)
                .bind(holder)
                .bind(account_type.as_str())
                .bind(currency.code())
                .fetch_optional(&mut **tx)
                .await?
        });
        row.map(AccountRow::into_account).transpose()
    }
}
