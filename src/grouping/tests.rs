//! Conformance against Sentry's own grouping snapshots, plus component-tree snapshots.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/conformance/grouping");

/// Corpus inputs reproduced exactly (raise as the implementation improves).
const MIN_EXACT: usize = 58;

/// Corpus inputs that differ from the upstream inputs behind their expected hashes; corrected
/// copies live in `tests/fixtures/grouping/corrected/` (see the README there).
const KNOWN_MISSES: [&str; 3] =
    ["exception-compute-hashes", "stacktrace-hash-without-system-frames", "stacktrace-collapse-recursion"];

const CORRECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/grouping/corrected");

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

/// The project config the corpus attaches to an input (`_grouping`, `_fingerprinting_rules`).
fn corpus_config(input: &Value) -> GroupingConfig {
    let enhancements = input
        .pointer("/_grouping/enhancements")
        .and_then(Value::as_str)
        .map(|text| Enhancements::parse(text).expect("corpus stack-trace rules parse"))
        .unwrap_or_default();
    let fingerprint_rules = input
        .get("_fingerprinting_rules")
        .map(|rules| FingerprintRules::from_json(rules).expect("corpus fingerprint rules parse"))
        .unwrap_or_default();
    GroupingConfig { fingerprint_rules, enhancements }
}

fn results_in(dir: &str) -> BTreeMap<String, GroupingResult> {
    let mut results = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {dir}: {e}")) {
        let path = entry.expect("directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 file name").to_owned();
        let input = read_json(path.to_str().expect("utf-8 path"));
        results.insert(name, calculate(&input, &corpus_config(&input)));
    }
    results
}

fn corpus_results() -> BTreeMap<String, GroupingResult> {
    results_in(&format!("{CORPUS}/inputs"))
}

/// The corpus with the corrected copies of [`KNOWN_MISSES`] swapped in.
fn corrected_results() -> BTreeMap<String, GroupingResult> {
    let mut results = corpus_results();
    results.extend(results_in(CORRECTED));
    results
}

/// Names of the inputs whose primary hash and hash set match `expected.json`.
fn exact_matches(results: &BTreeMap<String, GroupingResult>, expected: &Value) -> BTreeSet<String> {
    results
        .iter()
        .filter(|(name, result)| {
            let want = &expected[name.as_str()];
            let want_hashes: BTreeSet<&str> =
                want["hashes"].as_array().expect("expected hashes").iter().filter_map(Value::as_str).collect();
            let got: BTreeSet<&str> = result.hashes.iter().map(String::as_str).collect();
            result.primary_hash() == want["hash"].as_str() && got == want_hashes
        })
        .map(|(name, _)| name.clone())
        .collect()
}

#[test]
fn the_corpus_groups_like_sentry() {
    let expected = read_json(&format!("{CORPUS}/expected.json"));
    let results = corpus_results();
    let exact = exact_matches(&results, &expected);
    for (name, result) in results.iter().filter(|(n, _)| !exact.contains(*n)) {
        let got: BTreeMap<&str, Option<&str>> =
            result.variants.iter().map(|(k, v)| (k.as_str(), v.hash.as_deref())).collect();
        eprintln!("miss {name}: want {} got {got:?}", expected[name.as_str()]["variants"]);
        assert!(KNOWN_MISSES.contains(&name.as_str()), "{name} no longer groups like Sentry");
    }
    eprintln!("grouping corpus: {}/{} exact", exact.len(), results.len());
    assert!(exact.len() >= MIN_EXACT, "conformance dropped to {} (minimum {MIN_EXACT})", exact.len());

    let corrected = corrected_results();
    let corrected_exact = exact_matches(&corrected, &expected);
    eprintln!("grouping corpus with corrected inputs: {}/{} exact", corrected_exact.len(), corrected.len());
    assert_eq!(corrected_exact.len(), corrected.len(), "corrected inputs must all match");
}

#[test]
fn corpus_pairs_keep_their_same_and_different_issue_relations() {
    let expected = read_json(&format!("{CORPUS}/expected.json"));
    let results = corrected_results();
    let hashes = |name: &str| -> BTreeSet<&str> { results[name].hashes.iter().map(String::as_str).collect() };
    let pairs = |kind: &str| -> Vec<(String, String)> {
        expected["__pairs__"][kind]
            .as_array()
            .expect("pairs")
            .iter()
            .map(|p| {
                let side = |k: &str| p[k].as_str().expect("pair name").to_owned();
                (side("a"), side("b"))
            })
            .collect()
    };
    for (a, b) in pairs("same_group") {
        assert!(!hashes(&a).is_disjoint(&hashes(&b)), "{a} and {b} must share an issue");
    }
    for (a, b) in pairs("different_group") {
        assert!(hashes(&a).is_disjoint(&hashes(&b)), "{a} and {b} must be different issues");
    }
}

#[test]
fn inputs_outside_same_group_pairs_never_share_a_hash() {
    let expected = read_json(&format!("{CORPUS}/expected.json"));
    let results = corrected_results();
    let same: BTreeSet<(&str, &str)> = expected["__pairs__"]["same_group"]
        .as_array()
        .expect("pairs")
        .iter()
        .filter_map(|p| Some((p["a"].as_str()?, p["b"].as_str()?)))
        .collect();
    let names: Vec<&String> = results.keys().collect();
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            let shared = results[*a].hashes.iter().any(|h| results[*b].hashes.contains(h));
            let expected_shared = same.contains(&(a.as_str(), b.as_str())) || same.contains(&(b.as_str(), a.as_str()));
            assert_eq!(shared, expected_shared, "{a} / {b}");
        }
    }
}

/// Renders a component tree like Sentry's grouping snapshots: `*` marks contribution.
fn render(component: &Component, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let star = if component.contributes { "*" } else { "" };
    let hint = component.hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
    out.push_str(&format!("{pad}{}{star}{hint}\n", component.id));
    for value in component.values.iter() {
        match value {
            ComponentValue::Component(child) => render(child, depth + 1, out),
            ComponentValue::Text(text) => out.push_str(&format!("{pad}  {text:?}\n")),
        }
    }
}

fn render_result(result: &GroupingResult) -> String {
    let mut out = format!("hashes: {:?}\n", result.hashes);
    for (name, variant) in &result.variants {
        out.push_str(&format!("{name}: {:?} ({})\n", variant.hash, variant.description));
        if !variant.values.is_empty() {
            out.push_str(&format!("  values: {:?}\n", variant.values));
        }
        if let Some(component) = &variant.component {
            render(component, 1, &mut out);
        }
    }
    out
}

#[test]
fn component_trees_show_what_contributed_and_why_the_rest_was_ignored() {
    for name in [
        "python-exception-base",
        "javascript-xbrowser-safari",
        "frame-ignores-filename-from-url-origin-corner-cases",
        "go-pkg-mod",
        "native-with-function-name",
        "stacktrace-rust2",
        "csp",
        "message-prefers-message",
        "custom-fingerprint-message-parameterization",
        "javascript-exception-fallback-to-message",
    ] {
        let input = read_json(&format!("{CORPUS}/inputs/{name}.json"));
        let result = calculate(&input, &corpus_config(&input));
        insta::assert_snapshot!(name, render_result(&result));
    }
}

#[test]
fn the_cli_output_has_hashes_variants_and_tree() {
    let input = read_json(&format!("{CORPUS}/inputs/exception-compute-hashes-2.json"));
    insta::assert_json_snapshot!(calculate(&input, &GroupingConfig::default()));
}

fn group(event: Value, config: &GroupingConfig) -> GroupingResult {
    calculate(&event, config)
}

#[test]
fn a_hybrid_fingerprint_salts_every_variant() {
    let event = serde_json::json!({
        "platform": "python",
        "fingerprint": ["{{ default }}", "{{ level }}"],
        "level": "fatal",
        "exception": {"values": [{"type": "Timeout", "value": "after 30s"}]},
    });
    let result = group(event, &GroupingConfig::default());
    let app = &result.variants["app"];
    assert_eq!(app.kind, VariantKind::SaltedComponent);
    assert_eq!(app.hash, Some(hash::hash_values(["Timeout", "after <duration>", "fatal"])));
}

#[test]
fn a_server_rule_replaces_the_fingerprint_and_resolves_variables() {
    let rules = FingerprintRules::parse(
        "error.type:DatabaseUnavailable -> system-down\nstack.function:connect app:yes -> db, {{ function }}",
    )
    .expect("valid rules");
    let config = GroupingConfig { fingerprint_rules: rules, ..GroupingConfig::default() };
    let event = serde_json::json!({
        "exception": {"values": [{"type": "OperationalError", "stacktrace": {"frames": [
            {"function": "connect", "module": "db", "in_app": true},
            {"function": "send", "module": "socket"}
        ]}}]},
    });
    let result = group(event, &config);
    let variant = &result.variants["custom_server_fingerprint"];
    assert_eq!(variant.values, vec!["db", "connect"]);
    assert_eq!(result.hashes, vec![hash::hash_values(["db", "connect"])]);
    assert_eq!(result.variants["app"].hash, None);
}

#[test]
fn the_built_in_chunk_load_rule_applies_to_javascript() {
    let event = serde_json::json!({
        "platform": "javascript",
        "exception": {"values": [{"type": "ChunkLoadError", "value": "Loading chunk 3 failed"}]},
    });
    let result = group(event, &GroupingConfig::default());
    assert_eq!(result.hashes, vec![hash::hash_values(["chunkloaderror"])]);
    assert!(result.variants.contains_key("built_in_fingerprint"));
}

#[test]
fn the_built_in_rules_catch_chunk_load_values_and_group_hydration_errors_per_page() {
    let by_value = serde_json::json!({
        "platform": "javascript",
        "exception": {"values": [{"type": "Error", "value": "ChunkLoadError: Loading chunk 7 failed."}]},
    });
    assert_eq!(group(by_value, &GroupingConfig::default()).hashes, vec![hash::hash_values(["chunkloaderror"])]);
    let hydration = |transaction: &str| {
        serde_json::json!({
            "platform": "javascript",
            "tags": [["transaction", transaction]],
            "exception": {"values": [{"type": "Error",
                "value": "Text content does not match server-rendered HTML."}]},
        })
    };
    let checkout = group(hydration("/checkout"), &GroupingConfig::default());
    assert_eq!(checkout.hashes, vec![hash::hash_values(["hydrationerror", "/checkout"])]);
    assert_ne!(group(hydration("/cart"), &GroupingConfig::default()).hashes, checkout.hashes);
    let python = serde_json::json!({
        "platform": "python",
        "exception": {"values": [{"type": "ChunkLoadError", "value": "x"}]},
    });
    assert_ne!(group(python, &GroupingConfig::default()).hashes, vec![hash::hash_values(["chunkloaderror"])]);
}

#[test]
fn checksums_are_used_verbatim_or_hashed() {
    let hex = group(serde_json::json!({"checksum": "0123456789abcdef0123456789abcdef"}), &GroupingConfig::default());
    assert_eq!(hex.hashes, vec!["0123456789abcdef0123456789abcdef"]);
    let other = group(serde_json::json!({"checksum": "not-a-hash"}), &GroupingConfig::default());
    assert_eq!(other.hashes, vec![hash::hash_values(["not-a-hash"])]);
}

#[test]
fn the_crashed_thread_is_grouped_when_there_is_no_exception() {
    let event = serde_json::json!({
        "platform": "native",
        "threads": {"values": [
            {"id": 1, "stacktrace": {"frames": [{"function": "idle"}]}},
            {"id": 2, "crashed": true, "stacktrace": {"frames": [{"function": "crash_here", "package": "/Users/me/app"}]}},
        ]},
    });
    let result = group(event, &GroupingConfig::default());
    let tree = result.tree.expect("a contributing tree");
    assert_eq!(tree.id, "app");
    assert_eq!(tree.contributing_values(), vec!["crash_here"]);
}

#[test]
fn an_exception_group_with_one_distinct_leaf_groups_as_that_leaf() {
    let leaf = |id: i64| {
        serde_json::json!({
            "type": "ValueError", "value": "bad",
            "mechanism": {"type": "chained", "exception_id": id, "parent_id": 0},
        })
    };
    let event = serde_json::json!({
        "platform": "python",
        "exception": {"values": [
            {"type": "ExceptionGroup", "value": "2 errors",
             "mechanism": {"type": "generic", "exception_id": 0, "is_exception_group": true}},
            leaf(1), leaf(2),
        ]},
    });
    let result = group(event, &GroupingConfig::default());
    assert_eq!(result.hashes, vec![hash::hash_values(["ValueError", "bad"])]);
}

#[test]
fn events_without_any_grouping_data_share_the_fallback_hash() {
    let result = group(serde_json::json!({"platform": "python"}), &GroupingConfig::default());
    assert_eq!(result.hashes, vec!["d41d8cd98f00b204e9800998ecf8427e"]);
    assert_eq!(result.variants["fallback"].kind, VariantKind::Fallback);
}

#[test]
fn results_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<GroupingResult>();
    send_sync::<GroupingConfig>();
}

/// The function names of the contributing frames in a variant's tree, outermost first.
fn contributing_functions(variant: &crate::grouping::Variant) -> Vec<String> {
    fn walk(node: &Value, out: &mut Vec<String>) {
        if node["contributes"] != true {
            return;
        }
        let children = node["values"].as_array().cloned().unwrap_or_default();
        if node["id"] == "frame" {
            let function = children.iter().find(|c| c["id"] == "function" && c["contributes"] == true);
            if let Some(name) = function.and_then(|f| f["values"][0].as_str()) {
                out.push(name.to_owned());
            }
            return;
        }
        for child in &children {
            walk(child, out);
        }
    }
    let mut out = Vec::new();
    if let Some(component) = &variant.component {
        walk(&serde_json::to_value(component).expect("serializes"), &mut out);
    }
    out
}

/// The "by analogy" native rules of builtin.txt: a Linux thread's start routines and everything
/// outside them, and a Rust panic's machinery and everything past it, stay out of the hash.
#[test]
fn linux_thread_starts_and_rust_panic_frames_do_not_group() {
    let frame = |function: &str, package: &str, in_app: bool| {
        serde_json::json!({"function": function, "package": package, "in_app": in_app,
                           "instruction_addr": "0x1000"})
    };
    let frames = vec![
        frame("__clone3", "/usr/lib/libc.so.6", false),
        frame("start_thread", "/usr/lib/libc.so.6", false),
        frame("std::sys::pal::unix::thread::Thread::new::thread_start", "/srv/worker", false),
        frame("worker::run", "/srv/worker", true),
        frame("worker::process_job", "/srv/worker", true),
        frame("core::panicking::panic_fmt", "/srv/worker", false),
        frame("std::panicking::rust_panic_with_hook", "/srv/worker", false),
        frame("std::panicking::begin_panic_handler::{{closure}}", "/srv/worker", false),
    ];
    let event = serde_json::json!({
        "platform": "native",
        "exception": {"values": [{"type": "panic", "value": "job failed",
                                  "stacktrace": {"frames": frames}}]},
    });
    let result = group(event, &GroupingConfig::default());
    assert_eq!(contributing_functions(&result.variants["app"]), ["worker::run", "worker::process_job"]);
    let system = contributing_functions(&result.variants["system"]);
    assert!(system.contains(&"worker::run".to_owned()), "{system:?}");
    for outside in ["__clone3", "start_thread", "core::panicking::panic_fmt", "std::panicking::rust_panic_with_hook"] {
        assert!(!system.contains(&outside.to_owned()), "{outside} contributes: {system:?}");
    }
}

/// The same for a Windows thread: `BaseThreadInitThunk` and `RtlUserThreadStart` start it.
#[test]
fn windows_thread_starts_do_not_group() {
    let frame = |function: &str, package: &str| serde_json::json!({"function": function, "package": package, "instruction_addr": "0x1000"});
    let event = serde_json::json!({
        "platform": "native",
        "exception": {"values": [{"type": "EXCEPTION_ACCESS_VIOLATION_READ", "value": "Fatal Error",
            "stacktrace": {"frames": [
                frame("RtlUserThreadStart", "C:\\Windows\\System32\\ntdll.dll"),
                frame("BaseThreadInitThunk", "C:\\Windows\\System32\\kernel32.dll"),
                frame("Renderer::DrawFrame", "C:\\Program Files\\Game\\game.exe"),
                frame("Mesh::Upload", "C:\\Program Files\\Game\\game.exe"),
            ]}}]},
    });
    let result = group(event, &GroupingConfig::default());
    assert_eq!(contributing_functions(&result.variants["system"]), ["Renderer::DrawFrame", "Mesh::Upload"]);
}
