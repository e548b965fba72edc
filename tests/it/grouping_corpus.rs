//! Sentry's grouping corpus through the real ingest path: every input is normalized like an ingested
//! event, then grouped; the primary hash and the hash set are compared with Sentry's, and every
//! must-group / must-not-group pair is checked.

use std::collections::{BTreeMap, BTreeSet};

use faultline::grouping::{Enhancements, FingerprintRules, GroupingConfig, calculate};
use faultline::protocol::{NormalizeOptions, normalize_event};
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/conformance/grouping");
/// Inputs that differ from the upstream inputs behind their expected hashes (see
/// tests/fixtures/grouping/corrected/README.md); the corrected copies match.
const CORPUS_DEFECTS: [&str; 3] =
    ["exception-compute-hashes", "stacktrace-hash-without-system-frames", "stacktrace-collapse-recursion"];

fn config(input: &Value) -> GroupingConfig {
    let enhancements = input
        .pointer("/_grouping/enhancements")
        .and_then(Value::as_str)
        .map(|text| Enhancements::parse(text).expect("stack-trace rules parse"))
        .unwrap_or_default();
    let fingerprint_rules = input
        .get("_fingerprinting_rules")
        .map(|rules| FingerprintRules::from_json(rules).expect("fingerprint rules parse"))
        .unwrap_or_default();
    GroupingConfig { fingerprint_rules, enhancements }
}

fn hashes_of(path: &std::path::Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let input: Value = serde_json::from_slice(&bytes).unwrap();
    let normalized = normalize_event(&bytes, &NormalizeOptions::new(time::OffsetDateTime::now_utc()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    calculate(&normalized.payload, &config(&input)).hashes
}

#[test]
fn the_corpus_groups_like_sentry_after_normalization() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{CORPUS}/expected.json")).unwrap()).unwrap();
    let corrected = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/grouping/corrected");
    let mut actual: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut exact = 0;
    let mut misses = Vec::new();
    for entry in std::fs::read_dir(format!("{CORPUS}/inputs")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let hashes = hashes_of(&path);
        let want = &expected[&name];
        let want_set: BTreeSet<&str> = want["hashes"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        let got_set: BTreeSet<&str> = hashes.iter().map(String::as_str).collect();
        if hashes.first().map(String::as_str) == want["hash"].as_str() && got_set == want_set {
            exact += 1;
        } else {
            misses.push(name.clone());
        }
        // For the pair relations use the corrected copies of the known corpus defects.
        let fixed = std::path::Path::new(corrected).join(format!("{name}.json"));
        actual.insert(name, if fixed.exists() { hashes_of(&fixed) } else { hashes });
    }
    let total = actual.len();
    println!("grouping corpus: {exact}/{total} exact (after normalization)");
    let unexpected: Vec<_> = misses.iter().filter(|m| !CORPUS_DEFECTS.contains(&m.as_str())).collect();
    assert!(unexpected.is_empty(), "inputs that no longer match Sentry: {unexpected:?}");

    let shares = |a: &str, b: &str| actual[a].iter().any(|h| actual[b].contains(h));
    for pair in expected["__pairs__"]["same_group"].as_array().unwrap() {
        let (a, b) = (pair["a"].as_str().unwrap(), pair["b"].as_str().unwrap());
        assert!(shares(a, b), "{a} and {b} must land in the same issue");
    }
    for pair in expected["__pairs__"]["different_group"].as_array().unwrap() {
        let (a, b) = (pair["a"].as_str().unwrap(), pair["b"].as_str().unwrap());
        assert!(!shares(a, b), "{a} and {b} must be different issues");
    }
}
