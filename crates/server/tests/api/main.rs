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
mod inspections;
mod jobs;
mod ledger;
mod openapi;
mod organisation;
mod permissions;
mod rectification;

pub use support::*;
