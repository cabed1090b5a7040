//! Name normalisation and blocking keys for sanctions screening.
//!
//! `"Muñoz-García, José"` → tokens `garcia jose munoz` (sorted):
//! 1. transliterate to ASCII with `deunicode` (diacritics dropped, `ß` → `ss`, Cyrillic and
//!    Greek romanised; characters it cannot romanise are dropped),
//! 2. lower-case,
//! 3. drop apostrophes so `O'Brien` stays one token (`obrien`); every other character that is
//!    not a letter or digit separates tokens (hyphens, commas, dots, `&`),
//! 4. sort the tokens, so word order (`Smith, John` / `John Smith`) does not matter.

/// Histogram slots: a–z, then the ten digits folded onto six slots. Folding only merges
/// counts, so common characters computed from it still bound the true count from above;
/// 32 slots make the comparison one vector operation.
const HISTOGRAM_SIZE: usize = 32;
const LETTER_SLOTS: u8 = 26;
const DIGIT_SLOTS: u8 = 6;
/// Tokens shorter than this (initials) are compared but never used as blocking keys: a key
/// per initial would put every "J." in one huge block.
const BLOCKING_TOKEN_LENGTH_MIN: usize = 2;
/// Soundex keeps the first letter and three consonant-class digits.
const SOUNDEX_DIGITS: usize = 3;
/// Marks keys of tokens that do not start with a letter (hashed instead of Soundex), so they
/// never collide with a Soundex key.
const HASHED_KEY_FLAG: u64 = 1 << 63;

/// Count of each letter and digit in a string: the basis of a cheap upper bound on Jaro
/// similarity (two strings cannot match more characters than they have in common).
pub(crate) type Histogram = [u8; HISTOGRAM_SIZE];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedName {
    /// Sorted tokens joined by one space (ASCII).
    pub(crate) sorted: String,
    /// The sorted tokens.
    pub(crate) tokens: Vec<String>,
}

/// What the similarity bounds need of a whole name, without its strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameProfile {
    /// Letters and digits of the sorted-token string.
    pub(crate) histogram: Histogram,
    pub(crate) sorted_length: u32,
    /// Spaces joining the sorted tokens (they can match too).
    pub(crate) spaces: u32,
}

/// What the similarity bounds need of one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenProfile {
    pub(crate) histogram: Histogram,
    pub(crate) length: u32,
}

impl TokenProfile {
    fn new(token: &str) -> TokenProfile {
        TokenProfile {
            histogram: histogram(token),
            length: token.len() as u32,
        }
    }
}

impl NormalizedName {
    pub fn new(name: &str) -> NormalizedName {
        let tokens = tokens(name);
        NormalizedName {
            sorted: tokens.join(" "),
            tokens,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn profile(&self) -> NameProfile {
        NameProfile {
            histogram: histogram(&self.sorted),
            sorted_length: self.sorted.len() as u32,
            spaces: self.tokens.len().saturating_sub(1) as u32,
        }
    }

    pub(crate) fn token_profiles(&self) -> Vec<TokenProfile> {
        self.tokens
            .iter()
            .map(|token| TokenProfile::new(token))
            .collect()
    }

    /// Distinct blocking keys of this name (one per token long enough to carry one).
    pub fn blocking_keys(&self) -> Vec<u64> {
        let mut keys: Vec<u64> = self
            .tokens
            .iter()
            .filter_map(|token| blocking_key(token))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// The sorted, normalised tokens of a name.
pub(crate) fn tokens(name: &str) -> Vec<String> {
    let ascii = deunicode::deunicode_with_tofu(name, "");
    let mut cleaned = String::with_capacity(ascii.len());
    for character in ascii.chars() {
        match character {
            'a'..='z' | '0'..='9' => cleaned.push(character),
            'A'..='Z' => cleaned.push(character.to_ascii_lowercase()),
            '\'' | '`' => {}
            _ => cleaned.push(' '),
        }
    }
    let mut tokens: Vec<String> = cleaned.split_whitespace().map(str::to_string).collect();
    tokens.sort_unstable();
    tokens
}

/// The sorted, normalised form of a name as one string (`"Smith, John"` → `"john smith"`):
/// how the tests state what normalising does.
#[cfg(test)]
fn normalize(name: &str) -> String {
    tokens(name).join(" ")
}

/// Letter and digit counts of a normalised string (other bytes are not counted).
pub(crate) fn histogram(text: &str) -> Histogram {
    let mut counts = [0u8; HISTOGRAM_SIZE];
    for byte in text.bytes() {
        let slot = match byte {
            b'a'..=b'z' => byte - b'a',
            b'0'..=b'9' => LETTER_SLOTS + (byte - b'0') % DIGIT_SLOTS,
            _ => continue,
        };
        let count = &mut counts[usize::from(slot)];
        *count = count.saturating_add(1);
    }
    counts
}

/// Upper bound of the characters two strings have in common (exact for letters).
#[inline]
pub(crate) fn common_characters(left: &Histogram, right: &Histogram) -> u32 {
    let mut common = [0u8; HISTOGRAM_SIZE];
    for slot in 0..HISTOGRAM_SIZE {
        common[slot] = left[slot].min(right[slot]);
    }
    common.iter().map(|count| u32::from(*count)).sum()
}

/// Blocking key of one token: its Soundex code, so spelling variants that sound alike
/// (`smith`/`smiht`/`smyth`, `jon`/`john`) share a block. Tokens starting with a digit are
/// keyed by a hash of the whole token.
pub(crate) fn blocking_key(token: &str) -> Option<u64> {
    let bytes = token.as_bytes();
    if bytes.len() < BLOCKING_TOKEN_LENGTH_MIN {
        return None;
    }
    if !bytes[0].is_ascii_lowercase() {
        return Some(fnv1a(bytes) | HASHED_KEY_FLAG);
    }
    let code = soundex(token);
    Some(
        code.bytes()
            .fold(0u64, |key, byte| (key << 8) | u64::from(byte)),
    )
}

/// American Soundex (first letter + three digits, e.g. `smith` → `s530`).
pub(crate) fn soundex(token: &str) -> String {
    let mut bytes = token.bytes();
    let Some(first) = bytes.next() else {
        return String::new();
    };
    let mut code = String::with_capacity(SOUNDEX_DIGITS + 1);
    code.push(char::from(first));
    let mut previous = soundex_digit(first);
    for byte in bytes {
        if code.len() > SOUNDEX_DIGITS {
            break;
        }
        match byte {
            // h and w do not separate letters of the same class (Soundex rule).
            b'h' | b'w' => {}
            _ => {
                let digit = soundex_digit(byte);
                if digit != b'0' && digit != previous {
                    code.push(char::from(digit));
                }
                previous = digit;
            }
        }
    }
    while code.len() <= SOUNDEX_DIGITS {
        code.push('0');
    }
    code
}

fn soundex_digit(byte: u8) -> u8 {
    match byte {
        b'b' | b'f' | b'p' | b'v' => b'1',
        b'c' | b'g' | b'j' | b'k' | b'q' | b's' | b'x' | b'z' => b'2',
        b'd' | b't' => b'3',
        b'l' => b'4',
        b'm' | b'n' => b'5',
        b'r' => b'6',
        _ => b'0',
    }
}

/// FNV-1a: a tiny stable hash for keys of tokens Soundex cannot encode.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_punctuation_diacritics_and_order() {
        assert_eq!(normalize("Smith, John"), "john smith");
        assert_eq!(normalize("  JOHN   smith. "), "john smith");
        assert_eq!(normalize("José Muñoz"), "jose munoz");
        assert_eq!(normalize("Muñoz-García, José"), "garcia jose munoz");
        assert_eq!(normalize("Patrick O'Brien"), "obrien patrick");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize("Владимир Петров"), "petrov vladimir");
        assert_eq!(normalize("?!"), "");
    }

    #[test]
    fn soundex_matches_the_classic_examples() {
        assert_eq!(soundex("robert"), "r163");
        assert_eq!(soundex("rupert"), "r163");
        assert_eq!(soundex("ashcraft"), "a261");
        assert_eq!(soundex("tymczak"), "t522");
        assert_eq!(soundex("pfister"), "p236");
        assert_eq!(soundex("lee"), "l000");
    }

    #[test]
    fn misspellings_share_blocking_keys() {
        assert_eq!(blocking_key("smith"), blocking_key("smiht"));
        assert_eq!(blocking_key("jon"), blocking_key("john"));
        assert_ne!(blocking_key("smith"), blocking_key("brown"));
        assert_eq!(blocking_key("j"), None);
        assert_ne!(blocking_key("12ab"), blocking_key("12ac"));
    }

    #[test]
    fn histograms_count_common_characters() {
        let left = histogram("john smith");
        let right = histogram("jon smiht");
        assert_eq!(common_characters(&left, &right), 8);
        assert_eq!(
            common_characters(&histogram("a1"), &histogram("a7")),
            2,
            "digits 1 and 7 share a slot"
        );
    }
}
