use super::View;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use std::io::Write;

pub(crate) fn render(view: &View, out: &mut dyn Write) -> std::io::Result<()> {
    for (index, section) in view.sections.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        if let Some(title) = &section.title {
            writeln!(out, "{title}")?;
        }
        let mut table = Table::new();
        table
            .load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(&section.headers);
        if std::env::var_os("NO_COLOR").is_some() {
            table.force_no_tty();
        }
        for row in &section.rows {
            table.add_row(row);
        }
        writeln!(out, "{table}")?;
    }
    for note in &view.notes {
        writeln!(out, "{note}")?;
    }
    Ok(())
}
