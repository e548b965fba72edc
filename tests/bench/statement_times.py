#!/usr/bin/env python3
"""Where a server's database time goes, statement by statement, from sqlx's debug log, and where
the ingest writer's batches spend theirs, phase by phase.

    SERVER_RUST_LOG=warn,sqlx::query=debug,faultline::ingest::batch=debug SERVER_LOG=/tmp/server.log \
        CONCURRENCIES=128 RATE_RUNS=0 tests/bench/throughput.sh sqlite 6
    tests/bench/statement_times.py /tmp/server.log

Either filter alone works: `faultline::ingest::batch=debug` without `sqlx::query=debug` gives the
phases of a run that the statement log does not slow down.

sqlx logs every statement with the time it took on the connection (for SQLite, on its worker
thread, from the first step to the last row handed over). Statements are grouped by their first
words (`INSERT INTO events`, `SELECT hash, issue_id FROM issue_hashes`, `PRAGMA wal_checkpoint(…)`,
...) and listed by total time, with their count, mean and rows affected. The writer's `batch phases`
events give each batch's `BEGIN`, prefetching lookups, per-event work, flush of the summed rows and
`COMMIT`, as they took on the writer (statements plus the hand-offs to the connection and back).
"""

import collections
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SHAPE = re.compile(r"(INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+|SELECT [\w, ]+? FROM \w+|PRAGMA [\w()]+)")


PHASES = ("begin_us", "prefetch_us", "events_us", "flush_us", "commit_us")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def print_phases(phases):
    batches = len(phases["begin_us"])
    print(f"{batches} batches: mean / p50 / p90 µs per phase")
    for name in PHASES:
        values = phases[name]
        print(f"  {name[:-3]:>8} {sum(values) / batches:7.0f} {percentile(values, 0.5):7d} {percentile(values, 0.9):7d}")
    totals = [sum(phases[name][i] for name in PHASES) for i in range(batches)]
    print(f"  {'batch':>8} {sum(totals) / batches:7.0f} {percentile(totals, 0.5):7d} {percentile(totals, 0.9):7d}"
          f"   ({sum(phases['events']) / batches:.0f} events per batch)")


def main(path):
    total, count, rows = collections.Counter(), collections.Counter(), collections.Counter()
    phases = collections.defaultdict(list)
    with open(path, errors="replace") as log:
        for line in log:
            line = ANSI.sub("", line)
            if "batch phases" in line:
                for name in PHASES + ("events",):
                    found = re.search(rf"\b{name}=(\d+)", line)
                    phases[name].append(int(found.group(1)) if found else 0)
                continue
            elapsed = re.search(r"elapsed_secs=([0-9.e-]+)", line)
            # A short statement is all in its summary (and db.statement is empty); a long one's
            # summary is cut, so its shape comes from db.statement.
            summary = re.search(r'summary="([^"]*)"', line)
            statement = re.search(r'db\.statement="(.{0,600})', line)
            text = " ".join(m.group(1) for m in (statement, summary) if m).replace("\\n", " ")
            if not elapsed or not text.strip():
                continue
            shape = SHAPE.search(text)
            key = shape.group(1) if shape else text.strip()[:60]
            total[key] += float(elapsed.group(1))
            count[key] += 1
            affected = re.search(r"rows_affected=(\d+)", line)
            rows[key] += int(affected.group(1)) if affected else 0
    if phases:
        print_phases(phases)
    if not total:
        return
    overall = sum(total.values()) or 1.0
    print(f"{'total ms':>9} {'share':>6} {'count':>7} {'mean µs':>8} {'rows':>8}  statement")
    for key, secs in total.most_common(25):
        print(f"{secs * 1e3:9.1f} {100 * secs / overall:5.1f}% {count[key]:7d} {1e6 * secs / count[key]:8.0f} "
              f"{rows[key]:8d}  {key[:70]}")
    print(f"{overall * 1e3:9.1f} ms in all")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: statement_times.py SERVER_LOG")
    main(sys.argv[1])
