//! The API's integration tests: one binary, the real router, a fresh database per test, each
//! test on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod accounts;
mod audit;
mod auth;
mod backfill;
mod calendar;
mod evidence;
mod idempotency;
mod inquiries;
mod inspections;
mod jobs;
mod ledger;
mod openapi;
mod organisation;
mod paging;
mod permissions;
mod personal;
mod ratings;
mod rectification;
mod resets;
mod second_factor;
mod service;
mod tickets;

pub use support::*;
