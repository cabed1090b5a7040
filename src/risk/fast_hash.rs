//! A fast hasher for account numbers (the multiply-rotate scheme of rustc's FxHash). The
//! standard SipHash resists hash flooding from hostile keys, but here keys are the bank's own
//! account numbers from its database and operator files, and hashing is the hot path of a
//! million-row import.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash's multiplier (a 64-bit odd constant with well-spread bits).
const MULTIPLIER: u64 = 0xf135_7aea_2e62_a9c5;
/// Final rotation moves the well-mixed high bits to where hash tables take bucket indexes.
const FINISH_ROTATION: u32 = 26;
const WORD_BYTES: usize = 8;

#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(MULTIPLIER).rotate_left(5);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(WORD_BYTES);
        for chunk in &mut chunks {
            let mut word = [0u8; WORD_BYTES];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; WORD_BYTES];
            word[..rest.len()].copy_from_slice(rest);
            // The length tells "AB" from "AB\0".
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.hash.rotate_left(FINISH_ROTATION)
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn distinct_numbers_hash_apart() {
        let build = BuildHasherDefault::<FastHasher>::default();
        let hashes: std::collections::HashSet<u64> = (0..100_000u64)
            .map(|index| build.hash_one(format!("40{index:014}")))
            .collect();
        assert_eq!(hashes.len(), 100_000);
        assert_ne!(build.hash_one("AB"), build.hash_one("AB\0"));
    }
}
