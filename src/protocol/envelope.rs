//! The envelope: the container every modern SDK posts to `/api/{project_id}/envelope/`.
//!
//! An envelope is a JSON header line followed by items; each item is a JSON header line and a
//! payload (protocol.md §3.1). Here is a Python SDK error with an attachment — the attachment
//! says how long it is, so its payload may contain newlines; the event has no `length` and
//! runs to the end of its line:
//!
//! ```text
//! {"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2024-05-01T10:00:00.000Z"}
//! {"type":"attachment","length":10,"filename":"hello.txt"}
//! \xef\xbb\xbfHello\r\n
//! {"type":"event"}
//! {"message":"hello world","level":"error"}
//! ```
//!
//! The parser follows Relay byte for byte: JSON values may be preceded by whitespace (so blank
//! lines between items are fine), the byte after a header must be `\n` or the end (no `\r\n`),
//! a `length` payload must be followed by `\n` or the end, an implicit payload keeps a `\r`
//! before its `\n`, and trailing whitespace after the last item is an error. Items are counted
//! from 0 in error messages. Payloads are slices of the request body, never copies.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::protocol::ids::EventId;
pub use crate::protocol::item_type::ItemType;
use crate::protocol::timestamp;

/// Why an envelope could not be parsed (HTTP 400).
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The body is empty or whitespace.
    #[error("missing envelope header")]
    MissingHeader,
    /// The first line is not a JSON object.
    #[error("invalid envelope header")]
    InvalidHeader(#[source] serde_json::Error),
    /// Something other than `\n` follows the envelope header.
    #[error("missing newline after envelope header at byte {offset}")]
    MissingNewlineAfterHeader {
        /// Where the newline was expected.
        offset: usize,
    },
    /// Only whitespace is left where an item header should start.
    #[error("item {index}: unexpected end of file")]
    UnexpectedEof {
        /// The item's position.
        index: usize,
    },
    /// An item header is not a JSON object, or its `length` is not a u32.
    #[error("item {index}: invalid item header")]
    InvalidItemHeader {
        /// The item's position.
        index: usize,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
    /// An item header without a string `type`.
    #[error("item {index}: missing item type")]
    MissingItemType {
        /// The item's position.
        index: usize,
    },
    /// Something other than `\n` follows an item header.
    #[error("item {index}: missing newline after item header at byte {offset}")]
    MissingNewlineAfterItemHeader {
        /// The item's position.
        index: usize,
        /// Where the newline was expected.
        offset: usize,
    },
    /// The declared `length` runs past the end of the body.
    #[error("item {index}: length {length} exceeds remaining {remaining} bytes")]
    PayloadTruncated {
        /// The item's position.
        index: usize,
        /// The declared length.
        length: u32,
        /// The bytes that were left.
        remaining: usize,
    },
    /// Something other than `\n` follows a payload of declared length.
    #[error("item {index}: missing newline after payload at byte {offset}")]
    MissingNewlineAfterPayload {
        /// The item's position.
        index: usize,
        /// Where the newline was expected.
        offset: usize,
    },
    /// A Relay-internal item type that clients may not send.
    #[error("item {index}: item type {ty} is not allowed")]
    ForbiddenItem {
        /// The item's position.
        index: usize,
        /// The rejected type.
        ty: ItemType,
    },
}

/// The SDK named in an envelope header.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClientSdk {
    /// e.g. `sentry.python`.
    pub name: Option<String>,
    /// e.g. `2.19.0`.
    pub version: Option<String>,
}

/// The envelope's first line.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EnvelopeHeaders {
    /// The id of the event the items belong to; wins over the event payload's own id.
    pub event_id: Option<EventId>,
    /// Self-authentication when the request carries no other auth.
    pub dsn: Option<String>,
    /// When the SDK sent the envelope, for clock-drift correction. Unparsable values are
    /// dropped rather than failing the envelope.
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// The sending SDK, for items without their own `sdk`.
    pub sdk: Option<ClientSdk>,
    /// Every other key (`trace`, …), kept for forward compatibility.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// An item's header line, minus the `type`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ItemHeaders {
    /// Payload length in bytes, when given.
    pub length: Option<u32>,
    /// MIME type of the payload.
    pub content_type: Option<String>,
    /// Attachment file name.
    pub filename: Option<String>,
    /// `event.attachment`, `event.minidump`, …
    pub attachment_type: Option<String>,
    /// Number of entries in a container item (`log`, `span`, `trace_metric`).
    pub item_count: Option<u32>,
    /// Every other key, kept for forward compatibility.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One item: its type, headers and payload bytes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    /// The item's `type`.
    #[serde(rename = "type")]
    pub ty: ItemType,
    /// The rest of the header line.
    pub headers: ItemHeaders,
    /// The payload, a slice of the request body.
    #[serde(skip)]
    pub payload: Bytes,
}

/// A parsed envelope.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Envelope {
    /// The first line.
    pub headers: EnvelopeHeaders,
    /// The items in order.
    pub items: Vec<Item>,
}

impl Envelope {
    /// Parses a decoded request body.
    pub fn parse(bytes: Bytes) -> Result<Self, EnvelopeError> {
        let (map, end) = match next_object(&bytes, 0) {
            None => return Err(EnvelopeError::MissingHeader),
            Some(Err(source)) => return Err(EnvelopeError::InvalidHeader(source)),
            Some(Ok(found)) => found,
        };
        let headers = EnvelopeHeaders::from_map(map)?;
        let mut offset = expect_newline(&bytes, end).ok_or(EnvelopeError::MissingNewlineAfterHeader { offset: end })?;
        let mut items = Vec::new();
        while offset < bytes.len() {
            let (item, next) = parse_item(&bytes, offset, items.len())?;
            items.push(item);
            offset = next;
        }
        Ok(Self { headers, items })
    }

    /// The items of one type.
    pub fn items_of<'a>(&'a self, ty: &'a ItemType) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |item| &item.ty == ty)
    }

    /// The event-like item (event, transaction, feedback, …), if any.
    pub fn event_item(&self) -> Option<&Item> {
        self.items.iter().find(|item| item.ty.is_event_like())
    }

    /// Whether any item needs the envelope's `event_id` (generate one if it is missing).
    pub fn requires_event_id(&self) -> bool {
        self.items.iter().any(|item| item.ty.requires_event_id())
    }
}

impl EnvelopeHeaders {
    fn from_map(mut map: Map<String, Value>) -> Result<Self, EnvelopeError> {
        let event_id = match map.remove("event_id") {
            None | Some(Value::Null) => None,
            Some(id) => Some(serde_json::from_value(id).map_err(EnvelopeError::InvalidHeader)?),
        };
        let dsn = take_string(&mut map, "dsn");
        let sent_at = map.remove("sent_at").as_ref().and_then(timestamp::parse_value);
        let sdk = match map.remove("sdk") {
            Some(Value::Object(mut sdk)) => {
                Some(ClientSdk { name: take_string(&mut sdk, "name"), version: take_string(&mut sdk, "version") })
            }
            _ => None,
        };
        Ok(Self { event_id, dsn, sent_at, sdk, other: map.into_iter().collect() })
    }
}

fn parse_item(bytes: &Bytes, offset: usize, index: usize) -> Result<(Item, usize), EnvelopeError> {
    let (mut map, end) = match next_object(bytes, offset) {
        None => return Err(EnvelopeError::UnexpectedEof { index }),
        Some(Err(source)) => return Err(EnvelopeError::InvalidItemHeader { index, source }),
        Some(Ok(found)) => found,
    };
    let ty = match map.remove("type") {
        Some(Value::String(name)) => ItemType::from_name(&name),
        _ => return Err(EnvelopeError::MissingItemType { index }),
    };
    if ty == ItemType::Integration {
        return Err(EnvelopeError::ForbiddenItem { index, ty });
    }
    let invalid = |source| EnvelopeError::InvalidItemHeader { index, source };
    let length = take_u32(&mut map, "length").map_err(invalid)?;
    let item_count = take_u32(&mut map, "item_count").map_err(invalid)?;
    let headers = ItemHeaders {
        length,
        content_type: take_string(&mut map, "content_type"),
        filename: take_string(&mut map, "filename"),
        attachment_type: take_string(&mut map, "attachment_type"),
        item_count,
        other: map.into_iter().collect(),
    };
    let start = if end == bytes.len() {
        end
    } else {
        expect_newline(bytes, end).ok_or(EnvelopeError::MissingNewlineAfterItemHeader { index, offset: end })?
    };
    let (payload_end, next) = match length {
        Some(length) => {
            let remaining = bytes.len() - start;
            let payload_end = usize::try_from(length)
                .ok()
                .and_then(|len| start.checked_add(len))
                .filter(|&e| e <= bytes.len())
                .ok_or(EnvelopeError::PayloadTruncated { index, length, remaining })?;
            let next = expect_newline(bytes, payload_end)
                .ok_or(EnvelopeError::MissingNewlineAfterPayload { index, offset: payload_end })?;
            (payload_end, next)
        }
        None => {
            let line_end = memchr_newline(&bytes[start..]).map_or(bytes.len(), |i| start + i);
            (line_end, (line_end + 1).min(bytes.len()))
        }
    };
    let payload = bytes.slice(start..payload_end);
    Ok((Item { ty, headers, payload }, next))
}

/// A header object and the offset just past it.
type Parsed = (Map<String, Value>, usize);

/// Reads one JSON object starting at `offset`, skipping leading whitespace. `None` when only
/// whitespace is left; otherwise the object and the offset just past it.
fn next_object(bytes: &[u8], offset: usize) -> Option<Result<Parsed, serde_json::Error>> {
    let mut stream = serde_json::Deserializer::from_slice(&bytes[offset..]).into_iter::<Map<String, Value>>();
    let value = stream.next()?;
    Some(value.map(|map| (map, offset + stream.byte_offset())))
}

/// At `offset` there must be a `\n` (skip it) or the end of input.
fn expect_newline(bytes: &[u8], offset: usize) -> Option<usize> {
    match bytes.get(offset) {
        None => Some(offset),
        Some(b'\n') => Some(offset + 1),
        Some(_) => None,
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

fn take_string(map: &mut Map<String, Value>, key: &str) -> Option<String> {
    match map.remove(key)? {
        Value::String(text) => Some(text),
        _ => None,
    }
}

fn take_u32(map: &mut Map<String, Value>, key: &str) -> Result<Option<u32>, serde_json::Error> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value).map(Some),
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
