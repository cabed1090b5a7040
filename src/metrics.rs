//! Metric instruments and the small API the domain modules call. Every function is a no-op
//! (one atomic load) when no metrics endpoint is configured.
//!
//! | instrument | kind | unit | attributes |
//! |---|---|---|---|
//! | `fincore.transfers` | counter | `{transfer}` | `fincore.currency`, `fincore.outcome` (`posted`, `rejected`) |
//! | `fincore.command.duration` | histogram | `s` | `fincore.command`, `fincore.exit_code` |
//! | `fincore.reconciliation.breaks` | counter | `{break}` | `fincore.break.kind` |
//! | `fincore.risk.assessments` | counter | `{assessment}` | `fincore.risk.level` |
//! | `fincore.alert.value` | gauge (i64) | `{value}` | `fincore.alert.rule`, `fincore.alert.kind`, `fincore.alert.severity`, `fincore.alert.unit` |
//! | `fincore.alert.active` | gauge (i64, 0 or 1) | `{alert}` | `fincore.alert.rule`, `fincore.alert.kind`, `fincore.alert.severity` |
//!
//! Transfers and the risk assessments made while posting are counted when their write
//! transaction commits (a [`Tally`] rides along with it), so a retried or rolled-back
//! transaction is never counted twice.

/// Instrumentation scope of every span and instrument.
pub(crate) const SCOPE: &str = "fincore";

use crate::model::{RiskLevel, TransferStatus};
use crate::money::Currency;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter, MeterProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

pub(crate) const TRANSFERS: &str = "fincore.transfers";
pub(crate) const COMMAND_DURATION: &str = "fincore.command.duration";
pub(crate) const RECONCILIATION_BREAKS: &str = "fincore.reconciliation.breaks";
pub(crate) const RISK_ASSESSMENTS: &str = "fincore.risk.assessments";
pub(crate) const ALERT_VALUE: &str = "fincore.alert.value";
pub(crate) const ALERT_ACTIVE: &str = "fincore.alert.active";

/// Seconds: from a 5 ms lookup to a 10-minute import.
const DURATION_BOUNDARIES: [f64; 19] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0,
    120.0, 300.0, 600.0,
];

struct Instruments {
    transfers: Counter<u64>,
    command_duration: Histogram<f64>,
    breaks: Counter<u64>,
    assessments: Counter<u64>,
    alert_value: Gauge<i64>,
    alert_active: Gauge<i64>,
}

static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();

/// Create the instruments on the exporting provider (once per process).
pub(super) fn install(provider: &SdkMeterProvider) {
    let meter = provider.meter(SCOPE);
    let _ = INSTRUMENTS.set(instruments(&meter));
}

fn instruments(meter: &Meter) -> Instruments {
    Instruments {
        transfers: meter
            .u64_counter(TRANSFERS)
            .with_description("Transfers recorded, by currency and outcome")
            .with_unit("{transfer}")
            .build(),
        command_duration: meter
            .f64_histogram(COMMAND_DURATION)
            .with_description("Wall time of a fincore command, by command and exit code")
            .with_unit("s")
            .with_boundaries(DURATION_BOUNDARIES.to_vec())
            .build(),
        breaks: meter
            .u64_counter(RECONCILIATION_BREAKS)
            .with_description("Reconciliation breaks found, by kind")
            .with_unit("{break}")
            .build(),
        assessments: meter
            .u64_counter(RISK_ASSESSMENTS)
            .with_description("Risk assessments made, by level")
            .with_unit("{assessment}")
            .build(),
        alert_value: meter
            .i64_gauge(ALERT_VALUE)
            .with_description("What an alert rule measured at its last check, an exact integer in fincore.alert.unit (basis_points, count, minor_units)")
            .with_unit("{value}")
            .build(),
        alert_active: meter
            .i64_gauge(ALERT_ACTIVE)
            .with_description("1 while an alert rule fires (firing or ongoing), else 0")
            .with_unit("{alert}")
            .build(),
    }
}

pub(crate) fn record_transfers(currency: Currency, outcome: TransferStatus, count: u64) {
    if let Some(instruments) = INSTRUMENTS.get() {
        instruments.transfers.add(
            count,
            &[
                KeyValue::new("fincore.currency", currency.code().to_string()),
                KeyValue::new("fincore.outcome", outcome.as_str()),
            ],
        );
    }
}

/// A command finished: its wall time and exit code.
/// One alert rule as `alerts check` evaluated it.
pub(crate) struct AlertMetric<'a> {
    pub(crate) rule: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) severity: &'a str,
    pub(crate) unit: &'a str,
    pub(crate) value: i64,
    pub(crate) active: bool,
}

pub(crate) fn record_alert(alert: &AlertMetric<'_>) {
    if let Some(instruments) = INSTRUMENTS.get() {
        let attributes = [
            KeyValue::new("fincore.alert.rule", alert.rule.to_string()),
            KeyValue::new("fincore.alert.kind", alert.kind.to_string()),
            KeyValue::new("fincore.alert.severity", alert.severity.to_string()),
        ];
        instruments
            .alert_active
            .record(i64::from(alert.active), &attributes);
        let mut with_unit = attributes.to_vec();
        with_unit.push(KeyValue::new("fincore.alert.unit", alert.unit.to_string()));
        instruments.alert_value.record(alert.value, &with_unit);
    }
}

pub(crate) fn record_command(command: &str, exit_code: u8, duration: Duration) {
    if let Some(instruments) = INSTRUMENTS.get() {
        instruments.command_duration.record(
            duration.as_secs_f64(),
            &[
                KeyValue::new("fincore.command", command.to_string()),
                KeyValue::new("fincore.exit_code", i64::from(exit_code)),
            ],
        );
    }
}

/// `count` reconciliation breaks of `kind` (`missing_internal`, `amount_mismatch`, …).
fn record_breaks(kind: &str, count: u64) {
    if let Some(instruments) = INSTRUMENTS.get() {
        instruments.breaks.add(
            count,
            &[KeyValue::new("fincore.break.kind", kind.to_string())],
        );
    }
}

pub(crate) fn record_risk_assessments(level: RiskLevel, count: u64) {
    if let Some(instruments) = INSTRUMENTS.get() {
        instruments.assessments.add(
            count,
            &[KeyValue::new("fincore.risk.level", level.as_str())],
        );
    }
}

/// Counts gathered inside a write transaction and recorded when it commits: one `add` per
/// (currency, outcome) and level instead of one per row.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    transfers: HashMap<(Currency, TransferStatus), u64>,
    assessments: HashMap<RiskLevel, u64>,
    breaks: HashMap<&'static str, u64>,
}

impl Tally {
    pub(crate) fn transfer(&mut self, currency: Currency, outcome: TransferStatus) {
        *self.transfers.entry((currency, outcome)).or_default() += 1;
    }

    pub(crate) fn risk_assessment(&mut self, level: RiskLevel) {
        *self.assessments.entry(level).or_default() += 1;
    }

    /// A reconciliation break stored by the transaction.
    pub(crate) fn reconciliation_break(&mut self, kind: &'static str) {
        *self.breaks.entry(kind).or_default() += 1;
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        for (key, count) in other.transfers {
            *self.transfers.entry(key).or_default() += count;
        }
        for (level, count) in other.assessments {
            *self.assessments.entry(level).or_default() += count;
        }
        for (kind, count) in other.breaks {
            *self.breaks.entry(kind).or_default() += count;
        }
    }

    /// The transaction committed: count it.
    pub(crate) fn record(self) {
        if INSTRUMENTS.get().is_none() {
            return;
        }
        for ((currency, outcome), count) in self.transfers {
            record_transfers(currency, outcome, count);
        }
        for (level, count) in self.assessments {
            record_risk_assessments(level, count);
        }
        for (kind, count) in self.breaks {
            record_breaks(kind, count);
        }
    }
}
