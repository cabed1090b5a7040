-- The bank's identifiers of a settlement account (issue 13, part 3): its IBAN in electronic
-- form (upper case, no spaces, ISO 13616-valid) and the account string the bank writes in
-- MT940 `:25:` / camt `Acct/Id/Othr/Id` (trimmed, at most 35 characters). Both optional; each
-- belongs to at most one account. The application validates them and allows them on
-- settlement accounts only.
ALTER TABLE accounts ADD COLUMN iban TEXT;
ALTER TABLE accounts ADD COLUMN bank_account TEXT;
CREATE UNIQUE INDEX accounts_iban ON accounts (iban) WHERE iban IS NOT NULL;
CREATE UNIQUE INDEX accounts_bank_account ON accounts (bank_account) WHERE bank_account IS NOT NULL;
