//! The staff roster (机关干部): people, and their import.

use super::*;
use crate::personal::{Field, Vault};

#[derive(Debug, Clone)]
pub struct PersonInput {
    pub employee_no: String,
    pub name: String,
    pub gender: xiaoneng_core::org::Gender,
    pub department_id: i64,
    pub post_id: Option<i64>,
    pub window_id: Option<i64>,
    /// In clear and normalised (`parse_mobile`); sealed by [`save_person`] and [`insert_people`].
    pub mobile: Option<String>,
    pub is_head: bool,
    pub is_leader_in_charge: bool,
}

#[derive(Debug, Default, Clone)]
pub struct PeopleFilter {
    pub q: Option<String>,
    /// Blind indexes `q` would have as a mobile number ([`Vault::lookups`]): a full number finds
    /// its person although the number is stored encrypted.
    pub mobile_lookups: Vec<String>,
    /// This department and, unless `exact_department`, its sub-departments.
    pub department_id: Option<i64>,
    pub exact_department: bool,
    pub post_type: Option<String>,
    pub status: Option<String>,
    pub sort: Option<String>,
}

pub const PEOPLE_SORTS: &[(&str, person::Column)] = &[
    ("employee_no", person::Column::EmployeeNo),
    ("name", person::Column::Name),
    ("department_id", person::Column::DepartmentId),
    ("created_at", person::Column::CreatedAt),
];

async fn people_condition<C: ConnectionTrait>(c: &C, scope: &Scope, f: &PeopleFilter) -> Result<Condition> {
    let mut cond = people_scope(scope);
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        let mut any =
            Condition::any().add(contains(person::Column::Name, q)).add(contains(person::Column::EmployeeNo, q));
        if !f.mobile_lookups.is_empty() {
            any = any.add(person::Column::MobileIndex.is_in(f.mobile_lookups.iter().cloned()));
        }
        cond = cond.add(any);
    }
    if let Some(d) = f.department_id {
        cond = cond.add(in_department(c, person::Column::DepartmentId, d, f.exact_department).await?);
    }
    if let Some(pt) = f.post_type.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(
            person::Column::PostId.in_subquery(
                Query::select()
                    .column(post::Column::Id)
                    .from(post::Entity)
                    .and_where(post::Column::PostType.eq(pt))
                    .to_owned(),
            ),
        );
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(person::Column::Status.eq(s));
    }
    Ok(cond)
}

pub async fn list_people<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &PeopleFilter,
    page: PageReq,
) -> Result<Paged<person::Model>> {
    let cond = people_condition(c, scope, f).await?;
    let q = order(person::Entity::find().filter(cond), f.sort.as_deref(), PEOPLE_SORTS, person::Column::EmployeeNo);
    paginate(c, q.order_by_asc(person::Column::Id), page).await
}

/// All people matching, for export; at most `limit` rows.
pub async fn export_people<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &PeopleFilter,
    limit: u64,
) -> Result<Vec<person::Model>> {
    let cond = people_condition(c, scope, f).await?;
    let q = order(person::Entity::find().filter(cond), f.sort.as_deref(), PEOPLE_SORTS, person::Column::EmployeeNo);
    Ok(q.order_by_asc(person::Column::Id).limit(limit).all(c).await?)
}

pub async fn count_people<C: ConnectionTrait>(c: &C, scope: &Scope) -> Result<u64> {
    Ok(person::Entity::find()
        .filter(people_scope(scope))
        .filter(person::Column::Status.eq(Status::Active))
        .count(c)
        .await?)
}

pub async fn get_person<C: ConnectionTrait>(c: &C, scope: &Scope, id: i64) -> Result<person::Model> {
    person::Entity::find_by_id(id).filter(people_scope(scope)).one(c).await?.ok_or(StoreError::NotFound)
}

pub async fn person_by_employee_no<C: ConnectionTrait>(c: &C, no: &str) -> Result<Option<person::Model>> {
    Ok(person::Entity::find().filter(person::Column::EmployeeNo.eq(no)).one(c).await?)
}

/// Checks a person's references: an active department, and a post and window of that department.
async fn check_person_refs<C: ConnectionTrait>(c: &C, p: &PersonInput) -> Result<()> {
    active_department(c, p.department_id).await?;
    if let Some(pid) = p.post_id {
        let post = post::Entity::find_by_id(pid)
            .one(c)
            .await?
            .ok_or_else(|| invalid("post_id", "post_not_found", "岗位不存在", "The post does not exist"))?;
        if post.department_id != p.department_id || post.status != Status::Active {
            return Err(invalid(
                "post_id",
                "post_not_in_department",
                "岗位须是该部门的在用岗位",
                "The post must be an active post of the person's department",
            ));
        }
    }
    if let Some(wid) = p.window_id {
        let w = window::Entity::find_by_id(wid)
            .one(c)
            .await?
            .ok_or_else(|| invalid("window_id", "window_not_found", "窗口不存在", "The window does not exist"))?;
        if w.department_id != p.department_id || w.status != Status::Active {
            return Err(invalid(
                "window_id",
                "window_not_in_department",
                "窗口须是该部门的在用窗口",
                "The window must be an active window of the person's department",
            ));
        }
    }
    Ok(())
}

pub async fn save_person<C: ConnectionTrait>(
    c: &C,
    vault: &Vault,
    id: Option<i64>,
    p: PersonInput,
    now: DateTime<Utc>,
) -> Result<(Option<person::Model>, person::Model)> {
    check_person_refs(c, &p).await?;
    let taken = person_by_employee_no(c, &p.employee_no).await?;
    if taken.is_some_and(|t| Some(t.id) != id) {
        return Err(StoreError::Conflict { field: "employee_no".into() });
    }
    let before = match id {
        Some(id) => Some(person::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?),
        None => None,
    };
    let mut am = match &before {
        Some(b) => b.clone().into(),
        None => person::ActiveModel {
            status: Set(Status::Active),
            created_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        },
    };
    am.employee_no = Set(p.employee_no);
    am.name = Set(p.name);
    am.gender = Set(p.gender);
    am.department_id = Set(p.department_id);
    am.post_id = Set(p.post_id);
    am.window_id = Set(p.window_id);
    let (sealed, index) = vault.seal_opt(Field::PersonMobile, p.mobile.as_deref())?;
    am.mobile_sealed = Set(sealed);
    am.mobile_index = Set(index);
    am.is_head = Set(p.is_head);
    am.is_leader_in_charge = Set(p.is_leader_in_charge);
    am.updated_at = Set(now);
    let after = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    Ok((before, after))
}

/// Inserts many people at once (an import). The caller runs it in one transaction.
pub async fn insert_people<C: ConnectionTrait>(
    c: &C,
    vault: &Vault,
    people: Vec<PersonInput>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut n = 0u64;
    for chunk in people.chunks(500) {
        let mut rows = Vec::with_capacity(chunk.len());
        for p in chunk.iter().cloned() {
            let (mobile_sealed, mobile_index) = vault.seal_opt(Field::PersonMobile, p.mobile.as_deref())?;
            rows.push(person::ActiveModel {
                employee_no: Set(p.employee_no),
                name: Set(p.name),
                gender: Set(p.gender),
                department_id: Set(p.department_id),
                post_id: Set(p.post_id),
                window_id: Set(p.window_id),
                mobile_sealed: Set(mobile_sealed),
                mobile_index: Set(mobile_index),
                is_head: Set(p.is_head),
                is_leader_in_charge: Set(p.is_leader_in_charge),
                status: Set(Status::Active),
                created_at: Set(now),
                updated_at: Set(now),
                retired_at: Set(None),
                ..Default::default()
            });
        }
        person::Entity::insert_many(rows).exec_without_returning(c).await?;
        n += chunk.len() as u64;
    }
    Ok(n)
}

pub async fn retire_person<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<person::Model> {
    let p = person::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if p.status == Status::Retired {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let mut am: person::ActiveModel = p.into();
    am.status = Set(Status::Retired);
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}
