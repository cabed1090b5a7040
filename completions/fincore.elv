
use builtin;
use str;

set edit:completion:arg-completer[fincore] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'fincore'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'fincore'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand account 'Open, inspect, freeze and close accounts'
            cand transfer 'Post, import, show, list and reverse transfers'
            cand report 'Trial balance and compliance reports'
            cand reconcile 'Reconcile a bank statement against a settlement account; list, show, resolve breaks'
            cand ledger 'Ledger integrity checks'
            cand audit 'The tamper-evident audit chain'
            cand risk 'Risk: batch rescoring, assessments, rule sets and the blacklist'
            cand alerts 'Alert checks for cron and monitoring agents (exit 0 OK, 1 warning, 2 critical)'
            cand events 'The change feed: every change since a cursor as CloudEvents'
            cand db 'Schema migrations'
            cand completions 'Print a shell completion script'
            cand demo 'Build a demo ledger from fixtures/ and run the daily jobs on it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;account'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand open 'Open an account'
            cand show 'Show one account'
            cand list 'List accounts'
            cand freeze 'Freeze an account: no transfers in or out'
            cand unfreeze 'Lift a freeze'
            cand close 'Close an account (zero balance only)'
            cand statement 'Entries with running balance'
            cand import 'Import accounts from CSV `number,holder,type,currency,overdraft_limit`'
            cand update 'Set or clear a settlement account''s bank identifiers (IBAN, MT940 `:25:` account)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;account;open'= {
            cand --holder 'holder'
            cand --type 'type'
            cand --currency 'currency'
            cand --number '4–34 characters A–Z 0–9 (default: 16 generated digits with a Luhn check digit)'
            cand --overdraft-limit 'overdraft-limit'
            cand --credit-limit 'Required for credit accounts'
            cand --initial-deposit 'initial-deposit'
            cand --via 'Settlement account the initial deposit comes through'
            cand --iban 'Settlement accounts: the account''s IBAN (spaces allowed; validated, stored upper case without spaces)'
            cand --bank-account 'Settlement accounts: the account as the bank writes it in MT940 `:25:` or camt `Othr/Id` (≤ 35 characters)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;account;show'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;account;list'= {
            cand --status 'status'
            cand --type 'type'
            cand --currency 'currency'
            cand --holder 'Case-insensitive substring of the holder name'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;account;freeze'= {
            cand --reason 'reason'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;account;unfreeze'= {
            cand --reason 'reason'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;account;close'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;account;statement'= {
            cand --from 'First day (YYYY-MM-DD) or instant (RFC 3339)'
            cand --to 'Last day (inclusive) or instant'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;account;import'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;account;update'= {
            cand --iban 'Record this IBAN (spaces allowed; validated, stored upper case without spaces)'
            cand --bank-account 'Record the account as the bank writes it in MT940 `:25:` or camt `Othr/Id` (≤ 35 characters)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand --clear-iban 'Remove the recorded IBAN'
            cand --clear-bank-account 'Remove the recorded bank account string'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;account;help'= {
            cand open 'Open an account'
            cand show 'Show one account'
            cand list 'List accounts'
            cand freeze 'Freeze an account: no transfers in or out'
            cand unfreeze 'Lift a freeze'
            cand close 'Close an account (zero balance only)'
            cand statement 'Entries with running balance'
            cand import 'Import accounts from CSV `number,holder,type,currency,overdraft_limit`'
            cand update 'Set or clear a settlement account''s bank identifiers (IBAN, MT940 `:25:` account)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;account;help;open'= {
        }
        &'fincore;account;help;show'= {
        }
        &'fincore;account;help;list'= {
        }
        &'fincore;account;help;freeze'= {
        }
        &'fincore;account;help;unfreeze'= {
        }
        &'fincore;account;help;close'= {
        }
        &'fincore;account;help;statement'= {
        }
        &'fincore;account;help;import'= {
        }
        &'fincore;account;help;update'= {
        }
        &'fincore;account;help;help'= {
        }
        &'fincore;transfer'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand post 'Post a transfer: debit --from, credit --to'
            cand deposit 'Money in through a settlement account (debits the settlement account)'
            cand withdraw 'Money out through a settlement account (credits the settlement account)'
            cand import 'Post every row of CSV `key,from,to,amount,currency,at,reference,description`'
            cand show 'Show one transfer by id or idempotency key'
            cand list 'List transfers'
            cand reverse 'Post the opposite transfer, linked to the original (once only)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;transfer;post'= {
            cand --from 'from'
            cand --to 'to'
            cand --amount 'amount'
            cand --currency 'currency'
            cand --key 'Idempotency key: the same key and payload returns the original transfer'
            cand --reference 'reference'
            cand --description 'description'
            cand --at 'Booking instant (RFC 3339); default now'
            cand --rules 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;transfer;deposit'= {
            cand --to 'The customer account credited'
            cand --amount 'amount'
            cand --via 'Settlement account the cash moves through'
            cand --key 'Idempotency key: the same key and payload returns the original transfer'
            cand --reference 'reference'
            cand --description 'description'
            cand --at 'Booking instant (RFC 3339); default now'
            cand --rules 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;transfer;withdraw'= {
            cand --from 'The customer account debited'
            cand --amount 'amount'
            cand --via 'Settlement account the cash moves through'
            cand --key 'Idempotency key: the same key and payload returns the original transfer'
            cand --reference 'reference'
            cand --description 'description'
            cand --at 'Booking instant (RFC 3339); default now'
            cand --rules 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;transfer;import'= {
            cand --rejects 'Write rejected rows here with their error code (refused if it exists, unless --force)'
            cand --batch-rows 'Rows per transaction (a signal stops the import between two)'
            cand --rules 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand --force 'Overwrite an existing --rejects file'
            cand --dry-run 'Validate and assess every row and report what would be posted, replayed and rejected, writing nothing to the database'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;transfer;show'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;transfer;list'= {
            cand --account 'account'
            cand --from 'From instant (RFC 3339) or date'
            cand --to 'To instant (RFC 3339) or date (inclusive)'
            cand --limit 'limit'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;transfer;reverse'= {
            cand --reason 'reason'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;transfer;help'= {
            cand post 'Post a transfer: debit --from, credit --to'
            cand deposit 'Money in through a settlement account (debits the settlement account)'
            cand withdraw 'Money out through a settlement account (credits the settlement account)'
            cand import 'Post every row of CSV `key,from,to,amount,currency,at,reference,description`'
            cand show 'Show one transfer by id or idempotency key'
            cand list 'List transfers'
            cand reverse 'Post the opposite transfer, linked to the original (once only)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;transfer;help;post'= {
        }
        &'fincore;transfer;help;deposit'= {
        }
        &'fincore;transfer;help;withdraw'= {
        }
        &'fincore;transfer;help;import'= {
        }
        &'fincore;transfer;help;show'= {
        }
        &'fincore;transfer;help;list'= {
        }
        &'fincore;transfer;help;reverse'= {
        }
        &'fincore;transfer;help;help'= {
        }
        &'fincore;report'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand balances 'Trial balance: per currency, total debits = total credits'
            cand compliance 'CTR, structuring, sanctions, suspicious activity and audit summary for a period'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;report;balances'= {
            cand --as-of 'Balances as of this instant (RFC 3339) or the end of this date'
            cand --currency 'currency'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;report;compliance'= {
            cand --from 'First day of the period (YYYY-MM-DD, UTC)'
            cand --to 'Last day of the period, inclusive'
            cand --kind 'Comma-separated kinds: ctr,structuring,sanctions,suspicious,audit (default: all)'
            cand --ctr-threshold 'CTR threshold: `10000` for every currency, or per currency `USD=10000,JPY=1000000`'
            cand --sanctions-list 'Sanctions list CSV `name,program,list_id[,aliases]` (required for the sanctions kind)'
            cand --min-score 'Minimum Jaro-Winkler similarity for a sanctions hit (0–1, default 0.90)'
            cand --out 'Write the report here; with --format csv and several kinds, a directory of one file per kind'
            cand --rapid-out-percent 'rapid_in_out: share of an inflow that leaves within the window (percent, default 90)'
            cand --rapid-window-hours 'rapid_in_out: window in hours (default 24)'
            cand --rapid-inbound-min 'rapid_in_out: smallest inflow considered (default 5000)'
            cand --dormant-days 'dormant_reactivation: days without activity (default 180)'
            cand --dormant-large-amount 'dormant_reactivation: movement size that counts as large (default 10000)'
            cand --round-unit 'round_amount: unit amounts must be multiples of (default 1000)'
            cand --round-min 'round_amount: smallest round amount (default 5000)'
            cand --round-count 'round_amount: round movements needed per account (default 3)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand --unmask 'Show full account numbers (recorded in the audit chain)'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;report;help'= {
            cand balances 'Trial balance: per currency, total debits = total credits'
            cand compliance 'CTR, structuring, sanctions, suspicious activity and audit summary for a period'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;report;help;balances'= {
        }
        &'fincore;report;help;compliance'= {
        }
        &'fincore;report;help;help'= {
        }
        &'fincore;reconcile'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand run 'Match a bank statement against a settlement account''s ledger movements over its period (or one day)'
            cand list 'List reconciliation runs, newest first'
            cand show 'Show one run with its break items'
            cand resolve 'Resolve a break item: post its difference to an account, or accept it'
            cand inspect 'Print what the statement reader understood (accounts, periods, balances, every line); touches no ledger'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;reconcile;run'= {
            cand --account 'The settlement account the statement is for'
            cand --date 'Only the lines booked on this day, YYYY-MM-DD (default: the statement''s whole period)'
            cand --statement 'The bank statement file'
            cand --amount-tolerance 'Largest amount difference still matched, in the account''s currency (default 0)'
            cand --date-window 'Days either side of the run''s days a movement may be dated and still match by amount'
            cand --rules 'Rules for recurring differences (TOML): fitting breaks are posted or accepted as the run is stored'
            cand --input-format 'Statement format; auto detects by content'
            cand --map 'CSV: column names, internal=external,… (date, reference, amount, currency, counterparty, description)'
            cand --date-format 'CSV: chrono format of the date column, e.g. %d.%m.%Y'
            cand --decimal-separator 'CSV: decimal separator of amounts, ''.'' or '','''
            cand --delimiter 'CSV: field delimiter: '','' '';'' ''|'' or ''tab'''
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;reconcile;list'= {
            cand --account 'Only runs of this settlement account'
            cand --date 'Only runs whose days include this one'
            cand --limit 'limit'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;reconcile;show'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;reconcile;resolve'= {
            cand --post-to 'Post the item''s difference between the settlement account and this account'
            cand --note 'Why (required; recorded on the item and in the audit chain)'
            cand --file 'Resolve many items in one transaction, all or nothing: a CSV of item_id,decision,account,note (decision post|accept)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand --accept 'Accept the item as it is'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;reconcile;inspect'= {
            cand --input-format 'Statement format; auto detects by content'
            cand --map 'CSV: column names, internal=external,… (date, reference, amount, currency, counterparty, description)'
            cand --date-format 'CSV: chrono format of the date column, e.g. %d.%m.%Y'
            cand --decimal-separator 'CSV: decimal separator of amounts, ''.'' or '','''
            cand --delimiter 'CSV: field delimiter: '','' '';'' ''|'' or ''tab'''
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;reconcile;help'= {
            cand run 'Match a bank statement against a settlement account''s ledger movements over its period (or one day)'
            cand list 'List reconciliation runs, newest first'
            cand show 'Show one run with its break items'
            cand resolve 'Resolve a break item: post its difference to an account, or accept it'
            cand inspect 'Print what the statement reader understood (accounts, periods, balances, every line); touches no ledger'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;reconcile;help;run'= {
        }
        &'fincore;reconcile;help;list'= {
        }
        &'fincore;reconcile;help;show'= {
        }
        &'fincore;reconcile;help;resolve'= {
        }
        &'fincore;reconcile;help;inspect'= {
        }
        &'fincore;reconcile;help;help'= {
        }
        &'fincore;ledger'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand verify 'Every transfer balances, every balance equals its entries, the audit chain is intact'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;ledger;verify'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;ledger;help'= {
            cand verify 'Every transfer balances, every balance equals its entries, the audit chain is intact'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;ledger;help;verify'= {
        }
        &'fincore;ledger;help;help'= {
        }
        &'fincore;audit'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'List audit events'
            cand verify 'Check the hash chain (and that anchors taken earlier still hold); exit 1 naming the first broken seq'
            cand anchor 'Print the chain''s head (seq, hash, time) as a JSON anchor to keep outside the database, or write it to --out'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;audit;list'= {
            cand --from 'from'
            cand --to 'to'
            cand --entity 'An account number or entity (`transfer:42`); account numbers also match their transfers'
            cand --limit 'limit'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;audit;verify'= {
            cand --anchor 'Anchor files written by `audit anchor`: the chain must still hold each anchored seq with its hash'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;audit;anchor'= {
            cand --out 'Write the anchor to this file (created; an existing file is not overwritten) instead of stdout'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;audit;help'= {
            cand list 'List audit events'
            cand verify 'Check the hash chain (and that anchors taken earlier still hold); exit 1 naming the first broken seq'
            cand anchor 'Print the chain''s head (seq, hash, time) as a JSON anchor to keep outside the database, or write it to --out'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;audit;help;list'= {
        }
        &'fincore;audit;help;verify'= {
        }
        &'fincore;audit;help;anchor'= {
        }
        &'fincore;audit;help;help'= {
        }
        &'fincore;risk'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand rescore 'Recompute account profiles and scores, store them, print the changes'
            cand show 'The current stored assessment of an account (with --history: all of them)'
            cand rules 'The rule set in force, or import a new one'
            cand blacklist 'Accounts whose transfers are blocked as counterparties'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;risk;rescore'= {
            cand --account 'Rescore this account only'
            cand --as-of 'Profile as of this instant (RFC 3339) or the end of this date; default now'
            cand --rules 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand --all 'Rescore every account (the default)'
            cand --apply 'Freeze accounts whose new level is critical (audited)'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;risk;show'= {
            cand --limit 'limit'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand --history 'Every stored assessment, newest first'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;risk;rules'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand show 'The rule set in force (or the file given with --rules), with levels and decisions'
            cand import 'Validate a rules TOML file and make it the active set (a new version)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;risk;rules;show'= {
            cand --rules 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;risk;rules;import'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;risk;rules;help'= {
            cand show 'The rule set in force (or the file given with --rules), with levels and decisions'
            cand import 'Validate a rules TOML file and make it the active set (a new version)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;risk;rules;help;show'= {
        }
        &'fincore;risk;rules;help;import'= {
        }
        &'fincore;risk;rules;help;help'= {
        }
        &'fincore;risk;blacklist'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand add 'Put an account number on the blacklist'
            cand remove 'Take an account number off the blacklist'
            cand list 'List the blacklist'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;risk;blacklist;add'= {
            cand --reason 'reason'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;risk;blacklist;remove'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;risk;blacklist;list'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;risk;blacklist;help'= {
            cand add 'Put an account number on the blacklist'
            cand remove 'Take an account number off the blacklist'
            cand list 'List the blacklist'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;risk;blacklist;help;add'= {
        }
        &'fincore;risk;blacklist;help;remove'= {
        }
        &'fincore;risk;blacklist;help;list'= {
        }
        &'fincore;risk;blacklist;help;help'= {
        }
        &'fincore;risk;help'= {
            cand rescore 'Recompute account profiles and scores, store them, print the changes'
            cand show 'The current stored assessment of an account (with --history: all of them)'
            cand rules 'The rule set in force, or import a new one'
            cand blacklist 'Accounts whose transfers are blocked as counterparties'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;risk;help;rescore'= {
        }
        &'fincore;risk;help;show'= {
        }
        &'fincore;risk;help;rules'= {
            cand show 'The rule set in force (or the file given with --rules), with levels and decisions'
            cand import 'Validate a rules TOML file and make it the active set (a new version)'
        }
        &'fincore;risk;help;rules;show'= {
        }
        &'fincore;risk;help;rules;import'= {
        }
        &'fincore;risk;help;blacklist'= {
            cand add 'Put an account number on the blacklist'
            cand remove 'Take an account number off the blacklist'
            cand list 'List the blacklist'
        }
        &'fincore;risk;help;blacklist;add'= {
        }
        &'fincore;risk;help;blacklist;remove'= {
        }
        &'fincore;risk;help;blacklist;list'= {
        }
        &'fincore;risk;help;help'= {
        }
        &'fincore;alerts'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand check 'Evaluate the alert rules; exit 0 OK, 1 warning, 2 critical (monitoring-plugin style)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;alerts;check'= {
            cand --rules 'Alert rules (TOML); default: the built-in set (fixtures/alerts/default.toml)'
            cand --as-of 'Evaluate at this instant (RFC 3339 or a date) without changing the stored alert state'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;alerts;help'= {
            cand check 'Evaluate the alert rules; exit 0 OK, 1 warning, 2 critical (monitoring-plugin style)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;alerts;help;check'= {
        }
        &'fincore;alerts;help;help'= {
        }
        &'fincore;events'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand export 'Print every change since a cursor as NDJSON CloudEvents 1.0, in commit order'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;events;export'= {
            cand --since 'Start after this cursor: an event id (SEQ.INDEX), an audit seq (SEQ), or 0 for the start'
            cand --cursor-file 'Read the cursor from FILE (missing: the start) and advance it after each flushed batch'
            cand --limit 'Print at most N events (with --follow: in all)'
            cand --poll-ms 'With --follow: milliseconds between polls'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand --follow 'Keep polling for new changes until interrupted (Ctrl-C, SIGTERM)'
            cand --unmask 'Show full account numbers (recorded in the audit chain)'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;events;help'= {
            cand export 'Print every change since a cursor as NDJSON CloudEvents 1.0, in commit order'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;events;help;export'= {
        }
        &'fincore;events;help;help'= {
        }
        &'fincore;db'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand migrate 'Apply pending migrations'
            cand status 'Show the schema version'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;db;migrate'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;db;status'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;db;help'= {
            cand migrate 'Apply pending migrations'
            cand status 'Show the schema version'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;db;help;migrate'= {
        }
        &'fincore;db;help;status'= {
        }
        &'fincore;db;help;help'= {
        }
        &'fincore;completions'= {
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;demo'= {
            cand --dir 'Where to build the demo ledger (default: a new folder under the system temp dir)'
            cand --db 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB'
            cand --format 'Output format'
            cand --operator 'Who acts; recorded on every audit event (default: the login user)'
            cand --db-timeout 'Seconds to wait for the database connection before exit 7'
            cand --lock-timeout 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing but results and errors'
            cand --quiet 'Print nothing but results and errors'
            cand --wide 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
            cand --no-progress 'Never draw progress bars'
            cand -v 'More log output on stderr (-v info, -vv debug)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fincore;help'= {
            cand account 'Open, inspect, freeze and close accounts'
            cand transfer 'Post, import, show, list and reverse transfers'
            cand report 'Trial balance and compliance reports'
            cand reconcile 'Reconcile a bank statement against a settlement account; list, show, resolve breaks'
            cand ledger 'Ledger integrity checks'
            cand audit 'The tamper-evident audit chain'
            cand risk 'Risk: batch rescoring, assessments, rule sets and the blacklist'
            cand alerts 'Alert checks for cron and monitoring agents (exit 0 OK, 1 warning, 2 critical)'
            cand events 'The change feed: every change since a cursor as CloudEvents'
            cand db 'Schema migrations'
            cand completions 'Print a shell completion script'
            cand demo 'Build a demo ledger from fixtures/ and run the daily jobs on it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fincore;help;account'= {
            cand open 'Open an account'
            cand show 'Show one account'
            cand list 'List accounts'
            cand freeze 'Freeze an account: no transfers in or out'
            cand unfreeze 'Lift a freeze'
            cand close 'Close an account (zero balance only)'
            cand statement 'Entries with running balance'
            cand import 'Import accounts from CSV `number,holder,type,currency,overdraft_limit`'
            cand update 'Set or clear a settlement account''s bank identifiers (IBAN, MT940 `:25:` account)'
        }
        &'fincore;help;account;open'= {
        }
        &'fincore;help;account;show'= {
        }
        &'fincore;help;account;list'= {
        }
        &'fincore;help;account;freeze'= {
        }
        &'fincore;help;account;unfreeze'= {
        }
        &'fincore;help;account;close'= {
        }
        &'fincore;help;account;statement'= {
        }
        &'fincore;help;account;import'= {
        }
        &'fincore;help;account;update'= {
        }
        &'fincore;help;transfer'= {
            cand post 'Post a transfer: debit --from, credit --to'
            cand deposit 'Money in through a settlement account (debits the settlement account)'
            cand withdraw 'Money out through a settlement account (credits the settlement account)'
            cand import 'Post every row of CSV `key,from,to,amount,currency,at,reference,description`'
            cand show 'Show one transfer by id or idempotency key'
            cand list 'List transfers'
            cand reverse 'Post the opposite transfer, linked to the original (once only)'
        }
        &'fincore;help;transfer;post'= {
        }
        &'fincore;help;transfer;deposit'= {
        }
        &'fincore;help;transfer;withdraw'= {
        }
        &'fincore;help;transfer;import'= {
        }
        &'fincore;help;transfer;show'= {
        }
        &'fincore;help;transfer;list'= {
        }
        &'fincore;help;transfer;reverse'= {
        }
        &'fincore;help;report'= {
            cand balances 'Trial balance: per currency, total debits = total credits'
            cand compliance 'CTR, structuring, sanctions, suspicious activity and audit summary for a period'
        }
        &'fincore;help;report;balances'= {
        }
        &'fincore;help;report;compliance'= {
        }
        &'fincore;help;reconcile'= {
            cand run 'Match a bank statement against a settlement account''s ledger movements over its period (or one day)'
            cand list 'List reconciliation runs, newest first'
            cand show 'Show one run with its break items'
            cand resolve 'Resolve a break item: post its difference to an account, or accept it'
            cand inspect 'Print what the statement reader understood (accounts, periods, balances, every line); touches no ledger'
        }
        &'fincore;help;reconcile;run'= {
        }
        &'fincore;help;reconcile;list'= {
        }
        &'fincore;help;reconcile;show'= {
        }
        &'fincore;help;reconcile;resolve'= {
        }
        &'fincore;help;reconcile;inspect'= {
        }
        &'fincore;help;ledger'= {
            cand verify 'Every transfer balances, every balance equals its entries, the audit chain is intact'
        }
        &'fincore;help;ledger;verify'= {
        }
        &'fincore;help;audit'= {
            cand list 'List audit events'
            cand verify 'Check the hash chain (and that anchors taken earlier still hold); exit 1 naming the first broken seq'
            cand anchor 'Print the chain''s head (seq, hash, time) as a JSON anchor to keep outside the database, or write it to --out'
        }
        &'fincore;help;audit;list'= {
        }
        &'fincore;help;audit;verify'= {
        }
        &'fincore;help;audit;anchor'= {
        }
        &'fincore;help;risk'= {
            cand rescore 'Recompute account profiles and scores, store them, print the changes'
            cand show 'The current stored assessment of an account (with --history: all of them)'
            cand rules 'The rule set in force, or import a new one'
            cand blacklist 'Accounts whose transfers are blocked as counterparties'
        }
        &'fincore;help;risk;rescore'= {
        }
        &'fincore;help;risk;show'= {
        }
        &'fincore;help;risk;rules'= {
            cand show 'The rule set in force (or the file given with --rules), with levels and decisions'
            cand import 'Validate a rules TOML file and make it the active set (a new version)'
        }
        &'fincore;help;risk;rules;show'= {
        }
        &'fincore;help;risk;rules;import'= {
        }
        &'fincore;help;risk;blacklist'= {
            cand add 'Put an account number on the blacklist'
            cand remove 'Take an account number off the blacklist'
            cand list 'List the blacklist'
        }
        &'fincore;help;risk;blacklist;add'= {
        }
        &'fincore;help;risk;blacklist;remove'= {
        }
        &'fincore;help;risk;blacklist;list'= {
        }
        &'fincore;help;alerts'= {
            cand check 'Evaluate the alert rules; exit 0 OK, 1 warning, 2 critical (monitoring-plugin style)'
        }
        &'fincore;help;alerts;check'= {
        }
        &'fincore;help;events'= {
            cand export 'Print every change since a cursor as NDJSON CloudEvents 1.0, in commit order'
        }
        &'fincore;help;events;export'= {
        }
        &'fincore;help;db'= {
            cand migrate 'Apply pending migrations'
            cand status 'Show the schema version'
        }
        &'fincore;help;db;migrate'= {
        }
        &'fincore;help;db;status'= {
        }
        &'fincore;help;completions'= {
        }
        &'fincore;help;demo'= {
        }
        &'fincore;help;help'= {
        }
    ]
    $completions[$command]
}
