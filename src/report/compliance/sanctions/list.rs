//! Sanctions list: CSV `name,program,list_id[,aliases]` (aliases `;`-separated), optionally
//! with that header line, plus the blocking index the screener searches.

use super::normalize::{NameProfile, NormalizedName, TokenProfile};
use crate::error::{AppError, AppResult};
use crate::fast_map::FastMap;
use std::collections::HashMap;
use std::io::Read;

const HEADER: [&str; 3] = ["name", "program", "list_id"];
const FIELDS_MIN: usize = 3;
const FIELDS_MAX: usize = 4;
const ALIAS_SEPARATOR: char = ';';
/// A block holding more than this share of all listed names (1/10), and more than
/// `FREQUENT_BLOCK_NAMES_MIN`, is *frequent*: the key of a word so common in the list
/// ("al", "bin", "mohammed" in some lists) that every holder with it would meet a large
/// part of the list.
const FREQUENT_BLOCK_SHARE_DIVISOR: usize = 10;
const FREQUENT_BLOCK_NAMES_MIN: usize = 256;

/// One listed party as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanctionsEntry {
    pub name: String,
    pub program: String,
    pub list_id: String,
    pub aliases: Vec<String>,
}

/// A name the screener compares against: an entry's primary name or one of its aliases.
#[derive(Debug, Clone)]
pub(super) struct ListedName {
    pub(crate) entry: u32,
    /// Index into the entry's aliases; `None` for the primary name.
    pub(crate) alias: Option<u32>,
    pub(crate) normalized: NormalizedName,
}

/// A listed name's bound data; its tokens' profiles are
/// `token_profiles[first_token..first_token + token_count]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct ListedProfile {
    pub(crate) name: NameProfile,
    pub(crate) first_token: u32,
    pub(crate) token_count: u32,
}

/// A parsed list with its names normalised and indexed by blocking key.
#[derive(Debug, Clone)]
pub struct SanctionsList {
    entries: Vec<SanctionsEntry>,
    pub(super) names: Vec<ListedName>,
    /// Per name (same index as `names`), stored contiguously: the screener's inner loop
    /// reads only these, not the strings.
    pub(super) profiles: Vec<ListedProfile>,
    pub(super) token_profiles: Vec<TokenProfile>,
    /// Blocking key → indices into `names`.
    pub(super) blocks: FastMap<u64, Vec<u32>>,
    /// Blocks larger than this are frequent (see `blocks_to_search`).
    frequent_block_size: usize,
}

impl SanctionsList {
    /// Index `entries`; names and aliases with nothing left after normalisation are skipped
    /// (`parse_list` rejects them with a message instead).
    pub fn new(entries: Vec<SanctionsEntry>) -> SanctionsList {
        let mut names = Vec::new();
        for (entry_index, entry) in entries.iter().enumerate() {
            let entry_index = u32::try_from(entry_index).expect("fewer than 4 billion entries");
            let spellings = std::iter::once((None, &entry.name)).chain(
                entry
                    .aliases
                    .iter()
                    .enumerate()
                    .map(|(alias, name)| (Some(alias as u32), name)),
            );
            for (alias, spelling) in spellings {
                let normalized = NormalizedName::new(spelling);
                if !normalized.is_empty() {
                    names.push(ListedName {
                        entry: entry_index,
                        alias,
                        normalized,
                    });
                }
            }
        }
        let mut profiles = Vec::with_capacity(names.len());
        let mut token_profiles = Vec::new();
        for name in &names {
            profiles.push(ListedProfile {
                name: name.normalized.profile(),
                first_token: token_profiles.len() as u32,
                token_count: name.normalized.tokens.len() as u32,
            });
            token_profiles.extend(name.normalized.token_profiles());
        }
        let mut blocks: FastMap<u64, Vec<u32>> = FastMap::default();
        for (name_index, name) in names.iter().enumerate() {
            for key in name.normalized.blocking_keys() {
                blocks.entry(key).or_default().push(name_index as u32);
            }
        }
        let frequent_block_size =
            FREQUENT_BLOCK_NAMES_MIN.max(names.len() / FREQUENT_BLOCK_SHARE_DIVISOR);
        SanctionsList {
            entries,
            names,
            profiles,
            token_profiles,
            blocks,
            frequent_block_size,
        }
    }

    /// The blocks a holder's name is compared within: those of its keys that are not
    /// frequent, or every block of its keys when all are frequent. In a list where a tenth
    /// of the names contain "Mohammed", a holder "Mohammed Smyth" meets the "s530" block
    /// (where "Mohammed Smith" is) without meeting every listed Mohammed; a holder whose
    /// name is only common words still meets them all. The price: a listed name sharing only
    /// a frequent token with the holder, while the holder's rarer token is misspelt into
    /// another Soundex code, is not compared.
    pub(super) fn blocks_to_search(&self, name: &NormalizedName) -> Vec<&[u32]> {
        let blocks: Vec<&[u32]> = name
            .blocking_keys()
            .iter()
            .filter_map(|key| self.blocks.get(key).map(Vec::as_slice))
            .collect();
        let selective: Vec<&[u32]> = blocks
            .iter()
            .copied()
            .filter(|block| block.len() <= self.frequent_block_size)
            .collect();
        if selective.is_empty() {
            blocks
        } else {
            selective
        }
    }

    /// Token profiles of one listed name.
    pub(super) fn tokens_of(&self, profile: &ListedProfile) -> &[TokenProfile] {
        let first = profile.first_token as usize;
        &self.token_profiles[first..first + profile.token_count as usize]
    }

    pub fn entries(&self) -> &[SanctionsEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Names screened against: primary names plus aliases.
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// Distinct blocking keys in the index.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }
}

/// Parse a sanctions list. Every problem is `invalid_input` naming the line and the field:
/// wrong field count, an empty name/program/list_id, a name or alias without any letter or
/// digit, a list_id used twice, invalid UTF-8, or a list without entries.
pub fn parse_list<R: Read>(reader: R) -> AppResult<SanctionsList> {
    let mut csv_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(crate::csv_input::Checked::new(reader, b','));
    let mut entries = Vec::new();
    let mut first_line_by_list_id: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut is_first_record = true;
    loop {
        let has_record = csv_reader.read_record(&mut record).map_err(csv_error)?;
        if !has_record {
            break;
        }
        let line = record.position().map_or(0, |position| position.line());
        if std::mem::take(&mut is_first_record) && is_header(&record) {
            continue;
        }
        let entry = parse_entry(&record, line)?;
        if let Some(first_line) = first_line_by_list_id.insert(entry.list_id.clone(), line) {
            return Err(invalid(
                line,
                "list_id",
                format!("'{}' is already used on line {first_line}", entry.list_id),
            ));
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err(AppError::invalid_input("sanctions list has no entries"));
    }
    Ok(SanctionsList::new(entries))
}

fn is_header(record: &csv::StringRecord) -> bool {
    record
        .iter()
        .zip(HEADER)
        .filter(|(field, expected)| field.eq_ignore_ascii_case(expected))
        .count()
        == HEADER.len()
}

fn parse_entry(record: &csv::StringRecord, line: u64) -> AppResult<SanctionsEntry> {
    if !(FIELDS_MIN..=FIELDS_MAX).contains(&record.len()) {
        return Err(AppError::invalid_input(format!(
            "sanctions list line {line}: expected {FIELDS_MIN} or {FIELDS_MAX} fields (name,program,list_id[,aliases]), found {}",
            record.len()
        )));
    }
    let name = required(record, 0, "name", line)?;
    require_letters(&name, "name", line)?;
    let program = required(record, 1, "program", line)?;
    let list_id = required(record, 2, "list_id", line)?;
    let mut aliases = Vec::new();
    for alias in record.get(3).unwrap_or("").split(ALIAS_SEPARATOR) {
        let alias = alias.trim();
        if !alias.is_empty() {
            require_letters(alias, "aliases", line)?;
            aliases.push(alias.to_string());
        }
    }
    Ok(SanctionsEntry {
        name,
        program,
        list_id,
        aliases,
    })
}

fn required(
    record: &csv::StringRecord,
    position: usize,
    field: &str,
    line: u64,
) -> AppResult<String> {
    match record.get(position) {
        Some(value) if !value.is_empty() => Ok(value.to_string()),
        _ => Err(invalid(line, field, "is empty".to_string())),
    }
}

fn require_letters(name: &str, field: &str, line: u64) -> AppResult<()> {
    if NormalizedName::new(name).is_empty() {
        return Err(invalid(
            line,
            field,
            format!("'{name}' has no letters or digits"),
        ));
    }
    Ok(())
}

fn invalid(line: u64, field: &str, problem: String) -> AppError {
    AppError::invalid_input(format!(
        "sanctions list line {line}, field {field}: {problem}"
    ))
}

fn csv_error(error: csv::Error) -> AppError {
    if let Some(quoting) = crate::csv_input::quoting_error(&error) {
        return AppError::invalid_input(format!("sanctions list {}", quoting.message));
    }
    let line = error.position().map_or(0, |position| position.line());
    let problem = match error.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let field = HEADER.get(err.field()).copied().unwrap_or("aliases");
            return invalid(line, field, "is not valid UTF-8".to_string());
        }
        _ => error.to_string(),
    };
    AppError::invalid_input(format!("sanctions list line {line}: {problem}"))
}
