//! The organisation: departments (a tree), windows, posts, people and external supervisors.
//!
//! Every read takes a [`Scope`] and applies it inside the query, so that a record outside the
//! caller's reach is absent from lists, counts and exports alike, and a direct read of it finds
//! nothing (which the API answers with 404).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set, Statement,
    sea_query::{Expr, ExprTrait, LikeExpr, Query},
};
use xiaoneng_core::{ValidationError, org::Status};

use crate::{
    PageReq, Paged, Result, StoreError, contains,
    entity::{department, person, post, supervisor, window},
    like_escape,
};

/// How far a read reaches, resolved from the caller's data scope and department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// A department and everything below it: its materialised path, such as `/1/4/`.
    Tree(String),
    /// One department only.
    Department(i64),
    /// One person only (`None`: the account is linked to no person, so nothing).
    Person(Option<i64>),
}

fn subtree_like(path: &str) -> LikeExpr {
    LikeExpr::new(format!("{}%", like_escape(path))).escape('\\')
}

/// Condition on the departments table itself.
fn dept_scope(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Tree(path) => Condition::all().add(department::Column::Path.like(subtree_like(path))),
        Scope::Department(id) => Condition::all().add(department::Column::Id.eq(*id)),
        Scope::Person(_) => Condition::all().add(Expr::val(1).eq(0)),
    }
}

/// Condition on a `department_id` column of another table.
pub(crate) fn in_dept_scope<C: ColumnTrait>(col: C, scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Tree(path) => Condition::all().add(
            col.in_subquery(
                Query::select()
                    .column(department::Column::Id)
                    .from(department::Entity)
                    .and_where(department::Column::Path.like(subtree_like(path)))
                    .to_owned(),
            ),
        ),
        Scope::Department(id) => Condition::all().add(col.eq(*id)),
        Scope::Person(_) => Condition::all().add(Expr::val(1).eq(0)),
    }
}

/// `department_id` is `d` — or, unless `exact`, `d` or any department below it.
pub(crate) async fn in_department<C: ConnectionTrait, Col: ColumnTrait>(
    c: &C,
    col: Col,
    d: i64,
    exact: bool,
) -> Result<Condition> {
    if exact {
        return Ok(Condition::all().add(col.eq(d)));
    }
    // A department outside the caller's scope matches nothing more than the scope allows: the
    // scope condition is applied beside this one.
    Ok(match department::Entity::find_by_id(d).one(c).await? {
        Some(dep) => in_dept_scope(col, &Scope::Tree(dep.path)),
        None => Condition::all().add(Expr::val(1).eq(0)),
    })
}

fn people_scope(scope: &Scope) -> Condition {
    match scope {
        Scope::Person(Some(id)) => Condition::all().add(person::Column::Id.eq(*id)),
        other => in_dept_scope(person::Column::DepartmentId, other),
    }
}

async fn paginate<E, C>(c: &C, q: Select<E>, page: PageReq) -> Result<Paged<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total = q.clone().count(c).await?;
    let items = q.offset(page.offset()).limit(page.page_size).all(c).await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

fn invalid(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::Invalid(ValidationError::new(field, code, zh, en))
}

/// A sort key from the API (`name`, `-name`) mapped onto a whitelisted column.
pub fn order<E: EntityTrait>(
    q: Select<E>,
    sort: Option<&str>,
    columns: &[(&str, E::Column)],
    default: E::Column,
) -> Select<E> {
    let (desc, key) = match sort {
        Some(s) if s.starts_with('-') => (true, &s[1..]),
        Some(s) => (false, s),
        None => (false, ""),
    };
    let col = columns.iter().find(|(k, _)| *k == key).map(|(_, c)| *c).unwrap_or(default);
    if desc { q.order_by_desc(col) } else { q.order_by_asc(col) }
}

// ---------------------------------------------------------------- departments

#[derive(Debug, Clone)]
pub struct DepartmentInput {
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
    pub category: String,
    pub is_focus: bool,
    pub sort_order: i32,
}

#[derive(Debug, Default, Clone)]
pub struct DepartmentFilter {
    pub q: Option<String>,
    pub parent_id: Option<i64>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub is_focus: Option<bool>,
    pub sort: Option<String>,
}

pub const DEPARTMENT_SORTS: &[(&str, department::Column)] = &[
    ("code", department::Column::Code),
    ("name", department::Column::Name),
    ("path", department::Column::Path),
    ("sort_order", department::Column::SortOrder),
    ("created_at", department::Column::CreatedAt),
];

pub async fn list_departments<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &DepartmentFilter,
    page: PageReq,
) -> Result<Paged<department::Model>> {
    let mut cond = dept_scope(scope);
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(
            Condition::any().add(contains(department::Column::Name, q)).add(contains(department::Column::Code, q)),
        );
    }
    if let Some(p) = f.parent_id {
        cond = cond.add(department::Column::ParentId.eq(p));
    }
    if let Some(cat) = f.category.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(department::Column::Category.eq(cat));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(department::Column::Status.eq(s));
    }
    if let Some(focus) = f.is_focus {
        cond = cond.add(department::Column::IsFocus.eq(focus));
    }
    let q =
        order(department::Entity::find().filter(cond), f.sort.as_deref(), DEPARTMENT_SORTS, department::Column::Path);
    paginate(c, q.order_by_asc(department::Column::Id), page).await
}

/// Every department in scope, in tree order, for the tree view and name lookups.
pub async fn department_tree<C: ConnectionTrait>(c: &C, scope: &Scope) -> Result<Vec<department::Model>> {
    Ok(department::Entity::find()
        .filter(dept_scope(scope))
        .order_by_asc(department::Column::Depth)
        .order_by_asc(department::Column::SortOrder)
        .order_by_asc(department::Column::Id)
        .all(c)
        .await?)
}

pub async fn get_department<C: ConnectionTrait>(c: &C, scope: &Scope, id: i64) -> Result<department::Model> {
    department::Entity::find_by_id(id).filter(dept_scope(scope)).one(c).await?.ok_or(StoreError::NotFound)
}

pub async fn department_by_code<C: ConnectionTrait>(c: &C, code: &str) -> Result<Option<department::Model>> {
    Ok(department::Entity::find().filter(department::Column::Code.eq(code)).one(c).await?)
}

async fn active_parent<C: ConnectionTrait>(c: &C, parent_id: i64) -> Result<department::Model> {
    let p = department::Entity::find_by_id(parent_id).one(c).await?.ok_or_else(|| {
        invalid("parent_id", "parent_not_found", "上级部门不存在", "The parent department does not exist")
    })?;
    if p.status != Status::Active.code() {
        return Err(invalid("parent_id", "parent_retired", "上级部门已停用", "The parent department is retired"));
    }
    Ok(p)
}

pub async fn create_department<C: ConnectionTrait>(
    c: &C,
    d: DepartmentInput,
    now: DateTime<Utc>,
) -> Result<department::Model> {
    if department_by_code(c, &d.code).await?.is_some() {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let (parent_path, depth) = match d.parent_id {
        Some(pid) => {
            let p = active_parent(c, pid).await?;
            (p.path, p.depth + 1)
        }
        None => ("/".to_owned(), 0),
    };
    let row = department::ActiveModel {
        code: Set(d.code),
        name: Set(d.name),
        parent_id: Set(d.parent_id),
        path: Set(parent_path.clone()),
        depth: Set(depth),
        category: Set(d.category),
        is_focus: Set(d.is_focus),
        sort_order: Set(d.sort_order),
        status: Set(Status::Active.code().into()),
        created_at: Set(now),
        updated_at: Set(now),
        retired_at: Set(None),
        ..Default::default()
    }
    .insert(c)
    .await?;
    let mut am: department::ActiveModel = row.clone().into();
    am.path = Set(format!("{parent_path}{}/", row.id));
    Ok(am.update(c).await?)
}

/// Edits a department; a new `parent_id` moves it, with its whole subtree, under that parent.
pub async fn update_department<C: ConnectionTrait>(
    c: &C,
    id: i64,
    d: DepartmentInput,
    now: DateTime<Utc>,
) -> Result<(department::Model, department::Model)> {
    let before = department::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if d.code != before.code && department_by_code(c, &d.code).await?.is_some() {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let mut am: department::ActiveModel = before.clone().into();
    if d.parent_id != before.parent_id {
        let (new_parent_path, new_depth) = match d.parent_id {
            Some(pid) => {
                let p = active_parent(c, pid).await?;
                if p.path.starts_with(&before.path) {
                    return Err(invalid(
                        "parent_id",
                        "move_into_own_subtree",
                        "不能把部门移到它自己或它的下级部门之下",
                        "A department cannot move under itself or one of its own sub-departments",
                    ));
                }
                (p.path, p.depth + 1)
            }
            None => ("/".to_owned(), 0),
        };
        let new_path = format!("{new_parent_path}{id}/");
        let delta = new_depth - before.depth;
        let backend = c.get_database_backend();
        let (p1, p2, p3, p4) =
            if backend == DbBackend::Postgres { ("$1", "$2", "$3", "$4") } else { ("?", "?", "?", "?") };
        let sql = format!(
            "UPDATE departments SET path = {p1} || substr(path, {p2}), depth = depth + {p3} WHERE path LIKE {p4} ESCAPE '\\'"
        );
        let old_len = i32::try_from(before.path.chars().count()).unwrap_or(i32::MAX);
        c.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                new_path.clone().into(),
                (old_len + 1).into(),
                delta.into(),
                format!("{}%", like_escape(&before.path)).into(),
            ],
        ))
        .await?;
        am.path = Set(new_path);
        am.depth = Set(new_depth);
        am.parent_id = Set(d.parent_id);
    }
    am.code = Set(d.code);
    am.name = Set(d.name);
    am.category = Set(d.category);
    am.is_focus = Set(d.is_focus);
    am.sort_order = Set(d.sort_order);
    am.updated_at = Set(now);
    let after = am.update(c).await?;
    Ok((before, after))
}

/// Retires a department. Refused while it still has active sub-departments, people, windows or
/// posts: those move or retire first, so nothing is left pointing at a retired department.
pub async fn retire_department<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<department::Model> {
    let d = department::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if d.status == Status::Retired.code() {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let active = Status::Active.code();
    let children = department::Entity::find()
        .filter(department::Column::ParentId.eq(id))
        .filter(department::Column::Status.eq(active))
        .count(c)
        .await?;
    let people = person::Entity::find()
        .filter(person::Column::DepartmentId.eq(id))
        .filter(person::Column::Status.eq(active))
        .count(c)
        .await?;
    let windows = window::Entity::find()
        .filter(window::Column::DepartmentId.eq(id))
        .filter(window::Column::Status.eq(active))
        .count(c)
        .await?;
    let posts = post::Entity::find()
        .filter(post::Column::DepartmentId.eq(id))
        .filter(post::Column::Status.eq(active))
        .count(c)
        .await?;
    if children + people + windows + posts > 0 {
        return Err(StoreError::Invalid(ValidationError::new(
            "status",
            "department_in_use",
            format!(
                "该部门仍有 {children} 个在用下级部门、{people} 名在职人员、{windows} 个窗口、{posts} 个岗位，请先调整"
            ),
            format!(
                "The department still has {children} active sub-departments, {people} people, {windows} windows and {posts} posts; move or retire them first"
            ),
        )));
    }
    let mut am: department::ActiveModel = d.into();
    am.status = Set(Status::Retired.code().into());
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

/// Counts of active departments by category, within scope (for home pages).
pub async fn department_counts<C: ConnectionTrait>(c: &C, scope: &Scope) -> Result<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = department::Entity::find()
        .select_only()
        .column(department::Column::Category)
        .column_as(department::Column::Id.count(), "n")
        .filter(dept_scope(scope))
        .filter(department::Column::Status.eq(Status::Active.code()))
        .group_by(department::Column::Category)
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows)
}

async fn active_department<C: ConnectionTrait>(c: &C, id: i64) -> Result<department::Model> {
    let d = department::Entity::find_by_id(id).one(c).await?.ok_or_else(|| {
        invalid("department_id", "department_not_found", "部门不存在", "The department does not exist")
    })?;
    if d.status != Status::Active.code() {
        return Err(invalid("department_id", "department_retired", "部门已停用", "The department is retired"));
    }
    Ok(d)
}

// ---------------------------------------------------------------- windows

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
            status: Set(Status::Active.code().into()),
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
    if w.status == Status::Retired.code() {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let staff = person::Entity::find()
        .filter(person::Column::WindowId.eq(id))
        .filter(person::Column::Status.eq(Status::Active.code()))
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
    am.status = Set(Status::Retired.code().into());
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

// ---------------------------------------------------------------- posts

#[derive(Debug, Clone)]
pub struct PostInput {
    pub code: String,
    pub name: String,
    pub department_id: i64,
    pub post_type: String,
    pub duties: String,
}

pub const POST_SORTS: &[(&str, post::Column)] =
    &[("code", post::Column::Code), ("name", post::Column::Name), ("post_type", post::Column::PostType)];

pub async fn list_posts<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &UnitFilter,
    page: PageReq,
) -> Result<Paged<post::Model>> {
    let mut cond = in_dept_scope(post::Column::DepartmentId, scope);
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(
            Condition::any()
                .add(contains(post::Column::Name, q))
                .add(contains(post::Column::Code, q))
                .add(contains(post::Column::Duties, q)),
        );
    }
    if let Some(d) = f.department_id {
        cond = cond.add(in_department(c, post::Column::DepartmentId, d, f.exact_department).await?);
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(post::Column::Status.eq(s));
    }
    if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(post::Column::PostType.eq(k));
    }
    let q = order(post::Entity::find().filter(cond), f.sort.as_deref(), POST_SORTS, post::Column::Code);
    paginate(c, q.order_by_asc(post::Column::Id), page).await
}

pub async fn get_post<C: ConnectionTrait>(c: &C, scope: &Scope, id: i64) -> Result<post::Model> {
    post::Entity::find_by_id(id)
        .filter(in_dept_scope(post::Column::DepartmentId, scope))
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn save_post<C: ConnectionTrait>(
    c: &C,
    id: Option<i64>,
    p: PostInput,
    now: DateTime<Utc>,
) -> Result<(Option<post::Model>, post::Model)> {
    active_department(c, p.department_id).await?;
    let taken = post::Entity::find().filter(post::Column::Code.eq(&p.code)).one(c).await?;
    if taken.is_some_and(|t| Some(t.id) != id) {
        return Err(StoreError::Conflict { field: "code".into() });
    }
    let before = match id {
        Some(id) => Some(post::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?),
        None => None,
    };
    let mut am = match &before {
        Some(b) => b.clone().into(),
        None => post::ActiveModel {
            status: Set(Status::Active.code().into()),
            created_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        },
    };
    am.code = Set(p.code);
    am.name = Set(p.name);
    am.department_id = Set(p.department_id);
    am.post_type = Set(p.post_type);
    am.duties = Set(p.duties);
    am.updated_at = Set(now);
    let after = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    Ok((before, after))
}

pub async fn retire_post<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<post::Model> {
    let p = post::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if p.status == Status::Retired.code() {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let holders = person::Entity::find()
        .filter(person::Column::PostId.eq(id))
        .filter(person::Column::Status.eq(Status::Active.code()))
        .count(c)
        .await?;
    if holders > 0 {
        return Err(StoreError::Invalid(ValidationError::new(
            "status",
            "post_in_use",
            format!("该岗位仍有 {holders} 名在职人员"),
            format!("{holders} active people still hold this post"),
        )));
    }
    let mut am: post::ActiveModel = p.into();
    am.status = Set(Status::Retired.code().into());
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

// ---------------------------------------------------------------- people

#[derive(Debug, Clone)]
pub struct PersonInput {
    pub employee_no: String,
    pub name: String,
    pub gender: String,
    pub department_id: i64,
    pub post_id: Option<i64>,
    pub window_id: Option<i64>,
    pub mobile: Option<String>,
    pub is_head: bool,
    pub is_leader_in_charge: bool,
}

#[derive(Debug, Default, Clone)]
pub struct PeopleFilter {
    pub q: Option<String>,
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
        cond = cond
            .add(Condition::any().add(contains(person::Column::Name, q)).add(contains(person::Column::EmployeeNo, q)));
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
        .filter(person::Column::Status.eq(Status::Active.code()))
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
        if post.department_id != p.department_id || post.status != Status::Active.code() {
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
        if w.department_id != p.department_id || w.status != Status::Active.code() {
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
            status: Set(Status::Active.code().into()),
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
    am.mobile = Set(p.mobile);
    am.is_head = Set(p.is_head);
    am.is_leader_in_charge = Set(p.is_leader_in_charge);
    am.updated_at = Set(now);
    let after = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    Ok((before, after))
}

/// Inserts many people at once (an import). The caller runs it in one transaction.
pub async fn insert_people<C: ConnectionTrait>(c: &C, people: Vec<PersonInput>, now: DateTime<Utc>) -> Result<u64> {
    let mut n = 0u64;
    for chunk in people.chunks(500) {
        let rows = chunk.iter().cloned().map(|p| person::ActiveModel {
            employee_no: Set(p.employee_no),
            name: Set(p.name),
            gender: Set(p.gender),
            department_id: Set(p.department_id),
            post_id: Set(p.post_id),
            window_id: Set(p.window_id),
            mobile: Set(p.mobile),
            is_head: Set(p.is_head),
            is_leader_in_charge: Set(p.is_leader_in_charge),
            status: Set(Status::Active.code().into()),
            created_at: Set(now),
            updated_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        });
        person::Entity::insert_many(rows).exec_without_returning(c).await?;
        n += chunk.len() as u64;
    }
    Ok(n)
}

pub async fn retire_person<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<person::Model> {
    let p = person::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if p.status == Status::Retired.code() {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let mut am: person::ActiveModel = p.into();
    am.status = Set(Status::Retired.code().into());
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

// ---------------------------------------------------------------- supervisors

#[derive(Debug, Clone)]
pub struct SupervisorInput {
    pub code: String,
    pub name: String,
    pub kind: String,
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
            .add(supervisor::Column::Status.eq(Status::Active.code()));
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
            status: Set(Status::Active.code().into()),
            created_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        },
    };
    am.code = Set(s.code);
    am.name = Set(s.name);
    am.kind = Set(s.kind);
    am.organisation = Set(s.organisation);
    am.mobile = Set(s.mobile);
    am.term_start = Set(s.term_start);
    am.term_end = Set(s.term_end);
    am.updated_at = Set(now);
    let after = if before.is_some() { am.update(c).await? } else { am.insert(c).await? };
    Ok((before, after))
}

pub async fn retire_supervisor<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<supervisor::Model> {
    let s = supervisor::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)?;
    if s.status == Status::Retired.code() {
        return Err(invalid("status", "already_retired", "已经停用", "Already retired"));
    }
    let mut am: supervisor::ActiveModel = s.into();
    am.status = Set(Status::Retired.code().into());
    am.retired_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

/// One text column by id, for a set of ids: names beside ids in lists, in one query rather than
/// one per row.
pub async fn names_by_id<C: ConnectionTrait, E: EntityTrait>(
    c: &C,
    id: E::Column,
    name: E::Column,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, String)> =
        E::find().select_only().column(id).column(name).filter(id.is_in(ids)).into_tuple().all(c).await?;
    Ok(rows.into_iter().collect())
}

/// Department names by id.
pub async fn department_names<C: ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    names_by_id::<_, department::Entity>(c, department::Column::Id, department::Column::Name, ids).await
}

pub async fn post_names<C: ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, (String, String)>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, String, String)> = post::Entity::find()
        .select_only()
        .column(post::Column::Id)
        .column(post::Column::Name)
        .column(post::Column::PostType)
        .filter(post::Column::Id.is_in(ids))
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows.into_iter().map(|(id, n, t)| (id, (n, t))).collect())
}

pub async fn window_names<C: ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    names_by_id::<_, window::Entity>(c, window::Column::Id, window::Column::Name, ids).await
}

/// Every post and window by code, for resolving the codes in an imported file.
pub async fn posts_and_windows<C: ConnectionTrait>(
    c: &C,
) -> Result<(std::collections::HashMap<String, post::Model>, std::collections::HashMap<String, window::Model>)> {
    let posts = post::Entity::find().all(c).await?.into_iter().map(|p| (p.code.clone(), p)).collect();
    let windows = window::Entity::find().all(c).await?.into_iter().map(|w| (w.code.clone(), w)).collect();
    Ok((posts, windows))
}

/// The people with these employee numbers, by number.
pub async fn people_by_employee_no<C: ConnectionTrait>(
    c: &C,
    nos: &[String],
) -> Result<std::collections::HashMap<String, person::Model>> {
    let mut out = std::collections::HashMap::new();
    for chunk in nos.chunks(500) {
        for p in person::Entity::find().filter(person::Column::EmployeeNo.is_in(chunk.iter().cloned())).all(c).await? {
            out.insert(p.employee_no.clone(), p);
        }
    }
    Ok(out)
}

pub async fn person_names<C: ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    names_by_id::<_, person::Entity>(c, person::Column::Id, person::Column::Name, ids).await
}
