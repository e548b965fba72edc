//! Finding which of a set of literals occur in a string, in one pass that mostly skips.
//!
//! This is the Wu–Manber algorithm with two-byte blocks: with `m` the length of the shortest
//! literal, a window of `m` bytes slides over the text and the two bytes at its end say how far
//! it can move without passing the end of any literal's first `m` bytes (up to `m - 1`). Only
//! where that distance is 0 are the literals ending their first `m` bytes in that block
//! compared. Shift distances are kept per hashed block; a collision only shortens a shift, so
//! nothing is missed. Paths are scanned for keys like `site-packages/` a few bytes at a time.

/// Literals (each with a payload) to look for.
#[derive(Debug, Clone, Default)]
pub struct Literals {
    /// `(literal, payload)`; every literal has at least two bytes.
    entries: Vec<(Box<str>, usize)>,
    /// The shortest literal's length (at most 255), 0 while empty.
    window: usize,
    /// How far the window may move, per hashed block at its end.
    shift: Vec<u8>,
    /// `(hashed block, entry)` for the block ending each literal's first `window` bytes, sorted.
    ends: Vec<(u16, usize)>,
}

const SLOTS: usize = 4096;

fn block(a: u8, b: u8) -> u16 {
    ((u16::from(a) << 5) ^ u16::from(b)) & (SLOTS as u16 - 1)
}

impl Literals {
    /// Builds the search for `entries` (literals shorter than two bytes are not allowed).
    pub fn new(entries: Vec<(Box<str>, usize)>) -> Self {
        let Some(window) = entries.iter().map(|(l, _)| l.len().min(255)).min() else {
            return Self::default();
        };
        debug_assert!(window >= 2, "literals need two bytes");
        let mut shift = vec![u8::try_from(window - 1).unwrap_or(u8::MAX); SLOTS];
        let mut ends = Vec::with_capacity(entries.len());
        for (idx, (literal, _)) in entries.iter().enumerate() {
            let bytes = &literal.as_bytes()[..window];
            for j in 1..window {
                let slot = usize::from(block(bytes[j - 1], bytes[j]));
                shift[slot] = shift[slot].min(u8::try_from(window - 1 - j).unwrap_or(u8::MAX));
            }
            ends.push((block(bytes[window - 2], bytes[window - 1]), idx));
        }
        ends.sort_unstable();
        Self { entries, window, shift, ends }
    }

    /// Calls `found` with the payload of every literal occurring in `text` (once per occurrence).
    pub fn find(&self, text: &[u8], mut found: impl FnMut(usize)) {
        let m = self.window;
        if m == 0 || text.len() < m {
            return;
        }
        let mut end = m - 1;
        while end < text.len() {
            let hashed = block(text[end - 1], text[end]);
            let skip = usize::from(self.shift[usize::from(hashed)]);
            if skip > 0 {
                end += skip;
                continue;
            }
            let start = end + 1 - m;
            let first = self.ends.partition_point(|(h, _)| *h < hashed);
            for &(_, idx) in self.ends[first..].iter().take_while(|(h, _)| *h == hashed) {
                let (literal, payload) = &self.entries[idx];
                if text[start..].starts_with(literal.as_bytes()) {
                    found(*payload);
                }
            }
            end += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence, found the slow way.
    fn naive(literals: &[&str], text: &str) -> Vec<usize> {
        let mut out: Vec<usize> = (0..text.len())
            .flat_map(|p| {
                literals.iter().enumerate().filter(move |(_, l)| text.as_bytes()[p..].starts_with(l.as_bytes()))
            })
            .map(|(i, _)| i)
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn every_occurrence_of_every_literal_is_found() {
        let sets: [&[&str]; 3] = [
            &["site-packages/", "vendor/", "newrelic", "https://unpkg.com", "go/pkg/mod/"],
            &["ab", "abab", "ba", "bab"],
            &["::Impl::ExecCheckImplInternal", "CUDA", "<lambda>", "_block_invoke"],
        ];
        let texts = [
            "/usr/lib/python3.12/site-packages/lib0/core.py",
            "vendor/x/vendor/xnewrelicx/https://unpkg.com/go/pkg/mod/",
            "ababab babbab",
            "a",
            "",
            "x::Impl::ExecCheckImplInternal<lambda>CUDA_block_invoke_2",
        ];
        let mut seed = 7_u64;
        let mut random = Vec::new();
        for _ in 0..500 {
            let len = (seed % 40) as usize;
            let text: String = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    b"ab/sitevnr-"[(seed >> 33) as usize % 11] as char
                })
                .collect();
            random.push(text);
        }
        for literals in sets {
            let search = Literals::new(literals.iter().enumerate().map(|(i, l)| (Box::from(*l), i)).collect());
            for text in texts.iter().copied().chain(random.iter().map(String::as_str)) {
                let mut got = Vec::new();
                search.find(text.as_bytes(), |i| got.push(i));
                got.sort_unstable();
                assert_eq!(got, naive(literals, text), "{text}");
            }
        }
    }
}
