use std::borrow::Cow;

use super::rules::{FAMILY_NATIVE, FAMILY_OTHER};
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

#[test]
fn the_built_in_rules_parse() {
    assert!(builtin::rules().len() > 300);
}

#[test]
fn rules_round_trip_through_their_display_form() {
    let text =
        "[ category:gl ] | family:native !function:std::* | [ app:yes ] ^-group max-frames=3";
    let rules = Enhancements::parse(text).expect("valid rule");
    assert_eq!(
        rules.rules()[0].to_string(),
        "[category:gl] | family:native !function:std::* | [app:yes] ^-group max-frames=3"
    );
}

#[test]
fn quoted_arguments_unescape_double_backslashes_and_comments_are_skipped() {
    let rules = Enhancements::parse("# comment\n\nfunction:\"*::\\\\{dtor\\\\}\" -group  # why\n")
        .expect("valid rules");
    assert_eq!(rules.rules().len(), 1);
    assert_eq!(rules.rules()[0].to_string(), r"function:*::\{dtor\} -group");
}

#[test]
fn syntax_errors_carry_the_line_number() {
    let err = Enhancements::parse("function:foo +app\nfoo:bar +app").expect_err("unknown matcher");
    assert_eq!(
        err,
        RuleError::Syntax {
            line: 2,
            message: "unknown matcher `foo`".into()
        }
    );
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
    let rules: Vec<&Rule> = rules.rules().iter().collect();
    let mut frames = vec![
        frame("main", FAMILY_NATIVE),
        frame("crash", FAMILY_NATIVE),
        frame("abort", FAMILY_NATIVE),
    ];
    apply_modifiers(&rules, &mut frames, &ExceptionData::default());
    let in_app: Vec<_> = frames.iter().map(|f| f.in_app).collect();
    assert_eq!(in_app, vec![Some(false), Some(true), Some(false)]);
    assert_eq!(frames[1].category, Some("boom"));
}

#[test]
fn family_and_exception_matchers_gate_rules() {
    let rules =
        Enhancements::parse("family:native error.type:Panic function:* -group").expect("valid");
    let rules: Vec<&Rule> = rules.rules().iter().collect();
    let native = vec![frame("f", FAMILY_NATIVE)];
    let other = vec![frame("f", FAMILY_OTHER)];
    let panic = ExceptionData {
        ty: Some("Panic"),
        ..ExceptionData::default()
    };
    assert_eq!(updater_matches(&rules, &native, &panic).len(), 1);
    assert!(updater_matches(&rules, &other, &panic).is_empty());
    assert!(updater_matches(&rules, &native, &ExceptionData::default()).is_empty());
}

#[test]
fn max_frames_keeps_the_frames_closest_to_the_crash() {
    let rules = Enhancements::parse("function:* max-frames=2").expect("valid");
    let rules: Vec<&Rule> = rules.rules().iter().collect();
    let frames = vec![
        frame("a", FAMILY_OTHER),
        frame("b", FAMILY_OTHER),
        frame("c", FAMILY_OTHER),
    ];
    let matches = updater_matches(&rules, &frames, &ExceptionData::default());
    let mut contributions = vec![
        Contribution {
            contributes: true,
            hint: None
        };
        3
    ];
    let assembled = assemble(&matches, &frames, &mut contributions);
    assert!(assembled.contributes);
    let flags: Vec<bool> = contributions.iter().map(|c| c.contributes).collect();
    assert_eq!(flags, vec![false, true, true]);
}

#[test]
fn min_frames_discards_short_stack_traces() {
    let rules = Enhancements::parse("function:* min-frames=3").expect("valid");
    let rules: Vec<&Rule> = rules.rules().iter().collect();
    let frames = vec![frame("a", FAMILY_OTHER)];
    let matches = updater_matches(&rules, &frames, &ExceptionData::default());
    let mut contributions = vec![Contribution {
        contributes: true,
        hint: None,
    }];
    let assembled = assemble(&matches, &frames, &mut contributions);
    assert!(!assembled.contributes);
    assert!(
        assembled
            .hint
            .is_some_and(|h| h.starts_with("discarded because"))
    );
}
