//! Rule lookup: which rules can match a frame, without trying every rule on every frame.
//!
//! Matching every rule (~120 built-in ones, plus a project's) against every frame twice
//! dominated grouping time, although a frame typically matches none or one of them. A [`RuleSet`] therefore gives each rule one *anchor*,
//! a frame matcher that must hold for the rule to match (never a negated one, never one on the
//! caller or callee):
//!
//! | anchor | from | found by |
//! |---|---|---|
//! | field key | `function:`, `module:`, `path:`, `package:` glob | exact value (hash map), prefix (bucket by first byte), substring ([`Literals`], all keys in one pass) |
//! | category | `category:name` | only tried while some frame has that category |
//! | none | `app:`, `family:` only, globs without a literal | tried on every frame |
//!
//! Field keys come from [`Glob::requirements`]: every value the glob accepts equals, starts
//! with or contains one of them. Frame fields never change while rules run, so the candidate
//! `(rule, frame)` pairs are computed once per stack trace; categories and `in_app` do change,
//! so rules anchored on a category (or on nothing) are looked at in their turn. Every candidate
//! is then checked with the rule's full matchers, in rule order, so an index only ever skips
//! rules that cannot match: the outcome is that of trying every rule on every frame. Values
//! with non-ASCII characters make every rule anchored on that field a candidate (the globs'
//! case folding is only mirrored byte-exactly for ASCII).
//!
//! There is one index per family (`other`, `native`, `javascript`), so a Python frame never
//! looks at the native-only rules.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::grouping::glob::Requirement;

use super::literals::Literals;
use super::rules::{Families, Field, FrameTest, MatchFrame, Offset, Rule};

/// Rules in application order, with their index.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    index: RuleIndex,
}

#[derive(Debug, Clone, Default)]
struct RuleIndex {
    /// Field-anchored rules, per family slot (see [`family_slot`]).
    families: [FamilyIndex; 3],
    /// Rules looked at in their turn: position and the category they need, if any.
    dynamic: Vec<(usize, Option<String>)>,
}

/// The static frame fields, in [`FamilyIndex::fields`] order.
const FIELDS: [Field; 4] = [Field::Function, Field::Module, Field::Path, Field::Package];

#[derive(Debug, Clone, Default)]
struct FamilyIndex {
    fields: [FieldIndex; 4],
}

#[derive(Debug, Clone, Default)]
struct FieldIndex {
    /// Every rule anchored on this field (candidates for values the keys cannot vouch for).
    all: Vec<usize>,
    exact: HashMap<Box<str>, Vec<usize>, BuildHasherDefault<FxHasher>>,
    /// First bytes of the `exact` keys (a 256-bit set): most values are ruled out without hashing.
    exact_firsts: [u64; 4],
    /// Sorted by first byte; `prefix_offsets[b]..prefix_offsets[b + 1]` start with byte `b`.
    prefix: Vec<(Box<str>, usize)>,
    prefix_offsets: Vec<usize>,
    /// Substring keys, collected here and then searched for all at once.
    contains_keys: Vec<(Box<str>, usize)>,
    contains: Literals,
}

/// What a rule is found by.
enum Anchor<'r> {
    Field(Field, Vec<Requirement<'r>>),
    Category(&'r str),
    Scan,
    /// A non-negated matcher that can never hold: the rule matches nothing.
    Never,
}

/// How a rule is looked at when its turn comes.
#[derive(Clone, Copy)]
pub enum Visit<'c> {
    /// Only these `(rule, frame)` candidates can match.
    Candidates(&'c [(usize, usize)]),
    /// Any frame with this category can match.
    Category(&'c str),
    /// Any frame can match.
    Scan,
}

fn family_slot(family: Families) -> usize {
    (family.trailing_zeros() as usize).min(2)
}

fn anchor(rule: &Rule) -> Anchor<'_> {
    let mut best: Option<(u8, Anchor<'_>)> = None;
    for m in rule.frame_matchers.iter().filter(|m| !m.negated && m.offset == Offset::Frame) {
        let (field, pattern) = match &m.test {
            FrameTest::Field(field, pattern) => (*field, pattern),
            FrameTest::Never => return Anchor::Never,
            FrameTest::Family(_) | FrameTest::InApp(_) => continue,
        };
        let Some(glob) = pattern.glob() else {
            return Anchor::Never;
        };
        let requirements = glob.requirements(matches!(field, Field::Path | Field::Package));
        let (rank, candidate) = match (field, requirements.as_slice()) {
            (_, []) => continue,
            (Field::Category, [Requirement::Exact(name)]) => (1, Anchor::Category(name)),
            (Field::Category, _) => continue,
            (_, reqs) => {
                let weakest = reqs.iter().map(|r| match r {
                    Requirement::Exact(_) => 4,
                    Requirement::Prefix(_) => 3,
                    Requirement::Contains(_) => 2,
                });
                (weakest.min().unwrap_or(2), Anchor::Field(field, requirements))
            }
        };
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, candidate));
        }
    }
    best.map_or(Anchor::Scan, |(_, a)| a)
}

impl RuleSet {
    /// Indexes `rules` (kept in order).
    pub fn new(rules: Vec<Rule>) -> Self {
        let mut index = RuleIndex::default();
        for (pos, rule) in rules.iter().enumerate() {
            match anchor(rule) {
                Anchor::Field(field, requirements) => {
                    let slot = FIELDS.iter().position(|f| *f == field).unwrap_or_default();
                    for (bit, family) in index.families.iter_mut().enumerate() {
                        if rule.families & (1 << bit) != 0 {
                            family.fields[slot].add(&requirements, pos);
                        }
                    }
                }
                Anchor::Category(name) => index.dynamic.push((pos, Some(name.to_owned()))),
                Anchor::Scan => index.dynamic.push((pos, None)),
                Anchor::Never => {}
            }
        }
        for family in &mut index.families {
            family.fields.iter_mut().for_each(FieldIndex::finish);
        }
        Self { rules, index }
    }

    /// The rules tried on every frame (anchored on nothing), in order.
    #[cfg(test)]
    pub fn scanned(&self) -> impl Iterator<Item = &Rule> {
        self.index.dynamic.iter().filter(|(_, category)| category.is_none()).map(|(pos, _)| &self.rules[*pos])
    }

    /// `(rule position, frame index)` pairs whose anchor field matches, sorted, no duplicates.
    pub fn candidates(&self, frames: &[MatchFrame<'_>]) -> Vec<(usize, usize)> {
        let mut out = Vec::with_capacity(frames.len() * 2);
        for (idx, frame) in frames.iter().enumerate() {
            let [function, module, path, package] = &self.index.families[family_slot(frame.family)].fields;
            let mut emit = |pos| out.push((pos, idx));
            function.lookup(&frame.function, &mut emit);
            let others = [(module, frame.module), (path, frame.path.as_deref()), (package, frame.package.as_deref())];
            for (field, value) in others {
                if let Some(value) = value {
                    field.lookup(value, &mut emit);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Calls `visit` for every rule that may match, in rule order.
    pub fn walk<'s>(&'s self, candidates: &[(usize, usize)], mut visit: impl FnMut(&'s Rule, Visit<'_>)) {
        let (mut c, mut d) = (0, 0);
        let dynamic = &self.index.dynamic;
        loop {
            let static_first = match (candidates.get(c), dynamic.get(d)) {
                (None, None) => break,
                (Some((pos, _)), Some((dynamic_pos, _))) => pos < dynamic_pos,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            if static_first {
                let pos = candidates[c].0;
                let run = candidates[c..].iter().take_while(|(p, _)| *p == pos).count();
                visit(&self.rules[pos], Visit::Candidates(&candidates[c..c + run]));
                c += run;
            } else {
                let (pos, category) = &dynamic[d];
                visit(&self.rules[*pos], category.as_deref().map_or(Visit::Scan, Visit::Category));
                d += 1;
            }
        }
    }
}

/// Frames of `frames` that `rule` matches when visited as `how`, in frame order; `categories`
/// holds (at least) every category some frame has.
pub fn hits(rule: &Rule, how: Visit<'_>, frames: &[MatchFrame<'_>], categories: &[&str], out: &mut Vec<usize>) {
    out.clear();
    match how {
        Visit::Candidates(pairs) => {
            out.extend(pairs.iter().map(|(_, idx)| *idx).filter(|&idx| rule.matches_frame(frames, idx)));
        }
        Visit::Category(name) if !categories.contains(&name) => {}
        Visit::Category(_) | Visit::Scan => {
            out.extend((0..frames.len()).filter(|&idx| rule.matches_frame(frames, idx)));
        }
    }
}

impl FieldIndex {
    fn add(&mut self, requirements: &[Requirement<'_>], pos: usize) {
        self.all.push(pos);
        for requirement in requirements {
            match *requirement {
                Requirement::Exact(key) => {
                    let first = key.as_bytes().first().copied().unwrap_or_default();
                    self.exact_firsts[usize::from(first / 64)] |= 1 << (first % 64);
                    self.exact.entry(key.into()).or_default().push(pos);
                }
                Requirement::Prefix(key) => self.prefix.push((key.into(), pos)),
                Requirement::Contains(key) => self.contains_keys.push((key.into(), pos)),
            }
        }
    }

    fn finish(&mut self) {
        self.prefix.sort_by_key(|(key, _)| key.as_bytes()[0]);
        self.contains = Literals::new(std::mem::take(&mut self.contains_keys));
        if !self.prefix.is_empty() {
            self.prefix_offsets =
                (0..=256).map(|b| self.prefix.partition_point(|(key, _)| usize::from(key.as_bytes()[0]) < b)).collect();
        }
    }

    /// Emits the rules whose key `value` satisfies (possibly more than once).
    fn lookup(&self, value: &str, emit: &mut impl FnMut(usize)) {
        if self.all.is_empty() {
            return;
        }
        if !value.is_ascii() {
            self.all.iter().for_each(|&pos| emit(pos));
            return;
        }
        let bytes = value.as_bytes();
        let first = bytes.first().copied().unwrap_or_default();
        if self.exact_firsts[usize::from(first / 64)] & (1 << (first % 64)) != 0
            && let Some(list) = self.exact.get(value)
        {
            list.iter().for_each(|&pos| emit(pos));
        }
        if let (Some(&first), false) = (bytes.first(), self.prefix.is_empty()) {
            let range = self.prefix_offsets[usize::from(first)]..self.prefix_offsets[usize::from(first) + 1];
            for (key, pos) in &self.prefix[range] {
                if bytes.starts_with(key.as_bytes()) {
                    emit(*pos);
                }
            }
        }
        self.contains.find(bytes, emit);
    }
}

/// A small multiplicative hasher for the short keys of the exact-value maps.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut tail = [0; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(tail));
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
