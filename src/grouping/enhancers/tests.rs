use std::borrow::Cow;

use super::index::RuleSet;
use super::rules::{FAMILY_JAVASCRIPT, FAMILY_NATIVE, FAMILY_OTHER};
use super::*;
use crate::grouping::RuleError;

fn frame(function: &str, family: Families) -> MatchFrame<'_> {
    MatchFrame {
        family,
        function: Cow::Borrowed(function),
        module: None,
        package: None,
        path: None,
        in_app: None,
        orig_in_app: None,
        category: None,
    }
}

/// Pass 2 matches of one rule set.
fn updaters<'r>(set: &'r RuleSet, frames: &[MatchFrame<'_>], exception: &ExceptionData<'_>) -> Vec<(&'r Rule, usize)> {
    let present = frames.iter().fold(0, |acc, f| acc | f.family);
    let mut out = Vec::new();
    updater_matches(set, &set.candidates(frames), frames, exception, present, &mut out);
    out
}

#[test]
fn the_built_in_rules_parse_and_are_all_indexed() {
    let set = builtin::rules();
    assert!(set.rules.len() > 100);
    // Rules without a literal to look up would be tried on every frame of every event.
    let scanned: Vec<String> = set.scanned().map(Rule::to_string).collect();
    assert!(scanned.is_empty(), "built-in rules without an index key: {scanned:?}");
}

#[test]
fn rules_round_trip_through_their_display_form() {
    let text = "[ category:gl ] | family:native !function:std::* | [ app:yes ] ^-group max-frames=3";
    let rules = Enhancements::parse(text).expect("valid rule");
    assert_eq!(
        rules.rules()[0].to_string(),
        "[category:gl] | family:native !function:std::* | [app:yes] ^-group max-frames=3"
    );
}

#[test]
fn quoted_arguments_unescape_double_backslashes_and_comments_are_skipped() {
    let rules =
        Enhancements::parse("# comment\n\nfunction:\"*::\\\\{dtor\\\\}\" -group  # why\n").expect("valid rules");
    assert_eq!(rules.rules().len(), 1);
    assert_eq!(rules.rules()[0].to_string(), r"function:*::\{dtor\} -group");
}

#[test]
fn syntax_errors_carry_the_line_number() {
    let err = Enhancements::parse("function:foo +app\nfoo:bar +app").expect_err("unknown matcher");
    assert_eq!(err, RuleError::Syntax { line: 2, message: "unknown matcher `foo`".into() });
    let err = Enhancements::parse("function:foo").expect_err("no action");
    assert_eq!(err.to_string(), "line 1: expected at least one action");
    assert!(Enhancements::parse("function:foo +ap").is_err());
    assert!(Enhancements::parse("function:foo max-frames=x").is_err());
}

#[test]
fn modifiers_set_in_app_on_ranges_and_categories_feed_later_rules() {
    let rules = Enhancements::parse(
        "family:native function:crash ^-app +app\nfunction:crash category=boom\ncategory:boom v-app",
    )
    .expect("valid");
    let mut frames = vec![frame("main", FAMILY_NATIVE), frame("crash", FAMILY_NATIVE), frame("abort", FAMILY_NATIVE)];
    let candidates = rules.project.candidates(&frames);
    apply_modifiers(&rules.project, &candidates, &mut frames, &ExceptionData::default(), FAMILY_NATIVE);
    let in_app: Vec<_> = frames.iter().map(|f| f.in_app).collect();
    assert_eq!(in_app, vec![Some(false), Some(true), Some(false)]);
    assert_eq!(frames[1].category, Some("boom"));
}

#[test]
fn family_and_exception_matchers_gate_rules() {
    let rules = Enhancements::parse("family:native error.type:Panic function:* -group").expect("valid");
    let native = vec![frame("f", FAMILY_NATIVE)];
    let other = vec![frame("f", FAMILY_OTHER)];
    let panic = ExceptionData { ty: Some("Panic"), ..ExceptionData::default() };
    assert_eq!(updaters(&rules.project, &native, &panic).len(), 1);
    assert!(updaters(&rules.project, &other, &panic).is_empty());
    assert!(updaters(&rules.project, &native, &ExceptionData::default()).is_empty());
}

#[test]
fn max_frames_keeps_the_frames_closest_to_the_crash() {
    let rules = Enhancements::parse("function:* max-frames=2").expect("valid");
    let frames = vec![frame("a", FAMILY_OTHER), frame("b", FAMILY_OTHER), frame("c", FAMILY_OTHER)];
    let matches = updaters(&rules.project, &frames, &ExceptionData::default());
    let mut contributions = vec![Contribution { contributes: true, hint: None }; 3];
    let assembled = assemble(&matches, &frames, &mut contributions);
    assert!(assembled.contributes);
    let flags: Vec<bool> = contributions.iter().map(|c| c.contributes).collect();
    assert_eq!(flags, vec![false, true, true]);
}

#[test]
fn min_frames_discards_short_stack_traces() {
    let rules = Enhancements::parse("function:* min-frames=3").expect("valid");
    let frames = vec![frame("a", FAMILY_OTHER)];
    let matches = updaters(&rules.project, &frames, &ExceptionData::default());
    let mut contributions = vec![Contribution { contributes: true, hint: None }];
    let assembled = assemble(&matches, &frames, &mut contributions);
    assert!(!assembled.contributes);
    assert!(assembled.hint.is_some_and(|h| h.starts_with("discarded because")));
}

/// The straightforward pass 1 the index must reproduce: every rule on every frame.
fn naive_modifiers<'a>(rules: &[&'a Rule], frames: &mut [MatchFrame<'a>], exception: &ExceptionData<'_>) {
    for rule in rules.iter().filter(|r| r.has_modifier() && r.matches_exception(exception)) {
        let hits: Vec<usize> = (0..frames.len()).filter(|&idx| rule.matches_frame(frames, idx)).collect();
        for idx in hits {
            for action in &rule.actions {
                match action {
                    Action::Flag { range, value, flag: Flag::App } => {
                        for t in Action::targets(*range, idx, frames.len()) {
                            frames[t].in_app = Some(*value);
                        }
                    }
                    Action::Category(category) => frames[idx].category = Some(category.as_str()),
                    _ => {}
                }
            }
        }
    }
}

/// The straightforward pass 2.
fn naive_updaters<'r>(
    rules: &[&'r Rule],
    frames: &[MatchFrame<'_>],
    exception: &ExceptionData<'_>,
) -> Vec<(&'r Rule, usize)> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| r.has_updater() && r.matches_exception(exception)) {
        out.extend((0..frames.len()).filter(|&idx| rule.matches_frame(frames, idx)).map(|idx| (*rule, idx)));
    }
    out
}

/// A value a rule's glob `raw` (probably) accepts, in one of a few spellings.
fn shaped(raw: &str, spelling: usize) -> String {
    let v = raw.replace("**", "q/r").replace('*', "zz").replace('?', "k").replace(['[', ']', '\\'], "");
    match spelling {
        0 => format!("/a/{v}"),
        1 => v.to_uppercase(),
        2 => v.strip_prefix('/').unwrap_or(&v).to_owned(),
        3 => v.replace('/', "\\"),
        _ => v,
    }
}

/// Values shaped after the rules' own patterns, so that many rules match somewhere.
fn value_pool(rules: &[&Rule], keys: &[&str]) -> Vec<String> {
    let mut pool: Vec<String> =
        ["x", "<unknown>", "run", "main", "/srv/app/x.py", "ſite-packages/a", "É/x"].map(str::to_owned).to_vec();
    for m in rules.iter().flat_map(|r| &r.frame_matchers).filter(|m| keys.contains(&m.key)) {
        pool.extend((0..5).map(|spelling| shaped(&m.raw, spelling)));
    }
    pool
}

/// As `frames::path_value` normalizes them.
fn path(value: &str) -> Cow<'static, str> {
    Cow::Owned(value.replace('\\', "/").to_lowercase())
}

#[test]
fn the_index_finds_exactly_what_trying_every_rule_finds() {
    let project = Enhancements::parse(
        "category:system +group\napp:yes -group\n!function:x* +app\n[ function:main ] | function:run ^-group\n\
         path:*.py +app\nmodule:lib?.core -app\nfunction:run category=mine\ncategory:mine v+app\n\
         package:**/lib* -app\nfamily:javascript,native path:**/x/** max-frames=2\nerror.type:Panic function:* -group",
    )
    .expect("valid");
    let all: Vec<&Rule> = builtin::rules().rules.iter().chain(project.rules()).collect();
    let functions = value_pool(&all, &["function"]);
    let modules = value_pool(&all, &["module"]);
    let paths = value_pool(&all, &["path", "package"]);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % n as u64).unwrap_or_default()
    };
    let families = [FAMILY_OTHER, FAMILY_NATIVE, FAMILY_JAVASCRIPT];
    let mut shaped_values = Vec::new();
    for round in 0..4000 {
        let family = families[round % 3];
        let mut frames: Vec<MatchFrame<'_>> = (0..1 + next(8))
            .map(|_| MatchFrame {
                family: if next(5) == 0 { families[next(3)] } else { family },
                function: Cow::Borrowed(functions[next(functions.len())].as_str()),
                module: (next(2) == 0).then(|| modules[next(modules.len())].as_str()),
                package: (next(2) == 0).then(|| path(&paths[next(paths.len())])),
                path: (next(2) == 0).then(|| path(&paths[next(paths.len())])),
                in_app: [None, Some(true), Some(false)][next(3)],
                orig_in_app: None,
                category: None,
            })
            .collect();
        // Make one frame satisfy every positive matcher of some rule.
        let rule = all[next(all.len())];
        let idx = next(frames.len());
        shaped_values.clear();
        shaped_values.extend(rule.frame_matchers.iter().map(|m| (m.key, shaped(&m.raw, next(6)))));
        let target = &mut frames[idx];
        target.family = families.into_iter().find(|f| f & rule.families != 0).unwrap_or(family);
        for (key, value) in &shaped_values {
            match *key {
                "function" => target.function = Cow::Borrowed(value.as_str()),
                "module" => target.module = Some(value.as_str()),
                "path" => target.path = Some(path(value)),
                "package" => target.package = Some(path(value)),
                _ => {}
            }
        }
        let exception = ExceptionData { ty: ["Panic", "Other"].get(next(3)).copied(), ..ExceptionData::default() };
        let present = frames.iter().fold(0, |acc, f| acc | f.family);
        let effective: Vec<&Rule> = all.iter().copied().filter(|r| r.families & present != 0).collect();
        let (mut naive, mut indexed) = (frames.clone(), frames);
        naive_modifiers(&effective, &mut naive, &exception);
        let candidates = project.rule_sets().map(|set| set.candidates(&indexed));
        for (set, candidates) in project.rule_sets().iter().zip(&candidates) {
            apply_modifiers(set, candidates, &mut indexed, &exception, present);
        }
        let state =
            |f: &[MatchFrame<'_>]| f.iter().map(|f| (f.in_app, f.category.map(str::to_owned))).collect::<Vec<_>>();
        assert_eq!(state(&naive), state(&indexed), "round {round}");
        let expected = naive_updaters(&effective, &naive, &exception);
        let mut got = Vec::new();
        for (set, candidates) in project.rule_sets().iter().zip(&candidates) {
            updater_matches(set, candidates, &indexed, &exception, present, &mut got);
        }
        let ids = |m: &[(&Rule, usize)]| m.iter().map(|(r, i)| (std::ptr::from_ref(*r), *i)).collect::<Vec<_>>();
        if ids(&expected) != ids(&got) {
            for (r, i) in expected.iter().filter(|e| !got.iter().any(|g| std::ptr::eq(g.0, e.0) && g.1 == e.1)) {
                eprintln!("missed {} on {:?}", r, indexed[*i]);
            }
        }
        assert_eq!(ids(&expected), ids(&got), "round {round}");
    }
}
