//! Which spans reach the OpenTelemetry layer: spans (never events) whose target is `fincore`,
//! except those opened inside a "leaf" span. A leaf span (one declaring the field
//! [`LEAF_FIELD`]) stands for all the work under it, so per-row work in an import is one
//! span, not thousands.

use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

/// Declare this field (any value) on a span to keep its children out of the export:
/// `info_span!(target: "fincore", "fincore.import.accounts", fincore.leaf = true, …)`.
pub(crate) const LEAF_FIELD: &str = "fincore.leaf";

pub(crate) fn is_fincore(target: &str) -> bool {
    target == "fincore" || target.starts_with("fincore::")
}

pub(crate) struct ExportedSpans;

impl<S> Filter<S> for ExportedSpans
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn enabled(&self, metadata: &Metadata<'_>, context: &Context<'_, S>) -> bool {
        if !metadata.is_span() || !is_fincore(metadata.target()) {
            return false;
        }
        // The nearest exported ancestor decides: under a leaf, nothing more is exported.
        match context.lookup_current() {
            Some(parent) => parent.metadata().fields().field(LEAF_FIELD).is_none(),
            None => true,
        }
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.is_span() && is_fincore(metadata.target()) {
            // Depends on the parent: ask per span.
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }
}
