//! The CPU side of ingest for one realistic 8 KiB event (the `faultline bench` generator's shapes):
//! envelope parsing, normalization, and the whole per-envelope path (parse, normalize, group,
//! serialize, compress) that runs before the database write, without and with a payload dictionary.
//!
//! Run with `cargo bench --bench ingest`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use faultline::bench::events::{Shape, envelope};
use faultline::grouping::GroupingConfig;
use faultline::ingest::process::{ProcessContext, process_envelope};
use faultline::protocol::{Envelope, NormalizeOptions, normalize_event};
use faultline::store::Millis;
use faultline::store::payloads::{self, PayloadDictionary, TRAIN_SAMPLE_BYTES};

/// The server's allocator, so the figures match what `faultline serve` spends.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn ingest(c: &mut Criterion) {
    let body = Bytes::from(envelope(&Shape::benchmark(), 7, "0123456789abcdef0123456789abcdef"));
    let parsed = Envelope::parse(body.clone()).expect("envelope");
    let payload = parsed.items[0].payload.clone();
    let now = time::OffsetDateTime::now_utc();

    c.bench_function("envelope_parse_8k", |b| b.iter(|| Envelope::parse(black_box(body.clone())).expect("parses")));
    c.bench_function("normalize_8k", |b| {
        let opts = NormalizeOptions::new(now);
        b.iter(|| normalize_event(black_box(&payload), &opts).expect("normalizes"))
    });
    // Without a payload dictionary (a project's first 1,000 events on a node) and with the one the
    // server then trains, as it compresses after that.
    for (name, dictionary) in [("process_envelope_8k", None), ("process_envelope_8k_dictionary", Some(dictionary(now)))]
    {
        let ctx = ProcessContext {
            project_id: 1,
            organization_id: 1,
            platform: None,
            received_at: now,
            client_ip: None,
            client: None,
            grouping: std::sync::Arc::new(GroupingConfig::default()),
            filters: None,
            dictionary: dictionary.map(std::sync::Arc::new),
        };
        c.bench_function(name, |b| {
            b.iter(|| {
                let envelope = Envelope::parse(black_box(body.clone())).expect("parses");
                process_envelope(&envelope, &ctx).expect("processes")
            })
        });
    }
}

/// The dictionary the server would train for this project: `payloads::train` on up to
/// `TRAIN_SAMPLE_BYTES` of the generator's normalized events.
fn dictionary(now: time::OffsetDateTime) -> PayloadDictionary {
    let opts = NormalizeOptions::new(now);
    let (mut samples, mut sizes) = (Vec::new(), Vec::new());
    for n in 1000.. {
        let parsed =
            Envelope::parse(Bytes::from(envelope(&Shape::benchmark(), n, &format!("{n:032x}")))).expect("envelope");
        let normalized = normalize_event(&parsed.items[0].payload, &opts).expect("normalizes");
        let json = serde_json::to_vec(&normalized.payload).expect("serializes");
        if samples.len() + json.len() > TRAIN_SAMPLE_BYTES {
            break;
        }
        sizes.push(json.len());
        samples.extend_from_slice(&json);
    }
    let bytes = payloads::train(&samples, &sizes).expect("enough samples to train on");
    PayloadDictionary::new(&bytes, Millis(0)).expect("a zstd dictionary")
}

criterion_group!(benches, ingest);
criterion_main!(benches);
