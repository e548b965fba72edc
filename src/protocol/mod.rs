//! The Sentry wire protocol, as pure functions: no I/O, no async, no database.
//!
//! The ingest layer calls these in the order a request needs them:
//!
//! ```text
//! headers/query ──auth──────▶ SentryAuth { public_key, client, version }   (or Dsn from the envelope)
//! body ──────────decode─────▶ decompressed bytes, bounded by limits::MAX_ENVELOPE_BYTES
//!      ──────────envelope───▶ Envelope { headers, items: [Item { ty, headers, payload }] }
//!                limits ────▶ 413 if an item class is too large or too numerous
//! event item ────event──────▶ NormalizedEvent { event_id, payload (normalized JSON), summary }
//! session(s), client_report, user_report, check_in ──session / reports──▶ typed structs
//! ```
//!
//! Everything here is deterministic given its inputs (the receive time and client IP are
//! parameters), so it is tested with golden files: `tests/fixtures/envelopes/*.envelope` and
//! `tests/fixtures/events/*.input.json`, snapshotted under `src/protocol/snapshots/`.

pub mod auth;
pub mod decode;
pub mod envelope;
pub mod event;
pub mod ids;
pub mod item_type;
pub mod limits;
pub mod reports;
pub mod session;
pub mod timestamp;

#[cfg(test)]
mod golden_tests;

pub use auth::{AuthError, Dsn, SentryAuth};
pub use decode::{DecodeError, decode_body, legacy_store_body};
pub use envelope::{Envelope, EnvelopeError, EnvelopeHeaders, Item, ItemHeaders};
pub use event::{EventError, EventKind, EventSummary, NormalizeOptions, NormalizedEvent, normalize_event};
pub use ids::EventId;
pub use item_type::ItemType;
