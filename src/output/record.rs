//! One record, one view type: the type derives `Serialize`, which gives its JSON object, and
//! declares its table and CSV columns, whose cells are read from the same serialised fields.
//! A column whose table text differs from its JSON value (a status with its error code, a sum
//! of a nested object) says so in the column list, next to the others.

use super::{Section, Shape};
use serde::Serialize;
use serde_json::Value;

/// A record printed as one JSON object and as one row of a table or CSV.
///
/// Implementors own their data (`'static`): the column list is a constant of the type.
pub(crate) trait Record: Serialize + Sized + 'static {
    /// The table and CSV columns, in order.
    const COLUMNS: &'static [Column<Self>];
}

/// One table/CSV column of a record type `R`.
pub(crate) struct Column<R> {
    /// The header in tables and CSV.
    pub(crate) header: &'static str,
    pub(crate) cell: Cell<R>,
    /// Shown on a screen only with `--wide` (CSV and piped tables always have it).
    pub(crate) wide: bool,
}

/// Where a column's cells come from.
pub(crate) enum Cell<R> {
    /// The serialised field at this path, nested objects joined by `.` (`risk.score`).
    /// Strings print as they are, numbers and booleans as JSON writes them, null as empty.
    Field(&'static str),
    /// Text computed from the record, for a column whose table form is not its JSON value.
    Text(fn(&R) -> String),
    /// Text the record may not have (a run without balances): an empty cell in a table, no
    /// row at all in a field/value grid.
    OptionalText(fn(&R) -> Option<String>),
}

impl<R> Column<R> {
    /// A column named after the serialised field it shows.
    pub(crate) const fn field(name: &'static str) -> Column<R> {
        Column {
            header: name,
            cell: Cell::Field(name),
            wide: false,
        }
    }

    /// A column showing the serialised field at `path` under another header.
    pub(crate) const fn field_at(header: &'static str, path: &'static str) -> Column<R> {
        Column {
            header,
            cell: Cell::Field(path),
            wide: false,
        }
    }

    /// A column whose table text is computed from the record.
    pub(crate) const fn text(header: &'static str, text: fn(&R) -> String) -> Column<R> {
        Column {
            header,
            cell: Cell::Text(text),
            wide: false,
        }
    }

    /// A column whose text the record may not have (see `Cell::OptionalText`).
    pub(crate) const fn optional_text(
        header: &'static str,
        text: fn(&R) -> Option<String>,
    ) -> Column<R> {
        Column {
            header,
            cell: Cell::OptionalText(text),
            wide: false,
        }
    }

    /// Marks a column a screen shows only with `--wide`: detail a list rarely needs (times
    /// of change, trace ids, digests) that would squeeze the columns it answers with.
    pub(crate) const fn wide(mut self) -> Column<R> {
        self.wide = true;
        self
    }
}

/// The JSON document of a view type. Keys come out sorted (serde_json's map without
/// `preserve_order`), whatever order the fields are declared in.
pub(crate) fn to_json(document: &impl Serialize) -> Value {
    serde_json::to_value(document).expect("view types serialise to JSON")
}

/// One row of cells, in `R::COLUMNS` order; `None` where the record has no such text.
fn cells<R: Record>(record: &R) -> Vec<Option<String>> {
    let fields = to_json(record);
    R::COLUMNS
        .iter()
        .map(|column| match &column.cell {
            Cell::Field(path) => Some(field_text(&fields, path)),
            Cell::Text(text) => Some(text(record)),
            Cell::OptionalText(text) => text(record),
        })
        .collect()
}

fn field_text(fields: &Value, path: &str) -> String {
    let value = path
        .split('.')
        .try_fold(fields, |value, name| value.get(name));
    debug_assert!(
        value.is_some(),
        "a column names a field the record has: {path}"
    );
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

impl Section {
    /// A table of records, one row each, with `R::COLUMNS` as headers.
    pub(crate) fn of_records<R: Record>(records: &[R]) -> Section {
        let mut section = Section::new(
            &R::COLUMNS
                .iter()
                .map(|column| column.header)
                .collect::<Vec<_>>(),
        );
        section.wide_only = R::COLUMNS.iter().map(|column| column.wide).collect();
        section.rows = records
            .iter()
            .map(|record| {
                cells(record)
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect()
            })
            .collect();
        section
    }

    /// One record as a one-row table under `R::COLUMNS` (CSV, pipes); a screen shows it
    /// as `header: value` lines, every column included.
    pub(crate) fn of_record<R: Record>(record: &R) -> Section {
        let mut section = Section::of_records(std::slice::from_ref(record));
        section.shape = Shape::Record;
        section
    }

    /// One record as a two-column field/value grid, its columns as rows (a column without
    /// text for this record is left out).
    pub(crate) fn of_fields<R: Record>(record: &R) -> Section {
        let mut section = Section::new(&["field", "value"]);
        section.shape = Shape::Fields;
        for (column, value) in R::COLUMNS.iter().zip(cells(record)) {
            if let Some(value) = value {
                section.push(vec![column.header.to_string(), value]);
            }
        }
        section
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Sample {
        id: i64,
        name: Option<String>,
        #[serde(rename = "type")]
        sample_type: String,
        nested: Nested,
        #[serde(skip)]
        hidden: String,
    }

    #[derive(Serialize)]
    struct Nested {
        score: u32,
        flag: bool,
    }

    impl Record for Sample {
        const COLUMNS: &'static [Column<Sample>] = &[
            Column::field("id"),
            Column::field("name"),
            Column::field("type"),
            Column::field_at("score", "nested.score"),
            Column::field_at("flag", "nested.flag"),
            Column::text("hidden", |sample| format!("<{}>", sample.hidden)),
            Column::optional_text("greeting", |sample| {
                sample.name.as_ref().map(|name| format!("hello {name}"))
            }),
        ];
    }

    fn sample(name: Option<&str>) -> Sample {
        Sample {
            id: -7,
            name: name.map(str::to_string),
            sample_type: "checking".to_string(),
            nested: Nested {
                score: 42,
                flag: true,
            },
            hidden: "table only".to_string(),
        }
    }

    #[test]
    fn json_and_cells_come_from_the_same_fields() {
        let records = [sample(Some("Ann")), sample(None)];
        let section = Section::of_records(&records);
        assert_eq!(
            section.headers,
            ["id", "name", "type", "score", "flag", "hidden", "greeting"]
        );
        assert_eq!(
            section.rows,
            [
                [
                    "-7",
                    "Ann",
                    "checking",
                    "42",
                    "true",
                    "<table only>",
                    "hello Ann"
                ],
                ["-7", "", "checking", "42", "true", "<table only>", ""],
            ]
        );
        assert_eq!(
            to_json(&records[1]).to_string(),
            r#"{"id":-7,"name":null,"nested":{"flag":true,"score":42},"type":"checking"}"#
        );
    }

    #[test]
    fn one_record_as_a_field_value_grid() {
        let section = Section::of_fields(&sample(Some("Ann")));
        assert_eq!(section.headers, ["field", "value"]);
        assert_eq!(section.rows[0], ["id", "-7"]);
        assert_eq!(section.rows[5], ["hidden", "<table only>"]);
        assert_eq!(section.rows[6], ["greeting", "hello Ann"]);
        let without_name = Section::of_fields(&sample(None));
        assert_eq!(without_name.rows.len(), 6, "no greeting row without a name");
    }
}
