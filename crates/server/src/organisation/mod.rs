//! The organisation: departments, service windows, posts, the roster and external supervisors.

pub mod departments;
pub mod people;
pub mod posts;
pub mod stats;
pub mod supervisors;
pub mod windows;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(departments::router())
        .merge(windows::router())
        .merge(posts::router())
        .merge(people::router())
        .merge(supervisors::router())
        .merge(stats::router())
}
