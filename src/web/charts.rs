//! Inline SVG charts from hourly rollups: the stream's sparklines and the issue page's frequency bars.
//!
//! The SVG is built here from numbers only (labels are escaped), so templates can embed it with
//! `|safe` without letting event data reach markup.

use std::fmt::Write;

use crate::store::Millis;

const HOUR_MS: i64 = 3_600_000;

/// Counts per bucket: `buckets` buckets of `bucket_ms` ending with the one containing `now`.
pub fn bucketize(hourly: &[(Millis, i64)], now: Millis, buckets: usize, bucket_ms: i64) -> Vec<i64> {
    let end = now.0 - now.0.rem_euclid(bucket_ms) + bucket_ms;
    let start = end - bucket_ms * buckets as i64;
    let mut out = vec![0; buckets];
    for (hour, count) in hourly {
        if hour.0 >= start && hour.0 < end {
            let i = ((hour.0 - start) / bucket_ms) as usize;
            if let Some(slot) = out.get_mut(i) {
                *slot += count;
            }
        }
    }
    out
}

/// A 24-hour sparkline (one bar per hour).
pub fn sparkline(hourly: &[(Millis, i64)], now: Millis) -> String {
    let counts = bucketize(hourly, now, 24, HOUR_MS);
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut svg = String::from(
        "<svg class=\"spark\" viewBox=\"0 0 96 24\" width=\"96\" height=\"24\" role=\"img\" aria-label=\"events in the last 24 hours\">",
    );
    for (i, c) in counts.iter().enumerate() {
        let h = if *c == 0 { 1.0 } else { (*c as f64 / max * 22.0).max(2.0) };
        let _ = write!(svg, "<rect x=\"{}\" y=\"{:.1}\" width=\"3\" height=\"{:.1}\"/>", i * 4, 24.0 - h, h);
    }
    svg.push_str("</svg>");
    svg
}

/// A bar chart with a tooltip per bar: `(label, count)`.
pub fn bars(buckets: &[(String, i64)]) -> String {
    let n = buckets.len().max(1);
    let width = 720.0;
    let bar = width / n as f64;
    let max = buckets.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let mut svg = format!(
        "<svg class=\"bars\" viewBox=\"0 0 {width} 80\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"event frequency\">"
    );
    for (i, (label, count)) in buckets.iter().enumerate() {
        let h = if *count == 0 { 1.0 } else { (*count as f64 / max as f64 * 76.0).max(2.0) };
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {count}</title></rect>",
            i as f64 * bar,
            80.0 - h,
            (bar - 1.0).max(1.0),
            h,
            super::format::escape_html(label),
        );
    }
    let _ = write!(svg, "<text x=\"2\" y=\"10\">{max}</text></svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_count_hours_into_place() {
        let now = Millis(100 * HOUR_MS + 10);
        let hourly = [(Millis(100 * HOUR_MS), 3), (Millis(99 * HOUR_MS), 2), (Millis(10 * HOUR_MS), 9)];
        let counts = bucketize(&hourly, now, 24, HOUR_MS);
        assert_eq!(counts.len(), 24);
        assert_eq!(counts[23], 3);
        assert_eq!(counts[22], 2);
        assert_eq!(counts.iter().sum::<i64>(), 5, "older hours fall outside");
        let svg = sparkline(&hourly, now);
        assert_eq!(svg.matches("<rect").count(), 24);
        assert!(bars(&[("<b>".into(), 1)]).contains("&lt;b&gt;: 1"));
    }
}
