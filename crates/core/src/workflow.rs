//! What every workflow's machine answers: a decision — the next state and the domain events to
//! record — or a refusal that says why not. The store applies a decision with an update
//! conditional on the state the decision was taken from.

use crate::{ValidationError, event::Event};

/// The outcome of a command that is allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<S> {
    pub next: S,
    /// What happened, to be recorded in the same transaction as the change.
    pub events: Vec<Event>,
}

impl<S> Decision<S> {
    pub fn new(next: S, events: Vec<Event>) -> Self {
        Self { next, events }
    }
}

/// A command refused: by the state it met, by who asked, or by its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The record's state, the actor's part in it, or the time does not allow the action (409).
    #[error("{0}")]
    Transition(TransitionRefused),
    /// The input is wrong; the field is named (422).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Too many of these from one source in a time window (429); the caller may try again later.
    #[error("too many from one {}", .0.scope)]
    TooMany(TooMany),
}

/// A rate limit reached: of which source, and how long until a try may succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooMany {
    /// `address`, `phone`, `device`: what was counted.
    pub scope: &'static str,
    pub retry_after_secs: u64,
    pub zh: String,
    pub en: String,
}

/// Why a transition was refused, in both languages, with stable codes for programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionRefused {
    /// The state the record is in.
    pub state: &'static str,
    /// The action asked for.
    pub action: &'static str,
    /// `state` (this state does not allow it), `actor` (not this caller's step), or a rule's code
    /// such as `appeal_deadline_passed`.
    pub reason: &'static str,
    pub zh: String,
    pub en: String,
}

impl std::fmt::Display for TransitionRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not allowed while {}: {}", self.action, self.state, self.reason)
    }
}

impl Refusal {
    pub fn transition(
        state: &'static str,
        action: &'static str,
        reason: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Refusal::Transition(TransitionRefused { state, action, reason, zh: zh.into(), en: en.into() })
    }

    /// The state does not allow the action.
    pub fn by_state(state: (&'static str, &str, &str), action: (&'static str, &str, &str), what: (&str, &str)) -> Self {
        Refusal::transition(
            state.0,
            action.0,
            "state",
            format!("“{}”的{}不能{}", state.1, what.0, action.1),
            format!("Cannot {} a {} that is {}", action.2, what.1, state.2),
        )
    }

    /// The caller has no part in this step.
    pub fn by_actor(state: &'static str, action: (&'static str, &str, &str), what: (&str, &str)) -> Self {
        Refusal::transition(
            state,
            action.0,
            "actor",
            format!("您不能对该{}执行“{}”", what.0, action.1),
            format!("You may not {} this {}", action.2, what.1),
        )
    }

    pub fn invalid(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Refusal::Invalid(ValidationError::new(field, code, zh, en))
    }

    /// The code a client sees for this refusal.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Transition(t) => t.reason,
            Refusal::Invalid(v) => v.code,
            Refusal::TooMany(_) => "rate_limited",
        }
    }
}

/// Labels of a labelled enum value, for refusals: (code, Chinese, English).
#[macro_export]
macro_rules! labels {
    ($v:expr) => {
        ($v.code(), $v.label_zh(), $v.label_en())
    };
}
