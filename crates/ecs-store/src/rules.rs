//! Rules of the saga log that every store applies the same way.

use ecs_saga::StepEvent;

/// Whether these events, the first of a saga's log, start its first step: its job is then
/// `RUNNING`. (The first step a log starts is the saga's first.)
pub(crate) fn starts_first_step(events: &[StepEvent]) -> bool {
    events.iter().any(|e| matches!(e, StepEvent::Started { .. }))
}
