//! The `faultline` binary: parse the command line, load the config, start telemetry, dispatch.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the ingest path allocates and frees many small JSON values per event, where glibc's
/// malloc spent about a sixth of the server's CPU (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = faultline::cli::Cli::parse();
    match faultline::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One clear line naming the problem, never a backtrace.
            eprintln!("error: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error chain as one line: causes joined by `: `, a cause already quoted by its parent (drivers
/// often repeat theirs) left out, and multi-line messages (TOML errors draw a snippet) folded.
fn one_line(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
    }
    message
        .lines()
        .map(str::trim)
        .filter(|line| {
            let gutter =
                line.split_once('|').is_some_and(|(before, _)| before.trim().chars().all(|c| c.is_ascii_digit()));
            !line.is_empty() && !gutter
        })
        .collect::<Vec<_>>()
        .join(" ")
}
