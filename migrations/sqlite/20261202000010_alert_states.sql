-- Alert state of `alerts check` (issue 17): one row per rule name that has ever fired.
-- firing = 1 while the rule's condition holds (since_us: when it started), 0 once resolved
-- (resolved_at_us). Rows change only on a transition, each with its audit event
-- (`alert.firing` / `alert.resolved`) in the same transaction. value is the measurement at the
-- transition, an exact integer in unit (basis_points, count or minor_units).
CREATE TABLE alert_states (
    rule TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    firing BIGINT NOT NULL,
    since_us BIGINT NOT NULL,
    resolved_at_us BIGINT,
    value BIGINT NOT NULL,
    unit TEXT NOT NULL,
    message TEXT NOT NULL,
    updated_at_us BIGINT NOT NULL
);
