-- Reconciliation over a statement's period (issue 13). A run reconciles the days from
-- period_from to period_to (a run with --date: that one day, date_given = 1); run_date stays
-- the run's --date, or period_to for a run over the whole period. Lines outside the run's days,
-- and lines on days another active run already reconciled, are counted, not matched. Grouped
-- matches count their statement lines (matched_grouped) and movements (grouped_entries).
-- balance_mismatch counts the statement's closing balances that differ from the ledger's.
ALTER TABLE reconcile_runs ADD COLUMN period_from TEXT;
ALTER TABLE reconcile_runs ADD COLUMN period_to TEXT;
ALTER TABLE reconcile_runs ADD COLUMN date_given BIGINT NOT NULL DEFAULT 1;
ALTER TABLE reconcile_runs ADD COLUMN lines_outside_run BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconcile_runs ADD COLUMN lines_already_reconciled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconcile_runs ADD COLUMN matched_grouped BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconcile_runs ADD COLUMN grouped_entries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconcile_runs ADD COLUMN balance_mismatch BIGINT NOT NULL DEFAULT 0;
UPDATE reconcile_runs SET period_from = run_date, period_to = run_date;
-- At most one active run per account and period; runs of overlapping periods divide the days
-- between them (a newer run leaves the days of an older active run it does not contain).
DROP INDEX reconcile_runs_active;
CREATE UNIQUE INDEX reconcile_runs_active ON reconcile_runs (account, period_from, period_to) WHERE superseded_by IS NULL;
CREATE INDEX reconcile_runs_account_period ON reconcile_runs (account, period_to, period_from);
-- The day of a break: its statement line's booking date, its movement's date, or the closing
-- date of a balance. An adjustment that resolves it is dated the end of that day. NULL in runs
-- stored before periods (their run_date is the day).
ALTER TABLE reconcile_items ADD COLUMN booked_on TEXT;
