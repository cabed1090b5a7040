//! Log lines on stderr (`-v`, `FINCORE_LOG`): text or JSON (`--log-format json`), each with
//! the trace and span id of the span it was written in, and every value masked — account
//! numbers show their first and last 4 characters, the database password is scrubbed.

use crate::model::account_number::mask_in_text;
use crate::store::scrub;
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_opentelemetry::OtelData;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

pub(crate) struct MaskedFormat {
    pub(crate) json: bool,
}

/// What may be shown of a logged value.
pub(crate) fn mask_value(text: &str) -> String {
    mask_in_text(&scrub(text))
}

#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(&'static str, serde_json::Value)>,
}

/// Text is masked; numbers and booleans cannot hold an account number or a password (a
/// number-typed field is never an account number: those are strings) and pass as they are.
impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, mask_value(value).into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, mask_value(&format!("{value:?}")).into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, value.into());
    }
}

impl Fields {
    fn push(&mut self, field: &Field, value: serde_json::Value) {
        if field.name() == "message" {
            self.message = match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
        } else if !field.name().starts_with("log.") {
            self.others.push((field.name(), value));
        }
    }
}

/// The trace and span id of the innermost span that is exported (or would be), if any.
fn ids<S, N>(context: &FmtContext<'_, S, N>) -> Option<(String, String)>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    context.event_scope()?.find_map(|span| {
        let extensions = span.extensions();
        let data = extensions.get::<OtelData>()?;
        Some((data.trace_id()?.to_string(), data.span_id()?.to_string()))
    })
}

impl<S, N> FormatEvent<S, N> for MaskedFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let metadata = event.metadata();
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let ids = ids(context);
        if self.json {
            let mut line = serde_json::Map::new();
            line.insert("timestamp".into(), timestamp.into());
            line.insert("level".into(), metadata.level().as_str().into());
            line.insert("target".into(), metadata.target().into());
            line.insert("message".into(), fields.message.into());
            if !fields.others.is_empty() {
                let others: serde_json::Map<String, serde_json::Value> = fields
                    .others
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value))
                    .collect();
                line.insert("fields".into(), others.into());
            }
            if let Some((trace_id, span_id)) = ids {
                line.insert("trace_id".into(), trace_id.into());
                line.insert("span_id".into(), span_id.into());
            }
            writeln!(writer, "{}", serde_json::Value::Object(line))
        } else {
            let mut text = format!(
                "{timestamp} {:>5} {}:",
                metadata.level().as_str(),
                metadata.target(),
            );
            if !fields.message.is_empty() {
                let _ = write!(text, " {}", fields.message);
            }
            for (name, value) in &fields.others {
                match value {
                    serde_json::Value::String(value) => {
                        let _ = write!(text, " {name}={value}");
                    }
                    value => {
                        let _ = write!(text, " {name}={value}");
                    }
                }
            }
            if let Some((trace_id, span_id)) = ids {
                let _ = write!(text, " trace_id={trace_id} span_id={span_id}");
            }
            writeln!(writer, "{text}")
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_numbers_in_values() {
        assert_eq!(
            super::mask_value("account 4111111111111111 is frozen"),
            "account 4111********1111 is frozen"
        );
    }
}
