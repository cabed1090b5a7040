//! `ledger verify`: every transfer balances, every stored balance equals its entries, and the
//! audit chain is intact up to the ledger head.

use crate::audit::{AnchorCheck, ChainVerifier, ImportedTransfers, TransfersDigest};
use crate::error::AppResult;
use crate::store::Store;

#[derive(Debug, Clone)]
pub(crate) struct Discrepancy {
    pub(crate) check: &'static str,
    pub(crate) entity: String,
    pub(crate) detail: String,
}

#[derive(Debug, Clone)]
pub(crate) struct VerifyReport {
    pub(crate) transfers_checked: bool,
    pub(crate) accounts_checked: usize,
    pub(crate) audit_events_checked: u64,
    pub(crate) discrepancies: Vec<Discrepancy>,
}

pub(crate) async fn verify(store: &Store) -> AppResult<VerifyReport> {
    let mut discrepancies = Vec::new();
    for (id, detail) in store.unbalanced_transfers().await? {
        discrepancies.push(Discrepancy {
            check: "transfer_balanced",
            entity: format!("transfer:{id}"),
            detail,
        });
    }
    let balances = store.balances_against_entries().await?;
    for (number, account_type, stored, entry_sum) in &balances {
        let expected = if account_type == "settlement" {
            *entry_sum
        } else {
            -*entry_sum
        };
        if *stored != expected {
            discrepancies.push(Discrepancy {
                check: "balance_matches_entries",
                entity: number.clone(),
                detail: format!("stored balance {stored} minor units, entries say {expected}"),
            });
        }
    }
    let chain = audit_chain(store, &mut AnchorCheck::default()).await?;
    let (audit_checked, audit_problem) = (chain.events_checked, chain.problem);
    if let Some((seq, detail)) = audit_problem {
        discrepancies.push(Discrepancy {
            check: "audit_chain",
            entity: format!("seq:{seq}"),
            detail,
        });
    }
    Ok(VerifyReport {
        transfers_checked: true,
        accounts_checked: balances.len(),
        audit_events_checked: audit_checked,
        discrepancies,
    })
}

/// What a walk of the audit chain found.
#[derive(Debug, Clone)]
pub(crate) struct ChainReport {
    pub(crate) events_checked: u64,
    /// Events whose MAC was checked under the audit key.
    pub(crate) macs_checked: u64,
    /// Events carrying a MAC that could not be checked (no key configured).
    pub(crate) macs_unchecked: u64,
    /// The first broken seq and why.
    pub(crate) problem: Option<(i64, String)>,
}

/// Walk the chain; the first broken seq and why, or None. The tip must equal the ledger head,
/// so deleting the newest events is detected too. An import event's digest must equal the
/// digest of the transfers it covers as stored now. Each anchor's seq must still carry its
/// hash (checked once the chain itself holds: a broken chain is reported first).
pub(crate) async fn audit_chain(
    store: &Store,
    anchors: &mut AnchorCheck,
) -> AppResult<ChainReport> {
    let mut verifier = ChainVerifier::keyed(store.audit_key.clone());
    let mut problem = None;
    let mut imports = Vec::new();
    store
        .for_each_audit_event(|event| match verifier.check(event) {
            Ok(()) => {
                anchors.see(event.seq, &event.hash);
                if let Some(imported) = ImportedTransfers::of(event) {
                    imports.push((event.seq, imported));
                }
                true
            }
            Err(detail) => {
                problem = Some((event.seq, detail));
                false
            }
        })
        .await?;
    if let Some(found) = first_edited_import(store, &imports).await? {
        problem = Some(found);
    }
    if problem.is_none() {
        if let Err(detail) = verifier.check_keyed_tip() {
            problem = Some((verifier.tip().0, detail));
        }
    }
    if problem.is_none() {
        anchors.finish(verifier.tip().0);
        problem = anchors.broken.clone();
    }
    if problem.is_none() {
        let (head_seq, head_hash) = store.ledger_head().await?;
        let (tip_seq, tip_hash) = verifier.tip();
        if head_seq != tip_seq || head_hash != tip_hash {
            problem = Some((
                tip_seq + 1,
                format!("chain ends at seq {tip_seq} but the ledger head records seq {head_seq}"),
            ));
        }
    }
    Ok(ChainReport {
        events_checked: verifier.checked,
        macs_checked: verifier.macs_checked,
        macs_unchecked: verifier.macs_seen - verifier.macs_checked,
        problem,
    })
}

/// The first import event (events before any chain break) whose transfers no longer match
/// its digest: an imported transfer edited, deleted or added in the database.
async fn first_edited_import(
    store: &Store,
    imports: &[(i64, ImportedTransfers)],
) -> AppResult<Option<(i64, String)>> {
    for (seq, imported) in imports {
        let mut digest = TransfersDigest::default();
        store
            .for_each_transfer_between(imported.first_id, imported.last_id, |transfer| {
                digest.add(transfer)
            })
            .await?;
        if digest.count != imported.transfers || digest.hex() != imported.transfers_sha256 {
            return Ok(Some((
                *seq,
                format!(
                    "transfers {}..{} no longer match the import event's digest (an imported transfer was edited)",
                    imported.first_id, imported.last_id
                ),
            )));
        }
    }
    Ok(None)
}
