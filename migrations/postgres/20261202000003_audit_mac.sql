-- Keyed audit chain (issue 14, part 2): with FINCORE_AUDIT_KEY (or FINCORE_AUDIT_KEY_FILE) set,
-- each event also carries mac = HMAC-SHA256(key, hash), hex. The key is never stored here, so
-- rewriting history and recomputing the hashes does not yield valid MACs. NULL for events
-- written without a key.
ALTER TABLE audit_events ADD COLUMN mac TEXT;
