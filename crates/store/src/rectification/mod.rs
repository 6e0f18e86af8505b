//! Bulletins, rectification orders and their reports (with attachments and reminders), leaders'
//! instructions, and each user's notifications. State changes are applied conditional on the
//! state they were decided from; a lost race is [`crate::StoreError::StateChanged`].

mod bulletins;
mod instructions;
mod notifications;
mod orders;

pub use bulletins::*;
pub use instructions::*;
pub use notifications::*;
pub use orders::*;
