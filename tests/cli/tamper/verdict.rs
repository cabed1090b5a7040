//! Running one case (copy, edit, verify) and judging what `ledger verify` and `audit verify`
//! said about it.

use super::build::{verify, Built};
use super::cases::{Case, Edit};
use super::copies::{Source, Workspace};
use super::database::{Database, EditError};
use crate::support::{Backend, Ledger, Run};
use serde_json::Value as Json;
use std::fmt;

/// Columns verify decided are not evidence (it neither checks nor trusts them), each with the
/// reason, as the README lists them. An undetected edit of one passes only when it is listed
/// here and `ledger verify` declares it too (its JSON `not_evidence`): the judge does not take
/// the defendant's word alone, nor excuse a column verify did not give up.
pub const NOT_EVIDENCE: &[(&str, &str, &str)] = &[(
    "accounts",
    "updated_at_us",
    "when the row was last written (every posting rewrites it); no amount, limit or decision reads it",
)];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 1 from a verify, and a finding names a row the case changed.
    Named,
    /// Exit 1, but no finding carries the `table`/`id` of a changed row.
    NotNamed,
    /// Both verifies exit 0.
    Undetected,
    /// Neither exits 1 and one fails otherwise (a crash, a storage error): not a detection.
    VerifyFailed(String),
    /// The database refused the edit (NOT NULL, CHECK, UNIQUE…): nothing to detect.
    Refused(String),
    /// A listed cache column (`NOT_EVIDENCE`) whose edit verify rightly ignores.
    NotEvidence(String),
    /// The built ledger had nothing to edit here: the build must grow.
    Uncovered(String),
}

impl Outcome {
    pub fn passes(&self) -> bool {
        matches!(
            self,
            Outcome::Named | Outcome::Refused(_) | Outcome::NotEvidence(_)
        )
    }

    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Named => "detected+named",
            Outcome::NotNamed => "detected, row not named",
            Outcome::Undetected => "UNDETECTED",
            Outcome::VerifyFailed(_) => "VERIFY FAILED",
            Outcome::Refused(_) => "refused by the database",
            Outcome::NotEvidence(_) => "not evidence (README)",
            Outcome::Uncovered(_) => "NOT COVERED",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Outcome::VerifyFailed(why) | Outcome::Refused(why) | Outcome::Uncovered(why) => {
                write!(formatter, "{}: {why}", self.label())
            }
            _ => formatter.write_str(self.label()),
        }
    }
}

/// What happened to one case.
pub struct Finding {
    pub outcome: Outcome,
    /// What the verifies said, in short: each finding's check, entity, table/id.
    pub said: String,
}

/// Copy the built ledger, apply the edit, run both verifies, judge, remove the copy.
pub fn run_case(
    case: &Case,
    index: usize,
    source: &Source,
    workspace: &Workspace,
    backend: Backend,
    built: &Built,
) -> Finding {
    let (sql, rows_changed) = match &case.edit {
        Edit::Uncovered(why) => {
            return Finding {
                outcome: Outcome::Uncovered(why.clone()),
                said: String::new(),
            }
        }
        Edit::Sql { sql, rows_changed } => (sql, *rows_changed),
    };
    let url = source.fresh(workspace, index);
    let mut database = Database::connect(backend, &url);
    let applied = database.execute(sql);
    database.close();
    let finding = match applied {
        Err(EditError::Refused(why)) => Finding {
            outcome: Outcome::Refused(why),
            said: String::new(),
        },
        Err(EditError::Broken(why)) => {
            panic!(
                "case {index} ({} {}): the suite's SQL is wrong: {why}\n{sql}",
                case.kind, case.target
            )
        }
        Ok(changed) => {
            if let Some(expected) = rows_changed {
                assert_eq!(changed, expected, "case {index}: rows changed by\n{sql}");
            }
            let ledger = Ledger {
                dir: tempfile::TempDir::new().expect("temp dir"),
                url: url.clone(),
                backend,
            };
            let anchor = case.anchored.then_some(built.anchor.as_path());
            judge(
                case,
                &verify(&ledger, "ledger", None),
                &verify(&ledger, "audit", anchor),
                &built.not_evidence,
            )
        }
    };
    source.finish(index);
    finding
}

fn judge(case: &Case, ledger: &Run, audit: &Run, declared: &[(String, String)]) -> Finding {
    let (named, mut said) = read_findings(ledger, "ledger");
    let (audit_named, audit_said) = read_findings(audit, "audit");
    said.extend(audit_said);
    let detected = ledger.code == 1 || audit.code == 1;
    let names_a_changed_row = named
        .iter()
        .chain(&audit_named)
        .any(|row| case.rows.contains(row));
    let outcome = if detected && names_a_changed_row {
        Outcome::Named
    } else if detected {
        Outcome::NotNamed
    } else if ledger.code != 0 || audit.code != 0 {
        Outcome::VerifyFailed(format!(
            "ledger verify exit {}, audit verify exit {}: {}{}",
            ledger.code,
            audit.code,
            first_line(&ledger.stderr),
            first_line(&audit.stderr)
        ))
    } else {
        not_evidence(case, declared).unwrap_or(Outcome::Undetected)
    };
    Finding {
        outcome,
        said: said.join("; "),
    }
}

fn not_evidence(case: &Case, declared: &[(String, String)]) -> Option<Outcome> {
    let column = case.column.as_deref()?;
    let by_verify = declared
        .iter()
        .any(|(table, listed)| *table == case.table && listed == column);
    NOT_EVIDENCE
        .iter()
        .find(|(table, listed, _)| *table == case.table && *listed == column)
        .filter(|_| by_verify)
        .map(|(_, _, reason)| Outcome::NotEvidence(reason.to_string()))
}

/// The columns `ledger verify`'s JSON declares not evidence (`not_evidence`: table, column).
pub fn declared_not_evidence(run: &Run) -> Vec<(String, String)> {
    let document: Json = serde_json::from_str(&run.stdout).unwrap_or_default();
    document["not_evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| Some((text_of(&entry["table"])?, text_of(&entry["column"])?)))
        .collect()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// The rows a verify's JSON names, as `(table, id)`, and each finding in short. Tolerant:
/// findings without `table`/`id` (today's `check`/`entity`/`detail`) name nothing;
/// `audit verify`'s `first_broken_seq` names that audit event.
fn read_findings(run: &Run, command: &str) -> (Vec<(String, String)>, Vec<String>) {
    let Ok(document) = serde_json::from_str::<Json>(&run.stdout) else {
        return (Vec::new(), Vec::new());
    };
    let mut named = Vec::new();
    let mut said = Vec::new();
    for list in ["discrepancies", "problems"] {
        for finding in document[list].as_array().into_iter().flatten() {
            let table = text_of(&finding["table"]);
            let id = text_of(&finding["id"]);
            if let (Some(table), Some(id)) = (&table, &id) {
                named.push((table.clone(), id.clone()));
            }
            said.push(format!(
                "{command}: {} {} [{}/{} seq {}]",
                text_of(&finding["check"]).unwrap_or_default(),
                text_of(&finding["entity"]).unwrap_or_default(),
                table.unwrap_or_else(|| "-".into()),
                id.unwrap_or_else(|| "-".into()),
                text_of(&finding["seq"]).unwrap_or_else(|| "-".into()),
            ));
        }
    }
    if let Some(seq) = document["first_broken_seq"].as_i64() {
        named.push(("audit_events".to_string(), seq.to_string()));
        said.push(format!("{command}: first_broken_seq {seq}"));
    }
    (named, said)
}

fn text_of(value: &Json) -> Option<String> {
    match value {
        Json::String(text) => Some(text.clone()),
        Json::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: i32, stdout: &str) -> Run {
        Run {
            code,
            stdout: stdout.to_string(),
            stderr: String::new(),
        }
    }

    #[test]
    fn findings_name_rows_by_table_and_id_or_first_broken_seq() {
        let ledger = run(
            1,
            r#"{"ok":false,"discrepancies":[
                {"check":"balance_matches_entries","entity":"ACCT0001","detail":"…"},
                {"check":"row_matches_event","entity":"transfer:39","detail":"…","table":"transfers","id":"39","seq":19},
                {"check":"x","entity":"e","detail":"…","table":"risk_runs","id":1,"seq":null}]}"#,
        );
        let (named, said) = read_findings(&ledger, "ledger");
        assert_eq!(
            named,
            [
                ("transfers".to_string(), "39".to_string()),
                ("risk_runs".to_string(), "1".to_string())
            ]
        );
        assert_eq!(said.len(), 3);
        let audit = run(1, r#"{"ok":false,"first_broken_seq":21}"#);
        assert_eq!(
            read_findings(&audit, "audit").0,
            [("audit_events".to_string(), "21".to_string())]
        );
        assert!(read_findings(&run(2, "not json"), "ledger").0.is_empty());
    }

    #[test]
    fn a_column_is_excused_only_when_listed_here_and_declared_by_verify() {
        let case = Case {
            kind: "cell edit".into(),
            table: "accounts".into(),
            target: "updated_at_us of A".into(),
            column: Some("updated_at_us".into()),
            anchored: false,
            change: "1 → 2".into(),
            edit: Edit::Uncovered(String::new()),
            rows: vec![("accounts".into(), "A".into())],
        };
        let declared = vec![("accounts".to_string(), "updated_at_us".to_string())];
        let quiet = run(0, "{}");
        assert!(matches!(
            judge(&case, &quiet, &quiet, &declared).outcome,
            Outcome::NotEvidence(_)
        ));
        assert_eq!(
            judge(&case, &quiet, &quiet, &[]).outcome,
            Outcome::Undetected
        );
        let verify = run(
            0,
            r#"{"ok":true,"not_evidence":[{"table":"accounts","column":"updated_at_us","reason":"…"}]}"#,
        );
        assert_eq!(declared_not_evidence(&verify), declared);
    }
}
