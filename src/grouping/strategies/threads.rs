//! Threads → `threads { stacktrace }` for the one thread that matters.
//!
//! The crashed thread if exactly one crashed, else the current thread if exactly one is current,
//! else the only thread; with any other shape nothing contributes.

use serde_json::Value;

use crate::grouping::component::Component;
use crate::grouping::frames::Stack;

use super::stacktrace::stacktrace_variants;
use super::{APP, Variants};

/// One thread with its prepared stack trace (if it has one).
pub struct PreparedThread<'a> {
    pub raw: &'a Value,
    pub stack: Option<Stack<'a>>,
}

fn flag(thread: &PreparedThread<'_>, key: &str) -> bool {
    thread.raw.get(key).and_then(Value::as_bool) == Some(true)
}

/// The per-variant `threads` components.
pub fn threads_variants(threads: &[PreparedThread<'_>]) -> Variants {
    let crashed: Vec<_> = threads.iter().filter(|t| flag(t, "crashed")).collect();
    let current: Vec<_> = threads.iter().filter(|t| flag(t, "current")).collect();
    let all: Vec<_> = threads.iter().collect();
    for candidates in [&crashed, &current, &all] {
        if let [thread] = candidates[..] {
            let Some(stack) = &thread.stack else {
                let mut c = Component::empty("threads");
                c.ignore("ignored because thread has no stacktrace");
                return vec![(APP, c)];
            };
            return stacktrace_variants(stack)
                .into_iter()
                .map(|(name, st)| (name, Component::with_children("threads", vec![st])))
                .collect();
        }
    }
    let mut c = Component::empty("threads");
    c.ignore(format!(
        "ignored because it contains neither a single thread nor multiple threads with exactly one crashing or current thread; instead contains {} crashing, {} current, and {} total threads",
        crashed.len(),
        current.len(),
        threads.len()
    ));
    vec![(APP, c)]
}
