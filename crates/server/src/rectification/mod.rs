//! Rectification: bulletins (通报) and their official documents, rectification orders with the
//! departments' reports, leaders' instructions and their follow-ups, the office's rules and
//! message robots, and the inbox tasks these leave. `read` holds the read models they share.

pub mod bulletins;
pub mod documents;
pub mod instructions;
pub mod orders;
pub mod read;
pub mod settings;
pub mod tasks;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(bulletins::router())
        .merge(documents::router())
        .merge(orders::router())
        .merge(instructions::router())
        .merge(settings::router())
}
