//! Identifiers that travel on the wire.
//!
//! Sentry writes event ids as 32 lowercase hex digits (`fc6d8c0c43fc4630ad850ee518f1b9d0`), but
//! SDKs and old clients also send the dashed UUID form (`fc6d8c0c-43fc-4630-ad85-0ee518f1b9d0`).
//! [`EventId`] accepts both and always prints the 32-hex form, which is what the ingest response
//! `{"id": "…"}` and the store use.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The id of an event: a UUID printed as 32 lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Uuid);

/// The text was neither 32 hex digits nor a dashed UUID.
#[derive(Debug, thiserror::Error)]
#[error("invalid event id")]
pub struct InvalidEventId(#[source] uuid::Error);

impl EventId {
    /// A fresh random (v4) id, for events that arrive without one.
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    /// Wraps an existing UUID.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// Whether this is the all-zero id, which some clients send as "no id".
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }
}

impl FromStr for EventId {
    type Err = InvalidEventId;

    /// Accepts 32 hex digits or the 36-character dashed form, in either case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(s).map(Self).map_err(InvalidEventId)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_hex_ids_round_trip_unchanged() {
        let id: EventId = "fc6d8c0c43fc4630ad850ee518f1b9d0".parse().expect("valid id");
        assert_eq!(id.to_string(), "fc6d8c0c43fc4630ad850ee518f1b9d0");
    }

    #[test]
    fn dashed_and_uppercase_ids_print_as_lowercase_hex() {
        let id: EventId = "FC6D8C0C-43FC-4630-AD85-0EE518F1B9D0".parse().expect("valid id");
        assert_eq!(id.to_string(), "fc6d8c0c43fc4630ad850ee518f1b9d0");
    }

    #[test]
    fn short_or_non_hex_ids_are_rejected() {
        assert!("fc6d8c0c43fc4630ad850ee518f1b9d".parse::<EventId>().is_err());
        assert!("zz6d8c0c43fc4630ad850ee518f1b9d0".parse::<EventId>().is_err());
        assert!("".parse::<EventId>().is_err());
    }

    #[test]
    fn event_ids_serialize_as_json_strings() {
        let id: EventId = "fc6d8c0c-43fc-4630-ad85-0ee518f1b9d0".parse().expect("valid id");
        let json = serde_json::to_string(&id).expect("serializes");
        assert_eq!(json, "\"fc6d8c0c43fc4630ad850ee518f1b9d0\"");
        let back: EventId = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, id);
        assert!(serde_json::from_str::<EventId>("42").is_err());
    }

    #[test]
    fn random_ids_are_distinct_and_not_nil() {
        let (a, b) = (EventId::new_random(), EventId::new_random());
        assert_ne!(a, b);
        assert!(!a.is_nil());
    }
}
