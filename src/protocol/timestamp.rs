//! Timestamps as SDKs send them: seconds since the epoch (int or float) or RFC 3339 text, with
//! or without a zone (no zone means UTC). All of these are the same instant:
//!
//! ```text
//! "2011-05-02T17:41:36Z"   "2011-05-02T17:41:36"   "2011-05-02T19:41:36+02:00"   1304358096.0
//! ```
//!
//! Normalized events carry float seconds with microsecond precision, as Relay writes them.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Reads a timestamp from a JSON number or string; `None` for anything else.
pub fn parse_value(value: &Value) -> Option<OffsetDateTime> {
    match value {
        Value::Number(number) => from_secs(number.as_f64()?),
        Value::String(text) => parse_str(text),
        _ => None,
    }
}

/// Parses RFC 3339 (zone optional) or a number of seconds written as text.
pub fn parse_str(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(ts) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(ts);
    }
    let naive =
        format_description!("[year]-[month]-[day][first [T][t][ ]][hour]:[minute]:[second][optional [.[subsecond]]]");
    let trimmed = text.strip_suffix(['Z', 'z']).unwrap_or(text);
    if let Ok(ts) = PrimitiveDateTime::parse(trimmed, naive) {
        return Some(ts.assume_utc());
    }
    text.parse::<f64>().ok().and_then(from_secs)
}

/// Converts float seconds since the epoch, rejecting NaN, infinities and out-of-range values.
pub fn from_secs(secs: f64) -> Option<OffsetDateTime> {
    if !secs.is_finite() || secs.abs() > 253_402_300_799.0 {
        return None;
    }
    let micros = (secs * 1e6).round() as i128;
    OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).ok()
}

/// Float seconds since the epoch, rounded to microseconds.
pub fn to_secs(ts: OffsetDateTime) -> f64 {
    ts.unix_timestamp() as f64 + f64::from(ts.microsecond()) / 1e6
}

/// The JSON value written for a timestamp in a normalized event.
pub fn to_value(ts: OffsetDateTime) -> Value {
    serde_json::Number::from_f64(to_secs(ts)).map_or(Value::Null, Value::Number)
}

/// RFC 3339 text in UTC, for messages and summaries.
pub fn to_rfc3339(ts: OffsetDateTime) -> String {
    ts.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn all_documented_forms_are_the_same_instant() {
        let forms = [
            json!("2011-05-02T17:41:36Z"),
            json!("2011-05-02T17:41:36"),
            json!("2011-05-02T19:41:36+02:00"),
            json!("2011-05-02 17:41:36"),
            json!("1304358096"),
            json!(1304358096),
            json!(1304358096.0),
        ];
        for form in forms {
            let ts = parse_value(&form).unwrap_or_else(|| panic!("{form} parses"));
            assert_eq!(ts.unix_timestamp(), 1304358096, "{form}");
        }
    }

    #[test]
    fn fractions_survive_with_microsecond_precision() {
        let ts = parse_value(&json!("2011-05-02T17:41:36.123456789Z")).expect("parses");
        assert_eq!(to_secs(ts), 1304358096.123456);
        let ts = parse_value(&json!(1700000000.5)).expect("parses");
        assert_eq!(to_value(ts), json!(1700000000.5));
    }

    #[test]
    fn garbage_and_absurd_values_are_not_timestamps() {
        for value in [json!("yesterday"), json!(true), json!(null), json!(1e300), json!([1])] {
            assert_eq!(parse_value(&value), None, "{value}");
        }
    }
}
