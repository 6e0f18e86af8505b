//! Xiaoneng's domain: who may do what (roles, permissions, data scope), the rules that accounts
//! and sessions follow, the organisation's value types, and the audit hash chain.
//!
//! Pure: no I/O, no clock reads. Time comes in as a parameter (see [`clock`]).

#[macro_use]
mod macros;

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod clock;
pub mod error;
pub mod evidence;
pub mod inspection;
pub mod org;
pub mod rbac;
pub mod rectification;

pub use error::ValidationError;
