//! An event with every stack trace prepared for grouping (see [`crate::grouping::frames`]).

use serde_json::Value;

use crate::grouping::GroupingConfig;
use crate::grouping::enhancers::ExceptionData;
use crate::grouping::event::{EventView, str_at};
use crate::grouping::frames::{Frame, Stack};
use crate::grouping::strategies::exception::PreparedException;
use crate::grouping::strategies::threads::PreparedThread;

/// The event plus its normalized stack traces.
pub struct PreparedEvent<'a> {
    pub view: EventView<'a>,
    pub platform: &'a str,
    pub exceptions: Vec<PreparedException<'a>>,
    pub stacktrace: Option<Stack<'a>>,
    pub threads: Option<Vec<PreparedThread<'a>>>,
}

fn object_at<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| v.is_object())
}

impl<'a> PreparedEvent<'a> {
    /// Normalizes every stack trace of `event` with the rules of `config`.
    pub fn new(event: &'a Value, config: &'a GroupingConfig) -> Self {
        let view = EventView(event);
        let platform = view.platform();
        let no_exception = ExceptionData::default();
        let exceptions = view
            .exceptions()
            .into_iter()
            .map(|raw| {
                let data = ExceptionData {
                    ty: str_at(raw, "type"),
                    value: str_at(raw, "value"),
                    mechanism: raw.get("mechanism").and_then(|m| str_at(m, "type")),
                };
                PreparedException {
                    raw,
                    stack: object_at(raw, "stacktrace").map(|st| Stack::prepare(st, platform, &data, config)),
                }
            })
            .collect();
        let stacktrace = view.stacktrace().map(|st| Stack::prepare(st, platform, &no_exception, config));
        let threads = view.threads().map(|threads| {
            threads
                .into_iter()
                .map(|raw| PreparedThread {
                    raw,
                    stack: object_at(raw, "stacktrace").map(|st| Stack::prepare(st, platform, &no_exception, config)),
                })
                .collect()
        });
        Self { view, platform, exceptions, stacktrace, threads }
    }

    /// Every frame of the event: exceptions, then the top-level stack trace, then threads.
    pub fn all_frames(&self) -> impl Iterator<Item = &Frame<'a>> {
        let exceptions = self.exceptions.iter().filter_map(|e| e.stack.as_ref());
        let threads = self.threads.iter().flatten().filter_map(|t| t.stack.as_ref());
        exceptions.chain(self.stacktrace.as_ref()).chain(threads).flat_map(|s| s.frames.iter())
    }

    /// The frame closest to the crash: the last in-app frame of the crashing stack, else its
    /// last frame (last exception's stack, else the top-level one, else the only thread's).
    pub fn crash_frame(&self) -> Option<&Frame<'a>> {
        let stack = self
            .exceptions
            .last()
            .and_then(|e| e.stack.as_ref())
            .filter(|s| !s.frames.is_empty())
            .or(self.stacktrace.as_ref().filter(|s| !s.frames.is_empty()))
            .or(match self.threads.as_deref() {
                Some([only]) => only.stack.as_ref(),
                _ => None,
            })?;
        let frames = &stack.frames;
        frames.iter().rev().find(|f| f.in_app).or_else(|| frames.last())
    }
}
