-- Risk engine: versioned rule sets (one active), the blacklist, and rescoring results with
-- their history. Scores are integers 0-100; instants are microseconds since the epoch (UTC).

-- Rule sets imported with `risk rules import`: `version` counts 1, 2, 3…; `fingerprint` is the
-- SHA-256 of the canonical TOML (`RuleSet::version()`); at most one row has active = 1.
CREATE TABLE risk_rule_sets (
    version BIGINT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    rules_toml TEXT NOT NULL,
    source TEXT NOT NULL,
    active BIGINT NOT NULL,
    imported_at_us BIGINT NOT NULL,
    operator TEXT NOT NULL
);
CREATE UNIQUE INDEX risk_rule_sets_one_active ON risk_rule_sets (active) WHERE active = 1;

CREATE TABLE risk_blacklist (
    number TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    added_at_us BIGINT NOT NULL,
    operator TEXT NOT NULL
);

-- One row per `risk rescore` run.
CREATE TABLE risk_runs (
    id BIGINT PRIMARY KEY,
    as_of_us BIGINT NOT NULL,
    created_at_us BIGINT NOT NULL,
    operator TEXT NOT NULL,
    rules_fingerprint TEXT NOT NULL,
    accounts BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    frozen BIGINT NOT NULL,
    trace_id TEXT NOT NULL
);

-- Every stored assessment (history): factors and profile are JSON text.
CREATE TABLE risk_assessments (
    id BIGINT PRIMARY KEY,
    run_id BIGINT NOT NULL,
    account TEXT NOT NULL,
    as_of_us BIGINT NOT NULL,
    score BIGINT NOT NULL,
    level TEXT NOT NULL,
    decision TEXT NOT NULL,
    factors TEXT NOT NULL,
    profile TEXT NOT NULL
);
CREATE INDEX risk_assessments_account ON risk_assessments (account, as_of_us);

-- The current assessment of each account: the stored one with the latest as_of.
CREATE TABLE risk_latest (
    account TEXT PRIMARY KEY,
    assessment_id BIGINT NOT NULL,
    as_of_us BIGINT NOT NULL,
    score BIGINT NOT NULL,
    level TEXT NOT NULL,
    decision TEXT NOT NULL
);

-- Failed attempts (rejected transfers) of an account in a window, for the assessment before
-- each post. Rejections are rare, so this partial index costs imports almost nothing; posted
-- movements are found through entries (account, at_us).
CREATE INDEX transfers_rejected_from ON transfers (from_account, at_us) WHERE status = 'rejected';
CREATE INDEX transfers_rejected_to ON transfers (to_account, at_us) WHERE status = 'rejected';
