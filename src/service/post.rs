//! Single posts (post, deposit, withdraw) and reversals: one request, one write transaction.

use super::risk_rules::{is_assessed, single_post_assessor, RiskOptions};
use super::write_batch;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ledger::{apply, rejection_error, ApplyContext, Batch, Book, Outcome};
use crate::model::{AccountType, Transfer, TransferKind, TransferRequest, TransferStatus};
use crate::risk::{ApproveAll, Assessor, Traced};
use crate::store::{with_retry, Actor, Store, WriteTx};
use tracing::Instrument;

#[derive(Debug, Clone)]
pub(crate) struct PostResult {
    pub(crate) transfer: Transfer,
    pub(crate) replayed: bool,
}

pub(crate) async fn post(
    store: &Store,
    actor: &Actor,
    request: &TransferRequest,
    risk: &RiskOptions,
) -> AppResult<PostResult> {
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let outcome = post_in(&mut tx, request, risk).await?;
        finish(tx, outcome).await
    })
    .await
}

/// Apply one request inside an open write transaction (also used by account opening's
/// initial deposit). The request is assessed first unless it is a reversal or adjustment.
pub(crate) async fn post_in(
    tx: &mut WriteTx,
    request: &TransferRequest,
    risk: &RiskOptions,
) -> AppResult<(Outcome, Book, Batch)> {
    let keyed = match &request.key {
        Some(key) => tx.transfers_by_keys(&[key.as_str()]).await?,
        None => Default::default(),
    };
    let accounts = tx
        .accounts(&[request.from.as_str(), request.to.as_str()])
        .await?;
    // A replayed key, an unknown account or an operator correction needs no assessment.
    let replay = request
        .key
        .as_ref()
        .is_some_and(|key| keyed.contains_key(key));
    let payer = accounts.get(&request.from).cloned();
    let mut assessor: Box<dyn Assessor> = match payer {
        Some(from)
            if !replay && is_assessed(request.kind) && accounts.contains_key(&request.to) =>
        {
            let span = tracing::info_span!(target: "fincore", "fincore.risk.seed");
            Box::new(
                single_post_assessor(tx, risk, request, &from)
                    .instrument(span)
                    .await?,
            )
        }
        _ => Box::new(ApproveAll),
    };
    let mut book = Book::new(accounts, keyed);
    let mut batch = Batch::default();
    let mut ids = tx.transfer_ids();
    // A single post's assessment is its own span, with the score it produced.
    let mut traced = Traced(assessor.as_mut());
    let mut context = ApplyContext {
        ids: &mut ids,
        actor: &tx.actor,
        assessor: &mut traced,
        sent: &[],
    };
    let outcome = apply(&mut book, &mut batch, &mut context, request);
    tx.set_transfer_ids(&ids);
    Ok((outcome, book, batch))
}

async fn finish(
    mut tx: WriteTx,
    (outcome, book, batch): (Outcome, Book, Batch),
) -> AppResult<PostResult> {
    match outcome {
        Outcome::Posted(transfer) => {
            write_batch(&mut tx, &book, batch).await?;
            tx.commit().await?;
            Ok(PostResult {
                transfer,
                replayed: false,
            })
        }
        Outcome::Rejected(transfer) => {
            write_batch(&mut tx, &book, batch).await?;
            tx.commit().await?;
            Err(rejection_error(&transfer).expect("a rejected transfer has an error"))
        }
        Outcome::Replayed(transfer) => {
            tx.rollback().await?;
            match rejection_error(&transfer) {
                Some(error) => Err(error),
                None => Ok(PostResult {
                    transfer,
                    replayed: true,
                }),
            }
        }
        Outcome::Invalid(error) => {
            tx.rollback().await?;
            Err(error)
        }
    }
}

/// The settlement account named by `--via` must exist and be of type settlement.
pub(crate) async fn require_settlement(
    store: &Store,
    number: &str,
) -> AppResult<crate::model::Account> {
    let account = store.account(number).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::AccountNotFound,
            format!("--via account {number} does not exist"),
        )
    })?;
    if account.account_type != AccountType::Settlement {
        return Err(AppError::invalid_input(format!(
            "--via {number}: account is {}, not a settlement account",
            account.account_type
        )));
    }
    Ok(account)
}

pub(crate) async fn reverse(
    store: &Store,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<Transfer> {
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let original = tx
            .transfer_by_id(id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("transfer {id} does not exist")))?;
        check_reversible(&mut tx, &original).await?;
        let request = TransferRequest {
            kind: TransferKind::Reversal,
            key: None,
            from: original.to.clone(),
            to: original.from.clone(),
            amount_minor: original.amount_minor,
            currency: original.currency,
            reference: original.reference.clone(),
            description: reason.to_string(),
            at_us: None,
            reverses_id: Some(original.id),
        };
        let (outcome, book, batch) = post_in(&mut tx, &request, &RiskOptions::default()).await?;
        let Outcome::Posted(reversal) = outcome else {
            // A reversal that cannot be posted is not recorded: it would hold the
            // once-only slot of the original.
            tx.rollback().await?;
            return Err(outcome
                .error()
                .unwrap_or_else(|| AppError::invalid_input("reversal failed")));
        };
        write_batch(&mut tx, &book, batch).await?;
        tx.audit(
            "transfer.reversed",
            &format!("transfer:{id}"),
            serde_json::json!({ "id": id, "reversal_id": reversal.id, "reason": reason }),
        );
        tx.commit().await?;
        Ok(reversal)
    })
    .await
}

async fn check_reversible(tx: &mut WriteTx, original: &Transfer) -> AppResult<()> {
    if original.status != TransferStatus::Posted {
        return Err(AppError::new(
            ErrorCode::InvalidState,
            format!(
                "transfer {} was rejected; there is nothing to reverse",
                original.id
            ),
        ));
    }
    if original.kind == TransferKind::Reversal {
        return Err(AppError::new(
            ErrorCode::InvalidState,
            format!("transfer {} is itself a reversal", original.id),
        ));
    }
    if let Some(reversal_id) = tx.reversal_of(original.id).await? {
        return Err(AppError::new(
            ErrorCode::ReversalExists,
            format!(
                "transfer {} was already reversed by transfer {reversal_id}",
                original.id
            ),
        ));
    }
    Ok(())
}
