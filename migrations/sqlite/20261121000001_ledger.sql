-- Ledger core. Money is integer minor units; instants are microseconds since the Unix epoch (UTC).
CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    audit_seq BIGINT NOT NULL,
    audit_hash TEXT NOT NULL,
    transfer_seq BIGINT NOT NULL
);
INSERT INTO ledger_head (id, audit_seq, audit_hash, transfer_seq)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

CREATE TABLE accounts (
    number TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    account_type TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    balance_minor BIGINT NOT NULL DEFAULT 0,
    overdraft_limit_minor BIGINT NOT NULL DEFAULT 0,
    created_at_us BIGINT NOT NULL,
    updated_at_us BIGINT NOT NULL
);
CREATE INDEX accounts_holder ON accounts (holder);

CREATE TABLE transfers (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    payload_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_account TEXT NOT NULL,
    to_account TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    reference TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    at_us BIGINT NOT NULL,
    created_at_us BIGINT NOT NULL,
    risk_score BIGINT NOT NULL DEFAULT 0,
    risk_level TEXT NOT NULL DEFAULT 'low',
    risk_decision TEXT NOT NULL DEFAULT 'approve',
    risk_factors TEXT NOT NULL DEFAULT '[]',
    reverses_id BIGINT,
    operator TEXT NOT NULL,
    trace_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX transfers_at ON transfers (at_us);
-- A transfer is reversed at most once.
CREATE UNIQUE INDEX transfers_reverses ON transfers (reverses_id) WHERE reverses_id IS NOT NULL;

-- Write-heavy tables keep only the indexes queries need: import speed is bounded by b-tree inserts.
-- Double entry: amount_minor is + for a debit and - for a credit; each transfer's entries sum to 0.
CREATE TABLE entries (
    transfer_id BIGINT NOT NULL,
    account TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    at_us BIGINT NOT NULL
);
CREATE INDEX entries_account_at ON entries (account, at_us);

CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    at_us BIGINT NOT NULL,
    operator TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    details TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
