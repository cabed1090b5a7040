//! Test harness: run the real `fincore` binary against a fresh database on either backend.

pub mod otlp;
pub mod postgres;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub const NOW: &str = "2026-11-20T12:00:00Z";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty ledger database plus a scratch folder.
pub struct Ledger {
    pub dir: TempDir,
    pub url: String,
    pub backend: Backend,
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The `error: <code>: …` line's code.
    pub fn error_code(&self) -> String {
        let line = self
            .stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| {
                panic!(
                    "no error line on stderr (exit {}):\n{}\nstdout:\n{}",
                    self.code, self.stderr, self.stdout
                )
            });
        line.trim_start_matches("error: ")
            .split(':')
            .next()
            .unwrap_or("")
            .to_string()
    }

    pub fn assert_error(&self, exit_code: i32, code: &str) -> &Run {
        assert_eq!(
            self.code, exit_code,
            "exit code; stderr:\n{}\nstdout:\n{}",
            self.stderr, self.stdout
        );
        assert_eq!(
            self.error_code(),
            code,
            "error code; stderr:\n{}",
            self.stderr
        );
        self
    }
}

impl Ledger {
    /// The file exists (empty: an empty SQLite database), so a story may start with a read;
    /// a read on a missing file is exit 7 (tests/cli/failures.rs uses a path of its own).
    pub fn sqlite() -> Ledger {
        let dir = TempDir::new().expect("temp dir");
        let file = dir.path().join("ledger.db");
        std::fs::write(&file, "").expect("create the ledger file");
        let url = format!("sqlite://{}", file.display());
        Ledger {
            dir,
            url,
            backend: Backend::Sqlite,
        }
    }

    /// A new database on the shared throwaway server; None when PostgreSQL is unavailable
    /// and not required (`FINCORE_REQUIRE_POSTGRES=1` turns that into a failure).
    pub fn postgres() -> Option<Ledger> {
        let url = postgres::fresh_database()?;
        Some(Ledger {
            dir: TempDir::new().expect("temp dir"),
            url,
            backend: Backend::Postgres,
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write fixture");
        path
    }

    /// A `fincore` command bound to this ledger, with a fixed clock and operator.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fincore"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FINCORE_DATABASE_URL", &self.url)
            .env("FINCORE_NOW", NOW)
            .env("FINCORE_OPERATOR", "tester")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command();
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.args(args).output().expect("run fincore");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Run with `--format json`, assert exit 0, return the document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let run = self.run(&all);
        assert_eq!(
            run.code, 0,
            "fincore {args:?} failed:\n{}\n{}",
            run.stderr, run.stdout
        );
        run.json()
    }

    pub fn open(&self, holder: &str, account_type: &str, currency: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "account",
            "open",
            "--holder",
            holder,
            "--type",
            account_type,
            "--currency",
            currency,
        ];
        args.extend_from_slice(extra);
        self.json(&args)["number"]
            .as_str()
            .expect("number")
            .to_string()
    }

    /// A settlement account and a funded customer account.
    pub fn funded(&self, currency: &str, amount: &str) -> (String, String) {
        let settlement = self.open("Bank", "settlement", currency, &[]);
        let customer = self.open(
            "Customer",
            "checking",
            currency,
            &["--initial-deposit", amount, "--via", &settlement],
        );
        (settlement, customer)
    }

    pub fn balance(&self, number: &str) -> String {
        self.json(&["account", "show", number])["balance"]
            .as_str()
            .expect("balance")
            .to_string()
    }

    /// Everything a failed command must leave untouched.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            balances: self.json(&["report", "balances"])["accounts"].clone(),
            accounts: self.json(&["account", "list"]),
            transfers: self.json(&["transfer", "list", "--limit", "100000"]),
            audit_events: self
                .json(&["audit", "list", "--limit", "100000"])
                .as_array()
                .map_or(0, Vec::len),
        }
    }

    pub fn assert_verified(&self) {
        let run = self.run(&["ledger", "verify"]);
        assert_eq!(
            run.code, 0,
            "ledger verify:\n{}\n{}",
            run.stdout, run.stderr
        );
    }
}

#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub balances: Value,
    pub accounts: Value,
    pub transfers: Value,
    pub audit_events: usize,
}

pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// Define a test that runs `$body(&Ledger)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident => $body:ident;)+) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$body(&$crate::support::Ledger::sqlite());
                }

                #[test]
                fn postgres() {
                    if let Some(ledger) = $crate::support::Ledger::postgres() {
                        super::$body(&ledger);
                    }
                }
            }
        )+
    };
}

impl Ledger {
    /// Run raw SQL against the ledger database, bypassing fincore (tamper tests).
    pub fn execute_sql(&self, sql: &str) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            use sqlx::Connection;
            match self.backend {
                Backend::Sqlite => {
                    let mut connection = sqlx::SqliteConnection::connect(&self.url)
                        .await
                        .expect("connect sqlite");
                    sqlx::raw_sql(sql)
                        .execute(&mut connection)
                        .await
                        .expect("execute");
                }
                Backend::Postgres => {
                    let mut connection = sqlx::PgConnection::connect(&self.url)
                        .await
                        .expect("connect postgres");
                    sqlx::raw_sql(sql)
                        .execute(&mut connection)
                        .await
                        .expect("execute");
                }
            }
        });
    }
}

/// Accounts `ACCT0000`… of `busy_ledger`, each opened with 5,000.00 USD.
pub const BUSY_ACCOUNTS: usize = 12;
/// Rows of `busy_ledger`'s import file.
pub const BUSY_ROWS: usize = 6_000;

/// A ledger for multi-batch import stories (crashes, signals): `BUSY_ACCOUNTS` funded USD
/// accounts and an import file of `BUSY_ROWS` transfers among them, drawn from `seed`, some
/// beyond what the payer has (rejected). Returns the file's path.
pub fn busy_ledger(ledger: &Ledger, seed: u64, amount_max_minor: u64) -> PathBuf {
    let settlement = ledger.open("Bank", "settlement", "USD", &["--number", "BANK0001"]);
    for index in 0..BUSY_ACCOUNTS {
        ledger.open(
            &format!("Holder {index}"),
            "checking",
            "USD",
            &[
                "--number",
                &format!("ACCT{index:04}"),
                "--initial-deposit",
                "5000.00",
                "--via",
                &settlement,
            ],
        );
    }
    let mut text = String::from("key,from,to,amount,currency,at,reference,description\n");
    let mut state = seed;
    for row in 0..BUSY_ROWS {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let from = (state >> 33) as usize % BUSY_ACCOUNTS;
        let to = (from + 1 + (state >> 40) as usize % (BUSY_ACCOUNTS - 1)) % BUSY_ACCOUNTS;
        let amount_minor = 1 + (state >> 20) % amount_max_minor;
        text.push_str(&format!(
            "k{row},ACCT{from:04},ACCT{to:04},{}.{:02},USD,2026-11-20T{:02}:{:02}:00Z,R{row},\n",
            amount_minor / 100,
            amount_minor % 100,
            row / 600 % 24,
            row % 60
        ));
    }
    ledger.write("transfers.csv", &text)
}
