# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_fincore_global_optspecs
    string join \n q/quiet wide no-progress v db= format= operator= db-timeout= lock-timeout= log-format= h/help V/version
end

function __fish_fincore_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_fincore_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_fincore_using_subcommand
    set -l cmd (__fish_fincore_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c fincore -n "__fish_fincore_needs_command" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_needs_command" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_needs_command" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_needs_command" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_needs_command" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_needs_command" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_needs_command" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_needs_command" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_needs_command" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_needs_command" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_needs_command" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_needs_command" -s V -l version -d 'Print version'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "account" -d 'Open, inspect, freeze and close accounts'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "transfer" -d 'Post, import, show, list and reverse transfers'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "report" -d 'Trial balance and compliance reports'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "reconcile" -d 'Reconcile a bank statement against a settlement account; list, show, resolve breaks'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "ledger" -d 'Ledger integrity checks'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "audit" -d 'The tamper-evident audit chain'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "risk" -d 'Risk: batch rescoring, assessments, rule sets and the blacklist'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "alerts" -d 'Alert checks for cron and monitoring agents (exit 0 OK, 1 warning, 2 critical)'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "events" -d 'The change feed: every change since a cursor as CloudEvents'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "db" -d 'Schema migrations'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "demo" -d 'Build a demo ledger from fixtures/ and run the daily jobs on it'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "man" -d 'Write the man pages (fincore.1 and one per command)'
complete -c fincore -n "__fish_fincore_needs_command" -f -a "help" -d 'Help on a command (`fincore help transfer list`) or on the global options (`fincore help global`)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -f -a "open" -d 'Open an account'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -f -a "show" -d 'Show one account'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -f -a "list" -d 'List accounts'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -f -a "freeze" -d 'Freeze an account: no transfers in or out'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -f -a "unfreeze" -d 'Lift a freeze'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -f -a "close" -d 'Close an account (zero balance only)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -f -a "statement" -d 'Entries with running balance'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -f -a "import" -d 'Import accounts from CSV `number,holder,type,currency,overdraft_limit`'
complete -c fincore -n "__fish_fincore_using_subcommand account; and not __fish_seen_subcommand_from open show list freeze unfreeze close statement import update" -f -a "update" -d 'Set or clear a settlement account\'s bank identifiers (IBAN, MT940 `:25:` account)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l holder -d 'The holder\'s name as it appears on statements and compliance reports' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l type -d 'What the account is for (settlement: our account at a bank; internal: fees, suspense)' -r -f -a "checking\t''
savings\t''
credit\t''
settlement\t''
internal\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l currency -d 'ISO 4217 code (USD, EUR, JPY…); amounts take its decimals' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l number -d '4–34 characters A–Z 0–9 (default: 16 generated digits with a Luhn check digit)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l overdraft-limit -d 'How far below zero a checking or savings account may go (default 0)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l credit-limit -d 'How far below zero a credit account may go (required for credit accounts)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l initial-deposit -d 'Deposit this amount right after opening, through --via' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l via -d 'Settlement account the initial deposit comes through' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l iban -d 'Settlement accounts: the account\'s IBAN (spaces allowed; validated, stored upper case without spaces)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l bank-account -d 'Settlement accounts: the account as the bank writes it in MT940 `:25:` or camt `Othr/Id` (≤ 35 characters)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from open" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -l as-of -d 'Its balance at the end of this date (YYYY-MM-DD, today, yesterday, -Nd) or at this instant (RFC 3339)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l status -d 'Only accounts with this status' -r -f -a "active\t''
frozen\t''
closed\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l type -d 'Only accounts of this type' -r -f -a "checking\t''
savings\t''
credit\t''
settlement\t''
internal\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l currency -d 'Only accounts in this currency (ISO 4217 code)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l holder -d 'Case-insensitive substring of the holder name' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -l reason -d 'Why, recorded on the audit event' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from freeze" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -l reason -d 'Why, recorded on the audit event' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from unfreeze" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from close" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l from -d 'First day (YYYY-MM-DD, today, yesterday, -7d) or instant (RFC 3339)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l to -d 'Last day (inclusive) or instant' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from statement" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l iban -d 'Record this IBAN (spaces allowed; validated, stored upper case without spaces)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l bank-account -d 'Record the account as the bank writes it in MT940 `:25:` or camt `Othr/Id` (≤ 35 characters)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l clear-iban -d 'Remove the recorded IBAN'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l clear-bank-account -d 'Remove the recorded bank account string'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand account; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -f -a "post" -d 'Post a transfer: debit --from, credit --to'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -f -a "deposit" -d 'Money in through a settlement account (debits the settlement account)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -f -a "withdraw" -d 'Money out through a settlement account (credits the settlement account)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -f -a "import" -d 'Post every row of CSV `key,from,to,amount,currency,at,reference,description`'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -f -a "show" -d 'Show one transfer by id or idempotency key'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -f -a "list" -d 'List transfers'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and not __fish_seen_subcommand_from post deposit withdraw import show list reverse" -f -a "reverse" -d 'Post the opposite transfer, linked to the original (once only)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l rules -d 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l from -d 'The account debited (money leaves it)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l to -d 'The account credited (money arrives)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l amount -d 'Decimal amount with at most the currency\'s decimals (25.00; never rounded)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l currency -d 'ISO 4217 code; both accounts must hold it' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l key -d 'Idempotency key: the same key and payload returns the original transfer' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l reference -d 'Your reference (an invoice number); reconciliation matches the bank\'s on it' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l description -d 'Free text shown on statements' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l at -d 'Booking instant (RFC 3339); default now' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from post" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l rules -d 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l to -d 'The customer account credited' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l amount -d 'Decimal amount in the customer account\'s currency (at most its decimals)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l via -d 'Settlement account the cash moves through' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l key -d 'Idempotency key: the same key and payload returns the original transfer' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l reference -d 'Your reference (an invoice number); reconciliation matches the bank\'s on it' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l description -d 'Free text shown on statements' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l at -d 'Booking instant (RFC 3339); default now' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from deposit" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l rules -d 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l from -d 'The customer account debited' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l amount -d 'Decimal amount in the customer account\'s currency (at most its decimals)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l via -d 'Settlement account the cash moves through' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l key -d 'Idempotency key: the same key and payload returns the original transfer' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l reference -d 'Your reference (an invoice number); reconciliation matches the bank\'s on it' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l description -d 'Free text shown on statements' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l at -d 'Booking instant (RFC 3339); default now' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from withdraw" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l rejects -d 'Write rejected rows here with their error code (refused if it exists, unless --force)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l rules -d 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l batch-rows -d 'Rows per transaction (a signal stops the import between two)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l force -d 'Overwrite an existing --rejects file'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l dry-run -d 'Validate and assess every row and report what would be posted, replayed and rejected, writing nothing to the database'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l account -d 'Only transfers debiting or crediting this account' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l from -l since -d 'Booked at or after this instant (RFC 3339) or date (YYYY-MM-DD, today, yesterday, -7d)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l to -l until -d 'Booked at or before this instant or date (a date covers its whole day)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l status -d 'Only transfers with this status' -r -f -a "posted\t''
rejected\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l kind -d 'Only transfers of this kind' -r -f -a "transfer\t''
deposit\t''
withdrawal\t''
reversal\t''
adjustment\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l currency -d 'Only transfers in this currency (ISO 4217 code)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l min-amount -d 'Only transfers of at least this amount, in each transfer\'s own currency' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l limit -d 'Show at most N rows, newest first (1–100000) [default: 100]' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l all -d 'Show every matching row, newest first, streamed without a cap'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -l reason -d 'Why, recorded on the reversal and its audit event' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand transfer; and __fish_seen_subcommand_from reverse" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -f -a "balances" -d 'Trial balance: per currency, total debits = total credits'
complete -c fincore -n "__fish_fincore_using_subcommand report; and not __fish_seen_subcommand_from balances compliance" -f -a "compliance" -d 'CTR, structuring, sanctions, suspicious activity and audit summary for a period'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l as-of -d 'Balances as of this instant (RFC 3339) or the end of this date (YYYY-MM-DD, today, yesterday, -Nd)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l currency -d 'Only accounts in this currency (ISO 4217 code)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l account -d 'Only this account (its balance as of --as-of equals its statement\'s closing balance)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from balances" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l sanctions-list -d 'Sanctions list CSV `name,program,list_id[,aliases]` (required for the sanctions kind)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l out -d 'Write the report to this file; with --format csv and several kinds (or a path ending in /), this directory, one KIND.csv per kind (ctr.csv, audit.csv, …)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l from -d 'First day of the period (YYYY-MM-DD, today, yesterday, -7d; UTC)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l to -d 'Last day of the period, inclusive' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l kind -d 'Comma-separated kinds (default: all)' -r -f -a "ctr\t''
structuring\t''
sanctions\t''
suspicious\t''
audit\t''"
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l ctr-threshold -d 'CTR threshold: `10000` for every currency, or per currency `USD=10000,JPY=1000000`' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l min-score -d 'Minimum Jaro-Winkler similarity for a sanctions hit (0–1, default 0.90)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l rapid-out-percent -d 'rapid_in_out: share of an inflow that leaves within the window (percent, default 90)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l rapid-window-hours -d 'rapid_in_out: window in hours (default 24)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l rapid-inbound-min -d 'rapid_in_out: smallest inflow considered (default 5000)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l dormant-days -d 'dormant_reactivation: days without activity (default 180)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l dormant-large-amount -d 'dormant_reactivation: movement size that counts as large (default 10000)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l round-unit -d 'round_amount: unit amounts must be multiples of (default 1000)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l round-min -d 'round_amount: smallest round amount (default 5000)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l round-count -d 'round_amount: round movements needed per account (default 3)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l unmask -d 'Show full account numbers (recorded in the audit chain)'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand report; and __fish_seen_subcommand_from compliance" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -f -a "run" -d 'Match a bank statement against a settlement account\'s ledger movements over its period (or one day)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -f -a "list" -d 'List reconciliation runs, newest first'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -f -a "show" -d 'Show one run with its break items'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -f -a "resolve" -d 'Resolve a break item: post its difference to an account, or accept it'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and not __fish_seen_subcommand_from run list show resolve inspect" -f -a "inspect" -d 'Print what the statement reader understood (accounts, periods, balances, every line); touches no ledger'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l statement -d 'The bank statement file' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l rules -d 'Rules for recurring differences (TOML): fitting breaks are posted or accepted as the run is stored' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l account -d 'The settlement account the statement is for' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l date -d 'Only the lines booked on this day, YYYY-MM-DD, today, yesterday or -Nd (default: the statement\'s whole period)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l amount-tolerance -d 'Largest amount difference still matched, in the account\'s currency (default 0)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l date-window -d 'Days either side of the run\'s days a movement may be dated and still match by amount' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l input-format -d 'Statement format; auto detects by content' -r -f -a "auto\t''
csv\t''
camt053\t''
mt940\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l map -d 'CSV: column names, internal=external,… (date, reference, amount, currency, counterparty, description)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l date-format -d 'CSV: chrono format of the date column, e.g. %d.%m.%Y' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l decimal-separator -d 'CSV: decimal separator of amounts, \'.\' or \',\'' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l delimiter -d 'CSV: field delimiter: \',\' \';\' \'|\' or \'tab\'' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l account -d 'Only runs of this settlement account' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l date -d 'Only runs whose days include this one (YYYY-MM-DD, today, yesterday, -Nd)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l limit -d 'Show at most N runs, newest first' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l file -d 'Resolve many items in one transaction, all or nothing: a CSV of item_id,decision,account,note (decision post|accept)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l post-to -d 'Post the item\'s difference between the settlement account and this account' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l note -d 'Why (required; recorded on the item and in the audit chain)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l accept -d 'Accept the item as it is'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from resolve" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l input-format -d 'Statement format; auto detects by content' -r -f -a "auto\t''
csv\t''
camt053\t''
mt940\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l map -d 'CSV: column names, internal=external,… (date, reference, amount, currency, counterparty, description)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l date-format -d 'CSV: chrono format of the date column, e.g. %d.%m.%Y' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l decimal-separator -d 'CSV: decimal separator of amounts, \'.\' or \',\'' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l delimiter -d 'CSV: field delimiter: \',\' \';\' \'|\' or \'tab\'' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand reconcile; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and not __fish_seen_subcommand_from verify" -f -a "verify" -d 'Every transfer balances, every balance equals its entries, the audit chain is intact'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand ledger; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -f -a "list" -d 'List audit events'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -f -a "verify" -d 'Check the hash chain (and that anchors taken earlier still hold); exit 1 naming the first broken seq'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and not __fish_seen_subcommand_from list verify anchor" -f -a "anchor" -d 'Print the chain\'s head (seq, hash, time) as a JSON anchor to keep outside the database, or write it to --out'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l from -d 'Events at or after this instant (RFC 3339) or date (YYYY-MM-DD, today, yesterday, -Nd)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l to -d 'Events at or before this instant or date (a date covers its whole day)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l entity -d 'An account number or entity (`transfer:42`); account numbers also match their transfers' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l limit -d 'Show the newest N events (in chain order)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l all -d 'Show every matching event'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -l anchor -d 'Anchor files written by `audit anchor`: the chain must still hold each anchored seq with its hash' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -l out -d 'Write the anchor to this file (created; an existing file is not overwritten) instead of stdout' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand audit; and __fish_seen_subcommand_from anchor" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -f -a "rescore" -d 'Recompute account profiles and scores, store them, print the changes'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -f -a "show" -d 'The current stored assessment of an account (with --history: all of them)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -f -a "rules" -d 'The rule set in force, or import a new one'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and not __fish_seen_subcommand_from rescore show rules blacklist" -f -a "blacklist" -d 'Accounts whose transfers are blocked as counterparties'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l rules -d 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l account -d 'Rescore this account only' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l as-of -d 'Profile as of this instant (RFC 3339) or the end of this date (YYYY-MM-DD, today, yesterday, -Nd); default now' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l all -d 'Rescore every account (the default)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l apply -d 'Freeze accounts whose new level is critical (audited)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rescore" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l limit -d 'With --history: at most N assessments, newest first' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l history -d 'Every stored assessment, newest first'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -f -a "show" -d 'The rule set in force (or the file given with --rules), with levels and decisions'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from rules" -f -a "import" -d 'Validate a rules TOML file and make it the active set (a new version)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -f -a "add" -d 'Put an account number on the blacklist'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -f -a "remove" -d 'Take an account number off the blacklist'
complete -c fincore -n "__fish_fincore_using_subcommand risk; and __fish_seen_subcommand_from blacklist" -f -a "list" -d 'List the blacklist'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and not __fish_seen_subcommand_from check" -f -a "check" -d 'Evaluate the alert rules; exit 0 OK, 1 warning, 2 critical (monitoring-plugin style)'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l rules -d 'Alert rules (TOML); default: the built-in set (fixtures/alerts/default.toml)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l as-of -d 'Evaluate at this instant (RFC 3339 or a date) without changing the stored alert state' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand alerts; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand events; and not __fish_seen_subcommand_from export" -f -a "export" -d 'Print every change since a cursor as NDJSON CloudEvents 1.0, in commit order'
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l cursor-file -d 'Read the cursor from FILE (missing: the start) and advance it after each flushed batch' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l since -d 'Start after this cursor: an event id (SEQ.INDEX), an audit seq (SEQ), or 0 for the start' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l limit -d 'Print at most N events (with --follow: in all)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l poll-ms -d 'With --follow: milliseconds between polls' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l follow -d 'Keep polling for new changes until interrupted (Ctrl-C, SIGTERM)'
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l unmask -d 'Show full account numbers (recorded in the audit chain)'
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand events; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -f -a "migrate" -d 'Apply pending migrations'
complete -c fincore -n "__fish_fincore_using_subcommand db; and not __fish_seen_subcommand_from migrate status" -f -a "status" -d 'Show the schema version'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from migrate" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand db; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand completions" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand completions" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand completions" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand completions" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand completions" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand completions" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand completions" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand completions" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand completions" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand completions" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand completions" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand demo" -l dir -d 'Where to build the demo ledger (default: a new folder under the system temp dir)' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand demo" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand demo" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand demo" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand demo" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand demo" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand demo" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand demo" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand demo" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand demo" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand demo" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand demo" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand man" -l dir -d 'Write fincore.1 and one page per command (fincore-transfer-list.1, …) into this folder (created); without it, print fincore.1 on stdout' -r -F
complete -c fincore -n "__fish_fincore_using_subcommand man" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand man" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand man" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand man" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand man" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand man" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand man" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand man" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand man" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand man" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand man" -s h -l help -d 'Print help'
complete -c fincore -n "__fish_fincore_using_subcommand help" -l db -d 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand help" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c fincore -n "__fish_fincore_using_subcommand help" -l operator -d 'Who acts; recorded on every audit event (default: the login user)' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand help" -l db-timeout -d 'Seconds to wait for the database connection before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand help" -l lock-timeout -d 'Seconds a writer waits for another writer\'s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7' -r -f
complete -c fincore -n "__fish_fincore_using_subcommand help" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c fincore -n "__fish_fincore_using_subcommand help" -s q -l quiet -d 'Print nothing but results and errors'
complete -c fincore -n "__fish_fincore_using_subcommand help" -l wide -d 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)'
complete -c fincore -n "__fish_fincore_using_subcommand help" -l no-progress -d 'Never draw progress bars'
complete -c fincore -n "__fish_fincore_using_subcommand help" -s v -d 'More log output on stderr (-v info, -vv debug)'
complete -c fincore -n "__fish_fincore_using_subcommand help" -s h -l help -d 'Print help'
