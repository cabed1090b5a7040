//! References compare trimmed and case-insensitively (Unicode lowercase). `ReferenceKey` keeps
//! short references as a lowercased inline copy, so a hash-table probe compares bytes in the
//! table itself instead of following a pointer to a cold string for each of a million lines.

use std::hash::{BuildHasher, Hash, Hasher};

/// Lowercased references up to this many bytes are kept inline (SEPA references are up to 35,
/// most are far shorter). Longer ones borrow the original text.
const INLINE_BYTES: usize = 22;
/// Size of a key's sortable image: length byte, inline bytes, padding.
const IMAGE_BYTES: usize = 24;
/// The image as machine words, which compare without a call to `memcmp`.
pub(crate) type ReferenceImage = [u64; IMAGE_BYTES / 8];
/// First image byte of a long reference, whose image holds a fingerprint, not the text.
const LONG_MARKER: u8 = u8::MAX;
/// Seed of long-reference fingerprints. They only bring candidates together (long references
/// are always compared as text), so a fixed seed costs nothing and keeps runs reproducible.
const FINGERPRINT_SEED: u64 = 0x7265_636f_6e63_696c;
/// Bytes buffered before each `Hasher::write` for long keys; chunking depends only on the
/// lowercased text, so equal keys always feed the hasher identical chunks.
const HASH_CHUNK_BYTES: usize = 64;

#[derive(Debug, Clone, Copy)]
pub(crate) enum ReferenceKey<'a> {
    Inline {
        length: u8,
        bytes: [u8; INLINE_BYTES],
    },
    Long(&'a str),
}

impl<'a> ReferenceKey<'a> {
    /// `None` for a blank reference: blank references never match anything.
    pub(crate) fn new(reference: &'a str) -> Option<ReferenceKey<'a>> {
        let trimmed = reference.trim();
        if trimmed.is_empty() {
            return None;
        }
        let mut bytes = [0; INLINE_BYTES];
        if trimmed.is_ascii() {
            // The common case, without the Unicode lowercase machinery.
            if trimmed.len() > INLINE_BYTES {
                return Some(ReferenceKey::Long(trimmed));
            }
            bytes[..trimmed.len()].copy_from_slice(trimmed.as_bytes());
            bytes.make_ascii_lowercase();
            return Some(ReferenceKey::Inline {
                length: trimmed.len() as u8,
                bytes,
            });
        }
        let mut length = 0;
        for byte in lowercase_bytes(trimmed) {
            if length == INLINE_BYTES {
                return Some(ReferenceKey::Long(trimmed));
            }
            bytes[length] = byte;
            length += 1;
        }
        Some(ReferenceKey::Inline {
            length: length as u8,
            bytes,
        })
    }
}

impl ReferenceKey<'_> {
    /// A fixed-size image that sorts equal references together. For inline keys equal images
    /// mean equal references; long keys with equal images must still be compared as text.
    pub(crate) fn image(&self) -> ReferenceImage {
        let mut image = [0; IMAGE_BYTES];
        match self {
            ReferenceKey::Inline { length, bytes } => {
                image[0] = *length;
                image[1..=INLINE_BYTES].copy_from_slice(bytes);
            }
            ReferenceKey::Long(_) => {
                let fingerprint =
                    foldhash::fast::FixedState::with_seed(FINGERPRINT_SEED).hash_one(self);
                image[0] = LONG_MARKER;
                image[1..9].copy_from_slice(&fingerprint.to_le_bytes());
            }
        }
        let word = |index: usize| {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(&image[index * 8..index * 8 + 8]);
            u64::from_le_bytes(bytes)
        };
        [word(0), word(1), word(2)]
    }
}

/// Whether equal images of this kind mean equal references.
pub(crate) fn image_is_exact(image: &ReferenceImage) -> bool {
    image[0].to_le_bytes()[0] != LONG_MARKER
}

/// The UTF-8 bytes of the lowercased text, without allocating.
fn lowercase_bytes(text: &str) -> impl Iterator<Item = u8> + '_ {
    text.chars()
        .flat_map(char::to_lowercase)
        .flat_map(|character| {
            let mut encoded = [0; 4];
            let length = character.encode_utf8(&mut encoded).len();
            encoded.into_iter().take(length)
        })
}

impl PartialEq for ReferenceKey<'_> {
    /// An inline key never equals a long one: equal keys have equal lowercased lengths.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                ReferenceKey::Inline { length, bytes },
                ReferenceKey::Inline {
                    length: other_length,
                    bytes: other_bytes,
                },
            ) => length == other_length && bytes == other_bytes,
            (ReferenceKey::Long(text), ReferenceKey::Long(other_text)) => {
                lowercase_bytes(text).eq(lowercase_bytes(other_text))
            }
            _ => false,
        }
    }
}

impl Eq for ReferenceKey<'_> {}

impl Hash for ReferenceKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            ReferenceKey::Inline { length, bytes } => {
                state.write_u8(*length);
                state.write(bytes);
            }
            ReferenceKey::Long(text) => {
                let mut chunk = [0; HASH_CHUNK_BYTES];
                let mut filled = 0;
                for byte in lowercase_bytes(text) {
                    if filled == HASH_CHUNK_BYTES {
                        state.write(&chunk);
                        filled = 0;
                    }
                    chunk[filled] = byte;
                    filled += 1;
                }
                state.write(&chunk[..filled]);
                state.write_u8(0xff);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReferenceKey;

    #[test]
    fn keys_ignore_case_and_surrounding_space() {
        let key = |text| ReferenceKey::new(text).unwrap();
        assert_eq!(key(" INV-1 "), key("inv-1"));
        assert_eq!(key("ÄRGER-Straße"), key("ärger-straße"));
        let long = "E2E-REFERENCE-2026-11-20-0000000001";
        assert!(matches!(key(long), ReferenceKey::Long(_)));
        let lowercase = long.to_lowercase();
        assert_eq!(key(long), key(&lowercase));
        assert_ne!(key("INV-1"), key("INV-2"));
        assert!(ReferenceKey::new("   ").is_none());
    }
}
