//! Browser security reports → `csp`, `hpkp`, `expect-ct`, `expect-staple` (`default` variant).
//!
//! ```text
//! csp
//! ├─ salt       "script-src"                 (the effective directive)
//! ├─ violation  "'unsafe-inline'"            ✗ unless a local script violation
//! └─ uri        "example.com"                (blocked host; `data:`, `ftp://host`, `'self'`)
//! ```

use serde_json::Value;

use crate::grouping::component::{Component, Text};
use crate::grouping::event::str_at;

use super::{DEFAULT, Variants};

const LOCAL: &str = "'self'";

/// Schemes that `urlunsplit` renders with `//` even without a host.
const NETLOC_SCHEMES: [&str; 12] =
    ["ftp", "http", "https", "ws", "wss", "file", "gopher", "nntp", "telnet", "imap", "prospero", "sftp"];

fn salt(value: &str) -> Component {
    Component::leaf("salt", Text::copied(value)).with_hint("a static salt")
}

/// The blocked URI reduced to what identifies its origin.
pub fn normalize_blocked_uri(value: &str) -> String {
    if value.is_empty() || value == LOCAL || value == "self" {
        return LOCAL.to_owned();
    }
    let Some((scheme, rest)) = value.split_once(':').filter(|(s, _)| is_scheme(s)) else {
        if !value.contains(':') {
            return format!("{value}:");
        }
        return value.to_owned();
    };
    let scheme = scheme.to_lowercase();
    let netloc =
        rest.strip_prefix("//").map(|r| r.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
    if scheme == "http" || scheme == "https" {
        return netloc.to_owned();
    }
    if !netloc.is_empty() || NETLOC_SCHEMES.contains(&scheme.as_str()) {
        format!("{scheme}://{netloc}")
    } else {
        format!("{scheme}:")
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The `default` variant of a CSP report.
pub fn csp_variants(csp: &Value) -> Variants {
    let directive = str_at(csp, "effective_directive").unwrap_or("None");
    let uri = normalize_blocked_uri(str_at(csp, "blocked_uri").unwrap_or_default());
    let violated = str_at(csp, "violated_directive");
    let local_violation = violated.filter(|_| directive == "script-src" && uri == LOCAL).and_then(|v| {
        if v.contains("'unsafe-inline'") {
            Some("unsafe-inline")
        } else if v.contains("'unsafe-eval'") {
            Some("unsafe-eval")
        } else {
            None
        }
    });
    let (violation, uri) = match local_violation {
        Some(kind) => {
            let mut uri = Component::leaf("uri", uri);
            uri.ignore("violation takes precedence");
            (Component::leaf("violation", format!("'{kind}'")), uri)
        }
        None => {
            let mut violation = Component::empty("violation");
            violation.ignore("not a local script violation");
            (violation, Component::leaf("uri", uri))
        }
    };
    let component = Component::with_children("csp", vec![salt(directive), violation, uri]);
    vec![(DEFAULT, component)]
}

/// The `default` variant of an HPKP, Expect-CT or Expect-Staple report.
pub fn hostname_report_variants(id: &'static str, report: &Value) -> Variants {
    let hostname = match str_at(report, "hostname") {
        Some(h) => Component::leaf("hostname", Text::copied(h)),
        None => Component::empty("hostname"),
    };
    vec![(DEFAULT, Component::with_children(id, vec![salt(id), hostname]))]
}
