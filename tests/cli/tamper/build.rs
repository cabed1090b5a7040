//! The ledger every case starts from, built through the real binary only: one of each thing
//! that writes money or state (see `build`).

use crate::support::{fixture, Ledger, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Set for the whole build and for every verify, so that a forged MAC counts as an edit.
pub const AUDIT_KEY: &str = "tamper-suite-audit-key-0123456789abcdef";

/// The first command runs at 08:01 UTC, each next one a minute later.
const DAY: &str = "2026-11-20";

/// What the named cases need to know about the built ledger.
pub struct Built {
    /// A single post (`transfer post`, key `single-2`): ACCT0003 → ACCT0005.
    pub single_post: i64,
    /// The newest transfer, posted by the newest audit event (key `single-last`).
    pub newest_post: i64,
    /// `audit anchor` of the built ledger, as an operator keeps it outside the database.
    pub anchor: PathBuf,
    /// The columns `ledger verify` declares not evidence, as `(table, column)`.
    pub not_evidence: Vec<(String, String)>,
}

/// Runs fincore commands with an advancing clock and the audit key.
pub struct Builder<'a> {
    ledger: &'a Ledger,
    minute: u32,
}

impl<'a> Builder<'a> {
    pub fn new(ledger: &'a Ledger) -> Builder<'a> {
        Builder { ledger, minute: 0 }
    }

    /// Run with `--format json`; the exit code must be `expected`.
    pub fn run(&mut self, expected: i32, args: &[&str]) -> Value {
        self.minute += 1;
        let now = format!(
            "{DAY}T{:02}:{:02}:00Z",
            8 + self.minute / 60,
            self.minute % 60
        );
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let run = self.ledger.run_with(
            &all,
            &[("FINCORE_NOW", &now), ("FINCORE_AUDIT_KEY", AUDIT_KEY)],
        );
        assert_eq!(
            run.code, expected,
            "fincore {args:?}:\n{}\n{}",
            run.stderr, run.stdout
        );
        run.json()
    }

    fn write(&self, name: &str, text: &str) -> String {
        self.ledger.write(name, text).display().to_string()
    }
}

/// `ledger verify` or `audit verify` on `ledger`, with the audit key (and the anchor, for
/// `audit verify`, when given).
pub fn verify(ledger: &Ledger, command: &str, anchor: Option<&Path>) -> Run {
    let mut args = vec!["--format", "json", command, "verify"];
    let anchor = anchor.map(|path| path.display().to_string());
    if let Some(path) = &anchor {
        args.extend(["--anchor", path]);
    }
    ledger.run_with(&args, &[("FINCORE_AUDIT_KEY", AUDIT_KEY)])
}

/// Accounts of every type (two settlement accounts, one with an IBAN), `account import`,
/// deposits, a `transfer import` with rejected rows, single posts (one rejected by the
/// overdraft limit), a reversal, a freeze, a rule set, a blacklist entry, a rescore that
/// freezes, a reconciliation with breaks resolved both ways, an IBAN change, and last a single
/// post (so that the newest audit event has a transfer).
pub fn build(ledger: &Ledger) -> Built {
    let mut builder = Builder::new(ledger);
    open_accounts(&mut builder);
    deposit(&mut builder);
    import_transfers(&mut builder);
    let single_post = post_singles(&mut builder);
    risk(&mut builder);
    reconcile(&mut builder);
    alerts(&mut builder);
    builder.run(
        0,
        &[
            "account",
            "update",
            "BANKUSD01",
            "--iban",
            "GB82WEST12345698765432",
        ],
    );
    let newest_post = post(
        &mut builder,
        0,
        "ACCT0005",
        "ACCT0002",
        "20.00",
        "single-last",
    )["id"]
        .as_i64()
        .expect("id");
    let mut not_evidence = Vec::new();
    for command in ["ledger", "audit"] {
        let run = verify(ledger, command, None);
        assert_eq!(
            run.code, 0,
            "the built ledger passes {command} verify:\n{}\n{}",
            run.stdout, run.stderr
        );
        if command == "ledger" {
            not_evidence = super::verdict::declared_not_evidence(&run);
        }
    }
    let anchor = ledger.path("built.anchor");
    builder.run(
        0,
        &["audit", "anchor", "--out", &anchor.display().to_string()],
    );
    Built {
        single_post,
        newest_post,
        anchor,
        not_evidence,
    }
}

/// Two alert rules that fire (one row each in `alert_states`, with their audit events).
fn alerts(builder: &mut Builder) {
    let rules = builder.write(
        "alerts.toml",
        "[[rule]]\nname = \"bank-usd-low\"\nkind = \"balance\"\nseverity = \"warning\"\n\
         account = \"BANKUSD01\"\nbelow = \"1000000.00\"\n\n\
         [[rule]]\nname = \"bank-eur-high\"\nkind = \"balance\"\nseverity = \"critical\"\n\
         account = \"BANKEUR01\"\nabove = \"-1000000.00\"\n",
    );
    builder.run(2, &["alerts", "check", "--rules", &rules]);
}

fn open_accounts(builder: &mut Builder) {
    builder.run(
        0,
        &[
            "account",
            "open",
            "--holder",
            "Bank USD",
            "--type",
            "settlement",
            "--currency",
            "USD",
            "--number",
            "BANKUSD01",
            "--iban",
            "DE89370400440532013000",
        ],
    );
    builder.run(
        0,
        &[
            "account",
            "open",
            "--holder",
            "Bank EUR",
            "--type",
            "settlement",
            "--currency",
            "EUR",
            "--number",
            "BANKEUR01",
        ],
    );
    let accounts = builder.write(
        "accounts.csv",
        "number,holder,type,currency,overdraft_limit\n\
         ACCT0001,Alice Able,checking,USD,\n\
         ACCT0002,Bob Baker,checking,USD,50.00\n\
         ACCT0003,Carol Cole,savings,USD,\n\
         ACCT0004,Dan Dorn,checking,EUR,\n\
         MULE0001,Mallory Mule,checking,USD,\n\
         FEESUSD01,Fees USD,internal,USD,\n\
         SUSPUSD01,Suspense USD,internal,USD,\n",
    );
    builder.run(0, &["account", "import", &accounts]);
    builder.run(
        0,
        &[
            "account",
            "open",
            "--holder",
            "Erin Card",
            "--type",
            "credit",
            "--currency",
            "USD",
            "--number",
            "CARD0001",
            "--credit-limit",
            "500.00",
        ],
    );
    builder.run(
        0,
        &[
            "account",
            "open",
            "--holder",
            "Frank Free",
            "--type",
            "checking",
            "--currency",
            "USD",
            "--number",
            "ACCT0005",
            "--initial-deposit",
            "1000.00",
            "--via",
            "BANKUSD01",
        ],
    );
}

fn deposit(builder: &mut Builder) {
    for (to, amount, via, reference, minute) in [
        ("ACCT0001", "5000.00", "BANKUSD01", "DEP-1", "00"),
        ("ACCT0002", "300.00", "BANKUSD01", "DEP-2", "01"),
        ("ACCT0004", "800.00", "BANKEUR01", "DEP-3", "02"),
        ("ACCT0003", "250.00", "BANKUSD01", "DEP-4", "03"),
    ] {
        let at = format!("{DAY}T08:{minute}:00Z");
        builder.run(
            0,
            &[
                "transfer",
                "deposit",
                "--to",
                to,
                "--amount",
                amount,
                "--via",
                via,
                "--reference",
                reference,
                "--at",
                &at,
            ],
        );
    }
}

/// 30 rows that post, one beyond the payer's funds and one in the wrong currency (rejected).
fn import_transfers(builder: &mut Builder) {
    let mut text = String::from("key,from,to,amount,currency,at,reference,description\n");
    for row in 1..=30u32 {
        let (from, to) = [
            ("ACCT0001", "ACCT0003"),
            ("ACCT0001", "ACCT0002"),
            ("ACCT0002", "CARD0001"),
            ("ACCT0005", "ACCT0001"),
        ][row as usize % 4];
        text.push_str(&format!(
            "imp{row:02},{from},{to},{}.{:02},USD,{DAY}T09:{row:02}:00Z,INV-{row},import row {row}\n",
            row * 3,
            row * 7 % 100
        ));
    }
    text.push_str(&format!(
        "imp31,ACCT0003,ACCT0001,99999.00,USD,{DAY}T09:31:00Z,INV-31,too much\n\
         imp32,ACCT0004,FEESUSD01,1.00,USD,{DAY}T09:32:00Z,INV-32,wrong currency\n"
    ));
    let file = builder.write("transfers.csv", &text);
    let summary = builder.run(1, &["transfer", "import", &file]);
    assert_eq!(summary["rejected"], 2, "{summary}");
}

fn post(
    builder: &mut Builder,
    expected: i32,
    from: &str,
    to: &str,
    amount: &str,
    key: &str,
) -> Value {
    let description = format!("single post {key}");
    builder.run(
        expected,
        &[
            "transfer",
            "post",
            "--from",
            from,
            "--to",
            to,
            "--amount",
            amount,
            "--currency",
            "USD",
            "--key",
            key,
            "--reference",
            key,
            "--description",
            &description,
        ],
    )
}

/// Single posts, one rejected by ACCT0002's overdraft limit, one reversed, then a freeze.
/// Returns the id of the post the named cases rewrite.
fn post_singles(builder: &mut Builder) -> i64 {
    post(builder, 0, "ACCT0001", "ACCT0003", "120.00", "single-1");
    let single = post(builder, 0, "ACCT0003", "ACCT0005", "15.25", "single-2")["id"]
        .as_i64()
        .expect("id");
    post(builder, 3, "ACCT0002", "ACCT0001", "900.00", "single-over");
    post(builder, 0, "ACCT0001", "MULE0001", "42.00", "single-mule");
    let reversed = post(builder, 0, "ACCT0001", "ACCT0002", "7.00", "single-3")["id"].to_string();
    builder.run(
        0,
        &[
            "transfer",
            "reverse",
            &reversed,
            "--reason",
            "customer dispute",
        ],
    );
    builder.run(
        0,
        &["account", "freeze", "ACCT0004", "--reason", "kyc review"],
    );
    single
}

/// A rule set, MULE0001 blacklisted, and a rescore whose `--apply` freezes it and its payer.
fn risk(builder: &mut Builder) {
    let rules = fixture("risk/builtin.toml").display().to_string();
    builder.run(0, &["risk", "rules", "import", &rules]);
    builder.run(
        0,
        &[
            "risk",
            "blacklist",
            "add",
            "MULE0001",
            "--reason",
            "mule ring",
        ],
    );
    let rescore = builder.run(
        0,
        &[
            "risk",
            "rescore",
            "--as-of",
            &format!("{DAY}T10:00:00Z"),
            "--apply",
        ],
    );
    let frozen = rescore["frozen"].to_string();
    assert!(frozen.contains("MULE0001"), "{rescore}");
}

/// A statement with a bank fee we did not book (posted to suspense), a short payment
/// (accepted) and a deposit it does not show.
fn reconcile(builder: &mut Builder) {
    let statement = builder.write(
        "statement.csv",
        &format!(
            "date,reference,amount,currency,counterparty,description\n\
             {DAY},DEP-1,5000.00,USD,Alice Able,cash in\n\
             {DAY},DEP-2,300.00,USD,Bob Baker,cash in\n\
             {DAY},DEP-4,205.00,USD,Carol Cole,cash in\n\
             {DAY},FEE-11,-12.50,USD,Bank,account fee\n"
        ),
    );
    let run = builder.run(
        1,
        &[
            "reconcile",
            "run",
            "--account",
            "BANKUSD01",
            "--date",
            DAY,
            "--statement",
            &statement,
        ],
    );
    let item = |kind: &str| -> String {
        run["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|item| item["kind"] == kind)
            .unwrap_or_else(|| panic!("a {kind} break: {run}"))["id"]
            .to_string()
    };
    let (fee, short) = (item("missing_internal"), item("amount_mismatch"));
    builder.run(
        0,
        &[
            "reconcile",
            "resolve",
            &fee,
            "--post-to",
            "SUSPUSD01",
            "--note",
            "bank fee",
        ],
    );
    builder.run(
        0,
        &[
            "reconcile",
            "resolve",
            &short,
            "--accept",
            "--note",
            "short payment accepted",
        ],
    );
}
