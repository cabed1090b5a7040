
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'fincore' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'fincore'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'fincore' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('account', 'account', [CompletionResultType]::ParameterValue, 'Open, inspect, freeze and close accounts')
            [CompletionResult]::new('transfer', 'transfer', [CompletionResultType]::ParameterValue, 'Post, import, show, list and reverse transfers')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Trial balance and compliance reports')
            [CompletionResult]::new('reconcile', 'reconcile', [CompletionResultType]::ParameterValue, 'Reconcile a bank statement against a settlement account; list, show, resolve breaks')
            [CompletionResult]::new('ledger', 'ledger', [CompletionResultType]::ParameterValue, 'Ledger integrity checks')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The tamper-evident audit chain')
            [CompletionResult]::new('risk', 'risk', [CompletionResultType]::ParameterValue, 'Risk: batch rescoring, assessments, rule sets and the blacklist')
            [CompletionResult]::new('alerts', 'alerts', [CompletionResultType]::ParameterValue, 'Alert checks for cron and monitoring agents (exit 0 OK, 1 warning, 2 critical)')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'The change feed: every change since a cursor as CloudEvents')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Schema migrations')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Build a demo ledger from fixtures/ and run the daily jobs on it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;account' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('open', 'open', [CompletionResultType]::ParameterValue, 'Open an account')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one account')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List accounts')
            [CompletionResult]::new('freeze', 'freeze', [CompletionResultType]::ParameterValue, 'Freeze an account: no transfers in or out')
            [CompletionResult]::new('unfreeze', 'unfreeze', [CompletionResultType]::ParameterValue, 'Lift a freeze')
            [CompletionResult]::new('close', 'close', [CompletionResultType]::ParameterValue, 'Close an account (zero balance only)')
            [CompletionResult]::new('statement', 'statement', [CompletionResultType]::ParameterValue, 'Entries with running balance')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import accounts from CSV `number,holder,type,currency,overdraft_limit`')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Set or clear a settlement account''s bank identifiers (IBAN, MT940 `:25:` account)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;account;open' {
            [CompletionResult]::new('--holder', '--holder', [CompletionResultType]::ParameterName, 'holder')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'type')
            [CompletionResult]::new('--currency', '--currency', [CompletionResultType]::ParameterName, 'currency')
            [CompletionResult]::new('--number', '--number', [CompletionResultType]::ParameterName, '4–34 characters A–Z 0–9 (default: 16 generated digits with a Luhn check digit)')
            [CompletionResult]::new('--overdraft-limit', '--overdraft-limit', [CompletionResultType]::ParameterName, 'overdraft-limit')
            [CompletionResult]::new('--credit-limit', '--credit-limit', [CompletionResultType]::ParameterName, 'Required for credit accounts')
            [CompletionResult]::new('--initial-deposit', '--initial-deposit', [CompletionResultType]::ParameterName, 'initial-deposit')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Settlement account the initial deposit comes through')
            [CompletionResult]::new('--iban', '--iban', [CompletionResultType]::ParameterName, 'Settlement accounts: the account''s IBAN (spaces allowed; validated, stored upper case without spaces)')
            [CompletionResult]::new('--bank-account', '--bank-account', [CompletionResultType]::ParameterName, 'Settlement accounts: the account as the bank writes it in MT940 `:25:` or camt `Othr/Id` (≤ 35 characters)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;account;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;account;list' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'status')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'type')
            [CompletionResult]::new('--currency', '--currency', [CompletionResultType]::ParameterName, 'currency')
            [CompletionResult]::new('--holder', '--holder', [CompletionResultType]::ParameterName, 'Case-insensitive substring of the holder name')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;account;freeze' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'reason')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;account;unfreeze' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'reason')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;account;close' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;account;statement' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day (YYYY-MM-DD) or instant (RFC 3339)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day (inclusive) or instant')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;account;import' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;account;update' {
            [CompletionResult]::new('--iban', '--iban', [CompletionResultType]::ParameterName, 'Record this IBAN (spaces allowed; validated, stored upper case without spaces)')
            [CompletionResult]::new('--bank-account', '--bank-account', [CompletionResultType]::ParameterName, 'Record the account as the bank writes it in MT940 `:25:` or camt `Othr/Id` (≤ 35 characters)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--clear-iban', '--clear-iban', [CompletionResultType]::ParameterName, 'Remove the recorded IBAN')
            [CompletionResult]::new('--clear-bank-account', '--clear-bank-account', [CompletionResultType]::ParameterName, 'Remove the recorded bank account string')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;account;help' {
            [CompletionResult]::new('open', 'open', [CompletionResultType]::ParameterValue, 'Open an account')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one account')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List accounts')
            [CompletionResult]::new('freeze', 'freeze', [CompletionResultType]::ParameterValue, 'Freeze an account: no transfers in or out')
            [CompletionResult]::new('unfreeze', 'unfreeze', [CompletionResultType]::ParameterValue, 'Lift a freeze')
            [CompletionResult]::new('close', 'close', [CompletionResultType]::ParameterValue, 'Close an account (zero balance only)')
            [CompletionResult]::new('statement', 'statement', [CompletionResultType]::ParameterValue, 'Entries with running balance')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import accounts from CSV `number,holder,type,currency,overdraft_limit`')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Set or clear a settlement account''s bank identifiers (IBAN, MT940 `:25:` account)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;account;help;open' {
            break
        }
        'fincore;account;help;show' {
            break
        }
        'fincore;account;help;list' {
            break
        }
        'fincore;account;help;freeze' {
            break
        }
        'fincore;account;help;unfreeze' {
            break
        }
        'fincore;account;help;close' {
            break
        }
        'fincore;account;help;statement' {
            break
        }
        'fincore;account;help;import' {
            break
        }
        'fincore;account;help;update' {
            break
        }
        'fincore;account;help;help' {
            break
        }
        'fincore;transfer' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('post', 'post', [CompletionResultType]::ParameterValue, 'Post a transfer: debit --from, credit --to')
            [CompletionResult]::new('deposit', 'deposit', [CompletionResultType]::ParameterValue, 'Money in through a settlement account (debits the settlement account)')
            [CompletionResult]::new('withdraw', 'withdraw', [CompletionResultType]::ParameterValue, 'Money out through a settlement account (credits the settlement account)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Post every row of CSV `key,from,to,amount,currency,at,reference,description`')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one transfer by id or idempotency key')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List transfers')
            [CompletionResult]::new('reverse', 'reverse', [CompletionResultType]::ParameterValue, 'Post the opposite transfer, linked to the original (once only)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;transfer;post' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'from')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'to')
            [CompletionResult]::new('--amount', '--amount', [CompletionResultType]::ParameterName, 'amount')
            [CompletionResult]::new('--currency', '--currency', [CompletionResultType]::ParameterName, 'currency')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Idempotency key: the same key and payload returns the original transfer')
            [CompletionResult]::new('--reference', '--reference', [CompletionResultType]::ParameterName, 'reference')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Booking instant (RFC 3339); default now')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;transfer;deposit' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The customer account credited')
            [CompletionResult]::new('--amount', '--amount', [CompletionResultType]::ParameterName, 'amount')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Settlement account the cash moves through')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Idempotency key: the same key and payload returns the original transfer')
            [CompletionResult]::new('--reference', '--reference', [CompletionResultType]::ParameterName, 'reference')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Booking instant (RFC 3339); default now')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;transfer;withdraw' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The customer account debited')
            [CompletionResult]::new('--amount', '--amount', [CompletionResultType]::ParameterName, 'amount')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Settlement account the cash moves through')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Idempotency key: the same key and payload returns the original transfer')
            [CompletionResult]::new('--reference', '--reference', [CompletionResultType]::ParameterName, 'reference')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Booking instant (RFC 3339); default now')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;transfer;import' {
            [CompletionResult]::new('--rejects', '--rejects', [CompletionResultType]::ParameterName, 'Write rejected rows here with their error code (refused if it exists, unless --force)')
            [CompletionResult]::new('--batch-rows', '--batch-rows', [CompletionResultType]::ParameterName, 'Rows per transaction (a signal stops the import between two)')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing --rejects file')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Validate and assess every row and report what would be posted, replayed and rejected, writing nothing to the database')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;transfer;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;transfer;list' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'account')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'From instant (RFC 3339) or date')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'To instant (RFC 3339) or date (inclusive)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'limit')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;transfer;reverse' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'reason')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;transfer;help' {
            [CompletionResult]::new('post', 'post', [CompletionResultType]::ParameterValue, 'Post a transfer: debit --from, credit --to')
            [CompletionResult]::new('deposit', 'deposit', [CompletionResultType]::ParameterValue, 'Money in through a settlement account (debits the settlement account)')
            [CompletionResult]::new('withdraw', 'withdraw', [CompletionResultType]::ParameterValue, 'Money out through a settlement account (credits the settlement account)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Post every row of CSV `key,from,to,amount,currency,at,reference,description`')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one transfer by id or idempotency key')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List transfers')
            [CompletionResult]::new('reverse', 'reverse', [CompletionResultType]::ParameterValue, 'Post the opposite transfer, linked to the original (once only)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;transfer;help;post' {
            break
        }
        'fincore;transfer;help;deposit' {
            break
        }
        'fincore;transfer;help;withdraw' {
            break
        }
        'fincore;transfer;help;import' {
            break
        }
        'fincore;transfer;help;show' {
            break
        }
        'fincore;transfer;help;list' {
            break
        }
        'fincore;transfer;help;reverse' {
            break
        }
        'fincore;transfer;help;help' {
            break
        }
        'fincore;report' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('balances', 'balances', [CompletionResultType]::ParameterValue, 'Trial balance: per currency, total debits = total credits')
            [CompletionResult]::new('compliance', 'compliance', [CompletionResultType]::ParameterValue, 'CTR, structuring, sanctions, suspicious activity and audit summary for a period')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;report;balances' {
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'Balances as of this instant (RFC 3339) or the end of this date')
            [CompletionResult]::new('--currency', '--currency', [CompletionResultType]::ParameterName, 'currency')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;report;compliance' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day of the period (YYYY-MM-DD, UTC)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day of the period, inclusive')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Comma-separated kinds: ctr,structuring,sanctions,suspicious,audit (default: all)')
            [CompletionResult]::new('--ctr-threshold', '--ctr-threshold', [CompletionResultType]::ParameterName, 'CTR threshold: `10000` for every currency, or per currency `USD=10000,JPY=1000000`')
            [CompletionResult]::new('--sanctions-list', '--sanctions-list', [CompletionResultType]::ParameterName, 'Sanctions list CSV `name,program,list_id[,aliases]` (required for the sanctions kind)')
            [CompletionResult]::new('--min-score', '--min-score', [CompletionResultType]::ParameterName, 'Minimum Jaro-Winkler similarity for a sanctions hit (0–1, default 0.90)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write the report here; with --format csv and several kinds, a directory of one file per kind')
            [CompletionResult]::new('--rapid-out-percent', '--rapid-out-percent', [CompletionResultType]::ParameterName, 'rapid_in_out: share of an inflow that leaves within the window (percent, default 90)')
            [CompletionResult]::new('--rapid-window-hours', '--rapid-window-hours', [CompletionResultType]::ParameterName, 'rapid_in_out: window in hours (default 24)')
            [CompletionResult]::new('--rapid-inbound-min', '--rapid-inbound-min', [CompletionResultType]::ParameterName, 'rapid_in_out: smallest inflow considered (default 5000)')
            [CompletionResult]::new('--dormant-days', '--dormant-days', [CompletionResultType]::ParameterName, 'dormant_reactivation: days without activity (default 180)')
            [CompletionResult]::new('--dormant-large-amount', '--dormant-large-amount', [CompletionResultType]::ParameterName, 'dormant_reactivation: movement size that counts as large (default 10000)')
            [CompletionResult]::new('--round-unit', '--round-unit', [CompletionResultType]::ParameterName, 'round_amount: unit amounts must be multiples of (default 1000)')
            [CompletionResult]::new('--round-min', '--round-min', [CompletionResultType]::ParameterName, 'round_amount: smallest round amount (default 5000)')
            [CompletionResult]::new('--round-count', '--round-count', [CompletionResultType]::ParameterName, 'round_amount: round movements needed per account (default 3)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--unmask', '--unmask', [CompletionResultType]::ParameterName, 'Show full account numbers (recorded in the audit chain)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;report;help' {
            [CompletionResult]::new('balances', 'balances', [CompletionResultType]::ParameterValue, 'Trial balance: per currency, total debits = total credits')
            [CompletionResult]::new('compliance', 'compliance', [CompletionResultType]::ParameterValue, 'CTR, structuring, sanctions, suspicious activity and audit summary for a period')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;report;help;balances' {
            break
        }
        'fincore;report;help;compliance' {
            break
        }
        'fincore;report;help;help' {
            break
        }
        'fincore;reconcile' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Match a bank statement against a settlement account''s ledger movements over its period (or one day)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List reconciliation runs, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one run with its break items')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Resolve a break item: post its difference to an account, or accept it')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Print what the statement reader understood (accounts, periods, balances, every line); touches no ledger')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;reconcile;run' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'The settlement account the statement is for')
            [CompletionResult]::new('--date', '--date', [CompletionResultType]::ParameterName, 'Only the lines booked on this day, YYYY-MM-DD (default: the statement''s whole period)')
            [CompletionResult]::new('--statement', '--statement', [CompletionResultType]::ParameterName, 'The bank statement file')
            [CompletionResult]::new('--amount-tolerance', '--amount-tolerance', [CompletionResultType]::ParameterName, 'Largest amount difference still matched, in the account''s currency (default 0)')
            [CompletionResult]::new('--date-window', '--date-window', [CompletionResultType]::ParameterName, 'Days either side of the run''s days a movement may be dated and still match by amount')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Rules for recurring differences (TOML): fitting breaks are posted or accepted as the run is stored')
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'Statement format; auto detects by content')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'CSV: column names, internal=external,… (date, reference, amount, currency, counterparty, description)')
            [CompletionResult]::new('--date-format', '--date-format', [CompletionResultType]::ParameterName, 'CSV: chrono format of the date column, e.g. %d.%m.%Y')
            [CompletionResult]::new('--decimal-separator', '--decimal-separator', [CompletionResultType]::ParameterName, 'CSV: decimal separator of amounts, ''.'' or '',''')
            [CompletionResult]::new('--delimiter', '--delimiter', [CompletionResultType]::ParameterName, 'CSV: field delimiter: '','' '';'' ''|'' or ''tab''')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;reconcile;list' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Only runs of this settlement account')
            [CompletionResult]::new('--date', '--date', [CompletionResultType]::ParameterName, 'Only runs whose days include this one')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'limit')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;reconcile;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;reconcile;resolve' {
            [CompletionResult]::new('--post-to', '--post-to', [CompletionResultType]::ParameterName, 'Post the item''s difference between the settlement account and this account')
            [CompletionResult]::new('--note', '--note', [CompletionResultType]::ParameterName, 'Why (required; recorded on the item and in the audit chain)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Resolve many items in one transaction, all or nothing: a CSV of item_id,decision,account,note (decision post|accept)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--accept', '--accept', [CompletionResultType]::ParameterName, 'Accept the item as it is')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;reconcile;inspect' {
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'Statement format; auto detects by content')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'CSV: column names, internal=external,… (date, reference, amount, currency, counterparty, description)')
            [CompletionResult]::new('--date-format', '--date-format', [CompletionResultType]::ParameterName, 'CSV: chrono format of the date column, e.g. %d.%m.%Y')
            [CompletionResult]::new('--decimal-separator', '--decimal-separator', [CompletionResultType]::ParameterName, 'CSV: decimal separator of amounts, ''.'' or '',''')
            [CompletionResult]::new('--delimiter', '--delimiter', [CompletionResultType]::ParameterName, 'CSV: field delimiter: '','' '';'' ''|'' or ''tab''')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;reconcile;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Match a bank statement against a settlement account''s ledger movements over its period (or one day)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List reconciliation runs, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one run with its break items')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Resolve a break item: post its difference to an account, or accept it')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Print what the statement reader understood (accounts, periods, balances, every line); touches no ledger')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;reconcile;help;run' {
            break
        }
        'fincore;reconcile;help;list' {
            break
        }
        'fincore;reconcile;help;show' {
            break
        }
        'fincore;reconcile;help;resolve' {
            break
        }
        'fincore;reconcile;help;inspect' {
            break
        }
        'fincore;reconcile;help;help' {
            break
        }
        'fincore;ledger' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Every transfer balances, every balance equals its entries, the audit chain is intact')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;ledger;verify' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;ledger;help' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Every transfer balances, every balance equals its entries, the audit chain is intact')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;ledger;help;verify' {
            break
        }
        'fincore;ledger;help;help' {
            break
        }
        'fincore;audit' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List audit events')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the hash chain (and that anchors taken earlier still hold); exit 1 naming the first broken seq')
            [CompletionResult]::new('anchor', 'anchor', [CompletionResultType]::ParameterValue, 'Print the chain''s head (seq, hash, time) as a JSON anchor to keep outside the database, or write it to --out')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;audit;list' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'from')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'to')
            [CompletionResult]::new('--entity', '--entity', [CompletionResultType]::ParameterName, 'An account number or entity (`transfer:42`); account numbers also match their transfers')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'limit')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;audit;verify' {
            [CompletionResult]::new('--anchor', '--anchor', [CompletionResultType]::ParameterName, 'Anchor files written by `audit anchor`: the chain must still hold each anchored seq with its hash')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;audit;anchor' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write the anchor to this file (created; an existing file is not overwritten) instead of stdout')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;audit;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List audit events')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the hash chain (and that anchors taken earlier still hold); exit 1 naming the first broken seq')
            [CompletionResult]::new('anchor', 'anchor', [CompletionResultType]::ParameterValue, 'Print the chain''s head (seq, hash, time) as a JSON anchor to keep outside the database, or write it to --out')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;audit;help;list' {
            break
        }
        'fincore;audit;help;verify' {
            break
        }
        'fincore;audit;help;anchor' {
            break
        }
        'fincore;audit;help;help' {
            break
        }
        'fincore;risk' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('rescore', 'rescore', [CompletionResultType]::ParameterValue, 'Recompute account profiles and scores, store them, print the changes')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'The current stored assessment of an account (with --history: all of them)')
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'The rule set in force, or import a new one')
            [CompletionResult]::new('blacklist', 'blacklist', [CompletionResultType]::ParameterValue, 'Accounts whose transfers are blocked as counterparties')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;risk;rescore' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Rescore this account only')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'Profile as of this instant (RFC 3339) or the end of this date; default now')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Rescore every account (the default)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Freeze accounts whose new level is critical (audited)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;risk;show' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'limit')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--history', '--history', [CompletionResultType]::ParameterName, 'Every stored assessment, newest first')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;risk;rules' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'The rule set in force (or the file given with --rules), with levels and decisions')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Validate a rules TOML file and make it the active set (a new version)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;risk;rules;show' {
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;risk;rules;import' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;risk;rules;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'The rule set in force (or the file given with --rules), with levels and decisions')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Validate a rules TOML file and make it the active set (a new version)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;risk;rules;help;show' {
            break
        }
        'fincore;risk;rules;help;import' {
            break
        }
        'fincore;risk;rules;help;help' {
            break
        }
        'fincore;risk;blacklist' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Put an account number on the blacklist')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Take an account number off the blacklist')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the blacklist')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;risk;blacklist;add' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'reason')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;risk;blacklist;remove' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;risk;blacklist;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;risk;blacklist;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Put an account number on the blacklist')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Take an account number off the blacklist')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the blacklist')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;risk;blacklist;help;add' {
            break
        }
        'fincore;risk;blacklist;help;remove' {
            break
        }
        'fincore;risk;blacklist;help;list' {
            break
        }
        'fincore;risk;blacklist;help;help' {
            break
        }
        'fincore;risk;help' {
            [CompletionResult]::new('rescore', 'rescore', [CompletionResultType]::ParameterValue, 'Recompute account profiles and scores, store them, print the changes')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'The current stored assessment of an account (with --history: all of them)')
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'The rule set in force, or import a new one')
            [CompletionResult]::new('blacklist', 'blacklist', [CompletionResultType]::ParameterValue, 'Accounts whose transfers are blocked as counterparties')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;risk;help;rescore' {
            break
        }
        'fincore;risk;help;show' {
            break
        }
        'fincore;risk;help;rules' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'The rule set in force (or the file given with --rules), with levels and decisions')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Validate a rules TOML file and make it the active set (a new version)')
            break
        }
        'fincore;risk;help;rules;show' {
            break
        }
        'fincore;risk;help;rules;import' {
            break
        }
        'fincore;risk;help;blacklist' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Put an account number on the blacklist')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Take an account number off the blacklist')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the blacklist')
            break
        }
        'fincore;risk;help;blacklist;add' {
            break
        }
        'fincore;risk;help;blacklist;remove' {
            break
        }
        'fincore;risk;help;blacklist;list' {
            break
        }
        'fincore;risk;help;help' {
            break
        }
        'fincore;alerts' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Evaluate the alert rules; exit 0 OK, 1 warning, 2 critical (monitoring-plugin style)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;alerts;check' {
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Alert rules (TOML); default: the built-in set (fixtures/alerts/default.toml)')
            [CompletionResult]::new('--as-of', '--as-of', [CompletionResultType]::ParameterName, 'Evaluate at this instant (RFC 3339 or a date) without changing the stored alert state')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;alerts;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Evaluate the alert rules; exit 0 OK, 1 warning, 2 critical (monitoring-plugin style)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;alerts;help;check' {
            break
        }
        'fincore;alerts;help;help' {
            break
        }
        'fincore;events' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print every change since a cursor as NDJSON CloudEvents 1.0, in commit order')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;events;export' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Start after this cursor: an event id (SEQ.INDEX), an audit seq (SEQ), or 0 for the start')
            [CompletionResult]::new('--cursor-file', '--cursor-file', [CompletionResultType]::ParameterName, 'Read the cursor from FILE (missing: the start) and advance it after each flushed batch')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N events (with --follow: in all)')
            [CompletionResult]::new('--poll-ms', '--poll-ms', [CompletionResultType]::ParameterName, 'With --follow: milliseconds between polls')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep polling for new changes until interrupted (Ctrl-C, SIGTERM)')
            [CompletionResult]::new('--unmask', '--unmask', [CompletionResultType]::ParameterName, 'Show full account numbers (recorded in the audit chain)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;events;help' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print every change since a cursor as NDJSON CloudEvents 1.0, in commit order')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;events;help;export' {
            break
        }
        'fincore;events;help;help' {
            break
        }
        'fincore;db' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Apply pending migrations')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the schema version')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;db;migrate' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;db;status' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;db;help' {
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Apply pending migrations')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the schema version')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;db;help;migrate' {
            break
        }
        'fincore;db;help;status' {
            break
        }
        'fincore;db;help;help' {
            break
        }
        'fincore;completions' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;demo' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Where to build the demo ledger (default: a new folder under the system temp dir)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--operator', '--operator', [CompletionResultType]::ParameterName, 'Who acts; recorded on every audit event (default: the login user)')
            [CompletionResult]::new('--db-timeout', '--db-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database connection before exit 7')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a writer waits for another writer''s lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fincore;help' {
            [CompletionResult]::new('account', 'account', [CompletionResultType]::ParameterValue, 'Open, inspect, freeze and close accounts')
            [CompletionResult]::new('transfer', 'transfer', [CompletionResultType]::ParameterValue, 'Post, import, show, list and reverse transfers')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Trial balance and compliance reports')
            [CompletionResult]::new('reconcile', 'reconcile', [CompletionResultType]::ParameterValue, 'Reconcile a bank statement against a settlement account; list, show, resolve breaks')
            [CompletionResult]::new('ledger', 'ledger', [CompletionResultType]::ParameterValue, 'Ledger integrity checks')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The tamper-evident audit chain')
            [CompletionResult]::new('risk', 'risk', [CompletionResultType]::ParameterValue, 'Risk: batch rescoring, assessments, rule sets and the blacklist')
            [CompletionResult]::new('alerts', 'alerts', [CompletionResultType]::ParameterValue, 'Alert checks for cron and monitoring agents (exit 0 OK, 1 warning, 2 critical)')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'The change feed: every change since a cursor as CloudEvents')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Schema migrations')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Build a demo ledger from fixtures/ and run the daily jobs on it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fincore;help;account' {
            [CompletionResult]::new('open', 'open', [CompletionResultType]::ParameterValue, 'Open an account')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one account')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List accounts')
            [CompletionResult]::new('freeze', 'freeze', [CompletionResultType]::ParameterValue, 'Freeze an account: no transfers in or out')
            [CompletionResult]::new('unfreeze', 'unfreeze', [CompletionResultType]::ParameterValue, 'Lift a freeze')
            [CompletionResult]::new('close', 'close', [CompletionResultType]::ParameterValue, 'Close an account (zero balance only)')
            [CompletionResult]::new('statement', 'statement', [CompletionResultType]::ParameterValue, 'Entries with running balance')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import accounts from CSV `number,holder,type,currency,overdraft_limit`')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Set or clear a settlement account''s bank identifiers (IBAN, MT940 `:25:` account)')
            break
        }
        'fincore;help;account;open' {
            break
        }
        'fincore;help;account;show' {
            break
        }
        'fincore;help;account;list' {
            break
        }
        'fincore;help;account;freeze' {
            break
        }
        'fincore;help;account;unfreeze' {
            break
        }
        'fincore;help;account;close' {
            break
        }
        'fincore;help;account;statement' {
            break
        }
        'fincore;help;account;import' {
            break
        }
        'fincore;help;account;update' {
            break
        }
        'fincore;help;transfer' {
            [CompletionResult]::new('post', 'post', [CompletionResultType]::ParameterValue, 'Post a transfer: debit --from, credit --to')
            [CompletionResult]::new('deposit', 'deposit', [CompletionResultType]::ParameterValue, 'Money in through a settlement account (debits the settlement account)')
            [CompletionResult]::new('withdraw', 'withdraw', [CompletionResultType]::ParameterValue, 'Money out through a settlement account (credits the settlement account)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Post every row of CSV `key,from,to,amount,currency,at,reference,description`')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one transfer by id or idempotency key')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List transfers')
            [CompletionResult]::new('reverse', 'reverse', [CompletionResultType]::ParameterValue, 'Post the opposite transfer, linked to the original (once only)')
            break
        }
        'fincore;help;transfer;post' {
            break
        }
        'fincore;help;transfer;deposit' {
            break
        }
        'fincore;help;transfer;withdraw' {
            break
        }
        'fincore;help;transfer;import' {
            break
        }
        'fincore;help;transfer;show' {
            break
        }
        'fincore;help;transfer;list' {
            break
        }
        'fincore;help;transfer;reverse' {
            break
        }
        'fincore;help;report' {
            [CompletionResult]::new('balances', 'balances', [CompletionResultType]::ParameterValue, 'Trial balance: per currency, total debits = total credits')
            [CompletionResult]::new('compliance', 'compliance', [CompletionResultType]::ParameterValue, 'CTR, structuring, sanctions, suspicious activity and audit summary for a period')
            break
        }
        'fincore;help;report;balances' {
            break
        }
        'fincore;help;report;compliance' {
            break
        }
        'fincore;help;reconcile' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Match a bank statement against a settlement account''s ledger movements over its period (or one day)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List reconciliation runs, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one run with its break items')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Resolve a break item: post its difference to an account, or accept it')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Print what the statement reader understood (accounts, periods, balances, every line); touches no ledger')
            break
        }
        'fincore;help;reconcile;run' {
            break
        }
        'fincore;help;reconcile;list' {
            break
        }
        'fincore;help;reconcile;show' {
            break
        }
        'fincore;help;reconcile;resolve' {
            break
        }
        'fincore;help;reconcile;inspect' {
            break
        }
        'fincore;help;ledger' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Every transfer balances, every balance equals its entries, the audit chain is intact')
            break
        }
        'fincore;help;ledger;verify' {
            break
        }
        'fincore;help;audit' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List audit events')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the hash chain (and that anchors taken earlier still hold); exit 1 naming the first broken seq')
            [CompletionResult]::new('anchor', 'anchor', [CompletionResultType]::ParameterValue, 'Print the chain''s head (seq, hash, time) as a JSON anchor to keep outside the database, or write it to --out')
            break
        }
        'fincore;help;audit;list' {
            break
        }
        'fincore;help;audit;verify' {
            break
        }
        'fincore;help;audit;anchor' {
            break
        }
        'fincore;help;risk' {
            [CompletionResult]::new('rescore', 'rescore', [CompletionResultType]::ParameterValue, 'Recompute account profiles and scores, store them, print the changes')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'The current stored assessment of an account (with --history: all of them)')
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'The rule set in force, or import a new one')
            [CompletionResult]::new('blacklist', 'blacklist', [CompletionResultType]::ParameterValue, 'Accounts whose transfers are blocked as counterparties')
            break
        }
        'fincore;help;risk;rescore' {
            break
        }
        'fincore;help;risk;show' {
            break
        }
        'fincore;help;risk;rules' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'The rule set in force (or the file given with --rules), with levels and decisions')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Validate a rules TOML file and make it the active set (a new version)')
            break
        }
        'fincore;help;risk;rules;show' {
            break
        }
        'fincore;help;risk;rules;import' {
            break
        }
        'fincore;help;risk;blacklist' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Put an account number on the blacklist')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Take an account number off the blacklist')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the blacklist')
            break
        }
        'fincore;help;risk;blacklist;add' {
            break
        }
        'fincore;help;risk;blacklist;remove' {
            break
        }
        'fincore;help;risk;blacklist;list' {
            break
        }
        'fincore;help;alerts' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Evaluate the alert rules; exit 0 OK, 1 warning, 2 critical (monitoring-plugin style)')
            break
        }
        'fincore;help;alerts;check' {
            break
        }
        'fincore;help;events' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print every change since a cursor as NDJSON CloudEvents 1.0, in commit order')
            break
        }
        'fincore;help;events;export' {
            break
        }
        'fincore;help;db' {
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Apply pending migrations')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the schema version')
            break
        }
        'fincore;help;db;migrate' {
            break
        }
        'fincore;help;db;status' {
            break
        }
        'fincore;help;completions' {
            break
        }
        'fincore;help;demo' {
            break
        }
        'fincore;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
