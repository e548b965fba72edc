//! Why an SDK request was refused, and the one place that becomes an HTTP response.
//!
//! The body is always `{"detail": "<reason>"}` (plus `causes` when there is a source error), with the
//! status codes Relay uses: 400 malformed, 401 authentication, 403 rejected key or project, 413 too
//! large, 415 unknown encoding, 429 rate limited or queue full (with `Retry-After` and
//! `X-Sentry-Rate-Limits`), 503 when the database cannot take the write.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::protocol::{AuthError, DecodeError, EnvelopeError};

/// A refused ingest request.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The project id in the path is not a number.
    #[error("invalid project path parameter")]
    BadProjectId,
    /// No auth in headers, query or envelope header.
    #[error("missing authorization information")]
    MissingAuth,
    /// More than one of header, `Authorization` and query carried auth.
    #[error("multiple authorization payloads detected")]
    MultipleAuth,
    /// The auth header or query could not be parsed.
    #[error("bad x-sentry-auth header")]
    BadAuth(#[source] AuthError),
    /// The public key is not 32 hex characters, or the protocol version is unsupported.
    #[error("{0}")]
    BadKey(#[source] AuthError),
    /// The envelope header's DSN is unusable.
    #[error("bad envelope authentication header")]
    BadEnvelopeAuth,
    /// Request auth and envelope DSN disagree.
    #[error("invalid event envelope: {0}")]
    HeaderMismatch(&'static str),
    /// No project has this key.
    #[error("event submission rejected: unknown public key")]
    UnknownKey,
    /// The key is disabled.
    #[error("event submission rejected: project key is disabled")]
    DisabledKey,
    /// The key belongs to another project than the path names.
    #[error("event submission rejected: project id does not match the key")]
    ProjectMismatch,
    /// The body is empty.
    #[error("empty request body")]
    EmptyBody,
    /// Over a size limit.
    #[error("{0}")]
    TooLarge(String),
    /// Content-Encoding problems.
    #[error("invalid request body encoding")]
    Decode(#[source] DecodeError),
    /// The envelope grammar was violated.
    #[error("invalid event envelope")]
    Envelope(#[source] EnvelopeError),
    /// An item's payload could not be read.
    #[error("invalid {item} payload")]
    InvalidItem {
        /// Which item type.
        item: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An attachment arrived without an event id to attach to.
    #[error("invalid event envelope: attachments need an event_id")]
    MissingEventId,
    /// Too many events from this key, or the write queue is full.
    #[error("{reason}")]
    RateLimited {
        /// Seconds until the client may try again.
        retry_after: u64,
        /// `key` or `organization`.
        scope: &'static str,
        /// Machine-readable reason (`key_quota`, `queue_full`).
        code: &'static str,
        /// Human-readable detail.
        reason: &'static str,
    },
    /// The database could not take the write (nothing was stored).
    #[error("failed to store the event; try again later")]
    Unavailable,
}

impl IngestError {
    fn status(&self) -> StatusCode {
        match self {
            IngestError::MissingAuth
            | IngestError::MultipleAuth
            | IngestError::BadAuth(_)
            | IngestError::BadEnvelopeAuth => StatusCode::UNAUTHORIZED,
            IngestError::UnknownKey | IngestError::DisabledKey | IngestError::ProjectMismatch => StatusCode::FORBIDDEN,
            IngestError::TooLarge(_) | IngestError::Decode(DecodeError::TooLarge { .. }) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            IngestError::Decode(DecodeError::UnsupportedEncoding(_)) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IngestError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            IngestError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// A short label for metrics (`reason="…"`).
    pub fn reason(&self) -> &'static str {
        match self {
            IngestError::BadProjectId => "bad_project_id",
            IngestError::MissingAuth
            | IngestError::MultipleAuth
            | IngestError::BadAuth(_)
            | IngestError::BadEnvelopeAuth => "auth",
            IngestError::BadKey(_) | IngestError::HeaderMismatch(_) => "bad_key",
            IngestError::UnknownKey => "unknown_key",
            IngestError::DisabledKey => "disabled_key",
            IngestError::ProjectMismatch => "project_mismatch",
            IngestError::EmptyBody => "empty_body",
            IngestError::TooLarge(_) | IngestError::Decode(DecodeError::TooLarge { .. }) => "too_large",
            IngestError::Decode(_) => "decode",
            IngestError::Envelope(_) | IngestError::MissingEventId => "invalid_envelope",
            IngestError::InvalidItem { .. } => "invalid_item",
            IngestError::RateLimited { code, .. } => code,
            IngestError::Unavailable => "unavailable",
        }
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(&self);
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        if status.is_server_error() {
            tracing::error!(error = %self, ?causes, "ingest request failed");
        } else {
            tracing::debug!(error = %self, ?causes, status = status.as_u16(), "ingest request refused");
        }
        metrics::counter!("ingest_requests_rejected_total", "reason" => self.reason()).increment(1);
        let body = if causes.is_empty() {
            json!({ "detail": self.to_string() })
        } else {
            json!({ "detail": self.to_string(), "causes": causes })
        };
        let mut response = (status, Json(body)).into_response();
        if let IngestError::RateLimited { retry_after, scope, code, .. } = self {
            let headers = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                headers.insert("retry-after", v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("{retry_after}::{scope}:{code}")) {
                headers.insert("x-sentry-rate-limits", v);
            }
        }
        response
    }
}
