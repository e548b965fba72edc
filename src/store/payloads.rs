//! Stored event payloads: zstd, with a dictionary trained per project.
//!
//! An 8 KiB event compresses to about 1.2 KiB on its own, but a project's events share most of their
//! text (key names, SDK and context blocks, module paths, the same stack frames), so once a project has
//! [`TRAIN_AFTER`] events the store trains a zstd dictionary on its latest ones and compresses later
//! events with it; on the bench's 8 KiB payloads that takes the stored size from about 1,140 to 220 bytes.
//!
//! ```text
//! payload_dictionaries: id = zstd's dictionary id │ project_id │ created_at │ dictionary (≤ 64 KiB)
//! events.payload:       zstd frame ── its header names the dictionary id (absent: no dictionary)
//! ```
//!
//! The frame header is the only link, so events need no extra column and every node can decode every
//! event: dictionaries are immutable and loaded by id on first use ([`PayloadCodec::decoder`]). The
//! encoder side keeps each project's newest dictionary for [`ENCODER_TTL`]; a dictionary older than
//! [`RETRAIN_AGE`] counts as missing, so a project whose SDKs changed gets a fresh one. Two nodes
//! training at once only make two dictionaries; both stay decodable.

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use zstd::dict::{DecoderDictionary, EncoderDictionary};

use super::{Millis, StoreError, StoreResult};

/// Events a project gets (on one node) without a current dictionary before one is trained.
pub const TRAIN_AFTER: u64 = 1_000;
/// How many of a project's newest payloads a dictionary is trained on, at most.
pub const TRAIN_SAMPLES: i64 = 1_000;
/// At most this much decompressed JSON is trained on. On the bench's 8 KiB events, 2 MiB (250 events)
/// train in well under 0.1 s with ~13 MiB of memory for the moment and give ~220 bytes per event;
/// 1,000 events give 205 bytes for four times the time and more memory (`examples/payload_dictionary`).
pub const TRAIN_SAMPLE_BYTES: usize = 2 * 1024 * 1024;
/// Largest dictionary trained (zstd's own default is 110 KiB).
pub const DICTIONARY_BYTES: usize = 64 * 1024;
/// How long a node keeps using the dictionary it looked up for a project.
pub const ENCODER_TTL: Duration = Duration::from_secs(60);
/// Age past which a project's dictionary is replaced by a new one (trained on recent events).
pub const RETRAIN_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// zstd level for payloads (level 3 is zstd's default; higher levels cost more CPU per event than
/// the dictionary saves). With a dictionary it is also the fastest and smallest of levels -1 to 3 on
/// the bench's 8 KiB events: 3.9–4.1 µs and 204–205 B per event, against 4.4–7.9 µs and 242–333 B
/// (`cargo run --release --example payload_dictionary -- 1000 64`, two runs).
const LEVEL: i32 = 3;

/// A trained dictionary, prepared for compressing.
pub struct PayloadDictionary {
    /// zstd's id for it, also its row id.
    pub id: u32,
    /// When it was trained.
    pub created_at: Millis,
    encoder: EncoderDictionary<'static>,
}

impl std::fmt::Debug for PayloadDictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadDictionary").field("id", &self.id).field("created_at", &self.created_at).finish()
    }
}

impl PayloadDictionary {
    /// Prepare stored dictionary bytes; `None` if they are not a zstd dictionary.
    pub fn new(bytes: &[u8], created_at: Millis) -> Option<Self> {
        let id = dictionary_id(bytes)?;
        let encoder = EncoderDictionary::try_copy(bytes, LEVEL).ok()?;
        Some(Self { id, created_at, encoder })
    }
}

/// The dictionary id of raw dictionary bytes (zstd's header), if they are a trained dictionary.
pub fn dictionary_id(dictionary: &[u8]) -> Option<u32> {
    zstd::zstd_safe::get_dict_id_from_dict(dictionary).map(u32::from)
}

/// The dictionary a stored payload was compressed with, from its frame header.
pub fn frame_dictionary(payload: &[u8]) -> Option<u32> {
    zstd::zstd_safe::get_dict_id_from_frame(payload).map(u32::from)
}

/// Compress a payload, with the project's dictionary when it has one. One zstd context per thread:
/// creating one per event costs more than compressing 8 KiB.
pub fn compress(json: &[u8], dictionary: Option<&PayloadDictionary>) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static CONTEXT: std::cell::RefCell<Option<zstd::zstd_safe::CCtx<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    CONTEXT.with(|cell| {
        let mut slot = cell.borrow_mut();
        let cctx = slot.get_or_insert_with(zstd::zstd_safe::CCtx::create);
        let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(json.len()));
        match dictionary {
            None => cctx.compress(&mut out, json, LEVEL),
            Some(dictionary) => cctx.compress_using_cdict(&mut out, json, dictionary.encoder.as_cdict()),
        }
        .map_err(zstd_error)?;
        Ok(out)
    })
}

/// Decompress a stored payload with the dictionary its frame names (`None` for frames without one).
pub fn decompress(payload: &[u8], dictionary: Option<&DecoderDictionary<'static>>) -> StoreResult<Vec<u8>> {
    let corrupt = |e: std::io::Error| StoreError::Corrupt(format!("event payload: {e}"));
    let mut out = Vec::new();
    match dictionary {
        None => zstd::stream::read::Decoder::new(payload).and_then(|mut d| d.read_to_end(&mut out)),
        Some(dict) => zstd::stream::read::Decoder::with_prepared_dictionary(payload, dict)
            .and_then(|mut d| d.read_to_end(&mut out)),
    }
    .map_err(corrupt)?;
    Ok(out)
}

/// Train a dictionary on sample payloads (decompressed JSON), given as one buffer and the size of
/// each (zstd wants them so; one copy less). `None` when zstd finds too little to learn from.
pub fn train(samples: &[u8], sizes: &[usize]) -> Option<Vec<u8>> {
    // zstd needs well over the dictionary's size in samples to learn anything.
    if sizes.len() < 16 || samples.len() < 4 * DICTIONARY_BYTES {
        return None;
    }
    let dictionary = zstd::dict::from_continuous(samples, sizes, DICTIONARY_BYTES).ok()?;
    dictionary_id(&dictionary).map(|_| dictionary)
}

/// Decompress `payloads` (with `decoders` for the dictionaries their frames name) up to
/// [`TRAIN_SAMPLE_BYTES`] and train on them, on a thread of its own at the lowest CPU priority: the
/// work is a fraction of a second of CPU that ingest should not feel.
pub async fn train_in_background(
    payloads: Vec<Vec<u8>>,
    decoders: HashMap<u32, Arc<DecoderDictionary<'static>>>,
) -> Option<Vec<u8>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new().name("payload-dictionary".into()).spawn(move || {
        lowest_priority();
        let mut samples = Vec::with_capacity(TRAIN_SAMPLE_BYTES + 64 * 1024);
        let mut sizes = Vec::with_capacity(payloads.len());
        for payload in &payloads {
            let decoder = frame_dictionary(payload).and_then(|id| decoders.get(&id));
            if let Ok(json) = decompress(payload, decoder.map(AsRef::as_ref)) {
                samples.extend_from_slice(&json);
                sizes.push(json.len());
            }
            if samples.len() >= TRAIN_SAMPLE_BYTES {
                break;
            }
        }
        drop(payloads);
        let _ = tx.send(train(&samples, &sizes));
    });
    spawned.ok()?;
    rx.await.ok().flatten()
}

/// Nice 19 for the calling thread (Linux: `setpriority` on a thread id applies to that thread only).
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    if let Err(err) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19) {
        tracing::debug!(error = %err, "could not lower the training thread's priority");
    }
}

fn zstd_error(code: usize) -> std::io::Error {
    std::io::Error::other(zstd::zstd_safe::get_error_name(code))
}

/// A project's dictionary (or none) as this node last looked it up, and when.
type HeldEncoder = (Option<Arc<PayloadDictionary>>, Instant);

/// A store's dictionary caches and the per-project counters that decide when to train.
#[derive(Default)]
pub struct PayloadCodec {
    decoders: RwLock<HashMap<u32, Arc<DecoderDictionary<'static>>>>,
    encoders: RwLock<HashMap<i64, HeldEncoder>>,
    /// Events seen per project since its dictionary went missing or stale, and whether a training
    /// is under way (`u64::MAX`).
    pending: Mutex<HashMap<i64, u64>>,
    /// Bumped by every finished training, so a lookup that raced with one does not cache its
    /// outdated answer.
    generation: AtomicU64,
}

impl std::fmt::Debug for PayloadCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadCodec").finish_non_exhaustive()
    }
}

impl PayloadCodec {
    /// A cached decoder for dictionary `id`.
    pub fn decoder(&self, id: u32) -> Option<Arc<DecoderDictionary<'static>>> {
        self.decoders.read().ok()?.get(&id).cloned()
    }

    /// Cache the decoder for stored dictionary bytes.
    pub fn add_decoder(&self, id: u32, bytes: &[u8]) -> Arc<DecoderDictionary<'static>> {
        let decoder = Arc::new(DecoderDictionary::copy(bytes));
        if let Ok(mut map) = self.decoders.write() {
            map.insert(id, decoder.clone());
        }
        decoder
    }

    /// The project's dictionary for compressing, if looked up within [`ENCODER_TTL`]; the outer
    /// `None` means "not cached".
    pub fn encoder(&self, project_id: i64) -> Option<Option<Arc<PayloadDictionary>>> {
        let map = self.encoders.read().ok()?;
        let (dictionary, at) = map.get(&project_id)?;
        (at.elapsed() < ENCODER_TTL).then(|| dictionary.clone())
    }

    /// The dictionary this node last used for a project, however old (to reuse it if still newest).
    pub fn held_encoder(&self, project_id: i64) -> Option<Arc<PayloadDictionary>> {
        self.encoders.read().ok()?.get(&project_id).and_then(|(dictionary, _)| dictionary.clone())
    }

    /// The training generation; take it before looking a dictionary up.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Remember a project's dictionary (or that it has none), as looked up at `generation`; not if a
    /// training finished since.
    pub fn set_encoder(&self, project_id: i64, dictionary: Option<Arc<PayloadDictionary>>, generation: u64) {
        if let Ok(mut map) = self.encoders.write()
            && self.generation() == generation
        {
            map.insert(project_id, (dictionary, Instant::now()));
        }
    }

    /// Count `events` compressed for a project whose dictionary is `current`; true exactly once when
    /// a (new) dictionary should be trained: the caller starts it and calls [`Self::trained`] after.
    pub fn due_for_training(
        &self,
        project_id: i64,
        current: Option<&PayloadDictionary>,
        events: u64,
        now: Millis,
    ) -> bool {
        let fresh = current.is_some_and(|d| {
            now.0.saturating_sub(d.created_at.0) < i64::try_from(RETRAIN_AGE.as_millis()).unwrap_or(i64::MAX)
        });
        let Ok(mut pending) = self.pending.lock() else { return false };
        if fresh {
            pending.remove(&project_id);
            return false;
        }
        let seen = pending.entry(project_id).or_insert(0);
        if *seen == u64::MAX {
            return false;
        }
        *seen = seen.saturating_add(events);
        if *seen < TRAIN_AFTER {
            return false;
        }
        *seen = u64::MAX;
        true
    }

    /// A training finished: compress with its dictionary from now on (or, if it made none, keep
    /// what there was), and count afresh.
    pub fn trained(&self, project_id: i64, dictionary: Option<Arc<PayloadDictionary>>) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&project_id);
        }
        if let (Some(dictionary), Ok(mut map)) = (dictionary, self.encoders.write()) {
            // Lookups that started before this must not overwrite it with what they read.
            self.generation.fetch_add(1, Ordering::AcqRel);
            map.insert(project_id, (Some(dictionary), Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Vec<u8> {
        serde_json::json!({
            "event_id": format!("{n:032x}"),
            "platform": "python",
            "sdk": {"name": "sentry.python", "version": "2.19.0", "integrations": ["django", "logging", "stdlib"]},
            "contexts": {"runtime": {"name": "CPython", "version": "3.11.7"}, "os": {"name": "Linux"}},
            "exception": {"values": [{"type": "KeyError", "value": format!("'user_{n}'"),
                "stacktrace": {"frames": (0..20).map(|i| serde_json::json!({
                    "function": format!("handler_{}", i % 7), "module": "app.views.checkout",
                    "filename": "app/views/checkout.py", "lineno": 100 + i + n % 3, "in_app": true,
                    "context_line": "    return self.cart.items[key]"})).collect::<Vec<_>>()}}]},
        })
        .to_string()
        .into_bytes()
    }

    /// `n` samples as one buffer and their sizes.
    fn samples(n: usize) -> (Vec<u8>, Vec<usize>) {
        let all: Vec<Vec<u8>> = (0..n).map(sample).collect();
        (all.concat(), all.iter().map(Vec::len).collect())
    }

    #[test]
    fn a_trained_dictionary_shrinks_payloads_and_its_frames_name_it() {
        let (samples, sizes) = samples(200);
        let bytes = train(&samples, &sizes).expect("enough samples to train");
        let dictionary = PayloadDictionary::new(&bytes, Millis(0)).expect("a zstd dictionary");
        let json = sample(1_000);
        let plain = compress(&json, None).expect("compress");
        let with = compress(&json, Some(&dictionary)).expect("compress with dictionary");
        assert!(with.len() * 2 < plain.len(), "{} bytes with the dictionary, {} without", with.len(), plain.len());
        assert_eq!(frame_dictionary(&plain), None);
        assert_eq!(frame_dictionary(&with), Some(dictionary.id));
        let decoder = DecoderDictionary::copy(&bytes);
        assert_eq!(decompress(&with, Some(&decoder)).expect("decode"), json);
        assert_eq!(decompress(&plain, None).expect("decode"), json);
        assert!(decompress(&with, None).is_err(), "a dictionary frame cannot be read without it");
        assert!(decompress(b"not zstd", None).is_err());
    }

    #[test]
    fn too_little_to_learn_from_trains_nothing() {
        let (samples, sizes) = samples(2);
        assert_eq!(train(&samples, &sizes), None);
    }

    #[test]
    fn training_is_due_once_per_missing_or_stale_dictionary() {
        let codec = PayloadCodec::default();
        let now = Millis(RETRAIN_AGE.as_millis() as i64 * 2);
        assert!(!codec.due_for_training(1, None, TRAIN_AFTER - 1, now));
        assert!(codec.due_for_training(1, None, 1, now));
        assert!(!codec.due_for_training(1, None, TRAIN_AFTER, now), "one training at a time");
        codec.trained(1, None);
        let (samples, sizes) = samples(200);
        let bytes = train(&samples, &sizes).expect("trained");
        let fresh = PayloadDictionary::new(&bytes, now).expect("dictionary");
        assert!(!codec.due_for_training(1, Some(&fresh), TRAIN_AFTER * 2, now));
        let stale = PayloadDictionary::new(&bytes, Millis(0)).expect("dictionary");
        assert!(codec.due_for_training(1, Some(&stale), TRAIN_AFTER, now));
    }
}
