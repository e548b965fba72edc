//! The notification outbox: claiming due messages, recording each attempt, the delivery log.
//!
//! A sender claims due rows with one statement that sets a lease:
//!
//! ```text
//! UPDATE notification_outbox SET claimed_by = me, locked_until = now + lease, attempts = attempts + 1
//! WHERE id IN (SELECT id … due and unleased … LIMIT n [FOR UPDATE SKIP LOCKED on PostgreSQL])
//!   AND <due and unleased>                                        -- rechecked on the row's newest version
//! RETURNING …
//! ```
//!
//! On PostgreSQL `SKIP LOCKED` makes concurrent senders take disjoint rows, and the repeated predicate
//! makes a sender that waited on a row see it already leased. The attempt's outcome is then written
//! only while the lease is still the sender's (`… WHERE id = $1 AND claimed_by = me`), together with a
//! line of the delivery log. So two live processes never send the same row; a process that dies mid-send
//! leaves its row to be retried when the lease ends (the lease outlasts the request timeout).

macro_rules! outbox {
    () => {
        async fn claim_notifications(
            &self,
            worker: &str,
            now: $crate::store::Millis,
            lease_until: $crate::store::Millis,
            limit: i64,
        ) -> $crate::store::StoreResult<Vec<$crate::store::OutboxMessage>> {
            let sql = format!(
                "UPDATE notification_outbox SET claimed_by = $1, locked_until = $2, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM notification_outbox WHERE status = 'pending' AND next_attempt_at <= $3 \
                              AND (locked_until IS NULL OR locked_until < $3) \
                              ORDER BY next_attempt_at, id LIMIT $4{FOR_UPDATE_SKIP_LOCKED}) \
                 AND status = 'pending' AND next_attempt_at <= $3 AND (locked_until IS NULL OR locked_until < $3) \
                 RETURNING id, rule_id, issue_id, reason, webhook, payload, attempts"
            );
            let mut claimed: Vec<$crate::store::OutboxMessage> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(self.writer())
                .await?;
            claimed.sort_by_key(|m| m.id);
            Ok(claimed)
        }

        async fn finish_delivery(&self, report: &$crate::store::DeliveryReport) -> $crate::store::StoreResult<bool> {
            use $crate::store::DeliveryResult as R;
            let (status, log_status, next, sent_at) = match &report.result {
                R::Sent => ("sent", "sent", report.at, Some(report.at)),
                R::Retry(at) => ("pending", "retry", *at, None),
                R::Failed => ("failed", "failed", report.at, None),
            };
            let mut tx = self.begin_write().await?;
            let row: Option<(i64, Option<i64>, i64)> = sqlx::query_as(
                "UPDATE notification_outbox SET status = $3, next_attempt_at = $4, last_error = $5, sent_at = $6, \
                 claimed_by = NULL, locked_until = NULL WHERE id = $1 AND claimed_by = $2 RETURNING rule_id, issue_id, attempts",
            )
            .bind(report.outbox_id)
            .bind(&report.worker)
            .bind(status)
            .bind(next)
            .bind(&report.error)
            .bind(sent_at)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((rule_id, issue_id, attempts)) = row else {
                return Ok(false); // the lease was taken over, or the rule deleted: not ours to report
            };
            sqlx::query(
                "INSERT INTO alert_deliveries (rule_id, outbox_id, issue_id, attempted_at, attempt, status, http_status, error) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(rule_id)
            .bind(report.outbox_id)
            .bind(issue_id)
            .bind(report.at)
            .bind(attempts)
            .bind(log_status)
            .bind(report.http_status)
            .bind(&report.error)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        }

        async fn record_delivery(&self, delivery: &$crate::store::NewDelivery) -> $crate::store::StoreResult<()> {
            sqlx::query(
                "INSERT INTO alert_deliveries (rule_id, outbox_id, issue_id, attempted_at, attempt, status, http_status, error) \
                 VALUES ($1, NULL, NULL, $2, 1, $3, $4, $5)",
            )
            .bind(delivery.rule_id)
            .bind(delivery.attempted_at)
            .bind(&delivery.status)
            .bind(delivery.http_status)
            .bind(&delivery.error)
            .execute(self.writer())
            .await?;
            Ok(())
        }

        async fn list_alert_deliveries(
            &self,
            rule_id: i64,
            limit: i64,
        ) -> $crate::store::StoreResult<Vec<$crate::store::AlertDelivery>> {
            Ok(sqlx::query_as(
                "SELECT id, rule_id, outbox_id, issue_id, attempted_at, attempt, status, http_status, error \
                 FROM alert_deliveries WHERE rule_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(rule_id)
            .bind(limit)
            .fetch_all(self.reader())
            .await?)
        }

        async fn outbox_stats(&self) -> $crate::store::StoreResult<$crate::store::OutboxStats> {
            let rows: Vec<(String, i64)> =
                sqlx::query_as("SELECT status, COUNT(*) FROM notification_outbox GROUP BY status").fetch_all(self.reader()).await?;
            let mut stats = $crate::store::OutboxStats::default();
            for (status, n) in rows {
                match status.as_str() {
                    "pending" => stats.pending = n,
                    "failed" => stats.failed = n,
                    "sent" => stats.sent = n,
                    _ => {}
                }
            }
            Ok(stats)
        }

        async fn prune_alert_history(&self, before: $crate::store::Millis) -> $crate::store::StoreResult<u64> {
            let outbox = sqlx::query("DELETE FROM notification_outbox WHERE status IN ('sent', 'failed') AND created_at < $1")
                .bind(before)
                .execute(self.writer())
                .await?;
            let log = sqlx::query("DELETE FROM alert_deliveries WHERE attempted_at < $1").bind(before).execute(self.writer()).await?;
            Ok(outbox.rows_affected() + log.rows_affected())
        }
    };
}

pub(crate) use outbox;
