//! Idempotency keys (decision 0027): the first request with a key reserves it; its answer, once
//! it succeeded, is kept and given again to the same request sent again.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::Result;

/// A reservation left pending this long (its request died with the instance) may be taken over.
pub const PENDING_FOR: Duration = Duration::minutes(10);
/// Keys are remembered this long; an older one is as good as new.
pub const KEPT_FOR: Duration = Duration::hours(24);

/// A kept answer.
#[derive(Debug, Clone)]
pub struct Kept {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// What a request with a key meets.
#[derive(Debug, Clone)]
pub enum Claim {
    /// The key is this request's now: go on, then [`complete`] or [`release`].
    Mine,
    /// The same request was answered before: give its answer again.
    Answered(Kept),
    /// The same request is being answered right now.
    InProgress,
    /// The key was used for another request.
    OtherRequest,
}

/// A key's row: reserved while its first request runs, then holding that request's answer (the
/// table's own lock, checked as `pending` / `done` by the migration).
#[derive(Debug, PartialEq, Eq)]
enum Reservation {
    Pending,
    Done,
}

impl Reservation {
    /// What the `state` column holds; anything but `pending` has its answer.
    fn of(state: &str) -> Self {
        match state {
            "pending" => Reservation::Pending,
            _ => Reservation::Done,
        }
    }
}

/// A statement written with PostgreSQL's `$n` placeholders, as the database at hand wants it.
fn stmt(c: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = c.get_database_backend();
    if backend == DbBackend::Postgres {
        return Statement::from_sql_and_values(backend, sql, values);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(ch);
        }
    }
    Statement::from_sql_and_values(backend, out, values)
}

/// Reserves `key` for `principal`'s request (`request_hash`: its method, path and body), or says
/// what the key already stands for. Runs outside any transaction of the request: the reservation
/// must be seen by a second request at once.
pub async fn claim<C: ConnectionTrait>(
    c: &C,
    principal: i64,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> Result<Claim> {
    let inserted = c
        .execute_raw(stmt(
            c,
            "INSERT INTO idempotency_keys (principal, key, request_hash, state, created_at) \
             VALUES ($1, $2, $3, 'pending', $4) ON CONFLICT (principal, key) DO NOTHING",
            vec![principal.into(), key.into(), request_hash.into(), now.into()],
        ))
        .await?
        .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Mine);
    }
    let Some(row) = c
        .query_one_raw(stmt(
            c,
            "SELECT request_hash, state, status, content_type, location, body, created_at \
             FROM idempotency_keys WHERE principal = $1 AND key = $2",
            vec![principal.into(), key.into()],
        ))
        .await?
    else {
        // Released between the insert and the read: try once more from the start.
        return Box::pin(claim(c, principal, key, request_hash, now)).await;
    };
    let created: DateTime<Utc> = row.try_get("", "created_at")?;
    let running = Reservation::of(&row.try_get::<String>("", "state")?) == Reservation::Pending;
    let stale = created + KEPT_FOR <= now || (running && created + PENDING_FOR <= now);
    if stale {
        // Take it over, conditional on what was read (another request may take it first).
        let taken = c
            .execute_raw(stmt(
                c,
                "UPDATE idempotency_keys SET request_hash = $1, state = 'pending', status = NULL, content_type = NULL, \
                 location = NULL, body = NULL, created_at = $2 WHERE principal = $3 AND key = $4 AND created_at = $5",
                vec![request_hash.into(), now.into(), principal.into(), key.into(), created.into()],
            ))
            .await?
            .rows_affected();
        return Ok(if taken == 1 { Claim::Mine } else { Claim::InProgress });
    }
    let hash: String = row.try_get("", "request_hash")?;
    if hash != request_hash {
        return Ok(Claim::OtherRequest);
    }
    if running {
        return Ok(Claim::InProgress);
    }
    let status: Option<i32> = row.try_get("", "status")?;
    Ok(Claim::Answered(Kept {
        status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
        content_type: row.try_get("", "content_type")?,
        location: row.try_get("", "location")?,
        body: row.try_get::<Option<Vec<u8>>>("", "body")?.unwrap_or_default(),
    }))
}

/// Keeps the answer of the request that holds the key.
pub async fn complete<C: ConnectionTrait>(c: &C, principal: i64, key: &str, kept: &Kept) -> Result<()> {
    c.execute_raw(stmt(
        c,
        "UPDATE idempotency_keys SET state = 'done', status = $1, content_type = $2, location = $3, body = $4 \
         WHERE principal = $5 AND key = $6 AND state = 'pending'",
        vec![
            i32::from(kept.status).into(),
            kept.content_type.clone().into(),
            kept.location.clone().into(),
            kept.body.clone().into(),
            principal.into(),
            key.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Gives the key up (the request failed and changed nothing): the same request may be sent again.
pub async fn release<C: ConnectionTrait>(c: &C, principal: i64, key: &str) -> Result<()> {
    c.execute_raw(stmt(
        c,
        "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND state = 'pending'",
        vec![principal.into(), key.into()],
    ))
    .await?;
    Ok(())
}
