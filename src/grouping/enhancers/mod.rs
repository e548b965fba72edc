//! Stack-trace rules ("grouping enhancements"): decide which frames are in-app and which count.
//!
//! Rules run in two passes over each stack trace, built-in rules first, then project rules,
//! later rules overriding earlier ones:
//!
//! 1. **modifiers** (while normalizing the event): `+app`/`-app` set `in_app`, `category=`
//!    labels frames for later rules. Frames still undecided afterwards become `in_app = false`.
//! 2. **updaters** (while building each variant's stack trace): `+group`/`-group` switch frame
//!    contribution, `max-frames`/`min-frames` trim or discard the stack trace.
//!
//! ```text
//! family:native function:std::*            -app
//! family:native function:__cxa_throw       ^-group -group ^-app -app
//! stack.function:wrapped_view              ^-group -group        # project rule
//! ```
//!
//! Both passes only look at the frames ([`MatchFrame`]) and the enclosing exception
//! ([`ExceptionData`]); they never read the component tree, so the matches of pass 2 are
//! computed once and replayed for the app and the system variant.
//!
//! Rules are not tried one by one on every frame: a [`RuleSet`] (built once for the built-in
//! rules, once per [`Enhancements::parse`] for a project's) indexes them by what their globs
//! require of a frame's function, module, path or package, so each frame is looked up once and
//! only candidate rules are checked, still in rule order (see `index.rs`; `literals.rs` finds
//! all substring keys of a path in one pass).

mod builtin;
mod index;
mod literals;
mod parse;
mod rules;

pub use rules::{ExceptionData, MatchFrame, Rule};
pub(crate) use rules::{FAMILY_JAVASCRIPT, FAMILY_NATIVE, FAMILY_OTHER, Families};

use crate::grouping::RuleError;
use crate::grouping::text::Text;
pub(crate) use index::RuleSet;
use rules::{Action, Flag, RuleHint};

/// A project's stack-trace rules (the built-in rules are always applied first).
#[derive(Debug, Clone, Default)]
pub struct Enhancements {
    project: RuleSet,
}

impl Enhancements {
    /// Parses rules in Sentry's stack-trace rule syntax, one per line.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        Ok(Self { project: RuleSet::new(parse::parse_rules(text, false)?) })
    }

    /// The project rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.project.rules
    }

    /// The built-in rules, then these rules: applying both sets one after the other is
    /// applying their concatenation.
    pub(crate) fn rule_sets(&self) -> [&RuleSet; 2] {
        [builtin::rules(), &self.project]
    }
}

/// Pass 1: applies the `+app`/`-app` and `category=` rules of `set` to `frames` in place
/// (`candidates`: from [`RuleSet::candidates`] for these frames; `present`: their families).
pub(crate) fn apply_modifiers<'a>(
    set: &'a RuleSet,
    candidates: &[(usize, usize)],
    frames: &mut [MatchFrame<'a>],
    exception: &ExceptionData<'_>,
    present: Families,
) {
    let mut categories: Vec<&'a str> = frames.iter().filter_map(|f| f.category).collect();
    let mut hits = Vec::with_capacity(frames.len());
    set.walk(candidates, |rule, how| {
        if !rule.has_modifier() || rule.families & present == 0 || !rule.matches_exception(exception) {
            return;
        }
        index::hits(rule, how, frames, &categories, &mut hits);
        for &idx in &hits {
            for action in &rule.actions {
                match action {
                    Action::Flag { range, value, flag: Flag::App } => {
                        for t in Action::targets(*range, idx, frames.len()) {
                            frames[t].in_app = Some(*value);
                        }
                    }
                    Action::Category(category) => {
                        frames[idx].category = Some(category.as_str());
                        if !categories.contains(&category.as_str()) {
                            categories.push(category.as_str());
                        }
                    }
                    _ => {}
                }
            }
        }
    });
}

/// Appends the `(rule, frame index)` pairs of pass 2 for `set` to `out`, in application order.
pub(crate) fn updater_matches<'r>(
    set: &'r RuleSet,
    candidates: &[(usize, usize)],
    frames: &[MatchFrame<'_>],
    exception: &ExceptionData<'_>,
    present: Families,
    out: &mut Vec<(&'r Rule, usize)>,
) {
    let mut categories: Vec<&str> = Vec::new();
    for category in frames.iter().filter_map(|f| f.category) {
        if !categories.contains(&category) {
            categories.push(category);
        }
    }
    let mut hits = Vec::with_capacity(frames.len());
    set.walk(candidates, |rule, how| {
        if !rule.has_updater() || rule.families & present == 0 || !rule.matches_exception(exception) {
            return;
        }
        index::hits(rule, how, frames, &categories, &mut hits);
        out.extend(hits.iter().map(|&idx| (rule, idx)));
    });
}

/// A frame's contribution as pass 2 sees and changes it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Contribution {
    pub contributes: bool,
    pub hint: Option<Text>,
}

/// Pass 2 outcome for the whole stack trace.
pub(crate) struct Assembled {
    pub contributes: bool,
    pub hint: Option<Text>,
}

/// Pass 2: replays `matches` on one variant's frame contributions.
pub(crate) fn assemble(
    matches: &[(&Rule, usize)],
    frames: &[MatchFrame<'_>],
    frame_contributions: &mut [Contribution],
) -> Assembled {
    let mut max_frames: Option<(usize, &Rule)> = None;
    let mut min_frames: Option<(usize, &Rule)> = None;
    let len = frame_contributions.len();
    for &(rule, idx) in matches {
        for action in &rule.actions {
            match action {
                Action::Flag { range, value, flag: Flag::Group } => {
                    for t in Action::targets(*range, idx, len) {
                        let c = &mut frame_contributions[t];
                        if c.contributes != *value {
                            c.contributes = *value;
                            c.hint = Some(rule.hint(if *value { RuleHint::Unignored } else { RuleHint::Ignored }));
                        }
                    }
                }
                Action::Flag { range, value, flag: Flag::App } => {
                    for t in Action::targets(*range, idx, len) {
                        let frame = &frames[t];
                        let changed = match frame.orig_in_app {
                            Some(orig) => orig != frame.in_app,
                            None => frame_contributions[t].contributes == *value,
                        };
                        if changed {
                            let hint = if frame.in_app == Some(true) { RuleHint::InApp } else { RuleHint::OutOfApp };
                            frame_contributions[t].hint = Some(rule.hint(hint));
                        }
                    }
                }
                Action::MaxFrames(n) => max_frames = Some((*n, rule)),
                Action::MinFrames(n) => min_frames = Some((*n, rule)),
                Action::InvertStacktrace(_) | Action::Category(_) => {}
            }
        }
    }
    if let Some((max, rule)) = max_frames.filter(|(n, _)| *n > 0) {
        let what = if max == 1 { "frame is" } else { "frames are" };
        let hint = Text::from(format!(
            "ignored because only {max} {what} considered by {} stack trace rule ({rule})",
            rule.origin()
        ));
        for c in frame_contributions.iter_mut().rev().filter(|c| c.contributes).skip(max) {
            c.contributes = false;
            c.hint = Some(hint.clone());
        }
    }
    let total = frame_contributions.iter().filter(|c| c.contributes).count();
    match min_frames {
        Some((min, rule)) if total > 0 && total < min => Assembled {
            contributes: false,
            hint: Some(Text::from(format!(
                "discarded because stack trace only contains {total} frame{} which is under the configured threshold by {} stack trace rule ({rule})",
                if total == 1 { "" } else { "s" },
                rule.origin()
            ))),
        },
        _ => Assembled { contributes: total > 0, hint: None },
    }
}

#[cfg(test)]
mod tests;
