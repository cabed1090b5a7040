//! Name similarity: the score screening reports, and the cheap upper bounds that let the
//! screener skip most pairs without comparing strings.
//!
//! Similarity of two normalised names (see `normalize`) is the larger of
//! * **token-set Jaro-Winkler**: every token is paired with its most similar token of the
//!   other name (`strsim` Jaro-Winkler); the mean over the holder's tokens and the mean over
//!   the listed name's tokens are averaged. Order-free and symmetric: an extra middle name
//!   costs a little (`John Smith` / `John Michael Smith`: 0.946). It counts only when every
//!   token of the name with fewer tokens has a counterpart of at least 0.85, so a shared
//!   given name cannot carry a different surname (`Hugo Schubert` / `Hugo Schaefer`: the
//!   mean would be 0.912, but `schubert`'s best pair is 0.825) and a lone shared token
//!   (`John` / `John Smith`) scores only by the sorted-string Jaro (0.800);
//! * **sorted-token Jaro**: `strsim` Jaro of the two sorted-token strings
//!   (`"abdul rahman"` vs `"abdulrahman"`), which catches words split or joined differently.
//!   Winkler's prefix bonus is deliberately not applied to this whole-string comparison: the
//!   prefix of a sorted string is just whichever word sorts first, so the bonus would reward
//!   two different people sharing a first name (`Omar Rashid` / `Omar Sharif`: 0.924 with
//!   the bonus, 0.873 without). Inside the token-set score the bonus keeps its meaning
//!   (a shared start of one word).

use super::normalize::{common_characters, NormalizedName, TokenProfile};

/// Winkler's prefix bonus as `strsim` applies it: up to four shared leading characters,
/// 0.1 each, only when the Jaro similarity is over 0.7.
const WINKLER_PREFIX_MAX: f64 = 4.0;
const WINKLER_SCALING: f64 = 0.1;
const WINKLER_BOOST_THRESHOLD: f64 = 0.7;
/// Every token of the shorter name needs a counterpart at least this similar for the
/// token-set score to count.
pub(super) const TOKEN_MATCH_MIN: f64 = 0.85;
/// Slack for floating-point error in bounds: never discard a pair on a rounding hair.
pub(super) const BOUND_SLACK: f64 = 1e-9;

/// Similarity in `0..=1` of two raw names (normalised here), as defined above.
pub fn similarity(left: &str, right: &str) -> f64 {
    let left = NormalizedName::new(left);
    let right = NormalizedName::new(right);
    let sorted = jaro(&left.sorted, &right.sorted);
    let tokens = exact_token_set_score(
        &left.tokens,
        &right.tokens,
        &mut TokenScratch::default(),
        |_, _| true,
    );
    sorted.max(tokens)
}

/// Normalised names are ASCII: compare bytes (same result as chars, without decoding).
struct Bytes<'s>(&'s [u8]);

impl<'s> IntoIterator for &Bytes<'s> {
    type Item = u8;
    type IntoIter = std::iter::Copied<std::slice::Iter<'s, u8>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

/// Equal tokens are common (a shared given name) and `strsim` would still walk them.
pub(super) fn jaro_winkler(left: &str, right: &str) -> f64 {
    if left == right {
        return 1.0;
    }
    strsim::generic_jaro_winkler(&Bytes(left.as_bytes()), &Bytes(right.as_bytes()))
}

pub(super) fn jaro(left: &str, right: &str) -> f64 {
    strsim::generic_jaro(&Bytes(left.as_bytes()), &Bytes(right.as_bytes()))
}

/// Largest Jaro two strings of these lengths could reach with `common` characters in common
/// (matches ≤ common characters, no transpositions).
pub(super) fn jaro_upper_bound(common: u32, left_length: u32, right_length: u32) -> f64 {
    if common == 0 {
        return 0.0;
    }
    let common = f64::from(common);
    let jaro = (common / f64::from(left_length) + common / f64::from(right_length) + 1.0) / 3.0;
    jaro.min(1.0)
}

/// Whether two strings of these lengths with `common` characters in common could reach a
/// Jaro of `jaro_needed`: the `jaro_upper_bound` test multiplied out, without divisions.
pub(super) fn jaro_may_reach(
    common: u32,
    left_length: u32,
    right_length: u32,
    jaro_needed: f64,
) -> bool {
    let (common, left, right) = (
        f64::from(common),
        f64::from(left_length),
        f64::from(right_length),
    );
    common > 0.0 && common * (left + right) + left * right >= jaro_needed * 3.0 * left * right
}

/// The smallest Jaro whose largest possible Jaro-Winkler (prefix bonus included) reaches
/// `jaro_winkler`: the inverse of the bound in `token_jaro_winkler_upper_bound`.
pub(super) fn jaro_needed_for(jaro_winkler: f64) -> f64 {
    let full_bonus = WINKLER_SCALING * WINKLER_PREFIX_MAX;
    if jaro_winkler <= WINKLER_BOOST_THRESHOLD {
        jaro_winkler
    } else {
        WINKLER_BOOST_THRESHOLD.max((jaro_winkler - full_bonus) / (1.0 - full_bonus))
    }
}

/// Largest Jaro-Winkler of two tokens: the Jaro bound plus the largest Winkler prefix bonus.
pub(super) fn token_jaro_winkler_upper_bound(left: &TokenProfile, right: &TokenProfile) -> f64 {
    let jaro = jaro_upper_bound(
        common_characters(&left.histogram, &right.histogram),
        left.length,
        right.length,
    );
    if jaro > WINKLER_BOOST_THRESHOLD {
        jaro + WINKLER_SCALING * WINKLER_PREFIX_MAX * (1.0 - jaro)
    } else {
        jaro
    }
}

/// Buffers reused between comparisons: best-pair scores of each token of both names, and
/// the pair scores computed so far.
#[derive(Default)]
pub(super) struct TokenScratch {
    pub(super) left_best: Vec<f64>,
    pub(super) right_best: Vec<f64>,
    pair_scores: Vec<Option<f64>>,
}

/// [`token_set_score`] with `strsim` Jaro-Winkler, checking first (and giving up early)
/// that every token of the shorter name has a counterpart of at least `TOKEN_MATCH_MIN`:
/// most pairs that reach this point fail that test on one token, so the remaining pairs are
/// never computed. `may_reach_floor(row, column)` is a bound: pairs it rules out are not
/// computed for that test. Each pair is computed at most once.
pub(super) fn exact_token_set_score(
    left: &[String],
    right: &[String],
    scratch: &mut TokenScratch,
    may_reach_floor: impl Fn(usize, usize) -> bool,
) -> f64 {
    let TokenScratch {
        left_best,
        right_best,
        pair_scores,
    } = scratch;
    pair_scores.clear();
    pair_scores.resize(left.len() * right.len(), None);
    let mut pair_score = |row: usize, column: usize| {
        *pair_scores[row * right.len() + column]
            .get_or_insert_with(|| jaro_winkler(&left[row], &right[column]))
    };
    let mut reaches_floor = |row: usize, column: usize| {
        may_reach_floor(row, column) && pair_score(row, column) >= TOKEN_MATCH_MIN
    };
    let rows_covered = left.len() > right.len()
        || (0..left.len()).all(|row| (0..right.len()).any(|column| reaches_floor(row, column)));
    let covered = rows_covered
        && (right.len() > left.len()
            || (0..right.len())
                .all(|column| (0..left.len()).any(|row| reaches_floor(row, column))));
    if !covered {
        return 0.0;
    }
    token_set_score(left.len(), right.len(), (left_best, right_best), pair_score)
}

/// Token-set score: each token's best pair (`pair_score(left, right)` by position), the
/// mean over the left tokens and the mean over the right tokens averaged; zero unless every
/// token of the name with fewer tokens (both names when equally long) has a pair of at least
/// `TOKEN_MATCH_MIN`. The result never decreases when a pair score grows, so feeding it
/// upper bounds of pair scores gives an upper bound of the score.
pub(super) fn token_set_score(
    left_count: usize,
    right_count: usize,
    (left_best, right_best): (&mut Vec<f64>, &mut Vec<f64>),
    mut pair_score: impl FnMut(usize, usize) -> f64,
) -> f64 {
    if left_count == 0 || right_count == 0 {
        return 0.0;
    }
    left_best.clear();
    left_best.resize(left_count, 0.0);
    right_best.clear();
    right_best.resize(right_count, 0.0);
    for (left, left_best) in left_best.iter_mut().enumerate() {
        for (right, right_best) in right_best.iter_mut().enumerate() {
            let score = pair_score(left, right);
            *left_best = left_best.max(score);
            *right_best = right_best.max(score);
        }
    }
    let all_matched = |bests: &[f64]| bests.iter().all(|best| *best >= TOKEN_MATCH_MIN);
    let covered = match left_count.cmp(&right_count) {
        std::cmp::Ordering::Less => all_matched(left_best),
        std::cmp::Ordering::Greater => all_matched(right_best),
        std::cmp::Ordering::Equal => all_matched(left_best) && all_matched(right_best),
    };
    if !covered {
        return 0.0;
    }
    let mean = |bests: &[f64]| bests.iter().sum::<f64>() / bests.len() as f64;
    (mean(left_best) + mean(right_best)) / 2.0
}

/// Whether every token of the shorter name (both when equally long) could reach
/// `TOKEN_MATCH_MIN` with some token of the other: the token-set score is zero otherwise.
/// Checked by bounds with an early exit, because most candidates fail on their first token.
/// `jaro_needed` is the Jaro a pair needs for its Jaro-Winkler to possibly reach the floor.
pub(super) fn may_cover(
    holder: &[TokenProfile],
    listed: &[TokenProfile],
    jaro_needed: f64,
) -> bool {
    let covers = |needles: &[TokenProfile], haystack: &[TokenProfile]| {
        needles.iter().all(|needle| {
            haystack.iter().any(|other| {
                let common = common_characters(&needle.histogram, &other.histogram);
                jaro_may_reach(common, needle.length, other.length, jaro_needed)
            })
        })
    };
    match holder.len().cmp(&listed.len()) {
        std::cmp::Ordering::Less => covers(holder, listed),
        std::cmp::Ordering::Greater => covers(listed, holder),
        std::cmp::Ordering::Equal => covers(holder, listed) && covers(listed, holder),
    }
}
