//! Xiaoneng's domain: who may do what (roles, permissions, data scope), the rules that accounts
//! and sessions follow, the organisation's value types, the audit hash chain, and every workflow
//! of the regime as a state machine that decides a command and returns the domain events that
//! record it ([`workflow`], [`event`]).
//!
//! Pure: no I/O, no clock reads. Time comes in as a parameter (see [`clock`]).

#[macro_use]
mod macros;

pub mod accountability;
pub mod assessment;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod campaign;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod event;
pub mod evidence;
pub mod inquiry;
pub mod inspection;
pub mod job;
pub mod measure;
pub mod org;
pub mod rating;
pub mod rbac;
pub mod rectification;
pub mod replay;
pub mod reset;
pub mod scope;
pub mod second_factor;
pub mod service;
pub mod ticket;
pub mod workflow;

pub use error::ValidationError;

/// An enum of stable codes (see `labelled_enum!`): what an API field or stored value is read as.
pub trait Coded: Sized + Copy {
    fn from_code(s: &str) -> Option<Self>;
    fn codes() -> Vec<&'static str>;
}
