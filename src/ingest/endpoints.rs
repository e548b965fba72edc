//! `POST /api/{project_id}/envelope/` and the legacy `POST /api/{project_id}/store/`.
//!
//! Each does the same steps in order: authenticate (cheap, before reading the body), read the body up
//! to the raw limit, decompress with a cap, parse, check size limits, rate-limit per key, process, and
//! hand the write to the pipeline; the answer waits for the commit.

use std::net::SocketAddr;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use time::OffsetDateTime;

use super::auth::{KeyInfo, request_auth, resolve_public_key};
use super::client_ip::client_ip;
use super::error::IngestError;
use super::process::{ProcessContext, process_envelope, process_store_event};
use crate::app::AppState;
use crate::pipeline::SubmitError;
use crate::protocol::{Envelope, EventId, decode_body, legacy_store_body, limits};
use crate::store::payloads::PayloadDictionary;
use crate::store::{EnvelopeWrite, Millis};

/// `POST /api/{project_id}/envelope/`.
pub async fn envelope(
    State(state): State<AppState>,
    Path(project): Path<String>,
    request: Request,
) -> Result<Response, IngestError> {
    let project_id = parse_project_id(&project)?;
    let (parts, body) = request.into_parts();
    let auth = request_auth(&parts.headers, parts.uri.query())?;
    let raw = read_body(body, limits::MAX_ENVELOPE_BYTES).await?;
    let encoding = parts.headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let bytes = decode_body(encoding, raw, limits::MAX_ENVELOPE_BYTES).map_err(IngestError::Decode)?;
    if bytes.is_empty() {
        return Err(IngestError::EmptyBody);
    }
    let envelope = Envelope::parse(bytes).map_err(IngestError::Envelope)?;
    let public_key = resolve_public_key(auth.as_ref(), envelope.headers.dsn.as_deref(), project_id)?;
    let key = authorize(&state, &public_key, project_id).await?;
    limits::check_envelope(&envelope).map_err(|e| IngestError::TooLarge(e.to_string()))?;

    let ctx = context(&state, &key, &parts, auth.as_ref().and_then(|a| a.client.clone())).await?;
    let event_id = process_and_commit(&state, &key, ctx, move |ctx| process_envelope(&envelope, ctx)).await?;
    Ok(match event_id {
        Some(id) => Json(json!({ "id": id.to_string() })).into_response(),
        None => Json(json!({})).into_response(),
    })
}

/// `POST /api/{project_id}/store/`: one event as JSON (or base64/zlib from very old SDKs), or an
/// envelope when the content type says so.
pub async fn store(
    State(state): State<AppState>,
    Path(project): Path<String>,
    request: Request,
) -> Result<Response, IngestError> {
    let is_envelope = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-sentry-envelope"));
    if is_envelope {
        return envelope(State(state), Path(project), request).await;
    }
    let project_id = parse_project_id(&project)?;
    let (parts, body) = request.into_parts();
    let auth = request_auth(&parts.headers, parts.uri.query())?.ok_or(IngestError::MissingAuth)?;
    let public_key = resolve_public_key(Some(&auth), None, project_id)?;
    let key = authorize(&state, &public_key, project_id).await?;
    let raw = read_body(body, limits::MAX_STORE_BYTES).await?;
    let encoding = parts.headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let bytes = decode_body(encoding, raw, limits::MAX_EVENT_BYTES).map_err(IngestError::Decode)?;
    if bytes.is_empty() {
        return Err(IngestError::EmptyBody);
    }
    let json = legacy_store_body(bytes, limits::MAX_EVENT_BYTES).map_err(IngestError::Decode)?;
    let ctx = context(&state, &key, &parts, auth.client.clone()).await?;
    let event_id: EventId = process_and_commit(&state, &key, ctx, move |ctx| process_store_event(&json, ctx)).await?;
    Ok(Json(json!({ "id": event_id.to_string() })).into_response())
}

fn parse_project_id(segment: &str) -> Result<i64, IngestError> {
    segment.parse::<i64>().ok().filter(|id| *id > 0).ok_or(IngestError::BadProjectId)
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, IngestError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| IngestError::TooLarge(format!("request body exceeds the limit of {limit} bytes")))
}

async fn authorize(state: &AppState, public_key: &str, project_id: i64) -> Result<KeyInfo, IngestError> {
    let key = state
        .keys
        .lookup(&state.store, public_key)
        .await
        .map_err(|err| {
            tracing::error!(error = %crate::telemetry::Chain(&err), "key lookup failed");
            IngestError::Unavailable
        })?
        .ok_or(IngestError::UnknownKey)?;
    if !key.enabled {
        return Err(IngestError::DisabledKey);
    }
    if key.project_id != project_id {
        return Err(IngestError::ProjectMismatch);
    }
    Ok(key)
}

/// What processing needs: the key's project, its cached grouping rules and inbound filters, the
/// client's address.
async fn context(
    state: &AppState,
    key: &KeyInfo,
    parts: &axum::http::request::Parts,
    client: Option<String>,
) -> Result<ProcessContext, IngestError> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    Ok(ProcessContext {
        project_id: key.project_id,
        organization_id: key.organization_id,
        platform: key.platform.clone(),
        received_at: OffsetDateTime::now_utc(),
        client_ip: client_ip(&state.config, peer, &parts.headers),
        client,
        grouping: grouping_config(state, key).await?,
        filters: Some(inbound_filters(state, key).await?),
        dictionary: state.store.payload_dictionary(key.project_id).await.map_err(|err| {
            tracing::error!(error = %crate::telemetry::Chain(&err), "payload dictionary lookup failed");
            IngestError::Unavailable
        })?,
    })
}

/// Process on the blocking pool, then commit. Normalizing, grouping and compressing an event is
/// ~0.1 ms of CPU: off the runtime, its threads stay free for I/O and for the write queue's commits.
async fn process_and_commit<T: Send + 'static>(
    state: &AppState,
    key: &KeyInfo,
    ctx: ProcessContext,
    process: impl FnOnce(&ProcessContext) -> Result<(EnvelopeWrite, T), IngestError> + Send + 'static,
) -> Result<T, IngestError> {
    let dictionary = ctx.dictionary.clone();
    let (write, answer) = tokio::task::spawn_blocking(move || process(&ctx)).await.map_err(|err| {
        tracing::error!(error = %err, "event processing panicked");
        IngestError::Unavailable
    })??;
    commit(state, key, write, dictionary.as_deref()).await?;
    Ok(answer)
}

/// The project's inbound filters (cached; see [`super::filters`]).
async fn inbound_filters(
    state: &AppState,
    key: &KeyInfo,
) -> Result<std::sync::Arc<super::filters::InboundFilters>, IngestError> {
    state.filters.get(&state.store, key.project_id).await.map_err(|err| {
        tracing::error!(error = %crate::telemetry::Chain(&err), "inbound filter lookup failed");
        IngestError::Unavailable
    })
}

/// The project's grouping rules (cached; see [`super::grouping_rules`]).
async fn grouping_config(
    state: &AppState,
    key: &KeyInfo,
) -> Result<std::sync::Arc<crate::grouping::GroupingConfig>, IngestError> {
    state.grouping.get(&state.store, key.project_id).await.map_err(|err| {
        tracing::error!(error = %crate::telemetry::Chain(&err), "grouping rules lookup failed");
        IngestError::Unavailable
    })
}

/// Rate-limit, queue and wait for the commit; then, once a project has enough events compressed
/// without a (fresh) dictionary, train one in the background.
async fn commit(
    state: &AppState,
    key: &KeyInfo,
    write: EnvelopeWrite,
    dictionary: Option<&PayloadDictionary>,
) -> Result<(), IngestError> {
    let limit =
        key.rate_limit_per_minute.unwrap_or_else(|| i64::from(state.config.ingest.default_rate_limit_per_minute));
    let events = i64::try_from(write.events.len()).unwrap_or(i64::MAX);
    if let Err(retry_after) = state.limiter.check(key.key_id, limit, events, Millis::now().0) {
        return Err(IngestError::RateLimited {
            retry_after,
            scope: "key",
            code: "key_quota",
            reason: "rate limit of this DSN key exceeded",
        });
    }
    let accepted = write.events.len();
    match state.pipeline.submit(write).await {
        Ok(outcomes) => {
            let duplicates = outcomes.iter().filter(|o| o.duplicate).count();
            metrics::counter!("ingest_events_accepted_total").increment((accepted - duplicates) as u64);
            metrics::counter!("ingest_events_duplicate_total").increment(duplicates as u64);
            let stored = (accepted - duplicates) as u64;
            if stored > 0 && state.store.payload_training_due(key.project_id, dictionary, stored) {
                tokio::spawn(train_dictionary(state.store.clone(), key.project_id));
            }
            Ok(())
        }
        Err(SubmitError::QueueFull) => Err(IngestError::RateLimited {
            retry_after: 1,
            scope: "organization",
            code: "queue_full",
            reason: "the server is busy; retry shortly",
        }),
        Err(SubmitError::Closed | SubmitError::WriteFailed) => Err(IngestError::Unavailable),
    }
}

/// Train a project's payload dictionary (under 0.1 s of CPU on a low-priority thread, see
/// [`crate::store::payloads`]).
async fn train_dictionary(store: crate::store::Store, project_id: i64) {
    match store.train_payload_dictionary(project_id).await {
        Ok(Some(id)) => tracing::info!(project.id = project_id, dictionary = id, "trained a payload dictionary"),
        Ok(None) => tracing::debug!(project.id = project_id, "too little to train a payload dictionary on"),
        Err(err) => tracing::warn!(error = %crate::telemetry::Chain(&err), "training a payload dictionary failed"),
    }
}
