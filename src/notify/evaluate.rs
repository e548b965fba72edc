//! Turning facts into messages: one evaluation pass, one transaction.
//!
//! A pass looks at two kinds of input:
//!
//! - **facts** the ingest transaction recorded (`alert_activity`: new issue, regression, reappeared),
//!   claimed with a lease so that exactly one evaluator consumes each;
//! - **touched issues**: those that received events since the last pass (handed over in memory by the
//!   batching writer after commit), for the frequency conditions, which depend on counts rather than on
//!   a single event and so need no durable record (the next event re-evaluates them).
//!
//! For each issue and each enabled rule of its project the verdict is reached cheapest test first:
//!
//! ```text
//! environment → filters (filterMatch) → fact conditions → interval (fired recently?) → counted conditions
//! ```
//!
//! Every verdict, fired or not, is stored with its reason for the issue page ("level warning is below
//! error", "not sent: already alerted 3 min ago (every 30 minutes)"). Fires carry their Slack payloads,
//! built now with the issue as it is now; the store queues them only if the rule has not fired for the
//! issue within its interval (checked again, atomically, in the commit).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::Touch;
use super::rules::{Condition, Filter, FilterMatch, LevelOp, Rule, level_name, level_rank};
use super::slack;
use crate::store::{
    ActivityKind, AlertActivity, AlertCommit, Fire, Issue, Millis, Project, RuleVerdict, Store, StoreResult,
};

/// How long an evaluator holds claimed facts.
const LEASE_SECS: i64 = 120;
/// Facts claimed per pass.
const BATCH: i64 = 500;
/// Counting stops here; a message then says "100000+ events".
const DISPLAY_CAP: i64 = 100_000;

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvaluationStats {
    /// Facts consumed.
    pub facts: u64,
    /// Verdicts written.
    pub verdicts: u64,
    /// Messages queued.
    pub queued: u64,
    /// Fires refused by the per-issue interval.
    pub suppressed: u64,
}

#[derive(Default)]
struct IssueWork {
    project_id: i64,
    facts: Vec<AlertActivity>,
    touch_event: Option<String>,
}

struct ProjectRules {
    project: Project,
    rules: Vec<(i64, Rule)>,
}

/// The event a verdict is about (filters look at it).
#[derive(Debug, Clone, Default)]
struct EventFacts {
    environment: Option<String>,
    level: String,
    release: Option<String>,
    tags: Vec<(String, String)>,
}

/// One pass at time `now` as `worker`.
pub async fn run(
    store: &Store,
    public_url: &str,
    touched: HashMap<i64, Touch>,
    worker: &str,
    now: Millis,
) -> StoreResult<EvaluationStats> {
    let facts = store.claim_alert_activity(worker, now, now.plus_secs(LEASE_SECS), BATCH).await?;
    if facts.is_empty() && touched.is_empty() {
        return Ok(EvaluationStats::default());
    }
    let mut work: BTreeMap<i64, IssueWork> = BTreeMap::new();
    for fact in &facts {
        let entry = work.entry(fact.issue_id).or_default();
        entry.project_id = fact.project_id;
        entry.facts.push(fact.clone());
    }
    for (issue_id, touch) in touched {
        let entry = work.entry(issue_id).or_default();
        entry.project_id = touch.project_id;
        entry.touch_event = Some(touch.event_id);
    }
    let mut commit = AlertCommit {
        worker: worker.to_owned(),
        now,
        activity_ids: facts.iter().map(|f| f.id).collect(),
        verdicts: Vec::new(),
    };
    let mut projects: HashMap<i64, Option<ProjectRules>> = HashMap::new();
    for (issue_id, work) in work {
        if let std::collections::hash_map::Entry::Vacant(slot) = projects.entry(work.project_id) {
            slot.insert(load_rules(store, work.project_id).await?);
        }
        let Some(Some(ctx)) = projects.get(&work.project_id) else { continue };
        let relevant: Vec<&(i64, Rule)> =
            ctx.rules.iter().filter(|(_, r)| !work.facts.is_empty() || r.has_frequency_condition()).collect();
        if relevant.is_empty() {
            continue;
        }
        let Some(issue) = store.find_issue(issue_id).await? else { continue };
        if issue.status == "ignored" {
            // Silenced noise stays silent; its end is a fact of its own (`reappeared`).
            for (rule_id, _) in relevant {
                let reason = "not sent: the issue is ignored".to_owned();
                commit.verdicts.push(RuleVerdict { rule_id: *rule_id, issue_id, reason, fire: None });
            }
            continue;
        }
        let event_id = work.facts.iter().find_map(|f| f.event_id.clone()).or(work.touch_event.clone());
        let event = load_event(store, &issue, event_id.as_deref()).await?;
        let fires: HashMap<i64, Millis> = store.alert_fires_for_issue(issue_id).await?.into_iter().collect();
        for (rule_id, rule) in relevant {
            let judge = Judge { store, rule, issue: &issue, event: &event, facts: &work.facts, now };
            let verdict = match judge.verdict(fires.get(rule_id).copied()).await? {
                Ok(reason) => {
                    let messages = messages(store, ctx, rule, &issue, &event, &reason, public_url).await?;
                    let fire = Fire {
                        interval_minutes: rule.frequency_minutes,
                        messages,
                        activity_ids: work.facts.iter().map(|f| f.id).collect(),
                    };
                    RuleVerdict { rule_id: *rule_id, issue_id, reason, fire: Some(fire) }
                }
                Err(reason) => RuleVerdict { rule_id: *rule_id, issue_id, reason, fire: None },
            };
            commit.verdicts.push(verdict);
        }
    }
    let outcome = store.commit_alert_evaluation(&commit).await?;
    metrics::counter!("alerts_notifications_queued_total").increment(outcome.queued);
    Ok(EvaluationStats {
        facts: facts.len() as u64,
        verdicts: commit.verdicts.len() as u64,
        queued: outcome.queued,
        suppressed: outcome.suppressed,
    })
}

async fn load_rules(store: &Store, project_id: i64) -> StoreResult<Option<ProjectRules>> {
    let Some(project) = store.find_project_by_id(project_id).await? else { return Ok(None) };
    let mut rules = Vec::new();
    for row in store.list_alert_rules(project_id).await? {
        if !row.enabled {
            continue;
        }
        match Rule::from_row(&row) {
            Ok(rule) => rules.push((row.id, rule)),
            Err(err) => tracing::error!(rule.id = row.id, error = %err, "stored alert rule does not parse; skipped"),
        }
    }
    Ok(Some(ProjectRules { project, rules }))
}

/// The event's environment, level, release and tags; the issue's when the event is gone.
async fn load_event(store: &Store, issue: &Issue, event_id: Option<&str>) -> StoreResult<EventFacts> {
    let stored = match event_id {
        Some(id) => store.find_event(issue.project_id, id).await?,
        None => None,
    };
    let Some(event) = stored else {
        return Ok(EventFacts {
            level: issue.level.clone(),
            release: issue.last_release.clone(),
            ..EventFacts::default()
        });
    };
    let mut tags: Vec<(String, String)> = store
        .payload_json(&event.payload)
        .await
        .ok()
        .and_then(|payload| payload.get("tags").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|pair| Some((pair.get(0)?.as_str()?.to_owned(), pair.get(1)?.as_str()?.to_owned())))
        .collect();
    // Sentry matches these as tags too.
    for (key, value) in [
        ("level", Some(&event.level)),
        ("environment", event.environment.as_ref()),
        ("release", event.release.as_ref()),
    ] {
        if let Some(value) = value
            && !tags.iter().any(|(k, _)| k == key)
        {
            tags.push((key.to_owned(), value.clone()));
        }
    }
    Ok(EventFacts { environment: event.environment, level: event.level, release: event.release, tags })
}

struct Judge<'a> {
    store: &'a Store,
    rule: &'a Rule,
    issue: &'a Issue,
    event: &'a EventFacts,
    facts: &'a [AlertActivity],
    now: Millis,
}

impl Judge<'_> {
    /// `Ok(why it fires)` or `Err(why not)`.
    async fn verdict(&self, last_fired: Option<Millis>) -> StoreResult<Result<String, String>> {
        if let Some(wanted) = &self.rule.environment
            && self.event.environment.as_deref() != Some(wanted)
        {
            let seen = self.event.environment.as_deref().unwrap_or("not set");
            return Ok(Err(format!("filtered out: environment is {seen}, the rule wants {wanted}")));
        }
        if let Err(why) = self.filters() {
            return Ok(Err(format!("filtered out: {why}")));
        }
        let all = self.rule.action_match_all;
        let (mut met, mut unmet) = (Vec::new(), Vec::new());
        for condition in &self.rule.conditions {
            let fact = |kind: ActivityKind| self.facts.iter().find(|f| ActivityKind::parse(&f.kind) == Some(kind));
            match condition {
                Condition::FirstSeen => match fact(ActivityKind::New) {
                    Some(_) => met.push("new issue".to_owned()),
                    None => unmet.push("not a new issue".to_owned()),
                },
                Condition::Regression => match fact(ActivityKind::Regression) {
                    Some(f) => {
                        met.push(f.release.as_ref().map_or("regressed".to_owned(), |r| format!("regressed in {r}")))
                    }
                    None => unmet.push("not a regression".to_owned()),
                },
                Condition::Reappeared => match fact(ActivityKind::Reappeared) {
                    Some(_) => met.push("reappeared: its ignore condition ended".to_owned()),
                    None => unmet.push("did not reappear".to_owned()),
                },
                Condition::EventFrequency { .. } | Condition::UniqueUsers { .. } => {}
            }
        }
        if all && let Some(why) = unmet.first() {
            return Ok(Err(format!("condition not met: {why}")));
        }
        let interval_ms = self.rule.frequency_minutes.saturating_mul(60_000);
        if let Some(last) = last_fired
            && last.0 > self.now.0.saturating_sub(interval_ms)
        {
            return Ok(Err(format!(
                "not sent: already alerted {} ago (at most once every {})",
                span_text((self.now.0 - last.0).max(0) / 60_000),
                span_text(self.rule.frequency_minutes)
            )));
        }
        if all || met.is_empty() {
            for condition in &self.rule.conditions {
                match self.count(condition).await? {
                    Some(Ok(why)) => met.push(why),
                    Some(Err(why)) if all => return Ok(Err(format!("condition not met: {why}"))),
                    Some(Err(why)) => unmet.push(why),
                    None => {}
                }
            }
        }
        Ok(if met.is_empty() { Err(format!("condition not met: {}", unmet.join("; "))) } else { Ok(met.join(", ")) })
    }

    /// A counted condition: `Some(Ok(why))` if it holds, `Some(Err(why not))` if not, `None` for the others.
    async fn count(&self, condition: &Condition) -> StoreResult<Option<Result<String, String>>> {
        let (value, interval, users) = match condition {
            Condition::EventFrequency { value, interval } => (*value, interval, false),
            Condition::UniqueUsers { value, interval } => (*value, interval, true),
            _ => return Ok(None),
        };
        let since = Millis(self.now.0.saturating_sub(interval.minutes.saturating_mul(60_000)));
        let counted = |cap| async move {
            if users {
                self.store.count_issue_users_since(self.issue.id, since, cap).await
            } else {
                self.store.count_issue_events_since(self.issue.id, since, cap).await
            }
        };
        let n = counted(value.saturating_add(1)).await?;
        let noun = if users { "users" } else { "events" };
        if n <= value {
            return Ok(Some(Err(format!("{n} {noun} in {} (needs more than {value})", interval.text))));
        }
        let shown = counted(DISPLAY_CAP).await?;
        let shown = if shown >= DISPLAY_CAP { format!("{DISPLAY_CAP}+") } else { shown.to_string() };
        Ok(Some(Ok(format!("{shown} {noun} in {}", interval.text))))
    }

    /// `Err(why)` when the rule's filters reject the event.
    fn filters(&self) -> Result<(), String> {
        if self.rule.filters.is_empty() {
            return Ok(());
        }
        let results: Vec<Result<String, String>> = self.rule.filters.iter().map(|f| self.filter(f)).collect();
        match self.rule.filter_match {
            FilterMatch::All => results.into_iter().find_map(Result::err).map_or(Ok(()), Err),
            FilterMatch::Any if results.iter().any(Result::is_ok) => Ok(()),
            FilterMatch::Any => Err(format!("no filter matched ({})", errors(&results).join("; "))),
            FilterMatch::None => match results.into_iter().find_map(Result::ok) {
                Some(why) => Err(format!("a filter matched but the rule wants none to ({why})")),
                None => Ok(()),
            },
        }
    }

    /// `Ok(what matched)` or `Err(what did not)`.
    fn filter(&self, filter: &Filter) -> Result<String, String> {
        let pass = |ok: bool, text: String| if ok { Ok(text) } else { Err(text) };
        match filter {
            Filter::Level { op, level } => {
                let rank = level_rank(&self.event.level);
                let (ok, relation) = match op {
                    LevelOp::Eq => (rank == *level, if rank == *level { "is" } else { "is not" }),
                    LevelOp::Gte => (rank >= *level, if rank >= *level { "is at least" } else { "is below" }),
                    LevelOp::Lte => (rank <= *level, if rank <= *level { "is at most" } else { "is above" }),
                };
                pass(ok, format!("level {} {relation} {}", self.event.level, level_name(*level)))
            }
            Filter::Tagged { key, op, value } => {
                let actual = self.event.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
                let shown = actual.unwrap_or("not set");
                pass(op.test(actual, value), format!("tag {key} is {shown} (rule: {} {value})", op.text()))
            }
            Filter::Release { op, value } => {
                let actual = self.event.release.as_deref();
                let shown = actual.unwrap_or("not set");
                pass(op.test(actual, value), format!("release is {shown} (rule: {} {value})", op.text()))
            }
            Filter::Age { older, value, unit } => {
                let age = self.now.0 - self.issue.first_seen.0;
                let span = Filter::age_millis(*value, unit);
                let ok = if *older { age > span } else { age < span };
                let wanted = if *older { "older" } else { "newer" };
                pass(ok, format!("issue is {} old (rule: {wanted} than {value} {unit}s)", span_text(age / 60_000)))
            }
        }
    }
}

fn errors(results: &[Result<String, String>]) -> Vec<String> {
    results.iter().filter_map(|r| r.as_ref().err().cloned()).collect()
}

/// `3 minutes`, `2 hours`, `1 day`, `1 week`.
fn span_text(minutes: i64) -> String {
    let (n, unit) = match minutes {
        m if m >= 10_080 && m % 10_080 == 0 => (m / 10_080, "week"),
        m if m >= 1_440 && m % 1_440 == 0 => (m / 1_440, "day"),
        m if m >= 60 && m % 60 == 0 => (m / 60, "hour"),
        m => (m, "minute"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// One Slack message per webhook of the rule.
async fn messages(
    store: &Store,
    ctx: &ProjectRules,
    rule: &Rule,
    issue: &Issue,
    event: &EventFacts,
    reason: &str,
    public_url: &str,
) -> StoreResult<Vec<(String, String)>> {
    let tags = store.issue_top_tags(issue.id, 20).await?;
    let tags: Vec<_> =
        tags.into_iter().filter(|t| !matches!(t.key.as_str(), "level" | "environment" | "release" | "user")).collect();
    let body = slack::issue_message(&slack::Message {
        issue,
        project: &ctx.project,
        environment: event.environment.as_deref(),
        release: event.release.as_deref(),
        reason,
        rule_name: &rule.name,
        tags: &tags,
        public_url,
    })
    .to_string();
    Ok(rule.webhooks().map(|url| (url.to_owned(), body.clone())).collect())
}

#[cfg(test)]
mod tests {
    use super::span_text;

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span_text(1), "1 minute");
        assert_eq!(span_text(30), "30 minutes");
        assert_eq!(span_text(120), "2 hours");
        assert_eq!(span_text(1_440), "1 day");
        assert_eq!(span_text(10_080), "1 week");
    }
}
