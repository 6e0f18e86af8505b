//! Each user's notifications, and whom to tell about a department's orders.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, OnConflict, Query},
};
use xiaoneng_core::{auth::AccountStatus, rbac::Role};

use crate::{
    Result,
    entity::{notification, user, user_role},
    org::Scope,
    page::{PageReq, Paged},
};

#[derive(Debug, Clone)]
pub struct Note {
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub link: String,
    pub due: Option<NaiveDate>,
}

/// Puts a notification in each user's inbox. With `dedupe`, each user gets it once ever (the key
/// is suffixed with the user's id).
pub async fn notify<C: ConnectionTrait>(
    c: &C,
    users: &[i64],
    n: &Note,
    dedupe: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64> {
    if users.is_empty() {
        return Ok(0);
    }
    let rows = users.iter().map(|u| notification::ActiveModel {
        user_id: Set(*u),
        kind: Set(n.kind.into()),
        title: Set(n.title.clone()),
        body: Set(n.body.clone()),
        link: Set(n.link.clone()),
        due: Set(n.due),
        dedupe_key: Set(dedupe.map(|k| format!("{k}#{u}"))),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    });
    Ok(notification::Entity::insert_many(rows)
        .on_conflict(OnConflict::column(notification::Column::DedupeKey).do_nothing().to_owned())
        .exec_without_returning(c)
        .await?)
}

pub async fn list_notifications<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    unread_only: bool,
    page: PageReq,
) -> Result<(Paged<notification::Model>, u64)> {
    let mine = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    let unread = mine.clone().filter(notification::Column::ReadAt.is_null()).count(c).await?;
    let q = if unread_only { mine.filter(notification::Column::ReadAt.is_null()) } else { mine };
    let total = q.clone().count(c).await?;
    let items = q
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .offset(page.offset())
        .limit(page.page_size)
        .all(c)
        .await?;
    Ok((Paged { items, total, page: page.page, page_size: page.page_size }, unread))
}

/// Marks the user's notifications read: these ids, or all with `None`.
pub async fn mark_read<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    ids: Option<Vec<i64>>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut q = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        q = q.filter(notification::Column::Id.is_in(ids));
    }
    Ok(q.exec(c).await?.rows_affected)
}

/// Active accounts holding one of these roles in a department or above it (the head of a bureau
/// answers for its divisions): whom to tell about the department's orders.
pub async fn department_users<C: ConnectionTrait>(c: &C, department_id: i64, roles: &[Role]) -> Result<Vec<i64>> {
    let codes: Vec<&str> = roles.iter().map(|r| r.code()).collect();
    let path = crate::org::get_department(c, &Scope::All, department_id).await?.path;
    let chain: Vec<i64> = path.split('/').filter_map(|p| p.parse().ok()).collect();
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Status.eq(AccountStatus::Active))
        .filter(user::Column::DepartmentId.is_in(chain))
        .filter(
            user::Column::Id.in_subquery(
                Query::select()
                    .column(user_role::Column::UserId)
                    .from(user_role::Entity)
                    .and_where(user_role::Column::Role.is_in(codes))
                    .and_where(user_role::Column::RevokedAt.is_null())
                    .to_owned(),
            ),
        )
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(c)
        .await?)
}

/// Active accounts holding any of these roles anywhere.
pub async fn users_with_roles<C: ConnectionTrait>(c: &C, roles: &[Role]) -> Result<Vec<i64>> {
    Ok(crate::accounts::active_users_with_roles(c, roles).await?.into_iter().map(|u| u.id).collect())
}
