//! Matchers of fingerprint rules and the event items they are tested against.
//!
//! | key (aliases) | bucket | tested against | matching |
//! |---|---|---|---|
//! | `error.type` (`type`) | exceptions | each exception type | glob |
//! | `error.value` (`value`) | exceptions | each exception value | glob, any case |
//! | `message` | toplevel | log message and exception values | glob, any case |
//! | `logger`, `level` | log_info | event logger / level | glob (level any case) |
//! | `stack.function`, `stack.module` | frames | each frame | glob |
//! | `stack.abs_path`, `stack.package` | frames | each frame | path glob |
//! | `family`, `sdk` | family / sdk | event platform family / SDK name | list, `all` |
//! | `app` | frames | frame `in_app` | `yes`/`no` |
//! | `release` | release | event release | path glob |
//! | `tags.<name>` | tags | that tag | glob |
//! | `thread.id/name/state/crashed/current` | threads | each thread | glob / bool |

use regex::Regex;
use serde_json::Value;

use crate::grouping::event::str_at;
use crate::grouping::functions::family_for_platform;
use crate::grouping::glob::{self, GlobKind};
use crate::grouping::prepared::PreparedEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Type,
    Value,
    Message,
    Logger,
    Level,
    Function,
    Module,
    Path,
    Package,
    Family,
    App,
    Sdk,
    Release,
    Tag,
    ThreadId,
    ThreadName,
    ThreadState,
    ThreadCrashed,
    ThreadCurrent,
}

/// One `key:pattern` condition.
#[derive(Debug, Clone)]
pub struct Matcher {
    key: Key,
    tag: String,
    pattern: String,
    negated: bool,
    glob: Option<Regex>,
}

/// One thing a matcher can look at (an exception, a frame, the tags, …).
#[derive(Debug, Clone, Default)]
pub struct Item {
    ty: Option<String>,
    value: Option<String>,
    message: Option<String>,
    function: Option<String>,
    abs_path: Option<String>,
    filename: Option<String>,
    module: Option<String>,
    package: Option<String>,
    app: Option<bool>,
    logger: Option<String>,
    level: Option<String>,
    sdk: Option<String>,
    family: Option<String>,
    release: Option<String>,
    tags: Vec<(String, String)>,
    thread_id: Option<String>,
    thread_name: Option<String>,
    thread_state: Option<String>,
    thread_crashed: Option<bool>,
    thread_current: Option<bool>,
}

/// Items per bucket, built on first use (a handful of buckets: a list beats hashing).
#[derive(Default)]
pub struct Values(Vec<(&'static str, Vec<Item>)>);

fn bool_from_string(value: &str) -> Option<bool> {
    match value.to_lowercase().as_str() {
        "1" | "yes" | "true" => Some(true),
        "0" | "no" | "false" => Some(false),
        _ => None,
    }
}

impl Matcher {
    /// A matcher for `key` (with aliases); unknown keys are an error.
    pub fn new(key: &str, pattern: &str, negated: bool) -> Result<Self, String> {
        let (key, tag) = match key {
            "error.type" | "type" => (Key::Type, ""),
            "error.value" | "value" => (Key::Value, ""),
            "message" => (Key::Message, ""),
            "logger" => (Key::Logger, ""),
            "level" => (Key::Level, ""),
            "stack.function" | "function" => (Key::Function, ""),
            "stack.module" | "module" => (Key::Module, ""),
            "stack.abs_path" | "path" => (Key::Path, ""),
            "stack.package" | "package" => (Key::Package, ""),
            "family" => (Key::Family, ""),
            "app" => (Key::App, ""),
            "sdk" => (Key::Sdk, ""),
            "release" => (Key::Release, ""),
            "thread.id" => (Key::ThreadId, ""),
            "thread.name" => (Key::ThreadName, ""),
            "thread.state" => (Key::ThreadState, ""),
            "thread.crashed" => (Key::ThreadCrashed, ""),
            "thread.current" => (Key::ThreadCurrent, ""),
            other => match other.strip_prefix("tags.") {
                Some(tag) => (Key::Tag, tag),
                None => return Err(format!("unknown matcher `{other}`")),
            },
        };
        let kind = match key {
            Key::Path | Key::Package | Key::Release => Some(GlobKind::Path),
            Key::Value | Key::Message | Key::Level | Key::ThreadId | Key::ThreadName | Key::ThreadState => {
                Some(GlobKind::Text { ignore_case: true })
            }
            Key::Family | Key::Sdk | Key::App | Key::ThreadCrashed | Key::ThreadCurrent => None,
            _ => Some(GlobKind::Text { ignore_case: false }),
        };
        let glob = match kind {
            Some(kind) => Some(glob::compile(pattern, kind)?),
            None => None,
        };
        Ok(Self { key, tag: tag.to_owned(), pattern: pattern.to_owned(), negated, glob })
    }

    /// Which bucket of items this matcher looks at.
    pub fn bucket(&self) -> &'static str {
        match self.key {
            Key::Message => "toplevel",
            Key::Logger | Key::Level => "log_info",
            Key::Type | Key::Value => "exceptions",
            Key::Tag => "tags",
            Key::Sdk => "sdk",
            Key::Family => "family",
            Key::Release => "release",
            Key::ThreadId | Key::ThreadName | Key::ThreadState | Key::ThreadCrashed | Key::ThreadCurrent => "threads",
            _ => "frames",
        }
    }

    pub fn matches(&self, item: &Item) -> bool {
        self.positive(item) != self.negated
    }

    /// [`Matcher::matches`] for the item of the `family` bucket, without building it.
    pub fn matches_family(&self, family: &str) -> bool {
        let positive = match self.key {
            Key::Family => self.list_match(Some(family)),
            _ => false,
        };
        positive != self.negated
    }

    fn glob_match(&self, value: Option<&str>) -> bool {
        match (&self.glob, value) {
            (Some(glob), Some(value)) => glob.is_match(value),
            _ => false,
        }
    }

    fn path_match(&self, value: Option<&str>) -> bool {
        let Some(value) = value else {
            return false;
        };
        let value = value.replace('\\', "/");
        self.glob_match(Some(&value)) || (!value.starts_with('/') && self.glob_match(Some(&format!("/{value}"))))
    }

    fn list_match(&self, value: Option<&str>) -> bool {
        value.is_some_and(|v| self.pattern.split(',').any(|p| p == "all" || p == v))
    }

    fn positive(&self, item: &Item) -> bool {
        match self.key {
            Key::Path => {
                self.path_match(opt(&item.abs_path))
                    || (item.filename != item.abs_path && self.path_match(opt(&item.filename)))
            }
            Key::Message => self.glob_match(opt(&item.message)) || self.glob_match(opt(&item.value)),
            Key::Package => self.path_match(opt(&item.package)),
            Key::Release => self.path_match(opt(&item.release)),
            Key::Family => self.list_match(opt(&item.family)),
            Key::Sdk => self.list_match(opt(&item.sdk)),
            Key::App => item.app.is_some() && item.app == bool_from_string(&self.pattern),
            Key::ThreadCrashed => {
                item.thread_crashed.is_some() && item.thread_crashed == bool_from_string(&self.pattern)
            }
            Key::ThreadCurrent => {
                item.thread_current.is_some() && item.thread_current == bool_from_string(&self.pattern)
            }
            Key::Type => self.glob_match(opt(&item.ty)),
            Key::Value => self.glob_match(opt(&item.value)),
            Key::Logger => self.glob_match(opt(&item.logger)),
            Key::Level => self.glob_match(opt(&item.level)),
            Key::Function => self.glob_match(opt(&item.function)),
            Key::Module => self.glob_match(opt(&item.module)),
            Key::ThreadId => self.glob_match(opt(&item.thread_id)),
            Key::ThreadName => self.glob_match(opt(&item.thread_name)),
            Key::ThreadState => self.glob_match(opt(&item.thread_state)),
            Key::Tag => {
                let value = item.tags.iter().find(|(k, _)| *k == self.tag).map(|(_, v)| v.as_str());
                self.glob_match(value)
            }
        }
    }
}

fn opt(v: &Option<String>) -> Option<&str> {
    v.as_deref()
}

fn owned(v: Option<&str>) -> Option<String> {
    v.map(str::to_owned)
}

/// The items of `bucket` for `event` (cached in `cache`).
pub fn bucket_items<'c>(bucket: &'static str, event: &PreparedEvent<'_>, cache: &'c mut Values) -> &'c [Item] {
    let idx = match cache.0.iter().position(|(b, _)| *b == bucket) {
        Some(idx) => idx,
        None => {
            cache.0.push((bucket, build(bucket, event)));
            cache.0.len() - 1
        }
    };
    &cache.0[idx].1
}

fn exception_items(event: &PreparedEvent<'_>) -> Vec<Item> {
    event
        .exceptions
        .iter()
        .map(|e| Item {
            ty: owned(str_at(e.raw, "type")),
            value: owned(str_at(e.raw, "value").map(str::trim)),
            ..Item::default()
        })
        .collect()
}

fn build(bucket: &str, event: &PreparedEvent<'_>) -> Vec<Item> {
    let view = event.view;
    match bucket {
        "exceptions" => exception_items(event),
        "toplevel" => {
            let message = view.logentry().and_then(|l| l.formatted).map(str::trim);
            let mut items: Vec<Item> =
                message.map(|m| Item { message: Some(m.to_owned()), ..Item::default() }).into_iter().collect();
            items.extend(exception_items(event));
            items
        }
        "frames" => event
            .all_frames()
            .map(|f| Item {
                function: Some(f.function.as_deref().unwrap_or("<unknown>").to_owned()),
                abs_path: owned(f.abs_path.or(f.filename.as_deref())),
                filename: owned(f.filename.as_deref()),
                module: owned(f.module),
                package: owned(f.package),
                app: Some(f.in_app),
                ..Item::default()
            })
            .collect(),
        "log_info" => {
            let (logger, level) = (view.str_field("logger"), view.str_field("level"));
            if logger.is_none() && level.is_none() {
                return Vec::new();
            }
            vec![Item { logger: owned(logger), level: owned(level), ..Item::default() }]
        }
        "tags" => vec![Item {
            tags: view.tags().into_iter().map(|(k, v)| (k.to_owned(), v.trim().to_owned())).collect(),
            ..Item::default()
        }],
        "sdk" => vec![Item { sdk: Some(view.sdk_name().unwrap_or("other").to_owned()), ..Item::default() }],
        "family" => vec![Item { family: Some(family_for_platform(event.platform).to_owned()), ..Item::default() }],
        "release" => vec![Item { release: owned(view.str_field("release").map(str::trim)), ..Item::default() }],
        "threads" => event
            .threads
            .iter()
            .flatten()
            .map(|t| {
                let flag = |k| t.raw.get(k).and_then(Value::as_bool);
                Item {
                    thread_id: t.raw.get("id").map(|id| match id {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }),
                    thread_name: owned(str_at(t.raw, "name")),
                    thread_state: owned(str_at(t.raw, "state")),
                    thread_crashed: flag("crashed"),
                    thread_current: flag("current"),
                    ..Item::default()
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}
