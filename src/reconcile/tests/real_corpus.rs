//! The real-file corpus: MT940/MT942/MT950 files from the test suites of other statement
//! parsers (`statements/real/mt940/<project>/`, see `MANIFEST-mt940.md`), read through
//! `read_statement` with format detection, as `reconcile run` reads them.
//!
//! Every complete file must be read, with the line count and signed amounts that the source
//! project's own parser gives (its `EXPECTED.tsv` row) or, where the project ships no
//! expectation, balancing message by message (opening + lines = closing, which
//! `read_statement` checks). Every file in `KNOWN_BROKEN` must be refused as `invalid_input`
//! naming a line and a field. The test prints the pass rate per project and fails below
//! `PASS_RATE_MIN`.
//!
//! The corpus is third-party data and is not kept in this repository: as for the camt half
//! (`corpus.rs`), it is found at `$FINCORE_STATEMENT_CORPUS`, else `fixtures/statements/real`,
//! else `../shared/statements/real` beside the checkout. Without one the test says so and
//! passes, unless `FINCORE_REQUIRE_CORPUS=1`.

use super::super::statement::mt940;
use super::super::{read_statement, CsvOptions, InputFormat, LineDetails, Statement};
use crate::error::{AppResult, ErrorCode};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Share of the complete files that must be read right.
const PASS_RATE_MIN: f64 = 0.97;

/// Why a corpus file is not a complete statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    /// Opening balance + lines differs from the closing balance. Most are anonymised test
    /// fixtures whose amounts were edited; the lines are still read, and compared with the
    /// source project's where it has them.
    Unbalanced,
    /// A few fields without the `:20:` that starts a message (a unit test's snippet).
    Fragment,
    /// A message without its `:60F:` or `:62F:` balance: cut off.
    CutOff,
    /// Not a statement at all (numbered lines).
    NotMt940,
    /// Zero bytes.
    Empty,
    /// A field's text under the wrong tag (`:25:` holding what belongs in `:86:`).
    Malformed,
}

impl Broken {
    /// What the refusal must say.
    fn message(self) -> &'static str {
        match self {
            Broken::Unbalanced => "does not balance",
            Broken::Fragment => "before the :20:",
            Broken::CutOff => "missing :6",
            Broken::NotMt940 => "header line",
            Broken::Empty => "empty",
            Broken::Malformed => "outside any :TAG: field",
        }
    }
}

use Broken::{CutOff, Empty, Fragment, Malformed, NotMt940, Unbalanced};

/// Files that are not complete statements, and why. Each must be refused as `invalid_input`
/// naming the line and the field (or, for an empty file, saying so). Paths are relative to the
/// corpus's `mt940/` folder.
const KNOWN_BROKEN: &[(&str, Broken)] = &[
    ("betterplace/amount_formats.txt", Fragment),
    ("betterplace/colon_in_descriptor.txt", Fragment),
    ("betterplace/currency_in_25.txt", Fragment),
    ("betterplace/empty_86.txt", Fragment),
    ("betterplace/empty_entry_date.txt", Fragment),
    ("betterplace/empty_line.txt", CutOff),
    ("betterplace/missing_crlf_at_end.txt", Fragment),
    ("betterplace/sepa_snippet.txt", Unbalanced),
    ("betterplace/sepa_snippet_broken.txt", Malformed),
    ("dovadi/abnamro.txt", Unbalanced),
    ("dovadi/ing.txt", Unbalanced),
    ("dovadi/ing_sepa.txt", Unbalanced),
    ("dovadi/rabobank.txt", Unbalanced),
    ("dovadi/rabobank_sepa.txt", Unbalanced),
    ("dovadi/triodos.txt", Unbalanced),
    ("dovadi/unknown.txt", Unbalanced),
    ("fruitl00p/Abn/sample2", Unbalanced),
    ("fruitl00p/Hsbc/sample", Unbalanced),
    ("fruitl00p/Ing/sample", Unbalanced),
    ("fruitl00p/Knab/sample", Unbalanced),
    ("fruitl00p/Knab/sample3", Unbalanced),
    ("fruitl00p/Rabo/sample", Unbalanced),
    // Its first message does not balance, and the file ends inside its second.
    ("fruitl00p/Rabo/sample2", Unbalanced),
    ("fruitl00p/Rabo/sample3", Unbalanced),
    ("fruitl00p/Rabo/sample4", Unbalanced),
    ("jejik/K4262927_20200905-080000-952.txt", CutOff),
    ("jejik/abnamro.txt", Unbalanced),
    ("jejik/bug-core-5401.txt", Unbalanced),
    ("jejik/commerzbank.txt", Unbalanced),
    ("jejik/deutschebank.txt", Unbalanced),
    ("jejik/ing-dos.txt", Unbalanced),
    ("jejik/ing-unix.txt", Unbalanced),
    ("jejik/knab.txt", Unbalanced),
    ("jejik/oldenburgischelandesbank.txt", Unbalanced),
    ("jejik/oldenburgischelandesbank2.txt", CutOff),
    (
        "jejik/oldenburgischelandesbankmitbindestrich.txt",
        Unbalanced,
    ),
    ("jejik/postfinance.txt", Unbalanced),
    ("jejik/rabobank.txt", Unbalanced),
    ("jejik/sparkasse2.txt", Unbalanced),
    ("jejik/sparkasse3.txt", Unbalanced),
    ("jejik/triodos.txt", Unbalanced),
    ("mt940-js/abn-amro-1.STA", Unbalanced),
    ("mt940-rs/mt940/full/abnamro/mt940.sta", Unbalanced),
    (
        "mt940-rs/mt940/full/betterplace/sepa_snippet.sta",
        Unbalanced,
    ),
    (
        "mt940-rs/mt940/full/betterplace/sepa_snippet_broken.sta",
        Malformed,
    ),
    ("mt940-rs/mt940/full/bugs/issue-51.sta", Unbalanced),
    ("mt940-rs/mt940/full/jejik/abnamro.sta", Unbalanced),
    ("mt940-rs/mt940/full/jejik/ing.sta", Unbalanced),
    ("mt940-rs/mt940/full/jejik/knab.sta", Unbalanced),
    ("mt940-rs/mt940/full/jejik/knab_broken.sta", Unbalanced),
    ("mt940-rs/mt940/full/jejik/postfinance.sta", Unbalanced),
    (
        "mt940-rs/mt940/full/mBank/with_newline_in_tnr.sta",
        Unbalanced,
    ),
    ("mt940-rs/mt940/full/sparkasse/buxtehude.sta", Unbalanced),
    (
        "mt940-rs/mt940/special-cases/incomplete_tag_61.sta",
        Unbalanced,
    ),
    (
        "mt940-rs/mt940/special-cases/invalid_statement.sta",
        NotMt940,
    ),
    ("mt940-rs/mt940/special-cases/invalid_utf8.sta", Unbalanced),
    (
        "mt940-rs/mt940/special-cases/overly_long_details.sta",
        Unbalanced,
    ),
    ("mt940-rs/mt942/full/cmxl/mt942_1.sta", Empty),
    ("mt940-rs/mt942/full/jejik/rabobank.sta", Unbalanced),
    ("mt940-rs/mt942/full/jejik/triodos.sta", Unbalanced),
    ("sharpmt940/StandardBank_few_transactions.txt", Unbalanced),
    (
        "sharpmt940/StandardBank_few_transactions_GB.txt",
        Unbalanced,
    ),
    ("sharpmt940/sns_transactions.txt", Unbalanced),
    ("wolph/betterplace/amount_formats.sta", Fragment),
    ("wolph/betterplace/currency_in_25.sta", Fragment),
    ("wolph/betterplace/empty_86.sta", Fragment),
    ("wolph/betterplace/empty_entry_date.sta", Fragment),
    ("wolph/betterplace/empty_line.sta", CutOff),
    ("wolph/betterplace/missing_crlf_at_end.sta", Fragment),
    ("wolph/betterplace/sepa_snippet.sta", Unbalanced),
    ("wolph/betterplace/sepa_snippet_broken.sta", Malformed),
    ("wolph/cmxl/account_balance_credit.sta", Fragment),
    ("wolph/cmxl/account_balance_debit.sta", Fragment),
    ("wolph/cmxl/account_identification_iban.sta", Fragment),
    ("wolph/cmxl/account_identification_legacy.sta", Fragment),
    ("wolph/cmxl/available_balance.sta", Fragment),
    ("wolph/cmxl/closing_balance.sta", Fragment),
    ("wolph/cmxl/reference.sta", CutOff),
    ("wolph/cmxl/statement_details.sta", Fragment),
    ("wolph/cmxl/statement_line.sta", Fragment),
    ("wolph/cmxl/statement_number.sta", Fragment),
    ("wolph/jejik/abnamro.sta", Unbalanced),
    ("wolph/jejik/ing.sta", Unbalanced),
    ("wolph/jejik/knab.sta", Unbalanced),
    ("wolph/jejik/postfinance.sta", Unbalanced),
    ("wolph/jejik/rabobank.sta", Unbalanced),
    ("wolph/jejik/triodos.sta", Unbalanced),
    ("wolph/mBank/with_newline_in_tnr.sta", Unbalanced),
    ("wolph/self-provided/details_60-63.sta", Unbalanced),
    ("wolph/self-provided/empty_non_swift.sta", Fragment),
    ("wolph/self-provided/gv_codes.sta", CutOff),
    ("wolph/self-provided/invalid_statement.sta", NotMt940),
    ("wolph/self-provided/malformed_details.sta", Unbalanced),
    ("wolph/self-provided/overly_long_details.sta", Unbalanced),
    ("wolph/self-provided/raiffeisen-cmi.sta", Unbalanced),
    ("wolph/self-provided/sparkassen.sta", Fragment),
    ("wolph/self-provided/whitespace.sta", Unbalanced),
    ("zilverline/14aug2014.swi", Unbalanced),
    ("zilverline/abn/abn_sepa_incasso_doorlopend.txt", Unbalanced),
    ("zilverline/abn/abn_sepa_overboeking.txt", Unbalanced),
    (
        "zilverline/abn/abn_sepa_periodieke_overboeking.txt",
        Unbalanced,
    ),
    (
        "zilverline/abn/abn_structured_sepa_acceptgiro.txt",
        Unbalanced,
    ),
    ("zilverline/abn/abn_structured_sepa_ideal.txt", Unbalanced),
    (
        "zilverline/abn/abn_structured_sepa_overboeking.txt",
        Unbalanced,
    ),
    ("zilverline/abn/abnamro.txt", Unbalanced),
    ("zilverline/abn/abnamro_structured.txt", Unbalanced),
    (
        "zilverline/abn/anb_sepa_overboeking_belastingdienst.txt",
        Unbalanced,
    ),
    ("zilverline/deutsche_bank.txt", Unbalanced),
    ("zilverline/import-16-06-2014.txt", Unbalanced),
    (
        "zilverline/ing/eu_incasso_foreign_transaction.txt",
        Unbalanced,
    ),
    ("zilverline/ing.txt", Unbalanced),
    ("zilverline/ing_structured.txt", Unbalanced),
    ("zilverline/knab/knab_invalid.txt", CutOff),
    ("zilverline/knab/knab_pin.txt", Unbalanced),
    (
        "zilverline/rabobank_mt940_structured_multi_line.txt",
        Unbalanced,
    ),
    ("zilverline/triodos.txt", Unbalanced),
    ("zilverline/triodos_multiline_bug.txt", Unbalanced),
    ("zilverline/unknown.txt", Unbalanced),
];

fn statement_files(folder: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_uppercase();
        if path.is_dir() {
            statement_files(&path, found);
        } else if !(name.contains("LICEN")
            || name.ends_with(".YML")
            || name.ends_with(".JSON")
            || name.ends_with(".MD")
            || name.ends_with(".TSV"))
        {
            found.push(path);
        }
    }
}

struct Expected {
    source: String,
    amounts: Vec<Decimal>,
}

fn expectations(folder: &Path) -> HashMap<String, Expected> {
    let Ok(text) = std::fs::read_to_string(folder.join("EXPECTED.tsv")) else {
        return HashMap::new();
    };
    text.lines()
        .filter(|row| !row.starts_with('#') && !row.trim().is_empty())
        .map(|row| {
            let columns: Vec<&str> = row.split('\t').collect();
            let amounts: Vec<Decimal> = columns
                .get(3)
                .unwrap_or(&"")
                .split_whitespace()
                .map(|amount| amount.parse().unwrap())
                .collect();
            assert_eq!(amounts.len(), columns[2].parse::<usize>().unwrap(), "{row}");
            let expected = Expected {
                source: columns[1].to_string(),
                amounts,
            };
            (columns[0].to_string(), expected)
        })
        .collect()
}

/// What went wrong with one file, or `None` when it was read (or refused) as it should be.
fn check_file(path: &Path, expected: Option<&Expected>, broken: Option<Broken>) -> Option<String> {
    let read = read_statement(path, InputFormat::Auto, &CsvOptions::default(), &mut |_| {});
    if let Some(reason) = broken {
        return check_broken(path, read, expected, reason);
    }
    let statement = match read {
        Ok(statement) => statement,
        Err(error) => return Some(format!("refused: {}", error.message)),
    };
    compare(path, &statement, expected?)
}

/// A broken file must be refused for its reason, naming the line and the field. An unbalanced
/// file's lines are still compared with the source project's: only the balance is wrong.
fn check_broken(
    path: &Path,
    read: AppResult<Statement>,
    expected: Option<&Expected>,
    reason: Broken,
) -> Option<String> {
    let error = match read {
        Ok(statement) => {
            return Some(format!(
                "read {} lines, but it is broken ({reason:?})",
                statement.lines.len()
            ))
        }
        Err(error) => error,
    };
    let names_line = reason == Empty || error.message.contains("line");
    let names_field = reason == Empty || error.message.contains(':');
    if error.code != ErrorCode::InvalidInput
        || !names_line
        || !names_field
        || !error.message.contains(reason.message())
    {
        return Some(format!(
            "refused, but not as {reason:?} naming line and field: {:?} {}",
            error.code, error.message
        ));
    }
    if reason != Unbalanced {
        return None;
    }
    let file = std::fs::File::open(path).unwrap();
    let expected = expected?;
    let statement = match mt940::read_unbalanced(file, LineDetails::Keep) {
        Ok(statement) => statement,
        Err(error) => return Some(format!("lines not read: {}", error.message)),
    };
    compare(path, &statement, expected)
}

/// The lines read against the source project's: count and signed amounts. A reversal
/// (`RC`, `RD`) is money out and in respectively; the projects that give expectations read its
/// sign from the second letter, so on a reversal line only the magnitude is compared (the file's
/// own balances, checked by `read_statement`, confirm the sign).
fn compare(path: &Path, statement: &Statement, expected: &Expected) -> Option<String> {
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    let physical: Vec<&str> = text.split('\n').collect();
    let is_reversal = |source_line: u64| {
        let line = physical.get(source_line as usize - 1).unwrap_or(&"");
        let mark = line.trim_start().get(4..).unwrap_or_default();
        let digits = mark.bytes().take_while(u8::is_ascii_digit).count();
        mark.get(digits..)
            .is_some_and(|rest| rest.starts_with("RC") || rest.starts_with("RD"))
    };
    let amounts: Vec<Decimal> = signed_amounts(statement)
        .into_iter()
        .zip(&statement.lines)
        .zip(
            expected
                .amounts
                .iter()
                .map(Some)
                .chain(std::iter::repeat(None)),
        )
        .map(|((amount, line), theirs)| match theirs {
            Some(theirs) if is_reversal(line.source_line) && *theirs == -amount => *theirs,
            _ => amount,
        })
        .collect();
    if amounts != expected.amounts {
        return Some(format!(
            "{} lines {:?}, but {} reads {} lines {:?}",
            amounts.len(),
            first_difference(&amounts, &expected.amounts),
            expected.source,
            expected.amounts.len(),
            first_difference(&expected.amounts, &amounts),
        ));
    }
    None
}

fn signed_amounts(statement: &Statement) -> Vec<Decimal> {
    statement
        .lines
        .iter()
        .map(|line| Decimal::new(line.amount_minor, line.currency.minor_units()))
        .collect()
}

fn first_difference(left: &[Decimal], right: &[Decimal]) -> Option<(usize, Decimal)> {
    left.iter()
        .zip(right.iter().map(Some).chain(std::iter::repeat(None)))
        .enumerate()
        .find(|(_, (left, right))| Some(*left) != *right)
        .map(|(index, (left, _))| (index, *left))
}

#[test]
fn real_mt940_corpus_is_read_as_its_own_parsers_read_it() {
    let Some(root) = super::corpus_folder("mt940") else {
        assert!(
            std::env::var("FINCORE_REQUIRE_CORPUS").as_deref() != Ok("1"),
            "no MT940 corpus found (FINCORE_STATEMENT_CORPUS, fixtures/statements/real, ../shared/statements/real)"
        );
        eprintln!("MT940 corpus: not found; skipped (set FINCORE_STATEMENT_CORPUS)");
        return;
    };
    let folder = root.join("mt940");
    let expected = expectations(&folder);
    let broken: HashMap<&str, Broken> = KNOWN_BROKEN.iter().copied().collect();
    let mut files = Vec::new();
    statement_files(&folder, &mut files);
    // project -> (complete, passed, broken, broken refused right)
    let mut tally: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut seen_broken = 0;
    for path in &files {
        let relative = path
            .strip_prefix(&folder)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let project = relative.split('/').next().unwrap().to_string();
        let reason = broken.get(relative.as_str()).copied();
        seen_broken += usize::from(reason.is_some());
        let problem = check_file(path, expected.get(&relative), reason);
        let counts = tally.entry(project).or_default();
        let offset = if reason.is_some() { 2 } else { 0 };
        counts[offset] += 1;
        counts[offset + 1] += usize::from(problem.is_none());
        if let Some(problem) = problem {
            failures.push(format!("{relative}: {problem}"));
        }
    }
    assert_eq!(
        seen_broken,
        KNOWN_BROKEN.len(),
        "a KNOWN_BROKEN file is missing"
    );
    let (mut complete, mut passed) = (0, 0);
    eprintln!("MT940 corpus {}:", folder.display());
    for (project, [files, read, broken, refused]) in &tally {
        complete += files;
        passed += read;
        eprintln!(
            "  {project:<12} {read:>3}/{files:<3} complete files read ({:.1}%), {refused}/{broken} broken files refused",
            100.0 * *read as f64 / (*files).max(1) as f64
        );
    }
    let rate = passed as f64 / complete.max(1) as f64;
    eprintln!(
        "  overall      {passed}/{complete} complete files read ({:.1}%)",
        100.0 * rate
    );
    for failure in &failures {
        eprintln!("  FAILED {failure}");
    }
    let broken_wrong = tally
        .values()
        .map(|counts| counts[2] - counts[3])
        .sum::<usize>();
    assert_eq!(
        broken_wrong, 0,
        "broken files must be refused: {failures:#?}"
    );
    assert!(
        rate >= PASS_RATE_MIN,
        "{:.1}% of the complete MT940 files read, below {:.0}%",
        100.0 * rate,
        100.0 * PASS_RATE_MIN
    );
}
