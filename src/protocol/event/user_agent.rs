//! Browser and OS contexts from the request's `User-Agent`, as Relay derives them when the SDK sent
//! none (browser SDKs never do): the issue list then shows `browser` and `os` tags, and inbound filters
//! can tell browsers apart.
//!
//! ```text
//! request.headers: [["User-Agent", "Mozilla/5.0 (X11; Linux x86_64) … Chrome/120.0.0.0 Safari/537.36"]]
//!   → contexts.browser = {"type": "browser", "name": "Chrome", "version": "120.0.0.0"}
//!     contexts.os      = {"type": "os", "name": "Linux"}
//! ```

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

static PARSER: LazyLock<woothee::parser::Parser> = LazyLock::new(woothee::parser::Parser::new);

/// Add `contexts.browser` and `contexts.os` from the User-Agent header when they are missing.
pub(crate) fn infer_contexts(event: &mut Map<String, Value>) {
    let Some(agent) = user_agent(event) else { return };
    let Some(parsed) = PARSER.parse(&agent) else { return };
    let known = |v: &str| !v.is_empty() && v != "UNKNOWN";
    let contexts = event.entry("contexts").or_insert_with(|| Value::Object(Map::new()));
    let Some(contexts) = contexts.as_object_mut() else { return };
    // Crawlers and HTTP libraries (curl, python-requests: category "misc") are not browsers.
    let browser_like = matches!(parsed.category, "pc" | "smartphone" | "mobilephone");
    if known(parsed.name) && browser_like && !contexts.contains_key("browser") {
        let mut browser = json!({"type": "browser", "name": parsed.name});
        if known(parsed.version) {
            browser["version"] = parsed.version.to_string().into();
        }
        contexts.insert("browser".into(), browser);
    }
    if known(parsed.os) && !contexts.contains_key("os") {
        let mut os = json!({"type": "os", "name": os_name(parsed.os)});
        if known(&parsed.os_version) {
            os["version"] = parsed.os_version.to_string().into();
        }
        contexts.insert("os".into(), os);
    }
}

/// woothee says "Windows 10", "Mac OSX", "iPhone"; Sentry says "Windows", "Mac OS X", "iOS".
fn os_name(os: &str) -> &str {
    match os {
        o if o.starts_with("Windows") => "Windows",
        "Mac OSX" => "Mac OS X",
        "iPhone" | "iPad" | "iPod" => "iOS",
        other => other,
    }
}

fn user_agent(event: &Map<String, Value>) -> Option<String> {
    let headers = event.get("request")?.get("headers")?.as_array()?;
    headers.iter().find_map(|pair| {
        let name = pair.get(0)?.as_str()?;
        if name.eq_ignore_ascii_case("user-agent") { pair.get(1)?.as_str().map(str::to_owned) } else { None }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_agent(agent: &str) -> Map<String, Value> {
        let event = json!({"request": {"headers": [["User-Agent", agent]]}});
        event.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_desktop_browser_gives_browser_and_os_contexts() {
        let mut event = with_agent(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        );
        infer_contexts(&mut event);
        assert_eq!(event["contexts"]["browser"]["name"], "Chrome");
        assert_eq!(event["contexts"]["browser"]["version"], "120.0.0.0");
        assert_eq!(event["contexts"]["os"]["name"], "Windows");
    }

    #[test]
    fn contexts_the_sdk_sent_win_and_garbage_adds_nothing() {
        let mut event =
            with_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1");
        event.insert("contexts".into(), json!({"browser": {"name": "Custom"}}));
        infer_contexts(&mut event);
        assert_eq!(event["contexts"]["browser"]["name"], "Custom");
        assert_eq!(event["contexts"]["os"]["name"], "iOS");
        let mut curl = with_agent("curl/8.5.0");
        infer_contexts(&mut curl);
        assert!(curl.get("contexts").is_none_or(|c| c.get("browser").is_none()), "curl is no browser");
        let mut garbage = with_agent("%%%");
        infer_contexts(&mut garbage);
        assert!(garbage.get("contexts").is_none_or(|c| c.get("browser").is_none()));
    }
}
