//! Alert rules and their evaluation bookkeeping.
//!
//! The ingest transaction records *facts* (`alert_activity`: a new issue, a regression, a reappearance)
//! through [`alert_fns`]; nothing else happens on the ingest path. After commit an evaluator claims facts
//! with a lease ([`Backend::claim_alert_activity`]), reads what it needs, decides, and writes its verdicts
//! with [`Backend::commit_alert_evaluation`] in one transaction:
//!
//! ```text
//! DELETE the claimed facts (only if still ours: a lost lease drops the fires that rest on them)
//! per fire:  UPSERT alert_rule_fires … WHERE last_fired_at <= now - interval   ← the per-issue interval
//!            won → INSERT notification_outbox (one row per webhook)
//! per verdict: UPSERT alert_evaluations (fired?, why)
//! ```
//!
//! The conditional upsert is what makes "at most once per interval" hold with several evaluators on
//! PostgreSQL: a second writer of the same (rule, issue) row waits for the first and then sees its
//! `last_fired_at`.
//!
//! [`Backend::claim_alert_activity`]: crate::store::Backend::claim_alert_activity
//! [`Backend::commit_alert_evaluation`]: crate::store::Backend::commit_alert_evaluation

/// The columns of an [`crate::store::AlertRuleRow`].
macro_rules! rule_columns {
    () => {
        "id, project_id, name, enabled, environment, frequency_minutes, action_match, filter_match, conditions, filters, \
         actions, created_at, updated_at"
    };
}

/// Free functions over a transaction, expanded as module `alert_write` in each backend: the ingest
/// transaction calls [`record_outcome`] per stored event.
macro_rules! alert_fns {
    () => {
        mod alert_write {
        use super::Db;
        use $crate::store::{ActivityKind, IngestOutcome, Millis, NewEvent, StoreResult};

        /// Record the alert facts of one stored event: a new issue or a regression (nothing otherwise).
        pub(super) async fn record_outcome(
            tx: &mut sqlx::Transaction<'_, Db>,
            project_id: i64,
            issue_id: i64,
            outcome: &IngestOutcome,
            ev: &NewEvent,
            now: Millis,
        ) -> StoreResult<()> {
            let kind = if outcome.is_new {
                ActivityKind::New
            } else if outcome.is_regression {
                ActivityKind::Regression
            } else {
                return Ok(());
            };
            record_activity(tx, project_id, issue_id, kind, Some(&ev.event_id), ev.release.as_deref(), now).await
        }

        /// Record one fact for the evaluator.
        pub(super) async fn record_activity(
            tx: &mut sqlx::Transaction<'_, Db>,
            project_id: i64,
            issue_id: i64,
            kind: ActivityKind,
            event_id: Option<&str>,
            release: Option<&str>,
            now: Millis,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO alert_activity (project_id, issue_id, kind, event_id, release, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(project_id)
            .bind(issue_id)
            .bind(kind.as_str())
            .bind(event_id)
            .bind(release)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }
        }
    };
}

macro_rules! alerts {
    () => {
        async fn create_alert_rule(
            &self,
            project_id: i64,
            rule: &$crate::store::AlertRuleWrite,
            now: $crate::store::Millis,
        ) -> $crate::store::StoreResult<$crate::store::AlertRuleRow> {
            Ok(sqlx::query_as(concat!(
                "INSERT INTO alert_rules (project_id, name, enabled, environment, frequency_minutes, action_match, filter_match, \
                 conditions, filters, actions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
                 RETURNING ",
                $crate::store::ops::rule_columns!()
            ))
            .bind(project_id)
            .bind(&rule.name)
            .bind(rule.enabled)
            .bind(&rule.environment)
            .bind(rule.frequency_minutes)
            .bind(&rule.action_match)
            .bind(&rule.filter_match)
            .bind(&rule.conditions)
            .bind(&rule.filters)
            .bind(&rule.actions)
            .bind(now)
            .fetch_one(self.writer())
            .await?)
        }

        async fn list_alert_rules(&self, project_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::AlertRuleRow>> {
            Ok(sqlx::query_as(concat!("SELECT ", $crate::store::ops::rule_columns!(), " FROM alert_rules WHERE project_id = $1 ORDER BY id"))
                .bind(project_id)
                .fetch_all(self.reader())
                .await?)
        }

        async fn find_alert_rule(&self, id: i64) -> $crate::store::StoreResult<Option<$crate::store::AlertRuleRow>> {
            Ok(sqlx::query_as(concat!("SELECT ", $crate::store::ops::rule_columns!(), " FROM alert_rules WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.reader())
                .await?)
        }

        async fn update_alert_rule(
            &self,
            id: i64,
            rule: &$crate::store::AlertRuleWrite,
            now: $crate::store::Millis,
        ) -> $crate::store::StoreResult<$crate::store::AlertRuleRow> {
            Ok(sqlx::query_as(concat!(
                "UPDATE alert_rules SET name = $2, enabled = $3, environment = $4, frequency_minutes = $5, action_match = $6, \
                 filter_match = $7, conditions = $8, filters = $9, actions = $10, updated_at = $11 WHERE id = $1 RETURNING ",
                $crate::store::ops::rule_columns!()
            ))
            .bind(id)
            .bind(&rule.name)
            .bind(rule.enabled)
            .bind(&rule.environment)
            .bind(rule.frequency_minutes)
            .bind(&rule.action_match)
            .bind(&rule.filter_match)
            .bind(&rule.conditions)
            .bind(&rule.filters)
            .bind(&rule.actions)
            .bind(now)
            .fetch_one(self.writer())
            .await?)
        }

        async fn delete_alert_rule(&self, id: i64) -> $crate::store::StoreResult<()> {
            // Its fires, verdicts, queued messages and delivery log go with it (ON DELETE CASCADE).
            let done = sqlx::query("DELETE FROM alert_rules WHERE id = $1").bind(id).execute(self.writer()).await?;
            if done.rows_affected() == 0 {
                return Err($crate::store::StoreError::NotFound);
            }
            Ok(())
        }

        async fn record_alert_activity(
            &self,
            issue_id: i64,
            kind: $crate::store::ActivityKind,
            event_id: Option<&str>,
            release: Option<&str>,
            now: $crate::store::Millis,
        ) -> $crate::store::StoreResult<()> {
            let mut tx = self.begin_write().await?;
            let (project_id,): (i64,) =
                sqlx::query_as("SELECT project_id FROM issues WHERE id = $1").bind(issue_id).fetch_one(&mut *tx).await?;
            alert_write::record_activity(&mut tx, project_id, issue_id, kind, event_id, release, now).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn claim_alert_activity(
            &self,
            worker: &str,
            now: $crate::store::Millis,
            lease_until: $crate::store::Millis,
            limit: i64,
        ) -> $crate::store::StoreResult<Vec<$crate::store::AlertActivity>> {
            let sql = format!(
                "UPDATE alert_activity SET claimed_by = $1, locked_until = $2 \
                 WHERE id IN (SELECT id FROM alert_activity WHERE locked_until IS NULL OR locked_until < $3 \
                              ORDER BY id LIMIT $4{FOR_UPDATE_SKIP_LOCKED}) \
                 AND (locked_until IS NULL OR locked_until < $3) \
                 RETURNING id, project_id, issue_id, kind, event_id, release, created_at"
            );
            let mut claimed: Vec<$crate::store::AlertActivity> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(self.writer())
                .await?;
            claimed.sort_by_key(|a| a.id);
            Ok(claimed)
        }

        async fn alert_fires_for_issue(&self, issue_id: i64) -> $crate::store::StoreResult<Vec<(i64, $crate::store::Millis)>> {
            Ok(sqlx::query_as("SELECT rule_id, last_fired_at FROM alert_rule_fires WHERE issue_id = $1")
                .bind(issue_id)
                .fetch_all(self.reader())
                .await?)
        }

        async fn count_issue_events_since(
            &self,
            issue_id: i64,
            since: $crate::store::Millis,
            cap: i64,
        ) -> $crate::store::StoreResult<i64> {
            // Bounded: a rule asking "more than N" never needs to count past N + 1.
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM (SELECT 1 AS one FROM events WHERE issue_id = $1 AND timestamp >= $2 LIMIT $3) capped",
            )
            .bind(issue_id)
            .bind(since)
            .bind(cap)
            .fetch_one(self.reader())
            .await?;
            Ok(n)
        }

        async fn count_issue_users_since(
            &self,
            issue_id: i64,
            since: $crate::store::Millis,
            cap: i64,
        ) -> $crate::store::StoreResult<i64> {
            // A user whose latest event of the issue falls in the window was seen in the window.
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM (SELECT 1 AS one FROM issue_users WHERE issue_id = $1 AND last_seen >= $2 LIMIT $3) capped",
            )
            .bind(issue_id)
            .bind(since)
            .bind(cap)
            .fetch_one(self.reader())
            .await?;
            Ok(n)
        }

        async fn issue_top_tags(&self, issue_id: i64, limit: i64) -> $crate::store::StoreResult<Vec<$crate::store::TagValueCount>> {
            Ok(sqlx::query_as(
                "SELECT key, value, times_seen, first_seen, last_seen FROM issue_tag_values WHERE issue_id = $1 \
                 ORDER BY times_seen DESC, key, value LIMIT $2",
            )
            .bind(issue_id)
            .bind(limit)
            .fetch_all(self.reader())
            .await?)
        }

        async fn commit_alert_evaluation(
            &self,
            commit: &$crate::store::AlertCommit,
        ) -> $crate::store::StoreResult<$crate::store::AlertCommitOutcome> {
            fn minutes_text(minutes: i64) -> String {
                match minutes {
                    m if m % 10_080 == 0 => format!("{} week(s)", m / 10_080),
                    m if m % 1_440 == 0 => format!("{} day(s)", m / 1_440),
                    m if m % 60 == 0 => format!("{} hour(s)", m / 60),
                    m => format!("{m} minutes"),
                }
            }
            let mut out = $crate::store::AlertCommitOutcome::default();
            let mut tx = self.begin_write().await?;
            let mut lost = std::collections::HashSet::new();
            for id in &commit.activity_ids {
                let done = sqlx::query("DELETE FROM alert_activity WHERE id = $1 AND claimed_by = $2")
                    .bind(id)
                    .bind(&commit.worker)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    lost.insert(*id);
                }
            }
            for verdict in &commit.verdicts {
                let mut fired = false;
                let mut reason = verdict.reason.clone();
                if let Some(fire) = &verdict.fire {
                    if fire.activity_ids.iter().any(|id| lost.contains(id)) {
                        continue; // another evaluator owns these facts now
                    }
                    let cutoff = $crate::store::Millis(commit.now.0.saturating_sub(fire.interval_minutes.saturating_mul(60_000)));
                    let won = sqlx::query(
                        "INSERT INTO alert_rule_fires (rule_id, issue_id, last_fired_at) \
                         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM alert_rules WHERE id = $1 AND enabled) \
                         AND EXISTS (SELECT 1 FROM issues WHERE id = $2) \
                         ON CONFLICT (rule_id, issue_id) DO UPDATE SET last_fired_at = excluded.last_fired_at \
                         WHERE alert_rule_fires.last_fired_at <= $4",
                    )
                    .bind(verdict.rule_id)
                    .bind(verdict.issue_id)
                    .bind(commit.now)
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await?;
                    if won.rows_affected() > 0 {
                        fired = true;
                        for (webhook, payload) in &fire.messages {
                            sqlx::query(
                                "INSERT INTO notification_outbox (rule_id, issue_id, reason, webhook, payload, status, attempts, \
                                 next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
                            )
                            .bind(verdict.rule_id)
                            .bind(verdict.issue_id)
                            .bind(&verdict.reason)
                            .bind(webhook)
                            .bind(payload)
                            .bind(commit.now)
                            .execute(&mut *tx)
                            .await?;
                            out.queued += 1;
                        }
                    } else {
                        out.suppressed += 1;
                        reason = format!("not sent: already alerted within the last {} ({})", minutes_text(fire.interval_minutes), verdict.reason);
                    }
                }
                sqlx::query(
                    "INSERT INTO alert_evaluations (rule_id, issue_id, evaluated_at, fired, reason) \
                     SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM alert_rules WHERE id = $1) \
                     AND EXISTS (SELECT 1 FROM issues WHERE id = $2) \
                     ON CONFLICT (rule_id, issue_id) DO UPDATE SET evaluated_at = excluded.evaluated_at, fired = excluded.fired, \
                     reason = excluded.reason",
                )
                .bind(verdict.rule_id)
                .bind(verdict.issue_id)
                .bind(commit.now)
                .bind(fired)
                .bind(&reason)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(out)
        }

        async fn issue_rule_statuses(&self, issue_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::IssueRuleStatus>> {
            Ok(sqlx::query_as(
                "SELECT r.id AS rule_id, r.name AS rule_name, r.enabled, e.evaluated_at, e.fired, e.reason, f.last_fired_at \
                 FROM alert_rules r \
                 LEFT JOIN alert_evaluations e ON e.rule_id = r.id AND e.issue_id = $1 \
                 LEFT JOIN alert_rule_fires f ON f.rule_id = r.id AND f.issue_id = $1 \
                 WHERE r.project_id = (SELECT project_id FROM issues WHERE id = $1) ORDER BY r.id",
            )
            .bind(issue_id)
            .fetch_all(self.reader())
            .await?)
        }
    };
}

pub(crate) use {alert_fns, alerts, rule_columns};
