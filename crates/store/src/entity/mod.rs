//! Hand-written entities matching the migrations (schema first: the migrations are the truth).

pub mod audit_entry;
pub mod audit_head;
pub mod calendar_day;
pub mod department;
pub mod evidence;
pub mod finding;
pub mod finding_category;
pub mod finding_event;
pub mod job;
pub mod person;
pub mod plan;
pub mod plan_member;
pub mod plan_target;
pub mod post;
pub mod session;
pub mod setting;
pub mod supervisor;
pub mod upload;
pub mod upload_part;
pub mod user;
pub mod user_role;
pub mod visit;
pub mod window;
