-- Storage tuning for PostgreSQL; no change visible through fincore.
--
-- Every posting rewrites the balances of the accounts it touches; an import batch of 20,000
-- transfers may rewrite all of them. Free space on each page lets PostgreSQL update rows in
-- place (HOT updates: no new index entries). Applies to pages written from now on.
ALTER TABLE accounts SET (fillfactor = 40);
