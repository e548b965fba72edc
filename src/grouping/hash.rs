//! MD5 hex digests of concatenated values — Sentry's grouping hash.
//!
//! A variant hash is `md5(v1 ‖ v2 ‖ …)` over the UTF-8 bytes of the contributing values, with no
//! separator, rendered as 32 lowercase hex digits. Hashing nothing gives the fallback hash
//! `d41d8cd98f00b204e9800998ecf8427e`.

use md5::{Digest, Md5};

/// Incremental MD5 over string values.
#[derive(Default)]
pub struct Md5Hasher {
    md5: Md5,
}

impl Md5Hasher {
    /// Appends one value.
    pub fn update(&mut self, value: &str) {
        self.update_bytes(value.as_bytes());
    }

    /// Appends one value's bytes.
    pub fn update_bytes(&mut self, value: &[u8]) {
        self.md5.update(value);
    }

    /// The lowercase hex digest.
    pub fn finish(self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = self.md5.finalize();
        let mut out = String::with_capacity(32);
        for byte in digest.iter() {
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        }
        out
    }
}

/// MD5 over the concatenation of `values`.
pub fn hash_values<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Md5Hasher::default();
    for value in values {
        hasher.update(value);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_nothing_gives_the_fallback_hash() {
        assert_eq!(hash_values([]), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn values_are_concatenated_without_separator() {
        assert_eq!(hash_values(["fo", "o"]), hash_values(["foo"]));
        // Across block boundaries, too.
        let parts = ["a".repeat(300), "b".repeat(300), "x".repeat(700), "c".into()];
        // md5 of the concatenation, computed independently.
        assert_eq!(hash_values(parts.iter().map(String::as_str)), "8051a207a7ee5a754345d518ab39a8bc");
    }
}
