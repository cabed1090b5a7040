//! Exit codes and error codes the ledger-core commands can produce beyond the transfer and
//! account stories: storage, schema, usage, clock.

use crate::both_backends;
use crate::support::Ledger;

both_backends! {
    newer_schema_is_refused => newer_schema_is_refused;
}

/// The versions of the migrations this binary embeds (both backends have the same).
fn migration_versions() -> Vec<String> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .map(|name| name.split('_').next().unwrap().to_string())
        .collect()
}

fn newer_schema_is_refused(ledger: &Ledger) {
    ledger.open("A", "checking", "USD", &[]);
    // Each backend has its own migrations, so its own latest version.
    let binary_version = ledger.json(&["db", "status"])["binary_version"]
        .as_i64()
        .expect("binary_version");
    ledger.execute_sql(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 29991231000000, 'from the future', success, checksum, execution_time \
         FROM _sqlx_migrations WHERE version = 20261121000001",
    );
    let run = ledger.run(&["account", "list"]);
    run.assert_error(7, "storage_unavailable");
    assert!(
        run.stderr.contains("29991231000000") && run.stderr.contains(&binary_version.to_string()),
        "names both versions: {}",
        run.stderr
    );
    let status = ledger.run(&["--format", "json", "db", "status"]);
    assert_eq!(status.code, 0);
    assert_eq!(status.json()["applied_version"], 29991231000000i64);
    let binary_version = status.json()["binary_version"].to_string();
    let run = ledger.run(&["account", "list"]);
    run.assert_error(7, "storage_unavailable");
    assert!(
        run.stderr.contains("29991231000000") && run.stderr.contains(&binary_version),
        "names both versions: {}",
        run.stderr
    );
}

#[test]
fn unopenable_sqlite_is_storage_unavailable() {
    let ledger = Ledger::sqlite();
    let run = ledger.run_with(
        &["--format", "json", "account", "list"],
        &[(
            "FINCORE_DATABASE_URL",
            "sqlite:///nonexistent-dir/x/ledger.db",
        )],
    );
    run.assert_error(7, "storage_unavailable");
    assert_eq!(run.json()["error"]["code"], "storage_unavailable");
}

#[test]
fn locked_database_waits_then_fails_cleanly() {
    // A file that is not a database at all is storage_unavailable, not a panic.
    let ledger = Ledger::sqlite();
    let path = ledger.write(
        "garbage.db",
        "this is not a sqlite file, just text padding padding padding",
    );
    let url = format!("sqlite://{}", path.display());
    ledger
        .run_with(&["account", "list"], &[("FINCORE_DATABASE_URL", &url)])
        .assert_error(7, "storage_unavailable");
}

#[test]
fn bad_database_url_is_usage() {
    let ledger = Ledger::sqlite();
    ledger
        .run_with(
            &["account", "list"],
            &[("FINCORE_DATABASE_URL", "mysql://x")],
        )
        .assert_error(2, "usage_error");
}

#[test]
fn bad_clock_is_invalid_input() {
    let ledger = Ledger::sqlite();
    ledger
        .run_with(&["account", "list"], &[("FINCORE_NOW", "half past nine")])
        .assert_error(4, "invalid_input");
}

#[test]
fn usage_errors_exit_2_with_one_error_line() {
    let ledger = Ledger::sqlite();
    let run = ledger.run(&["account", "open", "--holder", "X"]);
    run.assert_error(2, "usage_error");
    let run = ledger.run(&["--format", "yaml", "account", "list"]);
    run.assert_error(2, "usage_error");
    let help = ledger.run(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("transfer"));
}

#[test]
fn db_migrate_and_status() {
    let ledger = Ledger::sqlite();
    let status = ledger.json(&["db", "status"]);
    assert_eq!(status["pending"], migration_versions().len());
    let migrated = ledger.json(&["db", "migrate"]);
    assert_eq!(migrated["pending"], 0);
    assert_eq!(migrated["applied_version"], migrated["binary_version"]);
    assert_eq!(migrated["backend"], "sqlite");
}
