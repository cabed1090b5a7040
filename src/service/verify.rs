//! `ledger verify`: every row of money and state proven against the audit chain (see
//! `evidence`), and the chain itself intact up to the ledger head.

use crate::audit::{
    AnchorCheck, AuditEvent, ChainVerifier, ImportedTransfers, LegacyTransfersDigest,
};
use crate::error::AppResult;
use crate::evidence::derived::{balance_findings, entries_agree, entries_findings};
use crate::evidence::derived::{EntryHasher, LatestRisk, LatestRiskProof, Posting};
use crate::evidence::derived::{ExpectedEntries, FoundEntries};
use crate::evidence::proof::{BindingIndex, Finding, TableProof};
use crate::evidence::{bindings_of, TableEvidence};
use crate::evidence::{
    ACCOUNTS, RECONCILE_ITEMS, RECONCILE_RUNS, RISK_ASSESSMENTS, RISK_BLACKLIST,
};
use crate::evidence::{RISK_RULE_SETS, RISK_RUNS, TABLES, TRANSFERS};
use crate::store::{Actor, EvidenceScan, Store};
use std::collections::hash_map::RandomState;

#[derive(Debug, Clone)]
pub(crate) struct VerifyReport {
    pub(crate) transfers_checked: u64,
    pub(crate) accounts_checked: usize,
    pub(crate) rows_checked: u64,
    pub(crate) audit_events_checked: u64,
    pub(crate) discrepancies: Vec<Finding>,
}

/// Every row of money and state against the audit chain: each bound table row by row, each
/// transfer's entries against its posting, each balance against its entries, debits =
/// credits per currency, `risk_latest` against the assessments, the head against the chain.
///
/// Verify reads one state: it holds the ledger's write lock while it reads (writers wait for it,
/// as for any writer), so a post committed between reading the chain and reading the tables
/// cannot look like a row written outside fincore.
pub(crate) async fn verify(store: &Store, actor: &Actor) -> AppResult<VerifyReport> {
    if store.ledger_head().await?.is_none() {
        // Nothing can take the write lock without the head; report what can be said.
        return verify_locked(store).await;
    }
    let lock = store.begin_write(actor).await?;
    let report = verify_locked(store).await;
    lock.rollback().await?;
    report
}

async fn verify_locked(store: &Store) -> AppResult<VerifyReport> {
    let mut index = BindingIndex::default();
    let chain = audit_chain_visiting(store, &mut AnchorCheck::default(), |event| {
        index_event(&mut index, event);
    })
    .await?;
    let mut findings = Vec::new();
    if let Some((seq, detail)) = chain.problem {
        findings.push(Finding::new(
            "audit_chain",
            "audit_events",
            seq.to_string(),
            Some(seq),
            format!("audit_events {seq}: {detail}"),
        ));
    }
    if let Some(detail) = chain.head_problem {
        findings.push(Finding::new(
            "head_matches_audit",
            "ledger_head",
            "1",
            None,
            format!("ledger_head 1: {detail}"),
        ));
    }
    for (seq, table) in &index.unknown_tables {
        findings.push(Finding::new(
            "row_recorded",
            "audit_events",
            seq.to_string(),
            Some(*seq),
            format!(
                "audit seq {seq} records rows of table {table}, which this fincore does not know"
            ),
        ));
    }
    // Transfers and entries, the two big tables, are read at once; then the rest in turn.
    let dense_max = store
        .head_transfer_seq()
        .await?
        .unwrap_or(0)
        .max(index.last_integer_key(&TRANSFERS));
    let hasher = EntryHasher::new(RandomState::new());
    // The transfers in two halves (split between batches), the entries beside them: three
    // threads, so two cores stay busy however the work falls.
    let [low, high] = index.split_keys(&TRANSFERS, dense_max);
    let mut expected = ExpectedEntries::new(hasher.clone(), None);
    let mut expected_high = ExpectedEntries::new(hasher.clone(), None);
    let mut found = FoundEntries::new(hasher.clone(), None);
    let mut transfers = index.table_proof_of_keys(&TRANSFERS, low);
    let mut transfers_high = index.table_proof_of_keys(&TRANSFERS, high);
    store
        .scan_evidence(vec![
            EvidenceScan::TableKeys(
                &TRANSFERS,
                low.first,
                low.last,
                Box::new(|cells| {
                    transfers.row(cells);
                    expected.transfer(&posting_of(cells));
                }),
            ),
            EvidenceScan::TableKeys(
                &TRANSFERS,
                high.first,
                high.last,
                Box::new(|cells| {
                    transfers_high.row(cells);
                    expected_high.transfer(&posting_of(cells));
                }),
            ),
            EvidenceScan::Entries(Box::new(|transfer_id, account, amount_minor, at_us| {
                found.entry(transfer_id, account, amount_minor, at_us);
            })),
        ])
        .await?;
    expected.merge(&expected_high);
    found.finish();
    let transfers_checked = transfers.rows + transfers_high.rows;
    let mut rows_checked = transfers_checked;
    findings.extend(transfers.finish());
    findings.extend(transfers_high.finish());
    let mut latest = LatestRiskProof::default();
    for table in TABLES
        .iter()
        .copied()
        .filter(|table| table.name != TRANSFERS.name)
    {
        let mut proof = index.table_proof(table);
        prove_table(store, table, &mut proof, &mut latest).await?;
        rows_checked += proof.rows;
        findings.extend(proof.finish());
    }
    if !entries_agree(&expected, &found) {
        findings.extend(locate_entries(store, hasher, dense_max).await?);
    }
    let entries = found;
    let balances = store.stored_balances().await?;
    findings.extend(balance_findings(&balances, &entries.account_sums));
    findings.extend(latest.findings(store.stored_latest_risks().await?));
    findings.extend(head_findings(store, &index).await?);
    Ok(VerifyReport {
        transfers_checked,
        accounts_checked: balances.len(),
        rows_checked,
        audit_events_checked: chain.events_checked,
        discrepancies: findings,
    })
}

/// The transfers whose entries are not their postings' (read again, one set per transfer).
async fn locate_entries(
    store: &Store,
    hasher: EntryHasher,
    dense_max: i64,
) -> AppResult<Vec<Finding>> {
    let mut expected = ExpectedEntries::new(hasher.clone(), Some(dense_max));
    let mut found = FoundEntries::new(hasher, Some(dense_max));
    store
        .scan_evidence(vec![
            EvidenceScan::Table(
                &TRANSFERS,
                Box::new(|cells| expected.transfer(&posting_of(cells))),
            ),
            EvidenceScan::Entries(Box::new(|transfer_id, account, amount_minor, at_us| {
                found.entry(transfer_id, account, amount_minor, at_us);
            })),
        ])
        .await?;
    Ok(entries_findings(&expected, &found))
}

/// Stream one table through its proof; assessments also rebuild `risk_latest`.
async fn prove_table(
    store: &Store,
    table: &'static TableEvidence,
    proof: &mut TableProof<'_>,
    latest: &mut LatestRiskProof,
) -> AppResult<()> {
    let assessments = table.name == RISK_ASSESSMENTS.name;
    let visit = |cells: &[Option<&str>]| {
        proof.row(cells);
        if assessments {
            let (account, risk) = assessment_of(cells);
            latest.assessment(account, risk);
        }
    };
    store
        .scan_evidence(vec![EvidenceScan::Table(table, Box::new(visit))])
        .await
}

fn integer(cell: Option<&str>) -> i64 {
    cell.and_then(|text| text.parse().ok()).unwrap_or(i64::MIN)
}

/// The fields of a transfer row (`evidence::TRANSFERS` order) its posting reads.
fn posting_of<'a>(cells: &[Option<&'a str>]) -> Posting<'a> {
    Posting {
        id: integer(cells[0]),
        posted: cells[8] == Some("posted"),
        from: cells[4].unwrap_or(""),
        to: cells[5].unwrap_or(""),
        amount_minor: integer(cells[6]),
        at_us: integer(cells[13]),
    }
}

/// An assessment row (`evidence::RISK_ASSESSMENTS` order) as `risk_latest` would hold it.
fn assessment_of<'a>(cells: &[Option<&'a str>]) -> (&'a str, LatestRisk) {
    let text = |index: usize| cells[index].unwrap_or("").to_string();
    let risk = LatestRisk {
        assessment_id: integer(cells[0]),
        as_of_us: integer(cells[3]),
        score: text(4),
        level: text(5),
        decision: text(6),
    };
    (cells[2].unwrap_or(""), risk)
}

/// The ledger head's transfer counter must be the last transfer the chain records, and every
/// transfer id up to it recorded by exactly one event.
async fn head_findings(store: &Store, index: &BindingIndex) -> AppResult<Vec<Finding>> {
    let recorded = index.last_integer_key(&TRANSFERS);
    // A missing head row is the chain check's finding.
    let head = store.head_transfer_seq().await?.unwrap_or(recorded);
    let mut findings = index.coverage_findings(&TRANSFERS, head);
    if head == recorded {
        return Ok(findings);
    }
    findings.push(Finding::new(
        "head_matches_audit",
        "ledger_head",
        "1",
        None,
        format!("ledger_head 1: transfer_seq is {head}, but the last transfer the audit chain records is {recorded}"),
    ));
    Ok(findings)
}

/// What one event binds, into the index; events from before row bindings cover their rows
/// by their action and entity.
fn index_event(index: &mut BindingIndex, event: &AuditEvent) {
    let bindings = bindings_of(&event.details);
    if !bindings.is_empty() {
        for binding in bindings {
            index.add(event.seq, binding);
        }
        return;
    }
    let entity = event.entity.as_str();
    let id_after = |prefix: &str| entity.strip_prefix(prefix).map(str::to_string);
    match event.action.as_str() {
        "transfer.posted" | "transfer.rejected" => {
            if let Some(id) = id_after("transfer:") {
                index.add_legacy(event.seq, &TRANSFERS, id);
            }
        }
        crate::audit::IMPORT_ACTION => {
            if let Some(batch) = ImportedTransfers::of(event) {
                index.add_legacy_batch(event.seq, batch.first_id, batch.last_id);
            }
        }
        "account.opened" | "account.frozen" | "account.unfrozen" | "account.closed"
        | "account.updated" => index.add_legacy(event.seq, &ACCOUNTS, entity.to_string()),
        "risk.blacklist.added" | "risk.blacklist.removed" => {
            index.add_legacy(event.seq, &RISK_BLACKLIST, entity.to_string());
        }
        "risk.rules.imported" => {
            if let Some(version) = id_after("risk_rules:") {
                index.add_legacy(event.seq, &RISK_RULE_SETS, version);
            }
        }
        "risk.rescored" => {
            if let Some(run) = id_after("risk_run:") {
                index.add_legacy(event.seq, &RISK_RUNS, run.clone());
                index.add_legacy_parent(&RISK_ASSESSMENTS, run);
            }
        }
        "reconcile.run" => {
            if let Some(run) = id_after("reconcile_run:") {
                index.add_legacy(event.seq, &RECONCILE_RUNS, run.clone());
                index.add_legacy_parent(&RECONCILE_ITEMS, run);
            }
        }
        "reconcile.resolved" => {
            if let Some(item) = id_after("reconcile_item:") {
                index.add_legacy(event.seq, &RECONCILE_ITEMS, item);
            }
        }
        _ => {}
    }
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
    /// Why the ledger head disagrees with the chain's tip (or is gone), when it does.
    pub(crate) head_problem: Option<String>,
}

/// Walk the chain; the first broken seq and why, or None. The tip must equal the ledger head,
/// so deleting the newest events is detected too. An import event's digest must equal the
/// digest of the transfers it covers as stored now. Each anchor's seq must still carry its
/// hash (checked once the chain itself holds: a broken chain is reported first).
pub(crate) async fn audit_chain(
    store: &Store,
    anchors: &mut AnchorCheck,
) -> AppResult<ChainReport> {
    audit_chain_visiting(store, anchors, |_| {}).await
}

/// `audit_chain`, handing every intact event to `visit` on the way.
async fn audit_chain_visiting(
    store: &Store,
    anchors: &mut AnchorCheck,
    mut visit: impl FnMut(&AuditEvent),
) -> AppResult<ChainReport> {
    let mut verifier = ChainVerifier::keyed(store.audit_key.clone());
    let mut problem = None;
    let mut imports = Vec::new();
    store
        .for_each_audit_event(|event| match verifier.check(event) {
            Ok(()) => {
                anchors.see(event.seq, &event.hash);
                visit(event);
                match ImportedTransfers::of(event) {
                    Some(imported) if imported.transfers_sha256.is_some() => {
                        imports.push((event.seq, imported));
                    }
                    _ => {}
                }
                true
            }
            Err(detail) => {
                // A missing event is named by its seq, not by the next one found.
                let expected = verifier.tip().0 + 1;
                problem = Some((event.seq.min(expected), detail));
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
    let mut head_problem = None;
    if problem.is_none() {
        let (tip_seq, tip_hash) = verifier.tip();
        head_problem = match store.ledger_head().await? {
            None => Some("the ledger head row is missing".to_string()),
            Some((seq, _)) if seq != tip_seq => Some(format!(
                "chain ends at seq {tip_seq} but the ledger head records seq {seq}"
            )),
            Some((_, hash)) if hash != tip_hash => Some(format!(
                "the ledger head records hash {hash} for seq {tip_seq}, the chain {tip_hash}"
            )),
            Some(_) => None,
        };
        if let Some(detail) = &head_problem {
            problem = Some((tip_seq + 1, detail.clone()));
        }
    }
    Ok(ChainReport {
        events_checked: verifier.checked,
        macs_checked: verifier.macs_checked,
        macs_unchecked: verifier.macs_seen - verifier.macs_checked,
        problem,
        head_problem,
    })
}

/// The first legacy import event (from before row bindings; events before any chain break)
/// whose transfers no longer match its digest: an imported transfer edited, deleted or added.
async fn first_edited_import(
    store: &Store,
    imports: &[(i64, ImportedTransfers)],
) -> AppResult<Option<(i64, String)>> {
    for (seq, imported) in imports {
        let mut digest = LegacyTransfersDigest::default();
        store
            .for_each_transfer_between(imported.first_id, imported.last_id, |transfer| {
                digest.add(transfer)
            })
            .await?;
        let recorded = imported.transfers_sha256.as_deref();
        if digest.count != imported.transfers || Some(digest.hex().as_str()) != recorded {
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
