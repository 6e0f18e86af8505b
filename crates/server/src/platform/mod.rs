//! The platform every module stands on: logging in (with two-step verification), the caller
//! (`/me`), accounts and roles, the security policy, the audit log, the working-day calendar, health checks.

pub mod audit;
pub mod calendar;
pub mod health;
pub mod login;
pub mod me;
pub mod policy;
pub mod resets;
pub mod second_factor;
pub mod users;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(login::router())
        .merge(me::router())
        .merge(users::router())
        .merge(resets::router())
        .merge(second_factor::router())
        .merge(policy::router())
        .merge(audit::router())
        .merge(calendar::router())
}
