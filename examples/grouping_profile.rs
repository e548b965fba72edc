//! Grouping of one benchmark event in a loop, for profilers.
//!
//! Criterion's wall-clock times move with the load of a shared machine; the instructions that
//! `valgrind --tool=callgrind` counts do not. Two runs, with and without the loop, give the
//! instructions of one event:
//!
//! ```sh
//! cargo build --release --example grouping_profile
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.0 target/release/examples/grouping_profile python 0
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.1000 target/release/examples/grouping_profile python 1000
//! # instructions per event = (total Ir of /tmp/cg.1000 - total Ir of /tmp/cg.0) / 1000
//! callgrind_annotate /tmp/cg.1000 | head -40   # where they go
//! ```
//!
//! Cases: `python` (30 frames), `javascript` (30 frames), `message` (see
//! `benches/support/grouping_events.rs`). Every run groups the event once before the loop, so
//! the lazily compiled regexes and rule indexes are not counted per event.

use std::hint::black_box;

use faultline::grouping::{GroupingConfig, calculate};

#[path = "../benches/support/grouping_events.rs"]
mod events;

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "python".to_owned());
    let count: usize = match args.next().map(|n| n.parse()) {
        None => 1000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("the count must be a number: {e}");
            std::process::exit(2);
        }
    };
    let event = match case.as_str() {
        "python" => events::thirty_frame_event(),
        "javascript" => events::javascript_event(),
        "message" => events::message_event(),
        other => {
            eprintln!("unknown case {other:?}: python, javascript or message");
            std::process::exit(2);
        }
    };
    let config = GroupingConfig::default();
    let first = calculate(&event, &config);
    for _ in 0..count {
        black_box(calculate(black_box(&event), black_box(&config)));
    }
    println!("{case}: {} hashes, primary {:?}, grouped {} more times", first.hashes.len(), first.primary_hash(), count);
}
