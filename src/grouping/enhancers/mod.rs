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

mod builtin;
mod parse;
mod rules;

pub use rules::{ExceptionData, MatchFrame, Rule};
pub(crate) use rules::{FAMILY_JAVASCRIPT, FAMILY_NATIVE, FAMILY_OTHER, Families};

use crate::grouping::RuleError;
use rules::{Action, Flag};

/// A project's stack-trace rules (the built-in rules are always applied first).
#[derive(Debug, Clone, Default)]
pub struct Enhancements {
    rules: Vec<Rule>,
}

impl Enhancements {
    /// Parses rules in Sentry's stack-trace rule syntax, one per line.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        Ok(Self {
            rules: parse::parse_rules(text, false)?,
        })
    }

    /// The project rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Built-in rules followed by these rules, keeping only those that can match `families`.
    pub(crate) fn effective(&self, families: Families) -> Vec<&Rule> {
        builtin::rules()
            .iter()
            .chain(&self.rules)
            .filter(|r| r.families & families != 0)
            .collect()
    }
}

/// Pass 1: applies `+app`/`-app` and `category=` to `frames` in place.
pub(crate) fn apply_modifiers<'a>(
    rules: &[&'a Rule],
    frames: &mut [MatchFrame<'a>],
    exception: &ExceptionData<'_>,
) {
    let mut hits = Vec::with_capacity(frames.len());
    for rule in rules.iter().filter(|r| r.has_modifier()) {
        if !rule.matches_exception(exception) {
            continue;
        }
        hits.extend((0..frames.len()).filter(|&idx| rule.matches_frame(frames, idx)));
        for idx in hits.drain(..) {
            for action in &rule.actions {
                match action {
                    Action::Flag {
                        range,
                        value,
                        flag: Flag::App,
                    } => {
                        for t in Action::targets(*range, idx, frames.len()) {
                            frames[t].in_app = Some(*value);
                        }
                    }
                    Action::Category(category) => frames[idx].category = Some(category.as_str()),
                    _ => {}
                }
            }
        }
    }
}

/// The `(rule, frame index)` pairs of pass 2, in application order.
pub(crate) fn updater_matches<'r>(
    rules: &[&'r Rule],
    frames: &[MatchFrame<'_>],
    exception: &ExceptionData<'_>,
) -> Vec<(&'r Rule, usize)> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| r.has_updater()) {
        if rule.matches_exception(exception) {
            out.extend(
                (0..frames.len())
                    .filter(|&idx| rule.matches_frame(frames, idx))
                    .map(|idx| (*rule, idx)),
            );
        }
    }
    out
}

/// A frame's contribution as pass 2 sees and changes it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Contribution {
    pub contributes: bool,
    pub hint: Option<String>,
}

/// Pass 2 outcome for the whole stack trace.
pub(crate) struct Assembled {
    pub contributes: bool,
    pub hint: Option<String>,
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
                Action::Flag {
                    range,
                    value,
                    flag: Flag::Group,
                } => {
                    for t in Action::targets(*range, idx, len) {
                        let c = &mut frame_contributions[t];
                        if c.contributes != *value {
                            c.contributes = *value;
                            let verb = if *value { "un-ignored" } else { "ignored" };
                            c.hint = Some(format!(
                                "{verb} by {} stack trace rule ({rule})",
                                rule.origin()
                            ));
                        }
                    }
                }
                Action::Flag {
                    range,
                    value,
                    flag: Flag::App,
                } => {
                    for t in Action::targets(*range, idx, len) {
                        let frame = &frames[t];
                        let changed = match frame.orig_in_app {
                            Some(orig) => orig != frame.in_app,
                            None => frame_contributions[t].contributes == *value,
                        };
                        if changed {
                            let state = if frame.in_app == Some(true) {
                                "in-app"
                            } else {
                                "out of app"
                            };
                            frame_contributions[t].hint = Some(format!(
                                "marked {state} by {} stack trace rule ({rule})",
                                rule.origin()
                            ));
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
        let mut seen = 0;
        for c in frame_contributions
            .iter_mut()
            .rev()
            .filter(|c| c.contributes)
        {
            seen += 1;
            if seen > max {
                let what = if max == 1 { "frame is" } else { "frames are" };
                c.contributes = false;
                c.hint = Some(format!(
                    "ignored because only {max} {what} considered by {} stack trace rule ({rule})",
                    rule.origin()
                ));
            }
        }
    }
    let total = frame_contributions.iter().filter(|c| c.contributes).count();
    match min_frames {
        Some((min, rule)) if total > 0 && total < min => Assembled {
            contributes: false,
            hint: Some(format!(
                "discarded because stack trace only contains {total} frame{} which is under the configured threshold by {} stack trace rule ({rule})",
                if total == 1 { "" } else { "s" },
                rule.origin()
            )),
        },
        _ => Assembled {
            contributes: total > 0,
            hint: None,
        },
    }
}

#[cfg(test)]
mod tests;
