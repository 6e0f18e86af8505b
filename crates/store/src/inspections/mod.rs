//! Covert inspections: the finding taxonomy, secret plans (targets, team, visits), findings, and
//! their evidence files. Plans are read only through `member_of`, findings only through a
//! [`FindingVisibility`], both applied inside the queries. State changes are applied conditional
//! on the state the decision was taken from.

pub mod evidence;
mod findings;
mod plans;
mod taxonomy;

pub use findings::*;
pub use plans::*;
pub use taxonomy::*;

use sea_orm::{ColumnTrait, sea_query::Query};
use xiaoneng_core::ValidationError;

use crate::{StoreError, entity::plan_member};

fn invalid(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::Invalid(ValidationError::new(field, code, zh, en))
}

/// Plans a user is on the team of (now).
fn member_plans(user_id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(plan_member::Column::PlanId)
        .from(plan_member::Entity)
        .and_where(plan_member::Column::UserId.eq(user_id))
        .and_where(plan_member::Column::RemovedAt.is_null())
        .to_owned()
}
