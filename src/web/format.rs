//! Small formatting helpers shared by the pages: relative times, compact counts, short ids.

use crate::store::Millis;

/// `3m ago`, `5h ago`, `2d ago`, `in 4h` (future times).
pub fn ago(t: Millis, now: Millis) -> String {
    let diff = (now.0 - t.0) / 1000;
    let (future, secs) = if diff < 0 { (true, -diff) } else { (false, diff) };
    let text = match secs {
        0..=59 => return if future { "in a moment".to_owned() } else { "just now".to_owned() },
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        86_400..=2_591_999 => format!("{}d", secs / 86_400),
        2_592_000..=31_535_999 => format!("{}mo", secs / 2_592_000),
        _ => format!("{}y", secs / 31_536_000),
    };
    if future { format!("in {text}") } else { format!("{text} ago") }
}

/// `2026-11-21 07:38 UTC`.
pub fn datetime(t: Millis) -> String {
    let dt = t.to_datetime();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// `999`, `1.2k`, `34k`, `1.5M`.
pub fn compact(n: i64) -> String {
    match n {
        ..1000 => n.to_string(),
        1000..10_000 => format!("{:.1}k", n as f64 / 1000.0),
        10_000..1_000_000 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

/// Escape text for HTML (for the few fragments built outside templates).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode a query-string value.
pub fn q(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_short() {
        let now = Millis(1_000_000_000_000);
        assert_eq!(ago(Millis(now.0 - 30_000), now), "just now");
        assert_eq!(ago(Millis(now.0 - 7_200_000), now), "2h ago");
        assert_eq!(ago(Millis(now.0 + 7_200_000), now), "in 2h");
        assert_eq!(compact(1234), "1.2k");
        assert_eq!(compact(45_678), "45k");
        assert_eq!(escape_html("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
        assert_eq!(datetime(Millis(0)), "1970-01-01 00:00:00 UTC");
    }
}
