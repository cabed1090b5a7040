use super::Section;
use std::io::Write;

/// Header + rows per section; several sections are separated by one empty line.
pub(crate) fn render(sections: &[Section], out: &mut dyn Write) -> std::io::Result<()> {
    for (index, section) in sections.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        let mut writer = csv::Writer::from_writer(&mut *out);
        writer.write_record(&section.headers)?;
        for row in &section.rows {
            writer.write_record(row)?;
        }
        writer.flush()?;
    }
    Ok(())
}
