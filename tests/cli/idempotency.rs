use crate::both_backends;
use crate::support::Ledger;

both_backends! {
    replay_returns_original => replay_returns_original;
    changed_payload_conflicts => changed_payload_conflicts;
}

fn replay_returns_original(ledger: &Ledger) {
    let (settlement, alice) = ledger.funded("USD", "100.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    let args = [
        "transfer",
        "post",
        "--from",
        &alice,
        "--to",
        &bob,
        "--amount",
        "10.00",
        "--currency",
        "USD",
        "--key",
        "pay-1",
    ];
    let first = ledger.json(&args);
    assert_eq!(first["replayed"], false);
    let before = ledger.snapshot();
    let second = ledger.json(&args);
    assert_eq!(second["replayed"], true);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(
        second["trace_id"], first["trace_id"],
        "the original transfer, not a new one"
    );
    assert_eq!(ledger.snapshot(), before, "a replay writes nothing");
    let deposit = [
        "transfer",
        "deposit",
        "--to",
        &bob,
        "--amount",
        "5.00",
        "--via",
        &settlement,
        "--key",
        "dep-1",
    ];
    assert_eq!(ledger.json(&deposit)["replayed"], false);
    assert_eq!(ledger.json(&deposit)["replayed"], true);
    let withdraw = [
        "transfer",
        "withdraw",
        "--from",
        &bob,
        "--amount",
        "1.00",
        "--via",
        &settlement,
        "--key",
        "wdr-1",
    ];
    assert_eq!(ledger.json(&withdraw)["replayed"], false);
    assert_eq!(ledger.json(&withdraw)["replayed"], true);
    assert_eq!(ledger.balance(&bob), "14.00");
}

fn changed_payload_conflicts(ledger: &Ledger) {
    let (settlement, alice) = ledger.funded("USD", "100.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    ledger.json(&[
        "transfer",
        "post",
        "--from",
        &alice,
        "--to",
        &bob,
        "--amount",
        "10.00",
        "--currency",
        "USD",
        "--key",
        "pay-1",
    ]);
    let before = ledger.snapshot();
    let variants: Vec<Vec<&str>> = vec![
        vec![
            "transfer",
            "post",
            "--from",
            &alice,
            "--to",
            &bob,
            "--amount",
            "10.01",
            "--currency",
            "USD",
            "--key",
            "pay-1",
        ],
        vec![
            "transfer",
            "post",
            "--from",
            &bob,
            "--to",
            &alice,
            "--amount",
            "10.00",
            "--currency",
            "USD",
            "--key",
            "pay-1",
        ],
        vec![
            "transfer",
            "post",
            "--from",
            &alice,
            "--to",
            &bob,
            "--amount",
            "10.00",
            "--currency",
            "USD",
            "--key",
            "pay-1",
            "--reference",
            "other",
        ],
        vec![
            "transfer",
            "deposit",
            "--to",
            &bob,
            "--amount",
            "10.00",
            "--via",
            &settlement,
            "--key",
            "pay-1",
        ],
    ];
    for args in variants {
        let mut json_args = vec!["--format", "json"];
        json_args.extend(args.iter().copied());
        let run = ledger.run(&json_args);
        run.assert_error(6, "idempotency_conflict");
        assert_eq!(run.json()["error"]["code"], "idempotency_conflict");
    }
    assert_eq!(ledger.snapshot(), before);
}
