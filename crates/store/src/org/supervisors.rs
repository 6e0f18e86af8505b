//! External supervisors (外部监督员) and their terms.

use super::*;
use crate::personal::{Field, Vault};

#[derive(Debug, Clone)]
pub struct SupervisorInput {
    pub code: String,
    pub name: String,
    pub kind: xiaoneng_core::org::SupervisorKind,
    pub organisation: String,
    pub mobile: Option<String>,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
}

pub const SUPERVISOR_SORTS: &[(&str, supervisor::Column)] = &[
    ("code", supervisor::Column::Code),
    ("name", supervisor::Column::Name),
    ("term_end", supervisor::Column::TermEnd),
    ("term_start", supervisor::Column::TermStart),
];

/// `in_term_on`: only supervisors whose term covers that day (and who are not retired).
pub async fn list_supervisors<C: ConnectionTrait>(
    c: &C,
    f: &UnitFilter,
    in_term_on: Option<NaiveDate>,
    page: PageReq,
) -> Result<Paged<supervisor::Model>> {
    let mut cond = Condition::all();
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(
            Condition::any()
                .add(contains(supervisor::Column::Name, q))
                .add(contains(supervisor::Column::Code, q))
                .add(contains(supervisor::Column::Organisation, q)),
        );
    }
    if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(supervisor::Column::Kind.eq(k));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(supervisor::Column::Status.eq(s));
    }
    if let Some(day) = in_term_on {
        cond = cond
            .add(supervisor::Column::TermStart.lte(day))
            .add(supervisor::Column::TermEnd.gte(day))
            .add(supervisor::Column::Status.eq(Status::Active));
    }
    let q =
        order(supervisor::Entity::find().filter(cond), f.sort.as_deref(), SUPERVISOR_SORTS, supervisor::Column::Code);
    paginate(c, q.order_by_asc(supervisor::Column::Id), page).await
}

pub async fn get_supervisor<C: ConnectionTrait>(c: &C, id: i64) -> Result<supervisor::Model> {
    supervisor::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

pub async fn save_supervisor<C: ConnectionTrait>(
    c: &C,
    vault: &Vault,
    id: Option<i64>,
    s: SupervisorInput,
    now: DateTime<Utc>,
) -> Result<(Option<supervisor::Model>, supervisor::Model)> {
    let taken = supervisor::Entity::find().filter(supervisor::Column::Code.eq(&s.code)).one(c).await?;
    if taken.is_some_and(|t| Some(t.id) != id) {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let before = match id {
        Some(id) => Some(supervisor::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?),
        None => None,
    };
    let mut am = match &before {
        Some(b) => b.clone().into(),
        None => supervisor::ActiveModel {
            status: Set(Status::Active),
            created_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        },
    };
    am.code = Set(s.code);
    am.name = Set(s.name);
    am.kind = Set(s.kind);
    am.organisation = Set(s.organisation);
    let (sealed, index) = vault.seal_opt(Field::SupervisorMobile, s.mobile.as_deref())?;
    am.mobile_sealed = Set(sealed);
    am.mobile_index = Set(index);
    am.term_start = Set(s.term_start);
    am.term_end = Set(s.term_end);
    am.updated_at = Set(now);
    let after = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    Ok((before, after))
}

pub async fn retire_supervisor<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<supervisor::Model> {
    let s = supervisor::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if s.status == Status::Retired {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let mut am: supervisor::ActiveModel = s.into();
    am.status = Set(Status::Retired);
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}
