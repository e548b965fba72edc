//! The per-envelope CPU path of ingest (parse, normalize, group, serialize, compress) in a loop,
//! for profilers: the generator's 8 KiB events, as `faultline bench` sends them.
//!
//! Criterion's wall-clock times move with the load of a shared machine; the instructions that
//! `valgrind --tool=callgrind` counts do not. Two runs, with and without the loop, give the
//! instructions of one envelope:
//!
//! ```sh
//! cargo build --release --example ingest_profile
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/ci.0 target/release/examples/ingest_profile 0
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/ci.500 target/release/examples/ingest_profile 500
//! # instructions per envelope = (total Ir of /tmp/ci.500 - total Ir of /tmp/ci.0) / 500
//! callgrind_annotate --inclusive=yes /tmp/ci.500 | head -60   # where they go
//! ```
//!
//! Every run builds the same [`BODIES`] envelopes (distinct ids, users and fingerprints) and processes
//! [`WARM_UP`] of them (every platform and fingerprint) before the loop, so that neither the generator
//! nor lazily built regexes and tables are counted per envelope. No payload dictionary: compression
//! is `examples/payload_dictionary`'s subject.

use std::hint::black_box;

use bytes::Bytes;
use faultline::bench::events::{Generator, Shape};
use faultline::grouping::GroupingConfig;
use faultline::ingest::process::{ProcessContext, process_envelope};
use faultline::protocol::Envelope;

/// The server's allocator, so the counts match what `faultline serve` runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Envelopes built by every run; the loop goes round them.
const BODIES: u64 = 500;
/// Envelopes processed by every run before the counted ones.
const WARM_UP: usize = 50;

fn main() {
    let count: usize = match std::env::args().nth(1).map(|n| n.parse()) {
        None => 500,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("the count must be a number: {e}");
            std::process::exit(2);
        }
    };
    let generator = Generator::new(Shape::benchmark());
    let bodies: Vec<Bytes> = (0..BODIES).map(|n| Bytes::from(generator.envelope(n, &format!("{n:032x}")))).collect();
    let ctx = ProcessContext {
        project_id: 1,
        organization_id: 1,
        platform: None,
        received_at: time::OffsetDateTime::now_utc(),
        client_ip: None,
        client: None,
        grouping: std::sync::Arc::new(GroupingConfig::default()),
        filters: None,
        dictionary: None,
    };
    let mut bytes = 0;
    for body in bodies.iter().cycle().take(WARM_UP + count) {
        let Ok(parsed) = Envelope::parse(black_box(body.clone())) else {
            eprintln!("the generator's envelope did not parse");
            std::process::exit(1);
        };
        match process_envelope(&parsed, &ctx) {
            Ok((write, _)) => bytes += write.events.iter().map(|e| e.payload.len()).sum::<usize>(),
            Err(e) => {
                eprintln!("processing failed: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("processed {} envelopes, {bytes} bytes of compressed payloads", WARM_UP + count);
}
