//! Who is sending: the DSN and the ways an SDK carries its public key.
//!
//! A DSN names the project and the key in one URL (protocol.md §1.1):
//!
//! ```text
//! https://e12d836b15bb49d7bbf99e64295d995b@errors.example.com/sentry/42
//!         └────────── public key ────────┘ └──── host ──────┘└prefix┘└ project id
//! ```
//!
//! SDKs turn it into an ingest URL (`/sentry/api/42/envelope/`) and authenticate each request
//! with one of (protocol.md §1.2):
//!
//! ```text
//! X-Sentry-Auth: Sentry sentry_key=e12d…, sentry_version=7, sentry_client=sentry.python/2.19.0
//! Authorization: Sentry sentry_key=e12d…, sentry_version=7
//! Authorization: Basic base64("e12d…:")
//! POST /api/42/envelope/?sentry_key=e12d…&sentry_version=7&sentry_client=sentry.javascript.node%2F8.0.0
//! ```
//!
//! This module only parses; deciding which form wins (two at once is an error) and looking the
//! key up is the ingest layer's job.

use base64::Engine as _;

/// Newest protocol version Sentry defines; requests may not ask for more.
pub const LATEST_PROTOCOL_VERSION: u16 = 7;

/// The credentials of one request, from a header or the query string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentryAuth {
    /// The DSN's public key (`sentry_key`), as sent.
    pub public_key: String,
    /// The SDK name and version (`sentry_client`), e.g. `sentry.python/2.19.0`.
    pub client: Option<String>,
    /// The protocol version (`sentry_version`), as sent, e.g. `7` or `2.0`.
    pub version: Option<String>,
}

/// What can be wrong with credentials or a DSN.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// The header value does not start with the `Sentry ` scheme.
    #[error("not a sentry auth header")]
    NotSentryScheme,
    /// A `Basic` value that does not decode to `key:secret`.
    #[error("bad basic auth value")]
    BadBasic,
    /// No `sentry_key`, or an empty one.
    #[error("missing sentry_key")]
    MissingKey,
    /// `sentry_version` is not a number.
    #[error("bad sentry_version {0:?}")]
    BadVersion(String),
    /// `sentry_version` is newer than [`LATEST_PROTOCOL_VERSION`].
    #[error("unsupported protocol version ({0})")]
    UnsupportedVersion(u16),
    /// The public key is not 32 characters (optionally followed by `.flags`).
    #[error("bad sentry dsn public key")]
    BadPublicKey,
    /// The DSN is not `http(s)://key@host[:port][/prefix]/project_id`.
    #[error("invalid dsn: {0}")]
    InvalidDsn(&'static str),
}

impl SentryAuth {
    /// Parses an `X-Sentry-Auth` or `Authorization: Sentry …` value.
    ///
    /// The scheme word is case-insensitive; pairs are split on `,` and `=` and trimmed, so
    /// spacing and order do not matter. Unknown keys (`sentry_secret`, `sentry_timestamp`) are
    /// ignored.
    pub fn from_header(value: &str) -> Result<Self, AuthError> {
        let value = value.trim_start();
        let (scheme, rest) = value.split_once([' ', '\t']).ok_or(AuthError::NotSentryScheme)?;
        if !scheme.eq_ignore_ascii_case("sentry") {
            return Err(AuthError::NotSentryScheme);
        }
        let pairs = rest.split(',').filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key.trim().to_owned(), value.trim().to_owned()))
        });
        Self::from_pairs(pairs)
    }

    /// Parses an `Authorization: Basic base64(key:secret)` value (OTLP exporters use it).
    pub fn from_basic(value: &str) -> Result<Self, AuthError> {
        let value = value.trim_start();
        let (scheme, rest) = value.split_once(' ').ok_or(AuthError::BadBasic)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(AuthError::BadBasic);
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).map_err(|_| AuthError::BadBasic)?;
        let decoded = String::from_utf8(decoded).map_err(|_| AuthError::BadBasic)?;
        let key = decoded.split(':').next().unwrap_or_default();
        Self::from_pairs([("sentry_key".to_owned(), key.to_owned())])
    }

    /// Parses the `?sentry_key=…&sentry_version=7&sentry_client=…` query string (without `?`).
    pub fn from_query(query: &str) -> Result<Self, AuthError> {
        let pairs = query.split('&').filter(|p| !p.is_empty()).map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(key), form_decode(value))
        });
        Self::from_pairs(pairs)
    }

    fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, AuthError> {
        let (mut key, mut client, mut version) = (None, None, None);
        for (name, value) in pairs {
            match name.as_str() {
                "sentry_key" => key = Some(value),
                "sentry_client" => client = Some(value),
                "sentry_version" => version = Some(value),
                _ => {}
            }
        }
        let public_key = key.filter(|k| !k.is_empty()).ok_or(AuthError::MissingKey)?;
        let auth = Self { public_key, client: client.filter(|c| !c.is_empty()), version };
        auth.protocol_version()?;
        Ok(auth)
    }

    /// The protocol version as a number: the part before the first `.` (`"2.0"` → 2), 7 when
    /// absent. Errors for non-numbers and versions newer than 7.
    pub fn protocol_version(&self) -> Result<u16, AuthError> {
        let Some(text) = self.version.as_deref() else {
            return Ok(LATEST_PROTOCOL_VERSION);
        };
        let major = text.split('.').next().unwrap_or_default().trim();
        let version: u16 = major.parse().map_err(|_| AuthError::BadVersion(text.to_owned()))?;
        if version > LATEST_PROTOCOL_VERSION {
            return Err(AuthError::UnsupportedVersion(version));
        }
        Ok(version)
    }

    /// The SDK name and version from `sentry_client` (`sentry.python/2.19.0`), split at the
    /// first `/`, or else at the first space; used to backfill `event.sdk`.
    pub fn client_sdk(&self) -> Option<(&str, &str)> {
        split_client(self.client.as_deref()?)
    }
}

/// Splits a `sentry_client` value into SDK name and version.
pub fn split_client(client: &str) -> Option<(&str, &str)> {
    client.split_once('/').or_else(|| client.split_once(' '))
}

/// Whether a query string carries Sentry auth (Relay looks for the substring `sentry_`).
pub fn query_has_auth(query: &str) -> bool {
    query.contains("sentry_")
}

/// Checks a public key's shape and strips Relay's optional `.flag` suffixes
/// (`<32 chars>.no-cache` → `<32 chars>`).
pub fn validate_public_key(key: &str) -> Result<&str, AuthError> {
    let key = key.split('.').next().unwrap_or_default();
    if key.len() == 32 && key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(key)
    } else {
        Err(AuthError::BadPublicKey)
    }
}

/// A parsed DSN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dsn {
    /// `http` or `https`.
    pub scheme: String,
    /// The user part of the URL.
    pub public_key: String,
    /// The deprecated password part, if any (`key:secret@`); never required.
    pub secret_key: Option<String>,
    /// Host name or address (IPv6 keeps its brackets).
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// Path before the project id, without trailing slash: `""` or `/sentry`.
    pub path_prefix: String,
    /// The last path segment. SDKs treat it as opaque; routes need it numeric.
    pub project_id: String,
}

impl Dsn {
    /// Parses `{scheme}://{public_key}[:{secret}]@{host}[:{port}][/{prefix}]/{project_id}`.
    pub fn parse(dsn: &str) -> Result<Self, AuthError> {
        let (scheme, rest) = dsn.trim().split_once("://").ok_or(AuthError::InvalidDsn("no scheme"))?;
        if scheme != "http" && scheme != "https" {
            return Err(AuthError::InvalidDsn("scheme must be http or https"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (userinfo, hostport) = authority.rsplit_once('@').ok_or(AuthError::InvalidDsn("no public key"))?;
        let (public_key, secret) = match userinfo.split_once(':') {
            Some((key, secret)) => (key, Some(secret).filter(|s| !s.is_empty())),
            None => (userinfo, None),
        };
        if public_key.is_empty() {
            return Err(AuthError::InvalidDsn("no public key"));
        }
        let (host, port) = split_host_port(hostport)?;
        let path = path.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
        let (prefix, project_id) = path.rsplit_once('/').unwrap_or(("", ""));
        if project_id.is_empty() {
            return Err(AuthError::InvalidDsn("no project id"));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            public_key: public_key.to_owned(),
            secret_key: secret.map(str::to_owned),
            host: host.to_owned(),
            port,
            path_prefix: prefix.to_owned(),
            project_id: project_id.to_owned(),
        })
    }

    /// `{scheme}://{host}[:{port}]{prefix}/api/{project_id}/envelope/`.
    pub fn envelope_url(&self) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{}{port}{}/api/{}/envelope/", self.scheme, self.host, self.path_prefix, self.project_id)
    }
}

fn split_host_port(hostport: &str) -> Result<(&str, Option<u16>), AuthError> {
    let colon = match hostport.rfind(':') {
        Some(i) if !hostport[i..].contains(']') => i,
        _ => return non_empty_host(hostport).map(|h| (h, None)),
    };
    let port = hostport[colon + 1..].parse().map_err(|_| AuthError::InvalidDsn("bad port"))?;
    Ok((non_empty_host(&hostport[..colon])?, Some(port)))
}

fn non_empty_host(host: &str) -> Result<&str, AuthError> {
    if host.is_empty() { Err(AuthError::InvalidDsn("no host")) } else { Ok(host) }
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte.
pub(crate) fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "e12d836b15bb49d7bbf99e64295d995b";

    #[test]
    fn python_style_header_is_parsed() {
        let auth = SentryAuth::from_header(&format!(
            "Sentry sentry_key={KEY}, sentry_version=7, sentry_client=sentry.python/2.19.0"
        ))
        .expect("valid header");
        assert_eq!(auth.public_key, KEY);
        assert_eq!(auth.client.as_deref(), Some("sentry.python/2.19.0"));
        assert_eq!(auth.protocol_version(), Ok(7));
        assert_eq!(auth.client_sdk(), Some(("sentry.python", "2.19.0")));
    }

    #[test]
    fn header_tolerates_case_spacing_order_secret_and_timestamp() {
        let auth = SentryAuth::from_header(&format!(
            "sentry  sentry_version = 2.0 ,sentry_timestamp=bogus,sentry_secret=s,sentry_key= {KEY} "
        ))
        .expect("valid header");
        assert_eq!(auth.public_key, KEY);
        assert_eq!(auth.client, None);
        assert_eq!(auth.protocol_version(), Ok(2));
    }

    #[test]
    fn header_without_sentry_scheme_is_not_sentry_auth() {
        assert_eq!(SentryAuth::from_header(&format!("Bearer sentry_key={KEY}")), Err(AuthError::NotSentryScheme));
        assert_eq!(SentryAuth::from_header("Sentry"), Err(AuthError::NotSentryScheme));
    }

    #[test]
    fn header_without_key_or_with_empty_key_is_rejected() {
        assert_eq!(SentryAuth::from_header("Sentry sentry_version=7"), Err(AuthError::MissingKey));
        assert_eq!(SentryAuth::from_header("Sentry sentry_key="), Err(AuthError::MissingKey));
    }

    #[test]
    fn bad_and_future_versions_are_rejected() {
        let bad = SentryAuth::from_header(&format!("Sentry sentry_key={KEY}, sentry_version=x"));
        assert_eq!(bad, Err(AuthError::BadVersion("x".into())));
        let future = SentryAuth::from_header(&format!("Sentry sentry_key={KEY}, sentry_version=8"));
        assert_eq!(future, Err(AuthError::UnsupportedVersion(8)));
    }

    #[test]
    fn missing_version_means_the_latest() {
        let auth = SentryAuth::from_header(&format!("Sentry sentry_key={KEY}")).expect("valid");
        assert_eq!(auth.protocol_version(), Ok(LATEST_PROTOCOL_VERSION));
    }

    #[test]
    fn javascript_query_string_is_parsed_and_percent_decoded() {
        let query = format!("sentry_version=7&sentry_key={KEY}&sentry_client=sentry.javascript.node%2F8.47.0");
        assert!(query_has_auth(&query));
        let auth = SentryAuth::from_query(&query).expect("valid query");
        assert_eq!(auth.public_key, KEY);
        assert_eq!(auth.client.as_deref(), Some("sentry.javascript.node/8.47.0"));
    }

    #[test]
    fn query_without_key_is_rejected() {
        assert_eq!(SentryAuth::from_query("sentry_version=7&x=1"), Err(AuthError::MissingKey));
        assert!(!query_has_auth("foo=bar"));
    }

    #[test]
    fn broken_percent_escapes_are_kept_literally() {
        assert_eq!(form_decode("a%2"), "a%2");
        assert_eq!(form_decode("a%zz+b"), "a%zz b");
        assert_eq!(form_decode("%41%"), "A%");
    }

    #[test]
    fn basic_auth_takes_the_user_part_as_key() {
        let value = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:secret"));
        let auth = SentryAuth::from_basic(&format!("Basic {value}")).expect("valid basic");
        assert_eq!(auth.public_key, KEY);
        assert_eq!(SentryAuth::from_basic("Basic !!!"), Err(AuthError::BadBasic));
    }

    #[test]
    fn public_keys_must_have_32_characters_and_may_carry_flags() {
        assert_eq!(validate_public_key(KEY), Ok(KEY));
        assert_eq!(validate_public_key(&format!("{KEY}.no-cache")), Ok(KEY));
        assert_eq!(validate_public_key("abc"), Err(AuthError::BadPublicKey));
    }

    #[test]
    fn dsn_with_path_prefix_keeps_prefix_and_project() {
        let dsn = Dsn::parse(&format!("https://{KEY}@errors.example.com:8443/sentry/eu/42")).expect("valid dsn");
        assert_eq!(dsn.public_key, KEY);
        assert_eq!(dsn.host, "errors.example.com");
        assert_eq!(dsn.port, Some(8443));
        assert_eq!(dsn.path_prefix, "/sentry/eu");
        assert_eq!(dsn.project_id, "42");
        assert_eq!(dsn.envelope_url(), "https://errors.example.com:8443/sentry/eu/api/42/envelope/");
    }

    #[test]
    fn dsn_secret_is_optional_and_empty_secret_is_none() {
        let plain = Dsn::parse(&format!("http://{KEY}@localhost/1")).expect("valid");
        let empty = Dsn::parse(&format!("http://{KEY}:@localhost/1")).expect("valid");
        let secret = Dsn::parse(&format!("http://{KEY}:s3@localhost/1")).expect("valid");
        assert_eq!(plain, empty);
        assert_eq!(secret.secret_key.as_deref(), Some("s3"));
        assert_eq!(plain.path_prefix, "");
        assert_eq!(plain.envelope_url(), "http://localhost/api/1/envelope/");
    }

    #[test]
    fn dsn_with_ipv6_host_keeps_brackets() {
        let dsn = Dsn::parse(&format!("http://{KEY}@[::1]:9000/7")).expect("valid");
        assert_eq!((dsn.host.as_str(), dsn.port), ("[::1]", Some(9000)));
    }

    #[test]
    fn malformed_dsns_say_what_is_missing() {
        let cases = [
            ("ftp://k@host/1", "invalid dsn: scheme must be http or https"),
            ("https://host/1", "invalid dsn: no public key"),
            ("https://:s@host/1", "invalid dsn: no public key"),
            ("https://k@host/", "invalid dsn: no project id"),
            ("https://k@host", "invalid dsn: no project id"),
            ("https://k@host:x/1", "invalid dsn: bad port"),
            ("https://k@/1", "invalid dsn: no host"),
            ("k@host/1", "invalid dsn: no scheme"),
        ];
        for (dsn, message) in cases {
            let err = Dsn::parse(dsn).expect_err(dsn);
            assert_eq!(err.to_string(), message, "{dsn}");
        }
    }
}
