//! From a parsed envelope to what the store writes: normalize and group events, compress payloads,
//! turn sessions, reports and check-ins into rows. Pure CPU work; no I/O.
//!
//! Item types Faultline does not keep (profiles, replays, spans, logs, metrics, …) are skipped and
//! counted; malformed sessions, client reports and check-ins are skipped too (an SDK must never lose
//! a valid event because a side item was odd). A malformed event, transaction or attachment header is
//! a 400: that is the data the SDK was asked to deliver.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::error::IngestError;
use crate::grouping::{self, GroupingConfig};
use crate::protocol::event::EventType;
use crate::protocol::reports::{parse_check_in, parse_client_report, parse_user_report};
use crate::protocol::session::{SessionStatus, parse_session, parse_sessions};
use crate::protocol::{
    Envelope, EventId, EventKind, Item, ItemType, NormalizeOptions, NormalizedEvent, normalize_event,
};
use crate::store::payloads::{self, PayloadDictionary};
use crate::store::{
    ClientOutcome, EnvelopeWrite, Millis, NewAttachment, NewCheckIn, NewEvent, NewUserReport, SessionCounts,
};

/// What processing needs besides the envelope.
pub struct ProcessContext {
    /// The key's project.
    pub project_id: i64,
    /// Its organization.
    pub organization_id: i64,
    /// The project's platform.
    pub platform: Option<String>,
    /// When the request arrived.
    pub received_at: OffsetDateTime,
    /// The client's address, for `{{auto}}`.
    pub client_ip: Option<IpAddr>,
    /// `sentry_client` of the request auth.
    pub client: Option<String>,
    /// The project's grouping rules.
    pub grouping: std::sync::Arc<GroupingConfig>,
    /// The project's inbound filters (web UI settings); `None` filters nothing.
    pub filters: Option<std::sync::Arc<super::filters::InboundFilters>>,
    /// The project's payload dictionary, once one is trained (see [`crate::store::payloads`]).
    pub dictionary: Option<std::sync::Arc<PayloadDictionary>>,
}

/// Whether the project's inbound filters drop this event (counted as `filtered`).
fn filtered(ctx: &ProcessContext, normalized: &NormalizedEvent, item: &str) -> bool {
    let Some(reason) = ctx.filters.as_ref().and_then(|f| f.reason(&normalized.payload)) else { return false };
    metrics::counter!("ingest_items_total", "item" => item.to_owned(), "outcome" => "filtered").increment(1);
    tracing::debug!(project.id = ctx.project_id, reason, "event dropped by an inbound filter");
    true
}

/// The write for one envelope and the event id to answer with, if any.
pub fn process_envelope(
    envelope: &Envelope,
    ctx: &ProcessContext,
) -> Result<(EnvelopeWrite, Option<EventId>), IngestError> {
    let mut write = new_write(ctx);
    let mut event_id = envelope.headers.event_id;
    for item in &envelope.items {
        let kind = match &item.ty {
            ItemType::Event | ItemType::Security | ItemType::RawSecurity | ItemType::Nel => Some(EventKind::Event),
            ItemType::Transaction => Some(EventKind::Transaction),
            ItemType::Feedback => Some(EventKind::Feedback),
            _ => None,
        };
        if let Some(kind) = kind {
            let mut opts = normalize_options(ctx, kind);
            opts.envelope_event_id = envelope.headers.event_id;
            opts.sent_at = envelope.headers.sent_at;
            let normalized = normalize_event(&item.payload, &opts)
                .map_err(|e| IngestError::InvalidItem { item: item.ty.as_str().to_owned(), source: Box::new(e) })?;
            event_id = Some(normalized.event_id);
            if kind == EventKind::Event && filtered(ctx, &normalized, item.ty.as_str()) {
                continue;
            }
            if let Some(report) = feedback_report(&normalized) {
                write.user_reports.push(report);
            }
            write.events.push(new_event(normalized, ctx)?);
            count_item(item, "stored");
            continue;
        }
        match &item.ty {
            ItemType::Attachment => {
                let event = event_id.or(envelope.headers.event_id).ok_or(IngestError::MissingEventId)?;
                write.attachments.push(NewAttachment {
                    event_id: event.to_string(),
                    name: item.headers.filename.clone().unwrap_or_else(|| "attachment".to_owned()),
                    content_type: item.headers.content_type.clone(),
                    attachment_type: item.headers.attachment_type.clone(),
                    data: item.payload.to_vec(),
                });
                count_item(item, "stored");
            }
            ItemType::UserReport => match parse_user_report(&item.payload) {
                Ok(r) => {
                    write.user_reports.push(NewUserReport {
                        event_id: Some(r.event_id.to_string()),
                        name: r.name,
                        email: r.email,
                        comments: r.comments,
                    });
                    count_item(item, "stored");
                }
                Err(_) => count_item(item, "invalid"),
            },
            ItemType::Session => match parse_session(&item.payload) {
                Ok(update) => {
                    let mut counts = session_counts(
                        &update.attributes.release,
                        update.attributes.environment.as_deref(),
                        update.started,
                    );
                    counts.started = i64::from(update.init);
                    // Each session lands in one final bucket: crashed, abnormal, or (clean) exited;
                    // errored counts each session once, from its first update that reports errors.
                    match update.status {
                        SessionStatus::Crashed => counts.crashed = 1,
                        SessionStatus::Abnormal => counts.abnormal = 1,
                        SessionStatus::Exited if update.errors == 0 => counts.exited = 1,
                        _ => {}
                    }
                    let errored = update.status == SessionStatus::Errored
                        || (update.errors > 0
                            && !matches!(update.status, SessionStatus::Crashed | SessionStatus::Abnormal));
                    if errored {
                        match &update.session_id {
                            Some(sid) => counts.errored_session = Some(sid.clone()),
                            // Without an id there is nothing to deduplicate by: count it when it ends.
                            None if update.status.is_terminal() => counts.errored = 1,
                            None => {}
                        }
                    }
                    write.sessions.push(counts);
                    count_item(item, "stored");
                }
                Err(_) => count_item(item, "invalid"),
            },
            ItemType::Sessions => match parse_sessions(&item.payload) {
                Ok(aggregates) => {
                    for a in &aggregates.aggregates {
                        let mut counts = session_counts(
                            &aggregates.attributes.release,
                            aggregates.attributes.environment.as_deref(),
                            a.started,
                        );
                        counts.started = to_i64(a.total());
                        counts.errored = to_i64(a.errored);
                        counts.crashed = to_i64(a.crashed);
                        counts.abnormal = to_i64(a.abnormal);
                        counts.exited = to_i64(a.exited);
                        write.sessions.push(counts);
                    }
                    count_item(item, "stored");
                }
                Err(_) => count_item(item, "invalid"),
            },
            ItemType::ClientReport => match parse_client_report(&item.payload) {
                Ok(report) => {
                    let hour = Millis::from(report.timestamp.unwrap_or(ctx.received_at)).hour_start();
                    let all = [
                        &report.discarded_events,
                        &report.rate_limited_events,
                        &report.filtered_events,
                        &report.filtered_sampling_events,
                    ];
                    for d in all.into_iter().flatten() {
                        write.client_outcomes.push(ClientOutcome {
                            hour,
                            reason: d.reason.clone(),
                            category: d.category.clone(),
                            quantity: to_i64(d.quantity),
                        });
                    }
                    count_item(item, "stored");
                }
                Err(_) => count_item(item, "invalid"),
            },
            ItemType::CheckIn => match parse_check_in(&item.payload) {
                Ok(c) => {
                    write.check_ins.push(NewCheckIn {
                        check_in_id: c.check_in_id,
                        monitor_slug: c.monitor_slug,
                        status: serde_json::to_value(&c.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_else(|| "unknown".to_owned()),
                        duration: c.duration,
                        environment: c.environment,
                    });
                    count_item(item, "stored");
                }
                Err(_) => count_item(item, "invalid"),
            },
            _ => count_item(item, "skipped"),
        }
    }
    Ok((write, event_id))
}

/// The write for a single event from the legacy store endpoint.
pub fn process_store_event(payload: &[u8], ctx: &ProcessContext) -> Result<(EnvelopeWrite, EventId), IngestError> {
    let opts = normalize_options(ctx, EventKind::Event);
    let normalized = normalize_event(payload, &opts)
        .map_err(|e| IngestError::InvalidItem { item: "event".to_owned(), source: Box::new(e) })?;
    let event_id = normalized.event_id;
    let mut write = new_write(ctx);
    if filtered(ctx, &normalized, "event") {
        return Ok((write, event_id));
    }
    write.events.push(new_event(normalized, ctx)?);
    metrics::counter!("ingest_items_total", "item" => "event", "outcome" => "stored").increment(1);
    Ok((write, event_id))
}

fn new_write(ctx: &ProcessContext) -> EnvelopeWrite {
    EnvelopeWrite {
        project_id: ctx.project_id,
        organization_id: ctx.organization_id,
        received_at: Millis::from(ctx.received_at),
        ..EnvelopeWrite::default()
    }
}

fn normalize_options(ctx: &ProcessContext, kind: EventKind) -> NormalizeOptions {
    let mut opts = NormalizeOptions::new(ctx.received_at);
    opts.client_ip = ctx.client_ip;
    opts.project_platform = ctx.platform.clone();
    opts.kind = kind;
    opts.client = ctx.client.clone();
    opts
}

fn new_event(normalized: NormalizedEvent, ctx: &ProcessContext) -> Result<NewEvent, IngestError> {
    let NormalizedEvent { event_id, mut payload, summary } = normalized;
    let hashes = match summary.ty {
        EventType::Transaction => Vec::new(),
        _ => grouping::calculate(&payload, &ctx.grouping).hashes,
    };
    // Sentry stores the derived tags (level, environment, release, browser, user, …) on the event.
    if let Some(event) = payload.as_object_mut() {
        let tags = summary.tags.iter().map(|(k, v)| serde_json::json!([k, v])).collect();
        event.insert("tags".to_owned(), serde_json::Value::Array(tags));
    }
    let json = serde_json::to_vec(&payload)
        .map_err(|e| IngestError::InvalidItem { item: "event".to_owned(), source: Box::new(e) })?;
    let compressed = payloads::compress(&json, ctx.dictionary.as_deref())
        .map_err(|e| IngestError::InvalidItem { item: "event".to_owned(), source: Box::new(e) })?;
    Ok(NewEvent {
        event_id: event_id.to_string(),
        event_type: summary.ty.as_str().to_owned(),
        timestamp: Millis::from(summary.timestamp),
        level: summary.level.clone(),
        platform: summary.platform.clone(),
        title: summary.title.clone(),
        culprit: summary.culprit.clone(),
        message: summary.message.clone().unwrap_or_default(),
        environment: summary.environment.clone(),
        release: summary.release.clone(),
        user_key: summary.user.as_ref().and_then(|u| u.user_key()),
        user_email: summary.user.as_ref().and_then(|u| u.email.clone()),
        tags: summary.tags.clone(),
        hashes,
        metadata: serde_json::to_string(&summary.metadata).unwrap_or_else(|_| "{}".to_owned()),
        payload: compressed,
    })
}

fn feedback_report(normalized: &NormalizedEvent) -> Option<NewUserReport> {
    if normalized.summary.ty != EventType::Feedback {
        return None;
    }
    let feedback = crate::protocol::reports::feedback_context(&normalized.payload)?;
    Some(NewUserReport {
        event_id: feedback.associated_event_id.map(|id| id.to_string()),
        name: feedback.name,
        email: feedback.contact_email,
        comments: feedback.message,
    })
}

fn session_counts(release: &str, environment: Option<&str>, started: OffsetDateTime) -> SessionCounts {
    SessionCounts {
        release: release.to_owned(),
        environment: environment.unwrap_or_default().to_owned(),
        hour: Millis::from(started).hour_start(),
        started: 0,
        errored: 0,
        crashed: 0,
        abnormal: 0,
        exited: 0,
        errored_session: None,
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count_item(item: &Item, outcome: &'static str) {
    metrics::counter!("ingest_items_total", "item" => item.ty.as_str().to_owned(), "outcome" => outcome).increment(1);
}
