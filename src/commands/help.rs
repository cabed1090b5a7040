//! The command line as help, man pages and completions show it: every command with an
//! EXAMPLES block, and the global options described once (in `fincore --help` and
//! `fincore help global`) instead of in every subcommand's help.

/// Examples per command path (`transfer list`), shown under each command's help and in its
/// man page. Every command has some (a test walks the tree); they run as written against a
/// ledger that has the accounts they name.
const EXAMPLES: &[(&str, &[&str])] = &[
    ("", &[
        "fincore demo                                  # a demo ledger to try everything on",
        "fincore account list --status frozen",
        "fincore transfer list --status rejected --from today",
        "fincore --format json transfer show 42",
        "fincore help global                           # the options every command takes",
    ]),
    ("account", &["fincore account list --type checking", "fincore account show 4000000000000010 --as-of yesterday"]),
    ("account open", &[
        "fincore account open --holder 'Bank of X' --type settlement --currency USD",
        "fincore account open --holder 'Ann Lee' --type checking --currency USD --initial-deposit 100.00 --via 9000000000000001",
        "fincore account open --holder 'Ann Lee' --type credit --currency EUR --credit-limit 500",
    ]),
    ("account show", &[
        "fincore account show 4000000000000010",
        "fincore account show 4000000000000010 --as-of 2026-11-20   # balance at the end of that day",
        "fincore account show 4000000000000010 --as-of -7d",
    ]),
    ("account list", &[
        "fincore account list --status frozen",
        "fincore account list --type savings --currency EUR --holder lee",
        "fincore --format csv account list > accounts.csv",
    ]),
    ("account freeze", &["fincore account freeze 4000000000000010 --reason 'card reported stolen'"]),
    ("account unfreeze", &["fincore account unfreeze 4000000000000010 --reason 'card replaced'"]),
    ("account close", &["fincore account close 4000000000000010"]),
    ("account statement", &[
        "fincore account statement 4000000000000010 --from 2026-11-01 --to 2026-11-30",
        "fincore account statement 4000000000000010 --from -7d",
    ]),
    ("account import", &["fincore account import accounts.csv   # number,holder,type,currency,overdraft_limit"]),
    ("account update", &[
        "fincore account update 9000000000000001 --iban 'DE89 3704 0044 0532 0130 00'",
        "fincore account update 9000000000000001 --clear-bank-account",
    ]),
    ("transfer", &["fincore transfer list --kind deposit --from today", "fincore transfer show 42"]),
    ("transfer post", &[
        "fincore transfer post --from 4000000000000010 --to 4000000000000028 --amount 25.00 --currency USD",
        "fincore transfer post --from 4000000000000010 --to 4000000000000028 --amount 25.00 --currency USD --key INV-7 --reference INV-7",
    ]),
    ("transfer deposit", &["fincore transfer deposit --to 4000000000000010 --amount 500.00 --via 9000000000000001"]),
    ("transfer withdraw", &["fincore transfer withdraw --from 4000000000000010 --amount 80.00 --via 9000000000000001"]),
    ("transfer import", &[
        "fincore transfer import transfers.csv --rejects rejects.csv",
        "fincore transfer import transfers.csv --dry-run",
    ]),
    ("transfer show", &["fincore transfer show 42", "fincore transfer show INV-7   # by idempotency key"]),
    ("transfer list", &[
        "fincore transfer list                                    # the newest 100",
        "fincore transfer list --status rejected --from today      # today's rejected transfers",
        "fincore transfer list --account 4000000000000010 --since -7d",
        "fincore transfer list --kind deposit --min-amount 10000",
        "fincore --format csv transfer list --all > transfers.csv   # every transfer, streamed",
    ]),
    ("transfer reverse", &["fincore transfer reverse 42 --reason 'posted twice'"]),
    ("report", &["fincore report balances", "fincore report compliance --from -7d --to today"]),
    ("report balances", &[
        "fincore report balances",
        "fincore report balances --as-of 2026-11-20 --currency USD",
        "fincore report balances --account 4000000000000010 --as-of yesterday",
    ]),
    ("report compliance", &[
        "fincore report compliance --from 2026-11-01 --to 2026-11-30",
        "fincore report compliance --from -7d --to today --kind ctr,structuring",
        "fincore report compliance --from 2026-11-01 --to 2026-11-30 --kind sanctions --sanctions-list sanctions.csv",
        "fincore --format csv report compliance --from -30d --to today --out reports/",
    ]),
    ("reconcile", &["fincore reconcile run --account 9000000000000001 --statement statement.csv", "fincore reconcile list"]),
    ("reconcile run", &[
        "fincore reconcile run --account 9000000000000001 --statement statement.csv",
        "fincore reconcile run --account 9000000000000001 --date yesterday --statement bank.sta",
        "fincore reconcile run --account 9000000000000001 --statement camt.xml --amount-tolerance 0.01 --date-window 2",
    ]),
    ("reconcile list", &["fincore reconcile list", "fincore reconcile list --account 9000000000000001 --date yesterday"]),
    ("reconcile show", &["fincore reconcile show 7"]),
    ("reconcile resolve", &[
        "fincore reconcile resolve 31 --accept --note 'bank fee, booked by hand'",
        "fincore reconcile resolve 32 --post-to 7000000000000001 --note 'to suspense'",
    ]),
    ("reconcile inspect", &["fincore reconcile inspect statement.xml"]),
    ("alerts", &["fincore alerts check"]),
    ("alerts check", &[
        "fincore alerts check                          # the built-in rules (fixtures/alerts/default.toml)",
        "fincore alerts check --rules alerts.toml      # exit 0 ok, 1 warning, 2 critical",
        "fincore --format json alerts check --as-of 2026-11-20T06:00:00Z",
    ]),
    ("events", &["fincore events export --cursor-file feed.cursor"]),
    ("events export", &[
        "fincore events export --cursor-file feed.cursor | kcat -P -t ledger",
        "fincore events export --since 0 --limit 100",
        "fincore events export --cursor-file feed.cursor --follow",
    ]),
    ("ledger", &["fincore ledger verify"]),
    ("ledger verify", &["fincore ledger verify && echo consistent"]),
    ("audit", &["fincore audit list --from today", "fincore audit verify"]),
    ("audit list", &[
        "fincore audit list --from today",
        "fincore audit list --entity 4000000000000010",
        "fincore audit list --entity transfer:42",
    ]),
    ("audit verify", &["fincore audit verify", "fincore audit verify --anchor anchors/2026-11-20.json"]),
    ("audit anchor", &["fincore audit anchor --out anchors/$(date +%F).json"]),
    ("risk", &["fincore risk rescore --all", "fincore risk show 4000000000000010"]),
    ("risk rescore", &["fincore risk rescore --all", "fincore risk rescore --account 4000000000000010 --as-of yesterday", "fincore risk rescore --all --apply   # freeze critical accounts"]),
    ("risk show", &["fincore risk show 4000000000000010"]),
    ("risk rules", &["fincore risk rules show", "fincore risk rules import rules.toml"]),
    ("risk rules show", &["fincore risk rules show", "fincore risk rules show --rules rules.toml"]),
    ("risk rules import", &["fincore risk rules import rules.toml"]),
    ("risk blacklist", &["fincore risk blacklist list"]),
    ("risk blacklist add", &["fincore risk blacklist add 4000000000000051 --reason 'sanctions hit'"]),
    ("risk blacklist remove", &["fincore risk blacklist remove 4000000000000051"]),
    ("risk blacklist list", &["fincore risk blacklist list"]),
    ("db", &["fincore db status", "fincore db migrate"]),
    ("db migrate", &["fincore --db postgres://fincore@localhost/fincore db migrate"]),
    ("db status", &["fincore db status"]),
    ("completions", &[
        "fincore completions bash > ~/.local/share/bash-completion/completions/fincore",
        "fincore completions zsh > ~/.zfunc/_fincore",
        "fincore completions fish > ~/.config/fish/completions/fincore.fish",
    ]),
    ("man", &["fincore man --dir ~/.local/share/man/man1 && man fincore-transfer-list", "fincore man | man -l -"]),
    ("demo", &["fincore demo", "fincore demo --dir /tmp/fincore-demo"]),
];

/// Under each subcommand's help, instead of the global options themselves.
const GLOBAL_OPTIONS_POINTER: &str =
    "Global options (--db, --format, --operator, --quiet, -v, …): fincore help global";

/// The grammar the binary parses with and prints help from: `cli::Cli`'s, with examples on
/// every command and the global options hidden below the root (they still work anywhere on
/// the line; `fincore --help` and `fincore help global` describe them).
pub(crate) fn documented(command: clap::Command) -> clap::Command {
    let globals: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|argument| argument.is_global_set())
        .cloned()
        .collect();
    let mut command = with_examples(command, "");
    // Wrapped to the terminal's width; piped into a file or `grep`, one line per item.
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        command = command.term_width(0);
    }
    below(command, "", &globals)
}

/// Every subcommand of `command` (at `path`) with hidden copies of the global options (clap
/// then does not propagate the shown ones; values still reach the root, matched by id) and
/// its examples.
fn below(command: clap::Command, path: &str, globals: &[clap::Arg]) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|subcommand| subcommand.get_name().to_string())
        .collect();
    names.iter().fold(command, |command, name| {
        let path = format!("{path} {name}").trim_start().to_string();
        command.mut_subcommand(name, |subcommand| {
            let mut subcommand = with_examples(subcommand, &path);
            for argument in globals {
                subcommand = subcommand.arg(argument.clone().hide(true));
            }
            below(subcommand, &path, globals)
        })
    })
}

/// The examples of a command path, if any.
pub(crate) fn examples_of(path: &str) -> Option<&'static [&'static str]> {
    EXAMPLES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, lines)| *lines)
}

fn with_examples(command: clap::Command, path: &str) -> clap::Command {
    let Some(lines) = examples_of(path) else {
        return command;
    };
    let mut text = String::from("Examples:\n");
    for line in lines {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    if !path.is_empty() {
        text.push('\n');
        text.push_str(GLOBAL_OPTIONS_POINTER);
    }
    command.after_help(text.trim_end().to_string())
}

/// The grammar shell completions are generated from: every value that is not a file is
/// marked so (`ValueHint::Other`), so a shell offers no file names for `--currency`; closed
/// sets (account types, statuses, kinds, formats) complete from their listed values.
pub(crate) fn completable(command: clap::Command) -> clap::Command {
    let path_type = clap::builder::ValueParser::path_buf().type_id();
    let names: Vec<String> = command
        .get_arguments()
        .filter(|argument| {
            argument.get_action().takes_values()
                && argument.get_value_hint() == clap::ValueHint::Unknown
                && argument.get_value_parser().type_id() != path_type
        })
        .map(|argument| argument.get_id().to_string())
        .collect();
    let command = names.iter().fold(command, |command, name| {
        command.mut_arg(name, |argument| argument.value_hint(clap::ValueHint::Other))
    });
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|subcommand| subcommand.get_name().to_string())
        .collect();
    subcommands.iter().fold(command, |command, name| {
        command.mut_subcommand(name, completable)
    })
}

/// `fincore help global`: the global options, described once.
pub(crate) fn global_help(root: &clap::Command) -> String {
    let mut page = clap::Command::new("fincore")
        .about(
            "Options every fincore command takes, before or after the command's name; each \
             may also be set by the environment variable named with it.",
        )
        .disable_help_flag(true)
        .help_template("{about}\n\n{all-args}");
    for argument in root
        .get_arguments()
        .filter(|argument| argument.is_global_set())
    {
        page = page.arg(argument.clone().global(false));
    }
    page.render_help().to_string()
}

/// `fincore help [COMMAND…]` (clap's own help subcommand is off: it knows no `global`).
#[derive(Debug, clap::Args)]
pub(crate) struct HelpArgs {
    /// A command path (`transfer list`), or `global` for the options every command takes
    #[arg(value_name = "COMMAND")]
    topic: Vec<String>,
}

impl HelpArgs {
    pub(crate) fn run(self, root: clap::Command) -> crate::error::AppResult<super::Output> {
        let mut root = documented(root);
        root.build();
        if self.topic == ["global"] {
            return Ok(super::Output::raw(global_help(&root).into_bytes()));
        }
        let mut command = &mut root;
        for name in &self.topic {
            command = command.find_subcommand_mut(name).ok_or_else(|| {
                crate::error::AppError::usage(format!(
                    "no command 'fincore {}'; try fincore --help",
                    self.topic.join(" ")
                ))
            })?;
        }
        Ok(super::Output::raw(
            command.render_help().to_string().into_bytes(),
        ))
    }
}
