//! Per-project grouping rules at ingest: a project's fingerprint rules and stack-trace rules (Sentry's
//! text syntax, edited under `/settings/{org}/projects/{project}/grouping/`) parsed into the
//! [`GroupingConfig`] that [`crate::grouping::calculate`] runs with.
//!
//! [`compile`] is the one place rule text becomes a config: the settings page uses it to refuse rules
//! that do not parse (with their line numbers), ingest and the issue page's grouping panel use it through
//! [`GroupingCache`], which keeps each project's parsed config for [`GROUPING_TTL`] and is invalidated
//! when the rules are saved, so no event waits on a query or a parse. Rules apply to events that arrive
//! after the save; stored events keep their issues.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::grouping::{Enhancements, FingerprintRules, GroupingConfig, RuleError};
use crate::store::{ProjectGrouping, Store, StoreResult};

/// How long a parsed config stays cached (other nodes see a change within this time).
pub const GROUPING_TTL: Duration = Duration::from_secs(30);
/// Largest rule text accepted per field.
pub const MAX_RULES_BYTES: usize = 64 * 1024;
/// Most lines accepted per field.
pub const MAX_RULES_LINES: usize = 1_000;

/// A problem with submitted rule text, for the settings page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    /// `Fingerprint rules` or `Stack-trace rules`.
    pub field: &'static str,
    /// 1-based line, if the problem is on one line.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

fn check_size(field: &'static str, text: &str) -> Result<(), RuleProblem> {
    if text.len() > MAX_RULES_BYTES || text.lines().count() > MAX_RULES_LINES {
        let message = format!("use at most {MAX_RULES_LINES} lines and {} KiB", MAX_RULES_BYTES / 1024);
        return Err(RuleProblem { field, line: None, message });
    }
    Ok(())
}

fn problem(field: &'static str, err: RuleError) -> RuleProblem {
    match err {
        RuleError::Syntax { line, message } => RuleProblem { field, line: Some(line), message },
    }
}

/// Parse a project's rules; every problem found (at most one per field, the first bad line).
pub fn compile(rules: &ProjectGrouping) -> Result<GroupingConfig, Vec<RuleProblem>> {
    const FP: &str = "Fingerprint rules";
    const ST: &str = "Stack-trace rules";
    let fingerprint = check_size(FP, &rules.fingerprint_rules)
        .and_then(|()| FingerprintRules::parse(&rules.fingerprint_rules).map_err(|e| problem(FP, e)));
    let enhancements = check_size(ST, &rules.stacktrace_rules)
        .and_then(|()| Enhancements::parse(&rules.stacktrace_rules).map_err(|e| problem(ST, e)));
    match (fingerprint, enhancements) {
        (Ok(fingerprint_rules), Ok(enhancements)) => Ok(GroupingConfig { fingerprint_rules, enhancements }),
        (a, b) => Err(a.err().into_iter().chain(b.err()).collect()),
    }
}

/// Parsed grouping configs per project, cached.
#[derive(Debug, Default)]
pub struct GroupingCache {
    entries: RwLock<HashMap<i64, (Arc<GroupingConfig>, Instant)>>,
}

impl GroupingCache {
    /// A project's grouping config, from memory when fresh, else from the store. Stored rules that no
    /// longer parse (a newer parser is stricter) fall back to the built-in rules, with an error logged.
    pub async fn get(&self, store: &Store, project_id: i64) -> StoreResult<Arc<GroupingConfig>> {
        let now = Instant::now();
        if let Ok(entries) = self.entries.read()
            && let Some((config, at)) = entries.get(&project_id)
            && now.duration_since(*at) < GROUPING_TTL
        {
            return Ok(config.clone());
        }
        let config = match store.find_project_grouping(project_id).await? {
            None => GroupingConfig::default(),
            Some(rules) => compile(&rules).unwrap_or_else(|problems| {
                let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
                tracing::error!(
                    project.id = project_id,
                    ?problems,
                    "stored grouping rules do not parse; using built-in rules"
                );
                GroupingConfig::default()
            }),
        };
        let config = Arc::new(config);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 100_000 {
                entries.clear();
            }
            entries.insert(project_id, (config.clone(), now));
        }
        Ok(config)
    }

    /// Forget a project's config (after its rules were saved).
    pub fn invalidate(&self, project_id: i64) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&project_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(fp: &str, st: &str) -> ProjectGrouping {
        ProjectGrouping { project_id: 1, fingerprint_rules: fp.into(), stacktrace_rules: st.into() }
    }

    #[test]
    fn valid_rules_compile_and_empty_rules_are_the_default() {
        assert!(compile(&rules("", "")).is_ok());
        let config =
            compile(&rules("# keys\nerror.type:KeyError -> keys\n", "stack.module:vendor.* -app")).expect("valid");
        assert_eq!(config.fingerprint_rules.rules().len(), 1);
        assert_eq!(config.enhancements.rules().len(), 1);
    }

    #[test]
    fn problems_name_the_field_and_line() {
        let problems = compile(&rules("error.type:KeyError -> keys\nthis is not a rule", "")).expect_err("invalid");
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].field, problems[0].line), ("Fingerprint rules", Some(2)));
        assert!(problems[0].to_string().starts_with("Fingerprint rules, line 2: "), "{}", problems[0]);
        let both = compile(&rules("nope", "\n\nstack.module:x +nonsense")).expect_err("invalid");
        assert_eq!(both.iter().map(|p| p.line).collect::<Vec<_>>(), [Some(1), Some(3)]);
        let huge = "a".repeat(MAX_RULES_BYTES + 1);
        assert_eq!(compile(&rules(&huge, "")).expect_err("invalid")[0].line, None);
    }
}
