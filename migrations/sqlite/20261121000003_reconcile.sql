-- Reconciliation runs and their break items. Amounts are integer minor units; dates YYYY-MM-DD.
-- A run of an account and date is active until a re-run supersedes it (superseded_by = the
-- newer run); superseded runs and their items are kept for audit. At most one active run per
-- account and date.
CREATE TABLE reconcile_runs (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    run_date TEXT NOT NULL,
    superseded_by BIGINT,
    supersedes BIGINT,
    currency TEXT NOT NULL,
    statement_file TEXT NOT NULL,
    input_format TEXT NOT NULL,
    statement_account TEXT,
    amount_tolerance_minor BIGINT NOT NULL,
    date_window_days BIGINT NOT NULL,
    statement_lines BIGINT NOT NULL,
    internal_entries BIGINT NOT NULL,
    matched BIGINT NOT NULL,
    matched_fuzzy BIGINT NOT NULL,
    missing_internal BIGINT NOT NULL,
    missing_external BIGINT NOT NULL,
    amount_mismatch BIGINT NOT NULL,
    duplicate_external BIGINT NOT NULL,
    ambiguous BIGINT NOT NULL,
    currency_mismatch BIGINT NOT NULL,
    -- Balance check (camt.053, MT940): the statement's booked balances and ours at the end of
    -- the closing date. NULL when the statement carries no balances (CSV).
    balance_currency TEXT,
    balance_date TEXT,
    statement_opening_minor BIGINT,
    statement_closing_minor BIGINT,
    ledger_closing_minor BIGINT,
    operator TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    created_at_us BIGINT NOT NULL
);
CREATE INDEX reconcile_runs_account_date ON reconcile_runs (account, run_date);
CREATE UNIQUE INDEX reconcile_runs_active ON reconcile_runs (account, run_date) WHERE superseded_by IS NULL;

CREATE TABLE reconcile_items (
    id INTEGER PRIMARY KEY,
    run_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    currency TEXT NOT NULL,
    internal_currency TEXT,
    internal_amount_minor BIGINT,
    external_amount_minor BIGINT,
    difference_minor BIGINT,
    transfer_id BIGINT,
    statement_line BIGINT,
    -- NULL while open; 'posted' (adjustment transfer resolution_transfer_id) or 'accepted'.
    resolution TEXT,
    resolution_note TEXT,
    resolution_transfer_id BIGINT,
    resolved_by TEXT,
    resolved_at_us BIGINT,
    -- The identical item of an earlier run whose resolution this item carries.
    resolved_in_item BIGINT
);
CREATE INDEX reconcile_items_run ON reconcile_items (run_id);

-- Reconciliation reads a settlement account's movements of a few days, and the balance check
-- sums its entries up to a day: both from the index alone. Replaces the ledger's
-- (account, at_us) index rather than adding a second one, so imports do not pay for two.
DROP INDEX entries_account_at;
CREATE INDEX entries_account_at ON entries (account, at_us, transfer_id, amount_minor);
