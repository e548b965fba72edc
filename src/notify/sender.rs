//! Delivering queued messages: claim due outbox rows, POST them, record each attempt.
//!
//! | answer                          | what happens                                                   |
//! |---------------------------------|----------------------------------------------------------------|
//! | 2xx                             | `sent`                                                         |
//! | 429                             | retry after `Retry-After` (seconds or an HTTP date; capped at 1 h), else backoff |
//! | 5xx, timeout, connection error  | retry with exponential backoff: 30 s, 1 min, 2 min, … up to 1 h |
//! | other 4xx, 3xx (not followed)   | `failed`: retrying cannot help                                 |
//! | refused address (SSRF guard)    | `failed`                                                       |
//!
//! After [`MAX_ATTEMPTS`] a message is `failed` for good. Retry times live in the database
//! (`next_attempt_at`), so a restart loses no retry and any process may take it over. Errors are logged
//! and stored without the URL (reqwest's `without_url`): a webhook URL is a secret.

use std::time::Duration;

use crate::notify::ssrf::{self, GuardedResolver};
use crate::store::{DeliveryReport, DeliveryResult, Millis, Store, StoreResult};

/// Attempts per message, the first included.
pub const MAX_ATTEMPTS: i64 = 6;
/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim lasts; well beyond the request timeout, so a live sender never loses its claim.
pub const LEASE: Duration = Duration::from_secs(120);
/// Messages claimed per round.
const BATCH: i64 = 32;
const MAX_BACKOFF_SECS: i64 = 3_600;

/// Why a POST did not deliver.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The address is internal and not allowed.
    #[error(transparent)]
    Refused(#[from] ssrf::SsrfError),
    /// No answer: connection refused, reset, timed out, DNS failure.
    #[error("network error: {0}")]
    Network(String),
    /// An answer that is not a success.
    #[error("HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        /// The status code.
        status: u16,
        /// `Retry-After` in seconds, when given.
        retry_after: Option<i64>,
        /// The start of the body (Slack explains itself there: `invalid_token`, `no_service`).
        body: String,
    },
}

impl SendError {
    /// The HTTP status, if an answer came.
    pub fn http_status(&self) -> Option<i64> {
        match self {
            SendError::Status { status, .. } => Some(i64::from(*status)),
            _ => None,
        }
    }
}

/// The HTTP side: a client that does not follow redirects, uses no proxy and resolves through the guard.
#[derive(Debug, Clone)]
pub struct Sender {
    http: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    /// A sender; `allow_private` lets webhooks reach internal addresses.
    pub fn new(allow_private: bool) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(GuardedResolver { allow_private })
            .user_agent(concat!("Faultline/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|err| {
                tracing::error!(error = %err, "cannot build the webhook client; using a default one");
                reqwest::Client::new()
            });
        Self { http, allow_private }
    }

    /// POST a JSON body; the status code on success.
    pub async fn post(&self, webhook: &str, payload: &str) -> Result<u16, SendError> {
        let url = reqwest::Url::parse(webhook).map_err(|_| ssrf::SsrfError::InvalidUrl)?;
        ssrf::check_literal(&url, self.allow_private)?;
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload.to_owned())
            .send()
            .await
            .map_err(|err| network_error(&err))?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(status);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Millis::now()));
        let body = response.text().await.unwrap_or_default();
        Err(SendError::Status { status, retry_after, body: body.chars().take(200).collect() })
    }
}

/// A reqwest error as text, without the URL, naming the cause (our SSRF refusal included).
fn network_error(err: &reqwest::Error) -> SendError {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<ssrf::SsrfError>() {
            return SendError::Refused(refused.clone());
        }
        source = cause.source();
    }
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    SendError::Network(text)
}

/// `Retry-After` as seconds from `now`: delta-seconds or an HTTP date; at least 1 s, at most an hour.
pub fn parse_retry_after(value: &str, now: Millis) -> Option<i64> {
    let value = value.trim();
    let secs = match value.parse::<i64>() {
        Ok(secs) => secs,
        Err(_) => {
            let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
            (Millis::from(at).0 - now.0).div_euclid(1000)
        }
    };
    Some(secs.clamp(1, MAX_BACKOFF_SECS))
}

/// Exponential backoff after attempt `n` (1-based): 30 s · 2^(n-1), at most an hour.
pub fn backoff_secs(attempt: i64) -> i64 {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    30i64.saturating_mul(1i64 << exp).min(MAX_BACKOFF_SECS)
}

/// What to do after an attempt: the result for the outbox row.
pub fn classify(outcome: &Result<u16, SendError>, attempts: i64, now: Millis) -> DeliveryResult {
    let retry_at = match outcome {
        Ok(_) => return DeliveryResult::Sent,
        Err(SendError::Network(_)) => now.plus_secs(backoff_secs(attempts)),
        Err(SendError::Status { status: 429, retry_after, .. }) => {
            now.plus_secs(retry_after.unwrap_or_else(|| backoff_secs(attempts)))
        }
        Err(SendError::Status { status, .. }) if *status >= 500 => now.plus_secs(backoff_secs(attempts)),
        Err(_) => return DeliveryResult::Failed,
    };
    if attempts >= MAX_ATTEMPTS { DeliveryResult::Failed } else { DeliveryResult::Retry(retry_at) }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Delivered.
    pub sent: u64,
    /// Failed, to be retried.
    pub retried: u64,
    /// Failed for good.
    pub failed: u64,
}

/// One round: claim the messages due at `now` and send them concurrently; returns what happened.
pub async fn run(store: &Store, sender: &Sender, worker: &str, now: Millis) -> StoreResult<DeliveryStats> {
    let lease_until = now.plus_secs(i64::try_from(LEASE.as_secs()).unwrap_or(120));
    let claimed = store.claim_notifications(worker, now, lease_until, BATCH).await?;
    let mut tasks = tokio::task::JoinSet::new();
    for message in claimed {
        let sender = sender.clone();
        tasks.spawn(async move {
            let outcome = sender.post(&message.webhook, &message.payload).await;
            (message, outcome)
        });
    }
    let mut stats = DeliveryStats::default();
    while let Some(joined) = tasks.join_next().await {
        let Ok((message, outcome)) = joined else { continue };
        let result = classify(&outcome, message.attempts, now);
        let error = outcome.as_ref().err().map(ToString::to_string);
        match &result {
            DeliveryResult::Sent => {
                stats.sent += 1;
                metrics::counter!("alerts_notifications_sent_total").increment(1);
            }
            DeliveryResult::Retry(_) => {
                stats.retried += 1;
                metrics::counter!("alerts_notifications_retried_total").increment(1);
                tracing::warn!(
                    outbox.id = message.id,
                    rule.id = message.rule_id,
                    attempt = message.attempts,
                    error = error.as_deref().unwrap_or_default(),
                    "alert delivery failed; will retry"
                );
            }
            DeliveryResult::Failed => {
                stats.failed += 1;
                metrics::counter!("alerts_notifications_failed_total").increment(1);
                tracing::warn!(
                    outbox.id = message.id,
                    rule.id = message.rule_id,
                    attempt = message.attempts,
                    error = error.as_deref().unwrap_or_default(),
                    "alert delivery failed for good"
                );
            }
        }
        let report = DeliveryReport {
            outbox_id: message.id,
            worker: worker.to_owned(),
            at: now,
            http_status: outcome.as_ref().map_or_else(SendError::http_status, |s| Some(i64::from(*s))),
            result,
            error,
        };
        if !store.finish_delivery(&report).await? {
            tracing::warn!(outbox.id = message.id, "alert delivery outcome dropped: the claim was taken over");
        }
    }
    let depth = store.outbox_stats().await?.pending;
    metrics::gauge!("alerts_outbox_depth").set(depth as f64);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = Millis(1_700_000_000_000);
        assert_eq!(parse_retry_after("120", now), Some(120));
        assert_eq!(parse_retry_after("0", now), Some(1));
        assert_eq!(parse_retry_after("999999", now), Some(3_600));
        let date = "Tue, 14 Nov 2023 22:15:20 GMT"; // now + 120 s
        assert_eq!(parse_retry_after(date, now), Some(120));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!((1..=4).map(backoff_secs).collect::<Vec<_>>(), [30, 60, 120, 240]);
        assert_eq!(backoff_secs(40), 3_600);
    }

    #[test]
    fn failures_are_classified() {
        let now = Millis(0);
        let status = |status, retry_after| Err(SendError::Status { status, retry_after, body: String::new() });
        assert_eq!(classify(&Ok(200), 1, now), DeliveryResult::Sent);
        assert_eq!(classify(&status(500, None), 1, now), DeliveryResult::Retry(now.plus_secs(30)));
        assert_eq!(classify(&status(429, Some(7)), 1, now), DeliveryResult::Retry(now.plus_secs(7)));
        assert_eq!(classify(&status(404, None), 1, now), DeliveryResult::Failed);
        assert_eq!(classify(&status(302, None), 1, now), DeliveryResult::Failed);
        assert_eq!(classify(&Err(SendError::Network("x".into())), MAX_ATTEMPTS, now), DeliveryResult::Failed);
    }
}
