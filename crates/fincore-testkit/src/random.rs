//! Deterministic pseudo-random numbers for synthetic data (tests, benchmarks, the workload
//! generator): the same seed gives the same data on every machine, build and dependency
//! version, which a library RNG whose streams may change between versions would not promise.
//! Not for anything secret or fair: the modulo bias of `below` is irrelevant for test data.

/// The golden-ratio increment of SplitMix64, also used to spread seeds.
pub const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// What every generator here offers on top of its raw 64-bit output.
pub trait Draw {
    fn next(&mut self) -> u64;

    /// Uniform in `0..bound` (0 when `bound` is 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }

    /// True `chance` times in a thousand.
    fn per_mille(&mut self, chance: u64) -> bool {
        self.below(1000) < chance
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// SplitMix64: tiny, fast, statistically good enough for synthetic data.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// An independent stream per (seed, stream, index): item `index` is the same whatever
    /// the number of items generated.
    pub fn for_item(seed: u64, stream: u64, index: u64) -> SplitMix64 {
        let mut mixer = SplitMix64(seed ^ stream.wrapping_mul(GOLDEN_GAMMA));
        mixer.0 ^= index.wrapping_mul(GOLDEN_GAMMA).rotate_left(17);
        mixer.next();
        mixer
    }
}

impl Draw for SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^ (mixed >> 31)
    }
}

/// xorshift64*: small and fast; its state must never be 0 (it would stay 0).
pub struct XorShift64Star(u64);

impl XorShift64Star {
    pub fn new(state: u64) -> XorShift64Star {
        assert_ne!(state, 0, "xorshift64* needs a non-zero state");
        XorShift64Star(state)
    }
}

impl Draw for XorShift64Star {
    fn next(&mut self) -> u64 {
        let mut state = self.0;
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        self.0 = state;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers_and_known_first_outputs() {
        // SplitMix64 seeded with 0: its published first output; xorshift64* from state 1:
        // 0x2000001 (state after the shifts) times the multiplier, worked out by hand.
        assert_eq!(SplitMix64::new(0).next(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(XorShift64Star::new(1).next(), 0x47e4_ce4b_896c_dd1d);
        let draws = |seed| {
            let mut random = SplitMix64::for_item(seed, 1, 7);
            (0..4).map(|_| random.below(100)).collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
    }

    #[test]
    fn ranges_stay_inside_their_bounds() {
        let mut random = XorShift64Star::new(99);
        for _ in 0..10_000 {
            assert!((5..=20).contains(&random.between(5, 20)));
            assert!(random.below(3) < 3);
        }
        assert_eq!(random.below(0), 0);
        assert!(["a", "b"].contains(random.pick(&["a", "b"])));
    }
}
