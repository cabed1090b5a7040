//! Deterministic synthetic data for benchmarks and tests: the same seed gives the same data
//! on every machine and build (`crate::random`).

use crate::random::{Draw, SplitMix64};
use fincore::clock::MICROS_PER_DAY;
use fincore::model::{AccountType, RiskLevel, TransferKind};
use fincore::money::Currency;
use fincore::report::compliance::{AccountFact, SanctionsEntry, SanctionsList, TransferFact};

/// 2025-01-01T00:00:00Z: generated ledgers cover the year that starts here.
pub const LEDGER_START_US: i64 = 1_735_689_600_000_000;
pub const LEDGER_DAYS: i64 = 365;
const MICROS_PER_HOUR: i64 = MICROS_PER_DAY / 24;
/// Currencies of generated accounts, with their share of customer accounts in percent.
const CURRENCY_SHARES: [(&str, u64); 3] = [("USD", 70), ("EUR", 25), ("JPY", 5)];
/// Bank-side accounts: one settlement account per currency.
const SETTLEMENT_HOLDER: &str = "Fincore Bank";
/// Customers that share their holder with an earlier account (several accounts each).
const SHARED_HOLDER_PERCENT: u64 = 20;
/// Dormant customers stay silent from day 60 to day 300 and then move a large amount.
const DORMANT_PER_MILLE: u64 = 20;
const DORMANT_SILENCE_FIRST_DAY: i64 = 60;
const DORMANT_SILENCE_LAST_DAY: i64 = 300;
/// How many generated transfers go to each injected pattern: one episode per this many.
const CTR_EPISODE_EVERY: usize = 1_000;
const STRUCTURING_EPISODE_EVERY: usize = 5_000;
const RAPID_EPISODE_EVERY: usize = 2_000;
const ROUND_EPISODE_EVERY: usize = 5_000;
/// Holders generated as misspelt variants of listed names: one per this many.
const LISTED_VARIANT_EVERY: u64 = 1_000;
/// Variants are drawn from the first entries of the list of the same seed.
const LISTED_VARIANT_SOURCE_ENTRIES: u64 = 1_000;

const FIRST_NAMES: &[&str] = &[
    "John",
    "Mary",
    "James",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Mohammed",
    "Fatima",
    "Ahmed",
    "Aisha",
    "Omar",
    "Layla",
    "Ali",
    "Zainab",
    "José",
    "María",
    "Juan",
    "Lucía",
    "Carlos",
    "Sofía",
    "Luis",
    "Camila",
    "Jorge",
    "Valentina",
    "Wei",
    "Li",
    "Yan",
    "Jing",
    "Hiroshi",
    "Yuki",
    "Kenji",
    "Aiko",
    "Olga",
    "Ivan",
    "Dmitri",
    "Svetlana",
    "Björn",
    "Åsa",
    "Søren",
    "Zoë",
    "François",
    "Hélène",
    "Jürgen",
    "Anaïs",
    "Chloé",
    "Nikolai",
    "Priya",
    "Arjun",
    "Ananya",
    "Rahul",
    "Chinedu",
    "Ngozi",
    "Kwame",
    "Amara",
    "Tariq",
    "Noor",
    "Mateo",
    "Isabella",
    "Lukas",
    "Emma",
    "Oskar",
    "Ingrid",
    "Pavel",
    "Tatiana",
    "Hugo",
    "Léa",
];
/// Surnames are built from syllables (onset + vowel + coda: 28 × 8 × 10 = 2,240 of them) so
/// that a large population has realistically many distinct surnames; a handful of endings
/// with diacritics keep normalisation busy.
const SYLLABLE_ONSETS: &[&str] = &[
    "b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "kr", "l", "m", "n", "p", "pr",
    "r", "s", "sh", "st", "t", "tr", "v", "w", "y", "z",
];
const SYLLABLE_VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou", "ei"];
const SYLLABLE_CODAS: &[&str] = &["", "n", "r", "l", "s", "k", "m", "nd", "rt", "st"];
const SURNAME_ENDINGS: &[&str] = &["", "", "", "", "son", "ez", "ić", "ová", "ski", "ø", "ñez"];
const COMPANY_WORDS: &[&str] = &[
    "Golden", "Crescent", "Northern", "Star", "Ocean", "Pacific", "Global", "United", "Eastern",
    "Silver", "Falcon", "Cedar", "Atlas", "Horizon", "Summit", "Delta", "Phoenix", "Orient",
];
const COMPANY_SUFFIXES: &[&str] = &[
    "Trading LLC",
    "Holdings Ltd",
    "Shipping Co",
    "General Trading",
    "Group SA",
];
const PROGRAMS: &[&str] = &[
    "SDGT",
    "NARCO",
    "CYBER2",
    "IRAN",
    "DPRK3",
    "RUSSIA-EO14024",
    "CMIC",
];
const VOWELS: &[u8] = b"aeiou";

// ---------------------------------------------------------------------------------------
// Names and sanctions lists
// ---------------------------------------------------------------------------------------

fn surname(random: &mut SplitMix64) -> String {
    let syllables = 2 + random.below(2);
    let mut name = String::new();
    for _ in 0..syllables {
        name.push_str(random.pick::<&str>(SYLLABLE_ONSETS));
        name.push_str(random.pick::<&str>(SYLLABLE_VOWELS));
        name.push_str(random.pick::<&str>(SYLLABLE_CODAS));
    }
    name.push_str(random.pick::<&str>(SURNAME_ENDINGS));
    capitalise(&mut name);
    name
}

fn capitalise(word: &mut String) {
    if let Some(first) = word.chars().next() {
        let upper: String = first.to_uppercase().collect();
        word.replace_range(..first.len_utf8(), &upper);
    }
}

fn person_name(random: &mut SplitMix64) -> String {
    let first = *random.pick(FIRST_NAMES);
    match random.below(10) {
        0 | 1 => format!("{first} {} {}", *random.pick(FIRST_NAMES), surname(random)),
        2 => format!("{first} {}-{}", surname(random), surname(random)),
        _ => format!("{first} {}", surname(random)),
    }
}

fn company_name(random: &mut SplitMix64) -> String {
    format!(
        "{} {} {}",
        *random.pick(COMPANY_WORDS),
        *random.pick(COMPANY_WORDS),
        *random.pick(COMPANY_SUFFIXES)
    )
}

/// A spelling variant that screening should still catch: two letters swapped, a letter
/// dropped or doubled, a vowel changed, or the words reordered with a comma.
fn misspell(name: &str, random: &mut SplitMix64) -> String {
    let mut characters: Vec<char> = name.chars().collect();
    let letter_positions: Vec<usize> = (1..characters.len().saturating_sub(1))
        .filter(|&p| characters[p].is_ascii_lowercase() && characters[p + 1].is_ascii_lowercase())
        .collect();
    if letter_positions.is_empty() {
        return name.to_uppercase();
    }
    let position = *random.pick(&letter_positions);
    match random.below(5) {
        0 => characters.swap(position, position + 1),
        1 => {
            characters.remove(position);
        }
        2 => characters.insert(position, characters[position]),
        3 => characters[position] = char::from(*random.pick(VOWELS)),
        _ => {
            let mut words: Vec<&str> = name.split(' ').collect();
            let last = words.pop().unwrap_or_default();
            return format!("{last}, {}", words.join(" "));
        }
    }
    characters.into_iter().collect()
}

fn list_entry(seed: u64, index: u64) -> SanctionsEntry {
    let mut random = SplitMix64::for_item(seed, 1, index);
    let name = if random.per_mille(150) {
        company_name(&mut random)
    } else {
        person_name(&mut random)
    };
    let mut aliases = Vec::new();
    if random.per_mille(400) {
        aliases.push(misspell(&name, &mut random));
        if random.per_mille(300) {
            aliases.push(person_name(&mut random));
        }
    }
    SanctionsEntry {
        name,
        program: random.pick(PROGRAMS).to_string(),
        list_id: format!("GEN-{index:06}"),
        aliases,
    }
}

/// A sanctions list of `count` entries: persons (some with middle names or double surnames,
/// many with diacritics) and companies, 40% with aliases. Entry `i` does not depend on
/// `count`.
pub fn generate_list(seed: u64, count: usize) -> SanctionsList {
    SanctionsList::new(
        (0..count as u64)
            .map(|index| list_entry(seed, index))
            .collect(),
    )
}

/// `count` holder names. About one in 1,000 is a misspelt variant of one of the first 1,000
/// entries of `generate_list(seed, _)`, so screening the two finds hits.
pub fn generate_names(seed: u64, count: usize) -> Vec<String> {
    (0..count as u64)
        .map(|index| {
            let mut random = SplitMix64::for_item(seed, 2, index);
            if random.below(LISTED_VARIANT_EVERY) == 0 {
                let listed = list_entry(seed, random.below(LISTED_VARIANT_SOURCE_ENTRIES));
                misspell(&listed.name, &mut random)
            } else {
                person_name(&mut random)
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Ledgers
// ---------------------------------------------------------------------------------------

struct LedgerBuilder {
    random: SplitMix64,
    currencies: Vec<Currency>,
    accounts: Vec<AccountFact>,
    /// Customer account positions by currency position in `CURRENCY_SHARES`.
    customers_by_currency: Vec<Vec<usize>>,
    settlement_by_currency: Vec<usize>,
    dormant: Vec<bool>,
    transfers: Vec<TransferFact>,
}

/// A ledger of `account_count` accounts (one settlement account per currency, the rest
/// customers, some holders with several accounts, some high or critical risk) and exactly
/// `transfer_count` posted transfers over 2025, ids in time order. Besides ordinary traffic
/// (transfers, cash deposits and withdrawals of 1.00–3,000.00) it contains CTR-sized cash,
/// structuring clusters, rapid in-and-out, dormant accounts reactivated with a large
/// deposit, and round-amount habits.
pub fn generate_ledger(
    seed: u64,
    account_count: usize,
    transfer_count: usize,
) -> (Vec<AccountFact>, Vec<TransferFact>) {
    let mut builder = LedgerBuilder::new(seed, account_count);
    if builder.customers_by_currency.iter().any(Vec::is_empty) {
        return (builder.accounts, Vec::new());
    }
    builder.inject_patterns(transfer_count);
    while builder.transfers.len() < transfer_count {
        builder.ordinary_transfer();
    }
    builder.transfers.truncate(transfer_count);
    builder.transfers.sort_by_key(|transfer| transfer.at_us);
    // Rebuild in time order, as rows read from the database would be allocated: sorting
    // moved the records but left their account-number strings scattered over the heap.
    let transfers = builder
        .transfers
        .iter()
        .enumerate()
        .map(|(position, transfer)| TransferFact {
            id: position as i64 + 1,
            from: transfer.from.as_str().to_string(),
            to: transfer.to.as_str().to_string(),
            ..*transfer
        })
        .collect();
    (builder.accounts, transfers)
}

fn currencies() -> Vec<Currency> {
    CURRENCY_SHARES
        .iter()
        .map(|(code, _)| Currency::parse(code).expect("known currency"))
        .collect()
}

/// 16 digits: a 4-digit prefix, 11 digits of `index`, and a Luhn check digit.
fn account_number(prefix: u64, index: u64) -> String {
    fincore::model::account_number::with_check_digit(&format!("{prefix:04}{index:011}"))
}

impl LedgerBuilder {
    fn new(seed: u64, account_count: usize) -> LedgerBuilder {
        let mut random = SplitMix64::new(seed);
        let currencies = currencies();
        let mut accounts = Vec::with_capacity(account_count);
        let mut settlement_by_currency = Vec::new();
        for (position, currency) in currencies.iter().enumerate().take(account_count) {
            settlement_by_currency.push(accounts.len());
            accounts.push(AccountFact {
                number: account_number(9999, position as u64),
                holder: SETTLEMENT_HOLDER.to_string(),
                account_type: AccountType::Settlement,
                currency: *currency,
                created_at_us: LEDGER_START_US - 730 * MICROS_PER_DAY,
                risk_level: None,
            });
        }
        let mut customers_by_currency = vec![Vec::new(); currencies.len()];
        let mut dormant = vec![false; accounts.len()];
        for index in accounts.len()..account_count {
            let currency_position = pick_currency(&mut random);
            let holder = if index > settlement_by_currency.len()
                && random.below(100) < SHARED_HOLDER_PERCENT
            {
                let earlier = settlement_by_currency.len()
                    + random.below((index - settlement_by_currency.len()) as u64) as usize;
                accounts[earlier].holder.clone()
            } else {
                person_name(&mut random)
            };
            customers_by_currency[currency_position].push(accounts.len());
            dormant.push(random.per_mille(DORMANT_PER_MILLE));
            accounts.push(AccountFact {
                number: account_number(4000, index as u64),
                holder,
                account_type: if random.below(4) == 0 {
                    AccountType::Savings
                } else {
                    AccountType::Checking
                },
                currency: currencies[currency_position],
                created_at_us: LEDGER_START_US - random.between(30, 730) * MICROS_PER_DAY,
                risk_level: risk_level(&mut random),
            });
        }
        LedgerBuilder {
            random,
            currencies,
            accounts,
            customers_by_currency,
            settlement_by_currency,
            dormant,
            transfers: Vec::new(),
        }
    }

    fn inject_patterns(&mut self, transfer_count: usize) {
        for _ in 0..transfer_count / CTR_EPISODE_EVERY {
            self.ctr_episode();
        }
        for _ in 0..transfer_count / STRUCTURING_EPISODE_EVERY {
            self.structuring_episode();
        }
        for _ in 0..transfer_count / RAPID_EPISODE_EVERY {
            self.rapid_episode();
        }
        for _ in 0..transfer_count / ROUND_EPISODE_EVERY {
            self.round_episode();
        }
        for position in 0..self.accounts.len() {
            if self.dormant[position] {
                let day = DORMANT_SILENCE_LAST_DAY + self.random.between(1, 30);
                let amount = self.major_amount(position, 12_000, 50_000);
                let at_us = day_instant(day) + self.random.between(0, MICROS_PER_DAY - 1);
                self.cash(TransferKind::Deposit, position, amount, at_us);
            }
        }
    }

    fn ctr_episode(&mut self) {
        let customer = self.active_customer(None);
        let kind = if self.random.below(4) == 0 {
            TransferKind::Withdrawal
        } else {
            TransferKind::Deposit
        };
        let amount = self.major_amount(customer, 10_001, 40_000);
        let at_us = self.random_instant();
        self.cash(kind, customer, amount, at_us);
    }

    fn structuring_episode(&mut self) {
        let customer = self.active_customer(None);
        let start_us = self.random_instant();
        for _ in 0..3 + self.random.below(2) {
            let amount = self.major_amount(customer, 8_000, 10_000);
            let at_us = start_us + self.random.between(0, 6 * MICROS_PER_DAY);
            self.cash(TransferKind::Deposit, customer, amount, at_us);
        }
    }

    fn rapid_episode(&mut self) {
        let customer = self.active_customer(None);
        let currency_position = self.currency_position(customer);
        let source = self.active_customer(Some(currency_position));
        if source == customer {
            return;
        }
        let inflow = self.major_amount(customer, 2_000, 20_000);
        let at_us = self.random_instant();
        self.push(TransferKind::Transfer, source, customer, inflow, at_us);
        let outflow = inflow / 100 * self.random.between(92, 100);
        let out_at_us = at_us + self.random.between(1, 20) * MICROS_PER_HOUR;
        self.cash(TransferKind::Withdrawal, customer, outflow, out_at_us);
    }

    fn round_episode(&mut self) {
        let customer = self.active_customer(None);
        let currency_position = self.currency_position(customer);
        for _ in 0..3 + self.random.below(3) {
            let counterparty = self.active_customer(Some(currency_position));
            if counterparty == customer {
                continue;
            }
            let amount = self.random.between(5, 20) * 1_000 * self.minor_per_major(customer);
            let at_us = self.random_instant();
            self.push(
                TransferKind::Transfer,
                customer,
                counterparty,
                amount,
                at_us,
            );
        }
    }

    fn ordinary_transfer(&mut self) {
        let at_us = self.random_instant();
        let customer = self.active_customer_at(None, at_us);
        let amount = self.ordinary_amount(customer);
        match self.random.below(10) {
            0 | 1 => self.cash(TransferKind::Deposit, customer, amount, at_us),
            2 | 3 => self.cash(TransferKind::Withdrawal, customer, amount, at_us),
            _ => {
                let counterparty =
                    self.active_customer_at(Some(self.currency_position(customer)), at_us);
                if counterparty != customer {
                    self.push(
                        TransferKind::Transfer,
                        customer,
                        counterparty,
                        amount,
                        at_us,
                    );
                }
            }
        }
    }

    fn cash(&mut self, kind: TransferKind, customer: usize, amount_minor: i64, at_us: i64) {
        let settlement = self.settlement_by_currency[self.currency_position(customer)];
        match kind {
            TransferKind::Withdrawal => self.push(kind, customer, settlement, amount_minor, at_us),
            _ => self.push(kind, settlement, customer, amount_minor, at_us),
        }
    }

    fn push(&mut self, kind: TransferKind, from: usize, to: usize, amount_minor: i64, at_us: i64) {
        let currency = self.accounts[from].currency;
        self.transfers.push(TransferFact {
            id: 0,
            kind,
            from: self.accounts[from].number.clone(),
            to: self.accounts[to].number.clone(),
            amount_minor,
            currency,
            at_us,
        });
    }

    fn currency_position(&self, account: usize) -> usize {
        let currency = self.accounts[account].currency;
        self.currencies
            .iter()
            .position(|c| *c == currency)
            .expect("generated currency")
    }

    /// A customer that is not dormant (dormant ones only move at their reactivation).
    fn active_customer(&mut self, currency_position: Option<usize>) -> usize {
        self.active_customer_at(
            currency_position,
            LEDGER_START_US + DORMANT_SILENCE_FIRST_DAY * MICROS_PER_DAY,
        )
    }

    /// A customer allowed to move at `at_us`: dormant accounts are silent from day 60 on.
    fn active_customer_at(&mut self, currency_position: Option<usize>, at_us: i64) -> usize {
        let currency_position =
            currency_position.unwrap_or_else(|| pick_currency(&mut self.random));
        let silent = at_us >= day_instant(DORMANT_SILENCE_FIRST_DAY);
        loop {
            let candidate = *self
                .random
                .pick(&self.customers_by_currency[currency_position]);
            if !(silent && self.dormant[candidate]) {
                return candidate;
            }
        }
    }

    fn minor_per_major(&self, account: usize) -> i64 {
        10i64.pow(self.accounts[account].currency.minor_units())
    }

    /// Between `low` and `high` major units of the account's currency, with random minor
    /// units where the currency has them.
    fn major_amount(&mut self, account: usize, low: i64, high: i64) -> i64 {
        let scale = self.minor_per_major(account);
        let major = self.random.between(low, high - 1);
        let minor = if scale > 1 {
            self.random.between(1, scale - 1)
        } else {
            0
        };
        major * scale + minor
    }

    /// Roughly log-uniform 1.00–3,000.00 in the account's currency, never round.
    fn ordinary_amount(&mut self, account: usize) -> i64 {
        let scale = self.minor_per_major(account);
        let magnitude = 10i64.pow(self.random.below(4) as u32);
        let major = self.random.between(magnitude, 3 * magnitude);
        let minor = if scale > 1 {
            self.random.between(1, scale - 1)
        } else {
            0
        };
        let amount = major * scale + minor;
        if amount % (1_000 * scale) == 0 {
            amount + 1
        } else {
            amount
        }
    }

    fn random_instant(&mut self) -> i64 {
        LEDGER_START_US + self.random.between(0, LEDGER_DAYS * MICROS_PER_DAY - 1)
    }
}

fn day_instant(day: i64) -> i64 {
    LEDGER_START_US + day * MICROS_PER_DAY
}

fn pick_currency(random: &mut SplitMix64) -> usize {
    let mut roll = random.below(100);
    for (position, (_, share)) in CURRENCY_SHARES.iter().enumerate() {
        if roll < *share {
            return position;
        }
        roll -= share;
    }
    0
}

fn risk_level(random: &mut SplitMix64) -> Option<RiskLevel> {
    match random.below(100) {
        0 => Some(RiskLevel::Critical),
        1 | 2 => Some(RiskLevel::High),
        3..=12 => Some(RiskLevel::Medium),
        13..=42 => Some(RiskLevel::Low),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fincore::clock;
    use fincore::report::compliance::{
        analyse, customer_holders, screen, ComplianceKinds, ComplianceParams, DEFAULT_MIN_SCORE,
    };

    #[test]
    fn ledgers_are_deterministic_and_exactly_sized() {
        let (accounts, transfers) = generate_ledger(7, 200, 5_000);
        assert_eq!((accounts.len(), transfers.len()), (200, 5_000));
        assert_eq!(
            generate_ledger(7, 200, 5_000),
            (accounts.clone(), transfers.clone())
        );
        assert_ne!(generate_ledger(8, 200, 5_000).1, transfers);
        assert!(transfers
            .windows(2)
            .all(|pair| pair[0].at_us <= pair[1].at_us && pair[0].id + 1 == pair[1].id));
        assert!(transfers
            .iter()
            .all(|t| t.amount_minor > 0 && t.from != t.to));
        assert_eq!(account_number(4000, 1), "4000000000000010");
        assert!(accounts.iter().all(|account| passes_luhn(&account.number)));
    }

    fn passes_luhn(number: &str) -> bool {
        let sum: u32 = number
            .bytes()
            .rev()
            .enumerate()
            .map(|(position, byte)| {
                let digit = u32::from(byte - b'0');
                match (position % 2, digit * 2) {
                    (0, _) => digit,
                    (_, doubled) if doubled > 9 => doubled - 9,
                    (_, doubled) => doubled,
                }
            })
            .sum();
        number.len() == 16 && sum.is_multiple_of(10)
    }

    #[test]
    fn ledgers_contain_every_kind_of_finding() {
        let (accounts, transfers) = generate_ledger(11, 1_000, 50_000);
        let list = generate_list(11, 500);
        let from = clock::date_of_us(LEDGER_START_US);
        let to = clock::date_of_us(LEDGER_START_US + (LEDGER_DAYS - 1) * MICROS_PER_DAY);
        let findings = analyse(
            &transfers,
            &accounts,
            &ComplianceParams::default(),
            ComplianceKinds::ALL,
            Some(&list),
            from,
            to,
        )
        .unwrap();
        assert!(!findings.ctr.is_empty());
        assert!(!findings.structuring.is_empty());
        for pattern in [
            "rapid_in_out",
            "high_risk_account",
            "dormant_reactivation",
            "round_amount",
        ] {
            assert!(
                findings
                    .suspicious
                    .iter()
                    .any(|f| f.pattern.as_str() == pattern),
                "{pattern}"
            );
        }
        assert!(customer_holders(&accounts).len() > 500);
    }

    #[test]
    fn generated_names_meet_their_list() {
        let list = generate_list(5, 1_000);
        assert_eq!(list.len(), 1_000);
        assert_eq!(generate_list(5, 10).entries(), &list.entries()[..10]);
        let names = generate_names(5, 20_000);
        assert_eq!(names, generate_names(5, 20_000));
        let hits = screen(&names, &list, DEFAULT_MIN_SCORE);
        assert!(hits.len() >= 5, "{}", hits.len());
    }
}
