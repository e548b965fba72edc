//! A stack trace → one `stacktrace` component per variant (`app`, `system`).
//!
//! ```text
//! app:    stacktrace ─ frame ✗ non app frame, frame ✓, frame ✗ ignored due to recursion
//! system: stacktrace ─ frame ✓,              frame ✓, frame ✗ ignored due to recursion
//! ```
//!
//! Both variants see the same frames. The app variant only lets in-app frames contribute; both
//! then get the `+group`/`-group`/`max-frames`/`min-frames` rules. A stack trace without frames,
//! without contributing frames or (app) without in-app frames does not contribute.

use std::sync::Arc;

use crate::grouping::component::{Component, Text};
use crate::grouping::enhancers::{self, Contribution, FAMILY_JAVASCRIPT};
use crate::grouping::frames::{Frame, Stack};

use super::frame::{frame_components, has_url_origin};
use super::{APP, SYSTEM, Variants};

/// The `app` and `system` stack trace components of `stack` (app first: it has priority).
pub fn stacktrace_variants(stack: &Stack<'_>) -> Variants {
    let frame_components = frame_components(&stack.frames);
    let frames = &stack.frames;
    let recursive: Vec<bool> = (0..frames.len()).map(|idx| idx > 0 && frames[idx].repeats(&frames[idx - 1])).collect();
    // The app variant copies the frame nodes; the system variant then owns the originals.
    let mut app = single_variant(stack, Arc::from(&frame_components[..]), &recursive, true);
    let mut system = single_variant(stack, frame_components, &recursive, false);

    let frames = system.children().zip(&stack.frames);
    let (mut in_app, mut contributing, mut in_app_contributing) = (0, 0, 0);
    for (component, frame) in frames {
        in_app += usize::from(frame.in_app);
        contributing += usize::from(component.contributes);
        in_app_contributing += usize::from(frame.in_app && component.contributes);
    }
    if stack.frames.is_empty() {
        app.ignore("ignored because it contains no frames");
        system.ignore("ignored because it contains no frames");
    } else {
        if contributing == 0 {
            system.ignore("ignored because it contains no contributing frames");
        }
        if in_app == 0 {
            app.ignore("ignored because it contains no in-app frames");
        } else if in_app_contributing == 0 {
            app.ignore("ignored because it contains no contributing frames");
        }
    }
    vec![(APP, app), (SYSTEM, system)]
}

/// Turns the frame nodes into one variant's stack trace. `shared` is changed in place (it is not
/// shared yet, so `make_mut` does not copy); the frames' contents stay shared between variants.
fn single_variant(stack: &Stack<'_>, mut shared: Arc<[Component]>, recursive: &[bool], app: bool) -> Component {
    let frames = &stack.frames;
    let components = Arc::make_mut(&mut shared);
    for (idx, component) in components.iter_mut().enumerate() {
        if recursive[idx] {
            component.ignore("ignored due to recursion");
        }
        if app && !frames[idx].in_app {
            component.contributes = false;
        }
    }
    ignore_lonely_javascript_frame(frames, components);

    let mut contributions: Vec<Contribution> =
        components.iter().map(|c| Contribution { contributes: c.contributes, hint: None }).collect();
    let assembled = enhancers::assemble(&stack.updates, &stack.rule_frames, &mut contributions);

    let mut in_app_contributing = 0;
    for ((component, rule), frame) in components.iter_mut().zip(contributions).zip(frames) {
        let rule_hint = rule.hint;
        let is_in_app_hint = |h: &Text| h.starts_with("marked in-app");
        let is_out_of_app_hint = |h: &Text| h.starts_with("marked out of app");
        if app && !frame.in_app {
            component.contributes = false;
            component.hint = match rule_hint.filter(is_out_of_app_hint) {
                Some(hint) => Some(hint),
                None => component.hint.take().or(Some(Text::from("non app frame"))),
            };
        } else {
            component.contributes = rule.contributes;
            let keep_rule_hint = |h: &Text| app || !(is_in_app_hint(h) || is_out_of_app_hint(h));
            if let Some(hint) = rule_hint.filter(keep_rule_hint) {
                component.hint = Some(hint);
            }
        }
        in_app_contributing += usize::from(frame.in_app && component.contributes);
    }

    let (contributes, hint) =
        if app && in_app_contributing == 0 { (false, None) } else { (assembled.contributes, assembled.hint) };
    Component { contributes, hint, ..Component::with_shared_children("stacktrace", shared) }
}

/// A lone JavaScript frame without function name and without URL says nothing about the error.
fn ignore_lonely_javascript_frame(frames: &[Frame<'_>], components: &mut [Component]) {
    let [frame] = frames else {
        return;
    };
    let [component] = components else {
        return;
    };
    if component.contributes
        && frame.family == FAMILY_JAVASCRIPT
        && frame.function.is_none()
        && !has_url_origin(frame.abs_path, true)
    {
        component.ignore("ignored single non-URL JavaScript frame");
    }
}
