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

mod departments;
mod people;
mod posts;
mod supervisors;
mod windows;

pub use departments::*;
pub use people::*;
pub use posts::*;
pub use supervisors::*;
pub use windows::*;

pub use xiaoneng_core::scope::Scope;

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

// ---------------------------------------------------------------- names by id

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

/// The active windows and staff among these, by id, in one query each: what the public's codes
/// of a batch of ratings name.
pub async fn active_windows_and_people<C: ConnectionTrait>(
    c: &C,
    windows: &[i64],
    people: &[i64],
) -> Result<(std::collections::HashMap<i64, window::Model>, std::collections::HashMap<i64, person::Model>)> {
    let mut w = std::collections::HashMap::new();
    let mut p = std::collections::HashMap::new();
    if !windows.is_empty() {
        let q = window::Entity::find().filter(window::Column::Id.is_in(windows.iter().copied()));
        w = q.filter(window::Column::Status.eq(Status::Active)).all(c).await?.into_iter().map(|m| (m.id, m)).collect();
    }
    if !people.is_empty() {
        let q = person::Entity::find().filter(person::Column::Id.is_in(people.iter().copied()));
        p = q.filter(person::Column::Status.eq(Status::Active)).all(c).await?.into_iter().map(|m| (m.id, m)).collect();
    }
    Ok((w, p))
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

/// Departments' materialised paths by id, in one query: what data scope is checked against.
pub async fn department_paths<C: ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    names_by_id::<_, department::Entity>(c, department::Column::Id, department::Column::Path, ids).await
}
