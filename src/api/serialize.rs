//! Issues and events as Sentry's API shapes them.
//!
//! ```json
//! {"id": "12", "shortId": "WEB-C", "title": "ZeroDivisionError: division by zero", "culprit": "app.views in divide",
//!  "level": "error", "status": "unresolved", "count": "3", "userCount": 2, "firstSeen": "2026-11-21T07:38:02.123Z", …}
//! ```

use serde_json::{Map, Value, json};

use crate::store::{Issue, Project, StoredEvent, User};

/// Sentry's short-id alphabet (base 32 without I, L, O, U).
const SHORT_ID_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `WEB-3F`: the project slug in capitals and the per-project counter in Sentry's base 32.
pub fn short_id(project_slug: &str, n: i64) -> String {
    let mut n = n.max(0) as u64;
    let mut digits = Vec::new();
    loop {
        digits.push(SHORT_ID_ALPHABET[(n % 32) as usize]);
        n /= 32;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    format!("{}-{}", project_slug.to_uppercase(), String::from_utf8_lossy(&digits))
}

/// An issue object.
pub fn issue(issue: &Issue, project: &Project, public_url: &str) -> Value {
    let metadata: Value = serde_json::from_str(&issue.metadata).unwrap_or_else(|_| json!({}));
    json!({
        "id": issue.id.to_string(),
        "shortId": short_id(&project.slug, issue.short_id),
        "title": issue.title,
        "culprit": issue.culprit,
        "level": issue.level,
        "status": issue.status,
        "substatus": issue.substatus,
        "statusDetails": status_details(issue),
        "type": issue.event_type,
        "metadata": metadata,
        "count": issue.times_seen.to_string(),
        "userCount": issue.users_seen,
        "firstSeen": issue.first_seen.to_rfc3339(),
        "lastSeen": issue.last_seen.to_rfc3339(),
        "firstRelease": issue.first_release.as_ref().map(|v| json!({"version": v})),
        "lastRelease": issue.last_release.as_ref().map(|v| json!({"version": v})),
        "permalink": format!("{public_url}/organizations/{}/issues/{}/", project.organization_slug, issue.id),
        "project": {"id": project.id.to_string(), "slug": project.slug, "name": project.name, "platform": project.platform},
        "platform": project.platform,
        "isBookmarked": false,
        "hasSeen": false,
        "isPublic": false,
        "numComments": 0,
        "assignedTo": null,
    })
}

/// Sentry's `statusDetails`: how the issue is resolved or ignored.
pub fn status_details(issue: &Issue) -> Value {
    let mut details = Map::new();
    match (issue.status.as_str(), issue.resolved_mode.as_deref()) {
        ("resolved", Some("next")) => {
            details.insert("inNextRelease".into(), json!(true));
        }
        ("resolved", Some(_)) => {
            details.insert("inRelease".into(), json!(issue.resolved_release));
        }
        ("ignored", _) => {
            if let Some(until) = issue.ignore_until {
                details.insert("ignoreUntil".into(), json!(until.to_rfc3339()));
            }
            if let Some(count) = issue.ignore_count {
                details.insert("ignoreCount".into(), json!(count - issue.times_seen));
            }
            if let Some(users) = issue.ignore_users {
                details.insert("ignoreUserCount".into(), json!(users - issue.users_seen));
            }
        }
        _ => {}
    }
    Value::Object(details)
}

/// Sentry's `assignedTo` for a user.
pub fn assignee(user: &User) -> Value {
    json!({"type": "user", "id": user.id.to_string(), "name": user.email, "email": user.email})
}

/// Fill the viewer-dependent fields of an issue object.
pub fn with_viewer(mut issue: Value, assignee_user: Option<&User>, bookmarked: bool) -> Value {
    if let Some(object) = issue.as_object_mut() {
        object.insert("assignedTo".into(), assignee_user.map_or(Value::Null, assignee));
        object.insert("isBookmarked".into(), json!(bookmarked));
    }
    issue
}

/// An event object: the payload's interfaces as `entries`, plus the indexed columns.
pub fn event(event: &StoredEvent, payload: &Value) -> Value {
    let empty = Map::new();
    let p = payload.as_object().unwrap_or(&empty);
    let tags: Vec<Value> = p
        .get("tags")
        .and_then(Value::as_array)
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|pair| {
                    let key = pair.get(0)?.as_str()?;
                    let value = pair.get(1)?.as_str()?;
                    Some(json!({"key": key, "value": value}))
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": event.event_id,
        "eventID": event.event_id,
        "groupID": event.issue_id.map(|id| id.to_string()),
        "projectID": event.project_id.to_string(),
        "dateCreated": event.timestamp.to_rfc3339(),
        "dateReceived": event.received_at.to_rfc3339(),
        "type": event.event_type,
        "title": event.title,
        "message": event.message,
        "culprit": p.get("culprit").filter(|c| c.is_string()).cloned().unwrap_or_else(|| json!("")),
        "platform": event.platform,
        "level": event.level,
        "release": event.release.as_ref().map(|v| json!({"version": v})),
        "environment": event.environment,
        "dist": p.get("dist").cloned().unwrap_or(Value::Null),
        "tags": tags,
        "user": p.get("user").cloned().unwrap_or(Value::Null),
        "contexts": p.get("contexts").cloned().unwrap_or_else(|| json!({})),
        "sdk": p.get("sdk").cloned().unwrap_or(Value::Null),
        "fingerprints": p.get("fingerprint").cloned().unwrap_or_else(|| json!([])),
        "context": p.get("extra").cloned().unwrap_or_else(|| json!({})),
        "packages": p.get("modules").cloned().unwrap_or_else(|| json!({})),
        "errors": p.get("errors").cloned().unwrap_or_else(|| json!([])),
        "entries": entries(p),
    })
}

/// Sentry's `entries`: one `{type, data}` per interface, in Sentry's order.
fn entries(p: &Map<String, Value>) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut push = |ty: &str, data: Value| entries.push(json!({"type": ty, "data": data}));
    if let Some(exception) = p.get("exception") {
        let values = exception.get("values").cloned().unwrap_or_else(|| json!([]));
        let has_system = values.as_array().is_some_and(|vs| {
            vs.iter().any(|v| {
                v.pointer("/stacktrace/frames")
                    .and_then(Value::as_array)
                    .is_some_and(|fs| fs.iter().any(|f| f.get("in_app") != Some(&Value::Bool(true))))
            })
        });
        push("exception", json!({"values": values, "hasSystemFrames": has_system, "excOmitted": null}));
    }
    if let Some(stacktrace) = p.get("stacktrace") {
        push("stacktrace", stacktrace.clone());
    }
    if let Some(threads) = p.get("threads") {
        push("threads", json!({"values": threads.get("values").cloned().unwrap_or_else(|| json!([]))}));
    }
    if let Some(logentry) = p.get("logentry") {
        push(
            "message",
            json!({
                "formatted": logentry.get("formatted").cloned().unwrap_or(Value::Null),
                "message": logentry.get("message").cloned().unwrap_or(Value::Null),
                "params": logentry.get("params").cloned().unwrap_or(Value::Null),
            }),
        );
    }
    if let Some(breadcrumbs) = p.get("breadcrumbs") {
        push("breadcrumbs", json!({"values": breadcrumbs.get("values").cloned().unwrap_or_else(|| json!([]))}));
    }
    if let Some(request) = p.get("request") {
        push("request", request.clone());
    }
    if let Some(spans) = p.get("spans") {
        push("spans", spans.clone());
    }
    for key in ["csp", "hpkp", "expectct", "expectstaple", "nel"] {
        if let Some(report) = p.get(key) {
            push(key, report.clone());
        }
    }
    if let Some(debug) = p.get("debug_meta") {
        push("debugmeta", debug.clone());
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_use_sentrys_base32() {
        assert_eq!(short_id("web", 1), "WEB-1");
        assert_eq!(short_id("web", 31), "WEB-Z");
        assert_eq!(short_id("web", 32), "WEB-10");
        assert_eq!(short_id("python-app", 1000), "PYTHON-APP-Z8");
    }
}
