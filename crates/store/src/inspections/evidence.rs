//! Evidence files and the resumable uploads that bring them in. The bytes live in the object
//! store; these tables say what each object is, whose it is and what its digests were.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::Expr,
};

use xiaoneng_core::evidence::{EvidenceKind, EvidencePurpose};

use crate::{
    Result, StoreError,
    entity::{evidence, upload, upload_part},
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
