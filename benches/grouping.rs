//! Grouping throughput with built-in rules only, on three typical events (see
//! `support/grouping_events.rs`).
//!
//! Run with `cargo bench --bench grouping` (results in `BENCHMARKS.md`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use faultline::grouping::{GroupingConfig, calculate};

#[path = "support/grouping_events.rs"]
mod events;

use events::{javascript_event, message_event, thirty_frame_event};

/// The allocator the server binary uses (src/main.rs): grouping allocates per frame, so the bench
/// measures with what ships. `GROUPING_BENCH_SYSTEM_ALLOC=1` is not a thing; compare by building the
/// previous commit.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let config = GroupingConfig::default();
    let cases = [
        ("calculate 30-frame python event", thirty_frame_event()),
        ("calculate 30-frame javascript event", javascript_event()),
        ("calculate message-only event", message_event()),
    ];
    for (name, event) in &cases {
        c.bench_function(name, |b| b.iter(|| calculate(black_box(event), black_box(&config))));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
