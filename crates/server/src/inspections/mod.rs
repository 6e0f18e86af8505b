//! Covert inspections: secret plans with their team and visits, findings and their review, the
//! taxonomy, evidence files, and how a user stands to a finding (`access`).

pub mod access;
pub mod evidence;
pub mod findings;
pub mod plans;
pub mod taxonomy;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(taxonomy::router())
        .merge(plans::router())
        .merge(findings::router())
        .merge(evidence::router())
}
