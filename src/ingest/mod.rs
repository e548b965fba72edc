//! The HTTP side of ingest: what SDKs talk to.
//!
//! ```text
//! POST /api/{project_id}/envelope/   envelopes (every modern SDK)
//! POST /api/{project_id}/store/      one event as JSON (legacy SDKs)
//! ```
//!
//! Both accept every auth form SDKs use, any of gzip/deflate/br/zstd bodies (and the empty or `UTF-8`
//! encodings some SDKs send), need no Content-Type, and answer browsers' CORS preflights. The answer is
//! `200 {"id": "<event id>"}` once the event is committed. See [`error`] for refusals.

pub mod auth;
pub mod client_ip;
pub mod endpoints;
pub mod error;
pub mod filters;
pub mod grouping_rules;
pub mod limits;
pub mod process;

use std::time::Duration;

use axum::http::{HeaderName, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// CORS for browser SDKs: any origin, POST, the headers SDKs send, and the rate-limit headers exposed.
pub fn cors() -> CorsLayer {
    let allow = [
        "x-sentry-auth",
        "x-requested-with",
        "x-forwarded-for",
        "origin",
        "referer",
        "accept",
        "content-type",
        "authentication",
        "authorization",
        "content-encoding",
        "transfer-encoding",
    ];
    let expose = ["x-sentry-error", "x-sentry-rate-limits", "retry-after"];
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::POST, Method::GET, Method::OPTIONS])
        .allow_headers(allow.map(HeaderName::from_static))
        .expose_headers(expose.map(HeaderName::from_static))
        .max_age(Duration::from_secs(3600))
}
