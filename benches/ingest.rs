//! The CPU side of ingest for one realistic 8 KiB event (the `faultline bench` generator's shapes):
//! envelope parsing, normalization, and the whole per-envelope path (parse, normalize, group,
//! compress) that runs before the database write.
//!
//! Run with `cargo bench --bench ingest`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use faultline::bench::events::{PLATFORMS, Shape, envelope};
use faultline::grouping::GroupingConfig;
use faultline::ingest::process::{ProcessContext, process_envelope};
use faultline::protocol::{Envelope, NormalizeOptions, normalize_event};

/// The server's allocator, so the figures match what `faultline serve` spends.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn shape() -> Shape {
    Shape { fingerprints: 50, users: 1000, size: 8 * 1024, platforms: PLATFORMS.map(str::to_owned).to_vec() }
}

fn ingest(c: &mut Criterion) {
    let body = Bytes::from(envelope(&shape(), 7, "0123456789abcdef0123456789abcdef"));
    let parsed = Envelope::parse(body.clone()).expect("envelope");
    let payload = parsed.items[0].payload.clone();
    let now = time::OffsetDateTime::now_utc();

    c.bench_function("envelope_parse_8k", |b| b.iter(|| Envelope::parse(black_box(body.clone())).expect("parses")));
    c.bench_function("normalize_8k", |b| {
        let opts = NormalizeOptions::new(now);
        b.iter(|| normalize_event(black_box(&payload), &opts).expect("normalizes"))
    });
    c.bench_function("process_envelope_8k", |b| {
        let ctx = ProcessContext {
            project_id: 1,
            organization_id: 1,
            platform: None,
            received_at: now,
            client_ip: None,
            client: None,
            grouping: std::sync::Arc::new(GroupingConfig::default()),
            filters: None,
            dictionary: None,
        };
        b.iter(|| {
            let envelope = Envelope::parse(black_box(body.clone())).expect("parses");
            process_envelope(&envelope, &ctx).expect("processes")
        })
    });
}

criterion_group!(benches, ingest);
criterion_main!(benches);
