//! Screening holder names against a sanctions list.
//!
//! Similarity is defined in `similarity`.
//!
//! Scores are rounded to three decimals (per mille) before they are compared with the
//! minimum, so the printed score and the decision always agree.
//!
//! Scale: a holder is compared only with listed names sharing a blocking key (the Soundex
//! code of a token, see `normalize`), so a misspelt token usually still meets its original,
//! and a name with several tokens still meets when one token's first letter is wrong. Keys
//! shared by more than a tenth of the list are skipped when the holder has rarer ones (see
//! `SanctionsList::blocks_to_search`). Within the blocks, bounds computed from character
//! counts alone (Jaro cannot exceed what two strings have in common) discard hopeless
//! pairs, token by token, before any Jaro-Winkler is computed; the strings are compared
//! only for the few pairs that could reach the minimum. Holders are spread over the cores.
//! Measured on generated data, blocking keeps 24 of the 25 pairs that comparing every pair
//! finds (`benchmarks::bench_screening_recall_against_every_pair`).

use super::list::{ListedName, SanctionsList};
use super::normalize::{common_characters, NameProfile, NormalizedName, TokenProfile};
use super::similarity::{
    exact_token_set_score, jaro, jaro_may_reach, jaro_needed_for, jaro_upper_bound, may_cover,
    token_jaro_winkler_upper_bound, token_set_score, TokenScratch, BOUND_SLACK, TOKEN_MATCH_MIN,
};
use crate::error::{AppError, AppResult};
use rayon::prelude::*;
use serde::Serialize;

/// SPEC default `--min-score`.
pub const DEFAULT_MIN_SCORE: f64 = 0.90;
const PER_MILLE: f64 = 1000.0;
/// Decimals printed (and compared) for a score.
const SCORE_DECIMALS: usize = 3;
/// Below this many holders a task is not worth splitting off.
pub(crate) const HOLDERS_PER_TASK_MIN: usize = 512;

/// A holder whose name scores at least the minimum against a list entry (best of the
/// entry's primary name and aliases; one hit per holder and entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SanctionsHit {
    pub holder: String,
    /// Similarity with three decimals, e.g. `"0.957"`.
    pub score: String,
    #[serde(skip)]
    pub score_per_mille: u16,
    pub list_id: String,
    pub program: String,
    pub listed_name: String,
    /// The alias that matched best, when it beat the primary name.
    pub matched_alias: Option<String>,
    /// The holder's customer accounts, sorted (masked in reports unless `--unmask`): what an
    /// officer freezes or reviews.
    pub accounts: Vec<String>,
}

impl SanctionsHit {
    pub(crate) fn masked(mut self, unmask: bool) -> SanctionsHit {
        self.accounts = self
            .accounts
            .into_iter()
            .map(|number| crate::report::compliance::mask::mask_unless(number, unmask))
            .collect();
        self
    }
}

/// Parse `--min-score`: a decimal in `0..=1` with at most three decimals (`0.9`, `0.875`).
pub fn parse_min_score(text: &str) -> AppResult<f64> {
    let trimmed = text.trim();
    let decimals = trimmed
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len());
    let is_plain_decimal = !trimmed.is_empty()
        && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.')
        && trimmed.matches('.').count() <= 1;
    let value: f64 = trimmed
        .parse()
        .ok()
        .filter(|_| is_plain_decimal)
        .ok_or_else(|| {
            AppError::invalid_input(format!("min score '{text}' is not a decimal number"))
        })?;
    if !(0.0..=1.0).contains(&value) || decimals > SCORE_DECIMALS {
        return Err(AppError::invalid_input(format!(
            "min score '{text}' must be between 0 and 1 with at most {SCORE_DECIMALS} decimals"
        )));
    }
    Ok(value)
}

/// Screen each distinct holder name against `list`; hits sorted by holder, then best score
/// first, then list id. `min_score` is clamped to `0..=1`.
pub fn screen(holders: &[String], list: &SanctionsList, min_score: f64) -> Vec<SanctionsHit> {
    let min_per_mille = to_per_mille(min_score.clamp(0.0, 1.0));
    let mut distinct: Vec<&str> = holders.iter().map(String::as_str).collect();
    distinct.sort_unstable();
    distinct.dedup();
    // Tasks of at least HOLDERS_PER_TASK_MIN names, stolen by idle threads: neighbouring
    // (alphabetical) names cost alike, so stealing evens out the expensive stretches. Each
    // task gets one screener (its scratch is as long as the list).
    let mut hits: Vec<SanctionsHit> = distinct
        .par_iter()
        .with_min_len(HOLDERS_PER_TASK_MIN)
        .map_init(
            || Screener::new(list, min_per_mille),
            |screener, holder| screener.screen_holder(holder),
        )
        .flatten_iter()
        .collect();
    hits.sort_by(|left, right| {
        (
            &left.holder,
            std::cmp::Reverse(left.score_per_mille),
            &left.list_id,
        )
            .cmp(&(
                &right.holder,
                std::cmp::Reverse(right.score_per_mille),
                &right.list_id,
            ))
    });
    hits
}

fn to_per_mille(score: f64) -> u16 {
    (score * PER_MILLE).round() as u16
}

fn format_score(per_mille: u16) -> String {
    format!("{}.{:03}", per_mille / 1000, per_mille % 1000)
}

/// A normalised name with the data its bounds need.
struct Prepared<'a> {
    name: &'a NormalizedName,
    profile: &'a NameProfile,
    tokens: &'a [TokenProfile],
}

/// Per-thread screening state: the stamp array deduplicates candidates met through several
/// blocks without clearing a set per holder.
struct Screener<'l> {
    list: &'l SanctionsList,
    min_per_mille: u16,
    /// Scores rounding below this cannot reach `min_per_mille`.
    cut_score: f64,
    stamp_by_name: Vec<u32>,
    stamp: u32,
    token_scratch: TokenScratch,
    /// Jaro a token pair needs to possibly reach `TOKEN_MATCH_MIN`.
    token_jaro_needed: f64,
}

impl<'l> Screener<'l> {
    fn new(list: &'l SanctionsList, min_per_mille: u16) -> Screener<'l> {
        Screener {
            list,
            min_per_mille,
            cut_score: (f64::from(min_per_mille) - 0.5) / PER_MILLE - BOUND_SLACK,
            stamp_by_name: vec![0; list.names.len()],
            stamp: 0,
            token_scratch: TokenScratch::default(),
            token_jaro_needed: jaro_needed_for(TOKEN_MATCH_MIN) - BOUND_SLACK,
        }
    }

    fn screen_holder(&mut self, holder: &str) -> Vec<SanctionsHit> {
        let normalized = NormalizedName::new(holder);
        let (profile, tokens) = (normalized.profile(), normalized.token_profiles());
        let holder_name = Prepared {
            name: &normalized,
            profile: &profile,
            tokens: &tokens,
        };
        self.stamp += 1;
        // (entry, per mille, name index): best spelling per entry.
        let mut best: Vec<(u32, u16, u32)> = Vec::new();
        for block in self.list.blocks_to_search(&normalized) {
            for &name_index in block {
                let seen = &mut self.stamp_by_name[name_index as usize];
                if *seen == self.stamp {
                    continue;
                }
                *seen = self.stamp;
                let listed_profile = &self.list.profiles[name_index as usize];
                let listed = &self.list.names[name_index as usize];
                let listed_name = Prepared {
                    name: &listed.normalized,
                    profile: &listed_profile.name,
                    tokens: self.list.tokens_of(listed_profile),
                };
                if let Some(per_mille) = self.score(&holder_name, &listed_name) {
                    keep_best(&mut best, listed.entry, per_mille, name_index);
                }
            }
        }
        best.into_iter()
            .map(|(_, per_mille, name_index)| {
                self.hit(holder, per_mille, &self.list.names[name_index as usize])
            })
            .collect()
    }

    /// The pair's score in per mille when it reaches the minimum. Bounds from character
    /// counts come first; a component whose bound is under the cut cannot be the score of a
    /// hit, so its strings are never compared.
    fn score(&mut self, holder: &Prepared<'_>, listed: &Prepared<'_>) -> Option<u16> {
        let (sorted_bound, token_bound) = self.bounds(holder, listed);
        let mut score: f64 = 0.0;
        if sorted_bound >= self.cut_score {
            score = jaro(&holder.name.sorted, &listed.name.sorted);
        }
        if token_bound >= self.cut_score && token_bound > score {
            let tokens = exact_token_set_score(
                &holder.name.tokens,
                &listed.name.tokens,
                &mut self.token_scratch,
                |row, column| {
                    token_jaro_winkler_upper_bound(&holder.tokens[row], &listed.tokens[column])
                        >= TOKEN_MATCH_MIN - BOUND_SLACK
                },
            );
            score = score.max(tokens);
        }
        let per_mille = to_per_mille(score);
        (per_mille >= self.min_per_mille).then_some(per_mille)
    }

    /// Upper bounds of the sorted-string Jaro and of the token-set score, from character
    /// counts alone; each is zero when a multiplication-only test already shows it cannot
    /// reach the cut (the common case, kept free of divisions).
    fn bounds(&mut self, holder: &Prepared<'_>, listed: &Prepared<'_>) -> (f64, f64) {
        let (holder_profile, listed_profile) = (holder.profile, listed.profile);
        let common = common_characters(&holder_profile.histogram, &listed_profile.histogram)
            + holder_profile.spaces.min(listed_profile.spaces);
        let lengths = (holder_profile.sorted_length, listed_profile.sorted_length);
        let sorted_bound = if jaro_may_reach(common, lengths.0, lengths.1, self.cut_score) {
            jaro_upper_bound(common, lengths.0, lengths.1)
        } else {
            0.0
        };
        if !may_cover(holder.tokens, listed.tokens, self.token_jaro_needed) {
            return (sorted_bound, 0.0);
        }
        let TokenScratch {
            left_best,
            right_best,
            ..
        } = &mut self.token_scratch;
        let token_bound = token_set_score(
            holder.tokens.len(),
            listed.tokens.len(),
            (left_best, right_best),
            |row, column| {
                token_jaro_winkler_upper_bound(&holder.tokens[row], &listed.tokens[column])
            },
        );
        (sorted_bound, token_bound)
    }

    fn hit(&self, holder: &str, per_mille: u16, listed: &ListedName) -> SanctionsHit {
        let entry = &self.list.entries()[listed.entry as usize];
        SanctionsHit {
            holder: holder.to_string(),
            score: format_score(per_mille),
            score_per_mille: per_mille,
            list_id: entry.list_id.clone(),
            program: entry.program.clone(),
            listed_name: entry.name.clone(),
            matched_alias: listed
                .alias
                .map(|alias| entry.aliases[alias as usize].clone()),
            accounts: Vec::new(),
        }
    }
}

/// Keep the best-scoring spelling per entry; on a tie the earlier name (the primary name
/// comes before its aliases) wins.
fn keep_best(best: &mut Vec<(u32, u16, u32)>, entry: u32, per_mille: u16, name_index: u32) {
    match best
        .iter_mut()
        .find(|(kept_entry, _, _)| *kept_entry == entry)
    {
        Some(kept) if per_mille > kept.1 || (per_mille == kept.1 && name_index < kept.2) => {
            *kept = (entry, per_mille, name_index);
        }
        Some(_) => {}
        None => best.push((entry, per_mille, name_index)),
    }
}
