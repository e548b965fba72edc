//! How much a trained zstd dictionary shrinks stored payloads, and what training costs.
//!
//! Generates `faultline bench` events (8 KiB, 50 fingerprints, five platforms), normalizes them as
//! ingest stores them, trains a dictionary on the first SAMPLES events and compresses 500 others
//! with and without it, then with the dictionary at zstd levels -1 to 3 (see `src/store/payloads.rs`):
//!
//! ```sh
//! cargo run --release --example payload_dictionary -- 1000 64   # SAMPLES, dictionary KiB
//! ```
//!
//! "extra memory" is the growth of the process's peak RSS (`VmHWM`) across the training.

use faultline::bench::events::{Generator, Shape};
use faultline::protocol::{NormalizeOptions, normalize_event};
use faultline::store::Millis;
use faultline::store::payloads::{PayloadDictionary, compress};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("usage: SAMPLES DICTIONARY_KIB"));
    let (samples, dictionary_kib) = (args.next().unwrap_or(1000), args.next().unwrap_or(64));
    let generator = Generator::new(Shape::benchmark());
    let options = NormalizeOptions::new(time::OffsetDateTime::now_utc());
    let payload = |n: u64| {
        let envelope = generator.envelope(n, &format!("{n:032x}"));
        // Envelope header line, item header line, then the event.
        let event = envelope.splitn(3, |b| *b == b'\n').nth(2).expect("an event item");
        let normalized = normalize_event(event, &options).expect("the generator's events normalize");
        serde_json::to_vec(&normalized.payload).expect("serializes")
    };
    let training: Vec<Vec<u8>> = (0..samples as u64).map(payload).collect();
    let tests: Vec<Vec<u8>> = (100_000..100_500).map(payload).collect();

    let peak_before = peak_rss_kib();
    let started = std::time::Instant::now();
    let bytes = zstd::dict::from_samples(&training, dictionary_kib * 1024).expect("trains");
    let took = started.elapsed();
    let extra = peak_rss_kib().saturating_sub(peak_before);
    let dictionary = PayloadDictionary::new(&bytes, Millis(0)).expect("a zstd dictionary");

    let per_event = |total: usize| total / tests.len();
    let raw: usize = tests.iter().map(Vec::len).sum();
    let plain: usize = tests.iter().map(|p| compress(p, None).expect("compresses").len()).sum();
    let with: usize = tests.iter().map(|p| compress(p, Some(&dictionary)).expect("compresses").len()).sum();
    let sample_kib = training.iter().map(Vec::len).sum::<usize>() / 1024;
    println!(
        "samples {samples} ({sample_kib} KiB), dictionary {dictionary_kib} KiB: training {} ms, extra memory {} MiB; \
         bytes per event: raw {}, zstd {}, zstd with the dictionary {}",
        took.as_millis(),
        extra / 1024,
        per_event(raw),
        per_event(plain),
        per_event(with)
    );
    // Why payloads use level 3: with a dictionary, the lower levels are no faster and compress less.
    for level in [-1, 1, 2, 3] {
        let encoder = zstd::dict::EncoderDictionary::copy(&bytes, level);
        let mut compressor = zstd::bulk::Compressor::with_prepared_dictionary(&encoder).expect("a compressor");
        let started = std::time::Instant::now();
        let total: usize = tests.iter().map(|p| compressor.compress(p).expect("compresses").len()).sum();
        let micros = started.elapsed().as_secs_f64() * 1e6 / tests.len() as f64;
        println!("level {level} with the dictionary: {} bytes and {micros:.1} µs per event", per_event(total));
    }
}

/// Peak resident memory so far, in KiB (Linux; 0 elsewhere).
fn peak_rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}
