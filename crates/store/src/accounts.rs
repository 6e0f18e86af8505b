//! Users, their role grants, and server-side sessions.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use xiaoneng_core::{auth::AccountStatus, rbac::Role};

use crate::{
    PageReq, Paged, Result, Store, StoreError, contains,
    entity::{session, user, user_role},
};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub person_id: Option<i64>,
    pub department_id: Option<i64>,
    pub must_change_password: bool,
}

pub async fn create_user<C: ConnectionTrait>(c: &C, u: NewUser, now: DateTime<Utc>) -> Result<user::Model> {
    if find_by_username(c, &u.username).await?.is_some() {
        return Err(StoreError::Conflict { field: "username".into() });
    }
    Ok(user::ActiveModel {
        username: Set(u.username),
        display_name: Set(u.display_name),
        password_hash: Set(u.password_hash),
        person_id: Set(u.person_id),
        department_id: Set(u.department_id),
        must_change_password: Set(u.must_change_password),
        password_changed_at: Set(now),
        failed_logins: Set(0),
        locked_until: Set(None),
        status: Set(AccountStatus::Active),
        last_login_at: Set(None),
        must_enrol_second_factor: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

pub async fn find_by_username<C: ConnectionTrait>(c: &C, username: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find().filter(user::Column::Username.eq(username)).one(c).await?)
}

/// Users' display names by id, in one query.
pub async fn display_names<C: ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    crate::org::names_by_id::<_, user::Entity>(c, user::Column::Id, user::Column::DisplayName, ids).await
}

pub async fn get_user<C: ConnectionTrait>(c: &C, id: i64) -> Result<user::Model> {
    user::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// The roles a user holds now (grants not revoked). Unknown codes in the table are ignored.
pub async fn roles_of<C: ConnectionTrait>(c: &C, user_id: i64) -> Result<Vec<Role>> {
    let rows = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user_id))
        .filter(user_role::Column::RevokedAt.is_null())
        .all(c)
        .await?;
    let mut roles: Vec<Role> = rows.iter().filter_map(|r| Role::parse(&r.role)).collect();
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// Makes the user's roles exactly `roles`: grants what is new, revokes what is gone (revoked
/// grants stay on record). Returns (granted, revoked).
pub async fn set_roles<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    roles: &[Role],
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(Vec<Role>, Vec<Role>)> {
    let current = roles_of(c, user_id).await?;
    let granted: Vec<Role> = roles.iter().copied().filter(|r| !current.contains(r)).collect();
    let revoked: Vec<Role> = current.iter().copied().filter(|r| !roles.contains(r)).collect();
    for r in &granted {
        user_role::ActiveModel {
            user_id: Set(user_id),
            role: Set(r.code().to_owned()),
            granted_at: Set(now),
            granted_by: Set(by),
            revoked_at: Set(None),
            revoked_by: Set(None),
            ..Default::default()
        }
        .insert(c)
        .await?;
    }
    if !revoked.is_empty() {
        user_role::Entity::update_many()
            .col_expr(user_role::Column::RevokedAt, Expr::value(now))
            .col_expr(user_role::Column::RevokedBy, Expr::value(by))
            .filter(user_role::Column::UserId.eq(user_id))
            .filter(user_role::Column::RevokedAt.is_null())
            .filter(user_role::Column::Role.is_in(revoked.iter().map(|r| r.code())))
            .exec(c)
            .await?;
    }
    Ok((granted, revoked))
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub q: Option<String>,
    pub status: Option<String>,
    pub department_id: Option<i64>,
}

pub async fn list_users(store: &Store, f: &UserFilter, page: PageReq) -> Result<Paged<user::Model>> {
    let mut cond = Condition::all();
    if let Some(q) = f.q.as_deref().filter(|s| !s.is_empty()) {
        cond = cond
            .add(Condition::any().add(contains(user::Column::Username, q)).add(contains(user::Column::DisplayName, q)));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(user::Column::Status.eq(s));
    }
    if let Some(d) = f.department_id {
        cond = cond.add(user::Column::DepartmentId.eq(d));
    }
    let q = user::Entity::find().filter(cond);
    let total = q.clone().count(store.db()).await?;
    let items = q.order_by_asc(user::Column::Id).offset(page.offset()).limit(page.page_size).all(store.db()).await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

pub async fn create_session<C: ConnectionTrait>(
    c: &C,
    token_hash: String,
    user_id: i64,
    ip: &str,
    user_agent: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    session::ActiveModel {
        id: Set(token_hash),
        user_id: Set(user_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        ended_at: Set(None),
        end_reason: Set(None),
        ip: Set(ip.chars().take(64).collect()),
        user_agent: Set(user_agent.chars().take(255).collect()),
    }
    .insert(c)
    .await?;
    Ok(())
}

/// Who an account is, as every request needs it: the account, its current roles, and its
/// department's path (for data scope) and name.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: user::Model,
    pub roles: Vec<Role>,
    pub department_path: Option<String>,
    pub department_name: Option<String>,
    /// For an external supervisor's account: their status and term of appointment.
    pub supervisor: Option<(xiaoneng_core::org::Status, (chrono::NaiveDate, chrono::NaiveDate))>,
    /// The account has a confirmed second factor (decision 0029).
    pub second_factor_active: bool,
}

/// The account with its roles and department, from one query (one row per current role).
fn identity_query() -> sea_orm::sea_query::SelectStatement {
    use crate::entity::{department, second_factor, supervisor};
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query};
    let mut q = Query::select();
    q.from(user::Entity);
    for col in <user::Column as sea_orm::Iterable>::iter() {
        q.expr_as(Expr::col((user::Entity, col)), Alias::new(format!("u_{}", sea_orm::IdenStatic::as_str(&col))));
    }
    q.expr_as(Expr::col((supervisor::Entity, supervisor::Column::Status)), Alias::new("sv_status"))
        .expr_as(Expr::col((supervisor::Entity, supervisor::Column::TermStart)), Alias::new("sv_start"))
        .expr_as(Expr::col((supervisor::Entity, supervisor::Column::TermEnd)), Alias::new("sv_end"))
        .join(
            JoinType::LeftJoin,
            supervisor::Entity,
            Expr::col((supervisor::Entity, supervisor::Column::Id)).equals((user::Entity, user::Column::SupervisorId)),
        );
    // At most one active factor per account (a unique partial index), so no extra rows.
    q.expr_as(Expr::col((second_factor::Entity, second_factor::Column::Id)), Alias::new("sf_id")).join(
        JoinType::LeftJoin,
        second_factor::Entity,
        Expr::col((second_factor::Entity, second_factor::Column::UserId)).equals((user::Entity, user::Column::Id)).and(
            Expr::col((second_factor::Entity, second_factor::Column::State))
                .eq(xiaoneng_core::second_factor::FactorState::Active),
        ),
    );
    q.expr_as(Expr::col((department::Entity, department::Column::Path)), Alias::new("d_path"))
        .expr_as(Expr::col((department::Entity, department::Column::Name)), Alias::new("d_name"))
        .expr_as(Expr::col((user_role::Entity, user_role::Column::Role)), Alias::new("r_role"))
        .join(
            JoinType::LeftJoin,
            department::Entity,
            Expr::col((department::Entity, department::Column::Id)).equals((user::Entity, user::Column::DepartmentId)),
        )
        .join(
            JoinType::LeftJoin,
            user_role::Entity,
            Expr::col((user_role::Entity, user_role::Column::UserId))
                .equals((user::Entity, user::Column::Id))
                .and(Expr::col((user_role::Entity, user_role::Column::RevokedAt)).is_null()),
        );
    q
}

fn identity_of(rows: &[sea_orm::QueryResult]) -> Result<Option<Identity>> {
    let Some(first) = rows.first() else { return Ok(None) };
    let user = <user::Model as sea_orm::FromQueryResult>::from_query_result(first, "u_")?;
    let mut roles: Vec<Role> = rows
        .iter()
        .filter_map(|r| r.try_get::<Option<String>>("", "r_role").ok().flatten())
        .filter_map(|code| Role::parse(&code))
        .collect();
    roles.sort();
    roles.dedup();
    Ok(Some(Identity {
        user,
        roles,
        department_path: first.try_get("", "d_path")?,
        department_name: first.try_get("", "d_name")?,
        supervisor: match (
            first.try_get::<Option<xiaoneng_core::org::Status>>("", "sv_status")?,
            first.try_get::<Option<chrono::NaiveDate>>("", "sv_start")?,
            first.try_get::<Option<chrono::NaiveDate>>("", "sv_end")?,
        ) {
            (Some(status), Some(start), Some(end)) => Some((status, (start, end))),
            _ => None,
        },
        second_factor_active: first.try_get::<Option<i64>>("", "sf_id")?.is_some(),
    }))
}

/// An account's identity, by id (for tools acting as a user, such as the demo).
pub async fn identity<C: ConnectionTrait>(c: &C, user_id: i64) -> Result<Identity> {
    use sea_orm::sea_query::ExprTrait;
    let mut q = identity_query();
    q.and_where(sea_orm::sea_query::Expr::col((user::Entity, user::Column::Id)).eq(user_id));
    identity_of(&c.query_all(&q).await?)?.ok_or(StoreError::NotFound)
}

/// A live (not ended) session and whose it is, in one query.
pub async fn load_session<C: ConnectionTrait>(c: &C, token_hash: &str) -> Result<Option<(session::Model, Identity)>> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType};
    let mut q = identity_query();
    for col in <session::Column as sea_orm::Iterable>::iter() {
        q.expr_as(Expr::col((session::Entity, col)), Alias::new(format!("s_{}", sea_orm::IdenStatic::as_str(&col))));
    }
    q.join(
        JoinType::InnerJoin,
        session::Entity,
        Expr::col((session::Entity, session::Column::UserId)).equals((user::Entity, user::Column::Id)),
    )
    .and_where(Expr::col((session::Entity, session::Column::Id)).eq(token_hash))
    .and_where(Expr::col((session::Entity, session::Column::EndedAt)).is_null());
    let rows = c.query_all(&q).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let s = <session::Model as sea_orm::FromQueryResult>::from_query_result(first, "s_")?;
    Ok(identity_of(&rows)?.map(|i| (s, i)))
}

pub async fn touch_session<C: ConnectionTrait>(c: &C, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::Id.eq(token_hash))
        .exec(c)
        .await?;
    Ok(())
}

pub async fn end_session<C: ConnectionTrait>(c: &C, token_hash: &str, reason: &str, now: DateTime<Utc>) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::EndedAt, Expr::value(now))
        .col_expr(session::Column::EndReason, Expr::value(reason))
        .filter(session::Column::Id.eq(token_hash))
        .filter(session::Column::EndedAt.is_null())
        .exec(c)
        .await?;
    Ok(())
}

/// Ends every live session of a user but `except` (password changed, account disabled).
pub async fn end_user_sessions<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    except: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut q = session::Entity::update_many()
        .col_expr(session::Column::EndedAt, Expr::value(now))
        .col_expr(session::Column::EndReason, Expr::value(reason))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::EndedAt.is_null());
    if let Some(keep) = except {
        q = q.filter(session::Column::Id.ne(keep));
    }
    let r = q.exec(c).await?;
    Ok(r.rows_affected)
}

/// Ends sessions idle since before `idle_before` or created before `created_before`.
pub async fn sweep_sessions<C: ConnectionTrait>(
    c: &C,
    idle_before: DateTime<Utc>,
    created_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let r = session::Entity::update_many()
        .col_expr(session::Column::EndedAt, Expr::value(now))
        .col_expr(session::Column::EndReason, Expr::value("expired"))
        .filter(session::Column::EndedAt.is_null())
        .filter(
            Condition::any()
                .add(session::Column::LastSeenAt.lt(idle_before))
                .add(session::Column::CreatedAt.lt(created_before)),
        )
        .exec(c)
        .await?;
    Ok(r.rows_affected)
}

/// Sets a new password hash. `must_change`: the user must choose their own at next login.
pub async fn set_password<C: ConnectionTrait>(
    c: &C,
    id: i64,
    password_hash: String,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<user::Model> {
    let mut am: user::ActiveModel = get_user(c, id).await?.into();
    am.password_hash = Set(password_hash);
    am.must_change_password = Set(must_change);
    am.password_changed_at = Set(now);
    am.failed_logins = Set(0);
    am.locked_until = Set(None);
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

/// Whose failures a login counts: an account, or a user name that matches none (known only by
/// its keyed hash), so that an unknown name answers exactly as a real one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginSubject<'a> {
    User(i64),
    Unknown(&'a str),
}

/// What counting one more failed login found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// The failures in a row, this one included.
    Failures(u32),
    /// The subject is locked (until then): nothing was counted.
    Locked(DateTime<Utc>),
}

#[derive(Clone, Copy, sea_orm::DeriveIden)]
enum UnknownLogins {
    Table,
    NameKey,
    FailedLogins,
    LockedUntil,
}

#[derive(Clone, Copy, sea_orm::DeriveIden)]
enum LoginFailures {
    Table,
    Bucket,
    WindowStart,
    Failures,
}

/// The bucket that counts every failed login, whatever its address.
pub const ALL_ADDRESSES: &str = "*";

/// The bucket of one address.
pub fn address_bucket(ip: &str) -> String {
    format!("ip:{}", ip.chars().take(64).collect::<String>())
}

fn built(e: sea_orm::sea_query::error::Error) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(e.to_string()))
}

/// Counts a failed login in one statement, unless the subject is locked now: racing requests
/// each add one to what the others committed, and none can count past a lock another set.
pub async fn count_login_failure<C: ConnectionTrait>(
    c: &C,
    subject: LoginSubject<'_>,
    now: DateTime<Utc>,
) -> Result<Counted> {
    use sea_orm::sea_query::{ExprTrait, OnConflict, Query};
    let row = match subject {
        LoginSubject::User(id) => {
            let q = Query::update()
                .table(user::Entity)
                .value(user::Column::FailedLogins, Expr::col(user::Column::FailedLogins).add(1))
                .and_where(Expr::col(user::Column::Id).eq(id))
                .cond_where(
                    Condition::any()
                        .add(Expr::col(user::Column::LockedUntil).is_null())
                        .add(Expr::col(user::Column::LockedUntil).lte(now)),
                )
                .returning_col(user::Column::FailedLogins)
                .to_owned();
            c.query_one(&q).await?
        }
        LoginSubject::Unknown(key) => {
            let t = UnknownLogins::Table;
            let q = Query::insert()
                .into_table(t)
                .columns([UnknownLogins::NameKey, UnknownLogins::FailedLogins])
                .values([key.into(), 1.into()])
                .map_err(built)?
                .on_conflict(
                    OnConflict::column(UnknownLogins::NameKey)
                        .value(UnknownLogins::FailedLogins, Expr::col((t, UnknownLogins::FailedLogins)).add(1))
                        .action_and_where(
                            Expr::col((t, UnknownLogins::LockedUntil)).is_null().or(Expr::col((
                                t,
                                UnknownLogins::LockedUntil,
                            ))
                            .lte(now)),
                        )
                        .to_owned(),
                )
                .returning_col(UnknownLogins::FailedLogins)
                .to_owned();
            c.query_one(&q).await?
        }
    };
    match row {
        Some(r) => Ok(Counted::Failures(u32::try_from(r.try_get::<i32>("", "failed_logins")?).unwrap_or(0))),
        None => match login_lock(c, subject, now).await? {
            Some(until) => Ok(Counted::Locked(until)),
            None => Err(StoreError::NotFound),
        },
    }
}

/// Locks the subject until `until` and starts its count afresh. Only ever sets a lock: a lock is
/// cleared by time, a successful login after it, or an administrator.
pub async fn lock_login<C: ConnectionTrait>(c: &C, subject: LoginSubject<'_>, until: DateTime<Utc>) -> Result<()> {
    use sea_orm::sea_query::{ExprTrait, Query};
    match subject {
        LoginSubject::User(id) => {
            user::Entity::update_many()
                .col_expr(user::Column::FailedLogins, Expr::value(0))
                .col_expr(user::Column::LockedUntil, Expr::value(until))
                .filter(user::Column::Id.eq(id))
                .exec(c)
                .await?;
        }
        LoginSubject::Unknown(key) => {
            let q = Query::update()
                .table(UnknownLogins::Table)
                .value(UnknownLogins::FailedLogins, 0)
                .value(UnknownLogins::LockedUntil, until)
                .and_where(Expr::col(UnknownLogins::NameKey).eq(key))
                .to_owned();
            c.execute(&q).await?;
        }
    }
    Ok(())
}

/// The subject's lock, if it is locked at `now`.
pub async fn login_lock<C: ConnectionTrait>(
    c: &C,
    subject: LoginSubject<'_>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    use sea_orm::sea_query::{ExprTrait, Query};
    let until = match subject {
        LoginSubject::User(id) => get_user(c, id).await?.locked_until,
        LoginSubject::Unknown(key) => {
            let q = Query::select()
                .column(UnknownLogins::LockedUntil)
                .from(UnknownLogins::Table)
                .and_where(Expr::col(UnknownLogins::NameKey).eq(key))
                .to_owned();
            match c.query_one(&q).await? {
                Some(r) => r.try_get::<Option<DateTime<Utc>>>("", "locked_until")?,
                None => None,
            }
        }
    };
    Ok(until.filter(|t| *t > now))
}

/// After the right password: clears the count and records the login, unless the account is
/// locked now (a lock set by a racing failure wins). `false` when locked.
pub async fn record_login_success<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let r = user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(user::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(user::Column::LastLoginAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .filter(Condition::any().add(user::Column::LockedUntil.is_null()).add(user::Column::LockedUntil.lte(now)))
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Adds one failed login to each bucket's count for the window starting at `window_start`.
pub async fn count_window_failure<C: ConnectionTrait>(
    c: &C,
    buckets: &[&str],
    window_start: DateTime<Utc>,
) -> Result<()> {
    use sea_orm::sea_query::{ExprTrait, OnConflict, Query};
    let t = LoginFailures::Table;
    for b in buckets {
        let q = Query::insert()
            .into_table(t)
            .columns([LoginFailures::Bucket, LoginFailures::WindowStart, LoginFailures::Failures])
            .values([(*b).into(), window_start.into(), 1.into()])
            .map_err(built)?
            .on_conflict(
                OnConflict::columns([LoginFailures::Bucket, LoginFailures::WindowStart])
                    .value(LoginFailures::Failures, Expr::col((t, LoginFailures::Failures)).add(1))
                    .to_owned(),
            )
            .to_owned();
        c.execute(&q).await?;
    }
    Ok(())
}

/// The failed logins counted in the window starting at `window_start`: from `bucket`, and from
/// everywhere. One query on the primary key.
pub async fn window_failures<C: ConnectionTrait>(
    c: &C,
    bucket: &str,
    window_start: DateTime<Utc>,
) -> Result<(u64, u64)> {
    use sea_orm::sea_query::{ExprTrait, Query};
    let q = Query::select()
        .columns([LoginFailures::Bucket, LoginFailures::Failures])
        .from(LoginFailures::Table)
        .and_where(Expr::col(LoginFailures::WindowStart).eq(window_start))
        .and_where(Expr::col(LoginFailures::Bucket).is_in([bucket, ALL_ADDRESSES]))
        .to_owned();
    let (mut mine, mut all) = (0, 0);
    for r in c.query_all(&q).await? {
        let n = u64::try_from(r.try_get::<i32>("", "failures")?).unwrap_or(0);
        if r.try_get::<String>("", "bucket")? == ALL_ADDRESSES {
            all = n;
        } else {
            mine = n;
        }
    }
    Ok((mine, all))
}

pub async fn unlock<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<user::Model> {
    let mut am: user::ActiveModel = get_user(c, id).await?.into();
    am.failed_logins = Set(0);
    am.locked_until = Set(None);
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

/// Enables or disables an account; disabling ends the account's sessions.
pub async fn set_status<C: ConnectionTrait>(
    c: &C,
    id: i64,
    status: AccountStatus,
    now: DateTime<Utc>,
) -> Result<user::Model> {
    let mut am: user::ActiveModel = get_user(c, id).await?.into();
    am.status = Set(status);
    am.updated_at = Set(now);
    let u = am.update(c).await?;
    if status == AccountStatus::Disabled {
        end_user_sessions(c, id, None, "disabled", now).await?;
    }
    Ok(u)
}

pub async fn update_profile<C: ConnectionTrait>(
    c: &C,
    id: i64,
    display_name: String,
    department_id: Option<i64>,
    person_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<user::Model> {
    let mut am: user::ActiveModel = get_user(c, id).await?.into();
    am.display_name = Set(display_name);
    am.department_id = Set(department_id);
    am.person_id = Set(person_id);
    am.updated_at = Set(now);
    Ok(am.update(c).await?)
}

/// Active accounts holding any of these roles now, by display name.
pub async fn active_users_with_roles<C: ConnectionTrait>(c: &C, roles: &[Role]) -> Result<Vec<user::Model>> {
    use sea_orm::sea_query::Query;
    let codes: Vec<&str> = roles.iter().map(|r| r.code()).collect();
    Ok(user::Entity::find()
        .filter(user::Column::Status.eq(AccountStatus::Active))
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
        .order_by_asc(user::Column::DisplayName)
        .order_by_asc(user::Column::Id)
        .all(c)
        .await?)
}

/// Links an account to an external supervisor's record (or unlinks it).
pub async fn set_supervisor<C: ConnectionTrait>(c: &C, id: i64, supervisor_id: Option<i64>) -> Result<user::Model> {
    let mut am: user::ActiveModel = get_user(c, id).await?.into();
    am.supervisor_id = Set(supervisor_id);
    Ok(am.update(c).await?)
}

/// The active accounts linked to a person (normally one).
pub async fn users_of_person<C: ConnectionTrait>(c: &C, person_id: i64) -> Result<Vec<i64>> {
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::PersonId.eq(person_id))
        .filter(user::Column::Status.eq(AccountStatus::Active))
        .into_tuple()
        .all(c)
        .await?)
}

/// The identity epoch: it moves whenever a session ends or an account, its roles or its
/// department change (triggers of migration 000008, so every writer moves it).
pub async fn identity_epoch<C: ConnectionTrait>(c: &C) -> Result<i64> {
    let row = c
        .query_one_raw(sea_orm::Statement::from_string(
            c.get_database_backend(),
            "SELECT value FROM identity_epoch WHERE id = 1",
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get("", "value")?)
}
