//! Service windows (窗口) of the service halls.

use super::*;

#[derive(Debug, Clone)]
pub struct WindowInput {
    pub code: String,
    pub name: String,
    pub department_id: i64,
    pub hall: String,
    pub number: String,
}

#[derive(Debug, Default, Clone)]
pub struct UnitFilter {
    pub q: Option<String>,
    /// This department and, unless `exact_department`, its sub-departments.
    pub department_id: Option<i64>,
    pub exact_department: bool,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub sort: Option<String>,
}

pub const WINDOW_SORTS: &[(&str, window::Column)] = &[
    ("code", window::Column::Code),
    ("name", window::Column::Name),
    ("number", window::Column::Number),
    ("hall", window::Column::Hall),
];

pub async fn list_windows<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &UnitFilter,
    page: PageReq,
) -> Result<Paged<window::Model>> {
    let mut cond = in_dept_scope(window::Column::DepartmentId, scope);
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(
            Condition::any()
                .add(contains(window::Column::Name, q))
                .add(contains(window::Column::Code, q))
                .add(contains(window::Column::Number, q)),
        );
    }
    if let Some(d) = f.department_id {
        cond = cond.add(in_department(c, window::Column::DepartmentId, d, f.exact_department).await?);
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(window::Column::Status.eq(s));
    }
    let q = order(window::Entity::find().filter(cond), f.sort.as_deref(), WINDOW_SORTS, window::Column::Code);
    paginate(c, q.order_by_asc(window::Column::Id), page).await
}

pub async fn window_by_code<C: ConnectionTrait>(c: &C, code: &str) -> Result<Option<window::Model>> {
    Ok(window::Entity::find().filter(window::Column::Code.eq(code)).one(c).await?)
}

pub async fn get_window<C: ConnectionTrait>(c: &C, scope: &Scope, id: i64) -> Result<window::Model> {
    window::Entity::find_by_id(id)
        .filter(in_dept_scope(window::Column::DepartmentId, scope))
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn save_window<C: ConnectionTrait>(
    c: &C,
    id: Option<i64>,
    w: WindowInput,
    now: DateTime<Utc>,
) -> Result<(Option<window::Model>, window::Model)> {
    active_department(c, w.department_id).await?;
    let taken = window::Entity::find().filter(window::Column::Code.eq(&w.code)).one(c).await?;
    if taken.is_some_and(|t| Some(t.id) != id) {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let before = match id {
        Some(id) => Some(window::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?),
        None => None,
    };
    let mut am = match &before {
        Some(b) => b.clone().into(),
        None => window::ActiveModel {
            status: Set(Status::Active),
            created_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        },
    };
    am.code = Set(w.code);
    am.name = Set(w.name);
    am.department_id = Set(w.department_id);
    am.hall = Set(w.hall);
    am.number = Set(w.number);
    am.updated_at = Set(now);
    let after = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    Ok((before, after))
}

pub async fn retire_window<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<window::Model> {
    let w = window::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if w.status == Status::Retired {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let staff = person::Entity::find()
        .filter(person::Column::WindowId.eq(id))
        .filter(person::Column::Status.eq(Status::Active))
        .count(c)
        .await?;
    if staff > 0 {
        return Err(StoreError::Invalid(ValidationError::new(
            "status",
            "window_in_use",
            format!("该窗口仍有 {staff} 名在岗人员，请先调整"),
            format!("{staff} active people still work at this window; move them first"),
        )));
    }
    let mut am: window::ActiveModel = w.into();
    am.status = Set(Status::Retired);
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

/// The active staff at a window, by employee number: its QR sheet has a code for each.
pub async fn people_at_window<C: ConnectionTrait>(c: &C, window_id: i64) -> Result<Vec<crate::entity::person::Model>> {
    use crate::entity::person;
    Ok(person::Entity::find()
        .filter(person::Column::WindowId.eq(window_id))
        .filter(person::Column::Status.eq(xiaoneng_core::org::Status::Active))
        .order_by_asc(person::Column::EmployeeNo)
        .all(c)
        .await?)
}
