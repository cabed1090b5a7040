use std::io::Write;

/// Exactly one JSON document, pretty-printed, newline-terminated.
pub(crate) fn render(document: &serde_json::Value, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, document)?;
    writeln!(out)
}
