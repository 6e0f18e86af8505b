//! Evidence files and the resumable uploads that bring them in. The bytes live in the object
//! store; these tables say what each object is, whose it is and what its digests were.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use xiaoneng_core::{
    evidence::{EvidenceKind, EvidencePurpose},
    inspection::UploadLoad,
};

use crate::{
    Result, StoreError,
    entity::{evidence, evidence_counter, evidence_view, finding, upload, upload_part},
};

pub struct NewUpload {
    pub id: String,
    pub finding_id: i64,
    pub purpose: EvidencePurpose,
    pub filename: String,
    pub total_bytes: i64,
    pub digest_state: Vec<u8>,
    pub created_by: i64,
}

pub async fn create_upload<C: ConnectionTrait>(c: &C, u: NewUpload, now: DateTime<Utc>) -> Result<upload::Model> {
    Ok(upload::ActiveModel {
        id: Set(u.id),
        finding_id: Set(u.finding_id),
        purpose: Set(u.purpose),
        filename: Set(u.filename),
        total_bytes: Set(u.total_bytes),
        received_bytes: Set(0),
        head: Set(Vec::new()),
        mime: Set(None),
        kind: Set(None),
        digest_state: Set(u.digest_state),
        created_by: Set(u.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        evidence_id: Set(None),
    }
    .insert(c)
    .await?)
}

pub async fn get_upload<C: ConnectionTrait>(c: &C, id: &str) -> Result<upload::Model> {
    upload::Entity::find_by_id(id.to_owned()).one(c).await?.ok_or(StoreError::NotFound)
}

/// What one request added to an upload.
pub struct Received {
    pub part_key: String,
    pub bytes: i64,
    pub head: Vec<u8>,
    pub mime: Option<String>,
    pub kind: Option<EvidenceKind>,
    pub digest_state: Vec<u8>,
}

/// Records a part that arrived at `from`. `false` if another request moved the upload on first
/// (the caller then discards its part): an upload's bytes only ever follow on from each other.
pub async fn append_part<C: ConnectionTrait>(
    c: &C,
    id: &str,
    from: i64,
    r: Received,
    now: DateTime<Utc>,
) -> Result<bool> {
    let moved = upload::Entity::update_many()
        .col_expr(upload::Column::ReceivedBytes, Expr::value(from + r.bytes))
        .col_expr(upload::Column::Head, Expr::value(r.head))
        .col_expr(upload::Column::Mime, Expr::value(r.mime))
        .col_expr(upload::Column::Kind, Expr::value(r.kind))
        .col_expr(upload::Column::DigestState, Expr::value(r.digest_state))
        .col_expr(upload::Column::UpdatedAt, Expr::value(now))
        .filter(upload::Column::Id.eq(id))
        .filter(upload::Column::ReceivedBytes.eq(from))
        .filter(upload::Column::EvidenceId.is_null())
        .exec(c)
        .await?
        .rows_affected;
    if moved == 0 {
        return Ok(false);
    }
    upload_part::ActiveModel {
        upload_id: Set(id.to_owned()),
        start_byte: Set(from),
        bytes: Set(r.bytes),
        object_key: Set(r.part_key),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(true)
}

pub async fn parts<C: ConnectionTrait>(c: &C, id: &str) -> Result<Vec<upload_part::Model>> {
    Ok(upload_part::Entity::find()
        .filter(upload_part::Column::UploadId.eq(id))
        .order_by_asc(upload_part::Column::StartByte)
        .all(c)
        .await?)
}

/// Forgets an unfinished upload and its parts (the caller removes the parts' objects).
pub async fn delete_upload<C: ConnectionTrait>(c: &C, id: &str) -> Result<()> {
    upload_part::Entity::delete_many().filter(upload_part::Column::UploadId.eq(id)).exec(c).await?;
    upload::Entity::delete_by_id(id.to_owned()).exec(c).await?;
    Ok(())
}

/// An upload that is being received is not abandoned, however long the request takes.
pub async fn touch_upload<C: ConnectionTrait>(c: &C, id: &str, now: DateTime<Utc>) -> Result<()> {
    upload::Entity::update_many()
        .col_expr(upload::Column::UpdatedAt, Expr::value(now))
        .filter(upload::Column::Id.eq(id))
        .filter(upload::Column::EvidenceId.is_null())
        .exec(c)
        .await?;
    Ok(())
}

/// An upload, if it exists.
pub async fn find_upload<C: ConnectionTrait>(c: &C, id: &str) -> Result<Option<upload::Model>> {
    Ok(upload::Entity::find_by_id(id.to_owned()).one(c).await?)
}

/// Forgets an upload that is still unfinished (and, with `before`, untouched since then), with
/// its parts' rows (the caller removes their objects); `false` if it was filed, or continued,
/// meanwhile.
pub async fn delete_unfinished<C: ConnectionTrait>(c: &C, id: &str, before: Option<DateTime<Utc>>) -> Result<bool> {
    let mut q = upload::Entity::find_by_id(id.to_owned()).filter(upload::Column::EvidenceId.is_null());
    if let Some(before) = before {
        q = q.filter(upload::Column::UpdatedAt.lt(before));
    }
    if q.lock_exclusive().one(c).await?.is_none() {
        return Ok(false);
    }
    delete_upload(c, id).await?;
    Ok(true)
}

/// Takes the quota locks before an upload is counted and started: the user's (an advisory lock
/// on PostgreSQL) and then the finding's row, so that two uploads started at once are counted
/// one after the other. On SQLite the write transaction already runs alone.
pub async fn lock_for_upload<C: ConnectionTrait>(c: &C, user_id: i64, finding_id: i64) -> Result<()> {
    if c.get_database_backend() == DbBackend::Postgres {
        // Class 0x7855 ("xU": evidence uploads), then the user; ids past 2^31 only share locks.
        c.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(30805, $1::int4)",
            [((user_id & 0x7FFF_FFFF) as i32).into()],
        ))
        .await?;
    }
    finding_for_update(c, finding_id).await?;
    Ok(())
}

/// A finding's row as it is now, locked until the transaction ends (on PostgreSQL; SQLite's
/// write transaction runs alone): a step on it waits, so a decision taken on this row holds
/// until the transaction commits.
pub async fn finding_for_update<C: ConnectionTrait>(c: &C, id: i64) -> Result<finding::Model> {
    finding::Entity::find_by_id(id).lock_exclusive().one(c).await?.ok_or(StoreError::NotFound)
}

/// What a user and a finding hold in files and unfinished uploads.
pub async fn upload_load<C: ConnectionTrait>(c: &C, user_id: i64, finding_id: i64) -> Result<UploadLoad> {
    let filed = |col: evidence::Column, id: i64| {
        evidence::Entity::find().filter(col.eq(id)).select_only().column_as(total("bytes"), "n").into_tuple::<i64>()
    };
    let open = |col: upload::Column, id: i64| {
        upload::Entity::find()
            .filter(col.eq(id))
            .filter(upload::Column::EvidenceId.is_null())
            .select_only()
            .column_as(total("total_bytes"), "n")
            .into_tuple::<i64>()
    };
    let sum = |a: Option<i64>, b: Option<i64>| {
        u64::try_from(a.unwrap_or(0)).unwrap_or(0).saturating_add(u64::try_from(b.unwrap_or(0)).unwrap_or(0))
    };
    let user_bytes = sum(
        filed(evidence::Column::UploadedBy, user_id).one(c).await?,
        open(upload::Column::CreatedBy, user_id).one(c).await?,
    );
    let finding_bytes = sum(
        filed(evidence::Column::FindingId, finding_id).one(c).await?,
        open(upload::Column::FindingId, finding_id).one(c).await?,
    );
    let user_open = upload::Entity::find()
        .filter(upload::Column::CreatedBy.eq(user_id))
        .filter(upload::Column::EvidenceId.is_null())
        .count(c)
        .await?;
    Ok(UploadLoad { user_bytes, finding_bytes, user_open })
}

/// The sum of a column as a BIGINT on both databases (PostgreSQL sums BIGINT as NUMERIC).
fn total(column: &str) -> Expr {
    Expr::cust(format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"))
}

/// Unfinished uploads not touched since `before`: abandoned.
pub async fn stale_uploads<C: ConnectionTrait>(c: &C, before: DateTime<Utc>) -> Result<Vec<upload::Model>> {
    Ok(upload::Entity::find()
        .filter(upload::Column::EvidenceId.is_null())
        .filter(upload::Column::UpdatedAt.lt(before))
        .all(c)
        .await?)
}

pub struct NewEvidence {
    pub finding_id: i64,
    pub purpose: EvidencePurpose,
    pub kind: EvidenceKind,
    pub mime: String,
    pub filename: String,
    pub bytes: i64,
    pub sha256: String,
    pub sm3: String,
    pub object_key: String,
    pub uploaded_by: i64,
    pub verified_tag: Option<String>,
}

/// Records a stored object as evidence.
pub async fn insert_evidence<C: ConnectionTrait>(c: &C, e: NewEvidence, now: DateTime<Utc>) -> Result<evidence::Model> {
    Ok(evidence::ActiveModel {
        finding_id: Set(e.finding_id),
        purpose: Set(e.purpose),
        kind: Set(e.kind),
        mime: Set(e.mime),
        filename: Set(e.filename),
        bytes: Set(e.bytes),
        sha256: Set(e.sha256),
        sm3: Set(e.sm3),
        object_key: Set(e.object_key),
        uploaded_by: Set(e.uploaded_by),
        uploaded_at: Set(now),
        verified_at: Set(e.verified_tag.is_some().then_some(now)),
        verified_tag: Set(e.verified_tag),
        corrupt_at: Set(None),
        ..Default::default()
    }
    .insert(c)
    .await?)
}

/// Files an upload's object as evidence, once: `None` if another request already did.
pub async fn file_evidence<C: ConnectionTrait>(
    c: &C,
    upload_id: &str,
    e: NewEvidence,
    now: DateTime<Utc>,
) -> Result<Option<evidence::Model>> {
    let ev = insert_evidence(c, e, now).await?;
    let claimed = upload::Entity::update_many()
        .col_expr(upload::Column::EvidenceId, Expr::value(ev.id))
        .col_expr(upload::Column::Head, Expr::value(Vec::<u8>::new()))
        .col_expr(upload::Column::UpdatedAt, Expr::value(now))
        .filter(upload::Column::Id.eq(upload_id))
        .filter(upload::Column::EvidenceId.is_null())
        .exec(c)
        .await?
        .rows_affected;
    if claimed == 0 {
        return Ok(None);
    }
    upload_part::Entity::delete_many().filter(upload_part::Column::UploadId.eq(upload_id)).exec(c).await?;
    Ok(Some(ev))
}

pub async fn of_finding<C: ConnectionTrait>(c: &C, finding_id: i64) -> Result<Vec<evidence::Model>> {
    Ok(evidence::Entity::find()
        .filter(evidence::Column::FindingId.eq(finding_id))
        .order_by_asc(evidence::Column::Id)
        .all(c)
        .await?)
}

pub async fn get<C: ConnectionTrait>(c: &C, id: i64) -> Result<evidence::Model> {
    evidence::Entity::find_by_id(id).one(c).await?.ok_or(StoreError::NotFound)
}

/// The object matched its digests at `tag` (its version in the store); a file once found
/// corrupt is whole again if it matches once more (restored from a backup).
pub async fn mark_verified<C: ConnectionTrait>(c: &C, id: i64, tag: Option<String>, now: DateTime<Utc>) -> Result<()> {
    evidence::Entity::update_many()
        .col_expr(evidence::Column::VerifiedTag, Expr::value(tag))
        .col_expr(evidence::Column::VerifiedAt, Expr::value(now))
        .col_expr(evidence::Column::CorruptAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(evidence::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

/// Whether this marked it: `false` if it was already known to be corrupt.
pub async fn mark_corrupt<C: ConnectionTrait>(c: &C, id: i64, now: DateTime<Utc>) -> Result<bool> {
    Ok(evidence::Entity::update_many()
        .col_expr(evidence::Column::CorruptAt, Expr::value(now))
        .col_expr(evidence::Column::VerifiedTag, Expr::value(Option::<String>::None))
        .filter(evidence::Column::Id.eq(id))
        .filter(evidence::Column::CorruptAt.is_null())
        .exec(c)
        .await?
        .rows_affected
        > 0)
}

/// Whether this session's view (or download) of this file has been recorded.
pub async fn viewed<C: ConnectionTrait>(c: &C, session_hash: &str, evidence_id: i64, download: bool) -> Result<bool> {
    Ok(evidence_view::Entity::find_by_id((session_hash.to_owned(), evidence_id, download)).one(c).await?.is_some())
}

/// Notes that this session viewed (or downloaded) this file: `true` the first time only, on
/// whichever instance it happens.
pub async fn first_view<C: ConnectionTrait>(
    c: &C,
    session_hash: &str,
    evidence_id: i64,
    download: bool,
    now: DateTime<Utc>,
) -> Result<bool> {
    let row = evidence_view::ActiveModel {
        session_hash: Set(session_hash.to_owned()),
        evidence_id: Set(evidence_id),
        download: Set(download),
        first_at: Set(now),
    };
    let n = evidence_view::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                evidence_view::Column::SessionHash,
                evidence_view::Column::EvidenceId,
                evidence_view::Column::Download,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(c)
        .await?;
    Ok(n == 1)
}

/// Abandoned uploads removed, in all.
pub const UPLOADS_SWEPT: &str = "uploads_swept";
/// Bytes of upload data removed from the object store by the sweep, in all.
pub const UPLOAD_BYTES_FREED: &str = "upload_bytes_freed";

/// Adds to a running total.
pub async fn add_count<C: ConnectionTrait>(c: &C, name: &str, by: i64) -> Result<()> {
    if by == 0 {
        return Ok(());
    }
    let row = evidence_counter::ActiveModel { name: Set(name.to_owned()), value: Set(by) };
    evidence_counter::Entity::insert(row)
        .on_conflict(
            OnConflict::column(evidence_counter::Column::Name)
                .value(
                    evidence_counter::Column::Value,
                    Expr::col((evidence_counter::Entity, evidence_counter::Column::Value)).add(by),
                )
                .to_owned(),
        )
        .exec_without_returning(c)
        .await?;
    Ok(())
}

/// Every running total, by name.
pub async fn counters<C: ConnectionTrait>(c: &C) -> Result<Vec<(String, i64)>> {
    Ok(evidence_counter::Entity::find()
        .order_by_asc(evidence_counter::Column::Name)
        .all(c)
        .await?
        .into_iter()
        .map(|r| (r.name, r.value))
        .collect())
}

/// Unfinished uploads: how many, and how many bytes they have received.
pub async fn unfinished<C: ConnectionTrait>(c: &C) -> Result<(u64, i64)> {
    let q = upload::Entity::find().filter(upload::Column::EvidenceId.is_null());
    let n = q.clone().count(c).await?;
    let bytes = q.select_only().column_as(total("received_bytes"), "n").into_tuple::<i64>().one(c).await?;
    Ok((n, bytes.unwrap_or(0)))
}
