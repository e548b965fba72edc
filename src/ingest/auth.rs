//! Who is sending: the DSN public key from any of the places SDKs put it, resolved to a project.
//!
//! Request auth comes from exactly one of `X-Sentry-Auth: Sentry sentry_key=…`, `Authorization:
//! Sentry …` / `Basic …`, or a `?sentry_key=…` query; two at once is a 401. Envelopes may instead (or
//! also) name their DSN in the envelope header; when both are present they must agree.
//!
//! [`KeyCache`] keeps resolved keys in memory for [`KEY_TTL`] (unknown keys for [`MISSING_TTL`]) so
//! ingest does not query the database per request; the stored key is compared with the presented
//! one in constant time.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use super::error::IngestError;
use crate::protocol::auth::{query_has_auth, validate_public_key};
use crate::protocol::{AuthError, Dsn, SentryAuth};
use crate::store::{Store, StoreResult};

/// How long a resolved key stays cached.
pub const KEY_TTL: Duration = Duration::from_secs(30);
/// How long an unknown key stays cached as unknown.
pub const MISSING_TTL: Duration = Duration::from_secs(5);

/// The auth a request carries outside the body.
pub fn request_auth(headers: &HeaderMap, query: Option<&str>) -> Result<Option<SentryAuth>, IngestError> {
    let mut found = Vec::new();
    if let Some(value) = header_str(headers, "x-sentry-auth")
        && value.trim_start().to_ascii_lowercase().starts_with("sentry ")
    {
        found.push(SentryAuth::from_header(value).map_err(auth_error));
    }
    if let Some(value) = header_str(headers, "authorization") {
        let lower = value.trim_start().to_ascii_lowercase();
        if lower.starts_with("sentry ") {
            found.push(SentryAuth::from_header(value).map_err(auth_error));
        } else if lower.starts_with("basic ")
            && let Ok(auth) = SentryAuth::from_basic(value)
        {
            // Undecodable Basic values are ignored, as Relay does.
            found.push(Ok(auth));
        }
    }
    if let Some(query) = query
        && query_has_auth(query)
    {
        found.push(SentryAuth::from_query(query).map_err(auth_error));
    }
    match found.len() {
        0 => Ok(None),
        1 => found.pop().transpose(),
        _ => Err(IngestError::MultipleAuth),
    }
}

/// Combine request auth with the envelope header's DSN: the public key to use.
pub fn resolve_public_key(
    request: Option<&SentryAuth>,
    envelope_dsn: Option<&str>,
    path_project: i64,
) -> Result<String, IngestError> {
    let dsn = envelope_dsn.map(Dsn::parse);
    let key = match (request, dsn) {
        (Some(auth), None) => auth.public_key.clone(),
        (Some(auth), Some(Ok(dsn))) => {
            if dsn.public_key != auth.public_key {
                return Err(IngestError::HeaderMismatch("public key header mismatch"));
            }
            if dsn.project_id.parse::<i64>().ok() != Some(path_project) {
                return Err(IngestError::HeaderMismatch("project id header mismatch"));
            }
            auth.public_key.clone()
        }
        // A request that authenticates itself may carry a stale or odd DSN header: Relay only
        // compares when the DSN parses.
        (Some(auth), Some(Err(_))) => auth.public_key.clone(),
        (None, Some(Ok(dsn))) => {
            if dsn.project_id.parse::<i64>().ok() != Some(path_project) {
                return Err(IngestError::ProjectMismatch);
            }
            dsn.public_key
        }
        (None, Some(Err(_))) => return Err(IngestError::BadEnvelopeAuth),
        (None, None) => return Err(IngestError::MissingAuth),
    };
    if let Some(auth) = request {
        auth.protocol_version().map_err(IngestError::BadKey)?;
    }
    validate_public_key(&key).map(str::to_owned).map_err(IngestError::BadKey)
}

/// Relay's split: an unreadable auth payload is 401, a readable one with a bad key or version is 400.
fn auth_error(err: AuthError) -> IngestError {
    match err {
        AuthError::BadVersion(_) | AuthError::UnsupportedVersion(_) | AuthError::BadPublicKey => {
            IngestError::BadKey(err)
        }
        other => IngestError::BadAuth(other),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What ingest needs to know about a DSN key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key's database id (rate limits are per key).
    pub key_id: i64,
    /// The public key.
    pub public_key: String,
    /// Its project.
    pub project_id: i64,
    /// The project's organization.
    pub organization_id: i64,
    /// The project's platform, the fallback for events without one.
    pub platform: Option<String>,
    /// Disabled keys are refused.
    pub enabled: bool,
    /// Events per minute, if limited.
    pub rate_limit_per_minute: Option<i64>,
}

/// An in-memory cache of DSN keys.
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: RwLock<HashMap<String, (Option<KeyInfo>, Instant)>>,
}

impl KeyCache {
    /// Resolve a public key, from memory when fresh, else from the store.
    pub async fn lookup(&self, store: &Store, public_key: &str) -> StoreResult<Option<KeyInfo>> {
        let now = Instant::now();
        if let Ok(entries) = self.entries.read()
            && let Some((info, at)) = entries.get(public_key)
        {
            let ttl = if info.is_some() { KEY_TTL } else { MISSING_TTL };
            if now.duration_since(*at) < ttl {
                return Ok(info.clone().filter(|i| keys_equal(&i.public_key, public_key)));
            }
        }
        let info = match store.find_project_key(public_key).await? {
            Some(key) => store.find_project_by_id(key.project_id).await?.map(|project| KeyInfo {
                key_id: key.id,
                public_key: key.public_key,
                project_id: project.id,
                organization_id: project.organization_id,
                platform: project.platform,
                enabled: key.enabled,
                rate_limit_per_minute: key.rate_limit_per_minute,
            }),
            None => None,
        };
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 100_000 {
                entries.clear();
            }
            entries.insert(public_key.to_owned(), (info.clone(), now));
        }
        Ok(info.filter(|i| keys_equal(&i.public_key, public_key)))
    }

    /// Forget a key (after it was disabled or its limit changed).
    pub fn invalidate(&self, public_key: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(public_key);
        }
    }
}

fn keys_equal(stored: &str, presented: &str) -> bool {
    stored.as_bytes().ct_eq(presented.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        map
    }

    #[test]
    fn each_auth_form_is_read() {
        let auth = format!("Sentry sentry_key={KEY}, sentry_version=7, sentry_client=sentry.python/2.0");
        let from_header = request_auth(&headers(&[("x-sentry-auth", &auth)]), None).expect("ok").expect("some");
        assert_eq!(from_header.public_key, KEY);
        let from_authorization = request_auth(&headers(&[("authorization", &auth)]), None).expect("ok").expect("some");
        assert_eq!(from_authorization.public_key, KEY);
        let query = format!("sentry_key={KEY}&sentry_version=7");
        let from_query = request_auth(&HeaderMap::new(), Some(&query)).expect("ok").expect("some");
        assert_eq!(from_query.public_key, KEY);
        assert!(request_auth(&HeaderMap::new(), Some("foo=bar")).expect("ok").is_none());
    }

    #[test]
    fn two_auth_forms_at_once_are_refused() {
        let auth = format!("Sentry sentry_key={KEY}");
        let err =
            request_auth(&headers(&[("x-sentry-auth", &auth)]), Some(&format!("sentry_key={KEY}"))).expect_err("two");
        assert!(matches!(err, IngestError::MultipleAuth));
    }

    #[test]
    fn envelope_dsn_must_agree_with_request_auth() {
        let auth = SentryAuth::from_header(&format!("Sentry sentry_key={KEY}")).expect("auth");
        let dsn = format!("https://{KEY}@example.com/42");
        assert_eq!(resolve_public_key(Some(&auth), Some(&dsn), 42).expect("agree"), KEY);
        assert!(matches!(resolve_public_key(Some(&auth), Some(&dsn), 7), Err(IngestError::HeaderMismatch(_))));
        let other = "https://ffffffffffffffffffffffffffffffff@example.com/42";
        assert!(matches!(resolve_public_key(Some(&auth), Some(other), 42), Err(IngestError::HeaderMismatch(_))));
        assert_eq!(resolve_public_key(None, Some(&dsn), 42).expect("dsn only"), KEY);
        assert!(matches!(resolve_public_key(None, None, 42), Err(IngestError::MissingAuth)));
        assert!(matches!(resolve_public_key(None, Some("nonsense"), 42), Err(IngestError::BadEnvelopeAuth)));
    }

    #[test]
    fn malformed_keys_are_bad_requests() {
        let auth = SentryAuth::from_header("Sentry sentry_key=short").expect("parses");
        assert!(matches!(resolve_public_key(Some(&auth), None, 1), Err(IngestError::BadKey(_))));
    }
}
