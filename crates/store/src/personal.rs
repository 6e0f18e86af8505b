//! Personal data encrypted at rest (decision 0030): people's and supervisors' mobile numbers
//! today, the public's phone numbers next. A field is kept as a [`Sealed`] SM4-GCM envelope and,
//! where it is looked up, a keyed blind index beside it; its clear column, if it ever had one, is
//! emptied by [`seal_clear_values`] at start and refused by the database from then on.
//!
//! The keys live outside the database ([`Vault`], given to the [`Store`](crate::Store) at start).
//! The database keeps only a registry of which keys hold values (`settings.personal_data_keys`:
//! each key's id and a value sealed under it), so that an instance given the wrong key stops at
//! start with a message naming the key it needs ([`prepare`]) instead of serving garbage.
//! [`rotate`] moves every value to a new key in batches.
//!
//! A field added later joins [`SEALED_COLUMNS`]; start-up, status and rotation then cover it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend, DeriveValueType,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use serde::{Deserialize, Serialize};
use xiaoneng_core::crypto::{MasterKey, envelope_key_id, envelope_prefix};

use crate::{
    HashAlgo, Result, StoreError,
    audit::{self, AuditRecord, Outcome},
    like_escape, settings,
};

/// A value as stored: an SM4-GCM envelope (`sm4gcm:<key id>:<base64>`), never the clear text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveValueType)]
pub struct Sealed(pub String);

impl Sealed {
    pub fn key_id(&self) -> Option<&str> {
        envelope_key_id(&self.0)
    }
}

/// A personal field kept encrypted. Its domain is bound into every envelope, so a value copied
/// into another field does not open there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    PersonMobile,
    SupervisorMobile,
    /// The phone a rater leaves for the callback.
    RaterPhone,
    /// The phone a complainant leaves for the callback.
    ComplainantPhone,
    /// The phone a member of the public leaves when they ask a staff member first.
    AskerPhone,
    /// The network address a rating came from: never kept, only its blind index, which the rate
    /// limit counts by.
    RaterAddress,
}

impl Field {
    pub fn domain(self) -> &'static str {
        match self {
            Field::PersonMobile => "people.mobile",
            Field::SupervisorMobile => "supervisors.mobile",
            Field::RaterPhone => "ratings.phone",
            Field::RaterAddress => "ratings.address",
            Field::ComplainantPhone => "tickets.phone",
            Field::AskerPhone => "inquiries.phone",
        }
    }

    /// Phone numbers share one index domain: a number is found wherever it is kept.
    fn index_domain(self) -> &'static str {
        match self {
            Field::PersonMobile
            | Field::SupervisorMobile
            | Field::RaterPhone
            | Field::ComplainantPhone
            | Field::AskerPhone => "mobile",
            Field::RaterAddress => "address",
        }
    }
}

/// Where a sealed field lives: its table and columns.
#[derive(Clone, Copy, Debug)]
pub struct SealedColumn {
    pub field: Field,
    pub table: &'static str,
    pub sealed: &'static str,
    pub index: Option<&'static str>,
    /// The column that held the value in clear before encryption (emptied at start).
    pub clear: Option<&'static str>,
}

impl SealedColumn {
    pub fn name(&self) -> String {
        self.field.domain().to_owned()
    }
}

pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        field: Field::PersonMobile,
        table: "people",
        sealed: "mobile_sealed",
        index: Some("mobile_index"),
        clear: Some("mobile"),
    },
    SealedColumn {
        field: Field::SupervisorMobile,
        table: "supervisors",
        sealed: "mobile_sealed",
        index: Some("mobile_index"),
        clear: Some("mobile"),
    },
    SealedColumn {
        field: Field::RaterPhone,
        table: "ratings",
        sealed: "phone_sealed",
        index: Some("phone_index"),
        clear: None,
    },
    SealedColumn {
        field: Field::ComplainantPhone,
        table: "tickets",
        sealed: "phone_sealed",
        index: Some("phone_index"),
        clear: None,
    },
    SealedColumn {
        field: Field::AskerPhone,
        table: "inquiries",
        sealed: "phone_sealed",
        index: Some("phone_index"),
        clear: None,
    },
];

/// The keys this process holds: the current one, which seals, and any previous ones, which only
/// open (during a rotation). Empty in a process that handles no personal data (a backup).
#[derive(Debug, Default)]
pub struct Vault {
    keys: Vec<MasterKey>,
}

fn key_error(msg: impl Into<String>) -> StoreError {
    StoreError::Key(msg.into())
}

impl Vault {
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Self {
        let mut keys = vec![current];
        for k in previous {
            if !keys.iter().any(|h| h.id() == k.id()) {
                keys.push(k);
            }
        }
        Self { keys }
    }

    pub fn none() -> Self {
        Self::default()
    }

    pub fn current(&self) -> Option<&MasterKey> {
        self.keys.first()
    }

    pub fn current_id(&self) -> Option<&str> {
        self.current().map(MasterKey::id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(MasterKey::id).collect()
    }

    fn key(&self, id: &str) -> Option<&MasterKey> {
        self.keys.iter().find(|k| k.id() == id)
    }

    fn sealing_key(&self) -> Result<&MasterKey> {
        self.current()
            .ok_or_else(|| key_error("no key for personal data is configured (crypto.key_file or crypto.key_env)"))
    }

    pub fn seal(&self, field: Field, clear: &str) -> Result<Sealed> {
        let k = self.sealing_key()?;
        Ok(Sealed(k.seal(field.domain(), rand::random(), clear.as_bytes())))
    }

    pub fn open(&self, field: Field, sealed: &Sealed) -> Result<String> {
        let kid = sealed
            .key_id()
            .ok_or_else(|| key_error(format!("{} holds a value that is not an envelope", field.domain())))?;
        let k = self.key(kid).ok_or_else(|| {
            key_error(format!("{} holds a value under key {kid}, which this instance is not given", field.domain()))
        })?;
        let clear = k.open(field.domain(), &sealed.0).map_err(|e| key_error(format!("{}: {e}", field.domain())))?;
        String::from_utf8(clear).map_err(|_| key_error(format!("{} opened to bytes that are not text", field.domain())))
    }

    pub fn open_opt(&self, field: Field, sealed: Option<&Sealed>) -> Result<Option<String>> {
        sealed.map(|s| self.open(field, s)).transpose()
    }

    /// The blind index of a normalised value under the current key: what is stored beside it.
    pub fn index(&self, field: Field, normalised: &str) -> Result<String> {
        Ok(self.sealing_key()?.blind_index(field.index_domain(), normalised))
    }

    /// Every index the value may be stored under (one per key held): what a lookup matches,
    /// so that values not yet moved by a rotation are still found.
    pub fn lookups(&self, field: Field, normalised: &str) -> Vec<String> {
        self.keys.iter().map(|k| k.blind_index(field.index_domain(), normalised)).collect()
    }

    /// A value to store: the envelope and its index, or nothing for nothing.
    pub fn seal_opt(&self, field: Field, clear: Option<&str>) -> Result<(Option<Sealed>, Option<String>)> {
        match clear {
            Some(v) => Ok((Some(self.seal(field, v)?), Some(self.index(field, v)?))),
            None => Ok((None, None)),
        }
    }
}

// ------------------------------------------------------------------ the key registry

pub const KEY_REGISTRY: &str = "personal_data_keys";
const CHECK_DOMAIN: &str = "key-check";
const CHECK_TEXT: &str = "xiaoneng personal data key";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyRegistry {
    pub keys: Vec<RegisteredKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisteredKey {
    pub id: String,
    /// A known text sealed under the key: a key that opens it is this key.
    pub check: String,
    pub added_at: DateTime<Utc>,
    /// Set when a rotation has moved every value off the key: it is no longer needed.
    pub retired_at: Option<DateTime<Utc>>,
}

impl KeyRegistry {
    pub fn active(&self) -> impl Iterator<Item = &RegisteredKey> {
        self.keys.iter().filter(|k| k.retired_at.is_none())
    }
}

fn check_value(k: &MasterKey) -> String {
    k.seal(CHECK_DOMAIN, rand::random(), CHECK_TEXT.as_bytes())
}

fn verify(k: &MasterKey, entry: &RegisteredKey) -> Result<()> {
    match k.open(CHECK_DOMAIN, &entry.check) {
        Ok(t) if t == CHECK_TEXT.as_bytes() => Ok(()),
        _ => Err(key_error(format!(
            "the configured key {} does not open the database's check value for key {}: a damaged registry or a forged key",
            k.id(),
            entry.id
        ))),
    }
}

/// What [`prepare`] did.
#[derive(Debug, Default)]
pub struct Prepared {
    /// The configured key was new to this database and is now registered.
    pub registered: Option<String>,
}

/// Checks the vault against the database's registry at start, in the migration's transaction:
/// every key that still holds values must be one this instance is given, and each given key that
/// the database knows must open its check value. A current key the database has not seen is
/// registered (a new database, or the new key of a rotation). With no keys (a process that does
/// not handle personal data) nothing is checked.
pub async fn prepare<C: ConnectionTrait>(c: &C, algo: HashAlgo, vault: &Vault, now: DateTime<Utc>) -> Result<Prepared> {
    let Some(current) = vault.current() else { return Ok(Prepared::default()) };
    let mut reg: KeyRegistry = settings::get(c, KEY_REGISTRY).await?;
    for entry in &reg.keys {
        if let Some(k) = vault.key(&entry.id) {
            verify(k, entry)?;
        }
    }
    let missing: Vec<&str> = reg.active().map(|e| e.id.as_str()).filter(|id| vault.key(id).is_none()).collect();
    if !missing.is_empty() {
        return Err(key_error(format!(
            "the personal data in this database is encrypted under key {}, which this instance is not given \
             (it has {}): set crypto.key_file or crypto.key_env to that key, or during a rotation list it in \
             crypto.previous_key_files",
            missing.join(", "),
            vault.ids().join(", ")
        )));
    }
    let mut out = Prepared::default();
    match reg.keys.iter_mut().find(|e| e.id == current.id()) {
        Some(e) if e.retired_at.is_some() => {
            // A key that a rotation retired is current again: values will be sealed under it.
            e.retired_at = None;
            settings::put(c, KEY_REGISTRY, &reg, None, now).await?;
        }
        Some(_) => {}
        None => {
            reg.keys.push(RegisteredKey {
                id: current.id().to_owned(),
                check: check_value(current),
                added_at: now,
                retired_at: None,
            });
            settings::put(c, KEY_REGISTRY, &reg, None, now).await?;
            audit::append(c, algo, &system_record(now, "crypto.key_added", current.id(), serde_json::json!({})))
                .await?;
            out.registered = Some(current.id().to_owned());
        }
    }
    Ok(out)
}

fn system_record(now: DateTime<Utc>, action: &str, target_id: &str, detail: serde_json::Value) -> AuditRecord {
    AuditRecord {
        at: now,
        actor_user_id: None,
        actor: "system".into(),
        ip: "local".into(),
        action: action.into(),
        target_type: "personal_data_key".into(),
        target_id: target_id.into(),
        outcome: Outcome::Ok,
        detail,
    }
}

// ------------------------------------------------------------------ clear values, at start

const BATCH: u64 = 500;

fn ident(s: &str) -> Alias {
    Alias::new(s)
}

/// Encrypts every value still in a clear column (a database from before encryption) and empties
/// the column, in the migration's transaction. Numbers are normalised as the API does before they
/// are indexed. Returns how many were sealed.
pub async fn seal_clear_values<C: ConnectionTrait>(
    c: &C,
    algo: HashAlgo,
    vault: &Vault,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut total = 0u64;
    let mut by_column = serde_json::Map::new();
    for col in SEALED_COLUMNS {
        let Some(clear) = col.clear else { continue };
        let mut n = 0u64;
        loop {
            let q = Query::select()
                .columns([ident("id"), ident(clear)])
                .from(ident(col.table))
                .and_where(Expr::col(ident(clear)).is_not_null())
                .order_by(ident("id"), sea_orm::Order::Asc)
                .limit(BATCH)
                .to_owned();
            let rows = c.query_all(&q).await?;
            if rows.is_empty() {
                break;
            }
            if vault.current().is_none() {
                return Err(key_error(format!(
                    "{}.{clear} holds numbers in clear, which need a key to be encrypted: set crypto.key_file or crypto.key_env",
                    col.table
                )));
            }
            for r in rows {
                let id: i64 = r.try_get("", "id")?;
                let raw: String = r.try_get("", clear)?;
                let value = xiaoneng_core::org::parse_mobile("mobile", &raw).unwrap_or_else(|_| raw.trim().to_owned());
                let mut u = Query::update();
                u.table(ident(col.table))
                    .value(ident(col.sealed), vault.seal(col.field, &value)?.0)
                    .value(ident(clear), Expr::val(Option::<String>::None))
                    .and_where(Expr::col(ident("id")).eq(id));
                if let Some(index) = col.index {
                    u.value(ident(index), vault.index(col.field, &value)?);
                }
                c.execute(&u).await?;
                n += 1;
            }
        }
        if n > 0 {
            by_column.insert(col.name(), n.into());
        }
        total += n;
    }
    if total > 0 {
        let kid = vault.current_id().unwrap_or_default();
        audit::append(
            c,
            algo,
            &system_record(now, "personal_data.encrypted", kid, serde_json::json!({ "values": by_column })),
        )
        .await?;
    }
    Ok(total)
}

// ------------------------------------------------------------------ status and rotation

/// How many values of a column are sealed under each key id.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnStatus {
    pub column: String,
    pub by_key: Vec<(String, u64)>,
    /// Values still in the clear column (none once an instance with a key has started).
    pub in_clear: u64,
}

pub async fn status<C: ConnectionTrait>(c: &C) -> Result<Vec<ColumnStatus>> {
    let mut out = Vec::new();
    for col in SEALED_COLUMNS {
        // `sm4gcm:` is 7 characters; the key id the next 8. Written out, not bound: PostgreSQL
        // groups by the expression only if the select's and the group's are the same text.
        let kid = Expr::cust(format!("substr({}, 8, 8)", col.sealed));
        let q = Query::select()
            .expr_as(kid.clone(), ident("kid"))
            .expr_as(Expr::col(ident("id")).count(), ident("n"))
            .from(ident(col.table))
            .and_where(Expr::col(ident(col.sealed)).is_not_null())
            .add_group_by([kid])
            .to_owned();
        let mut by_key = Vec::new();
        for r in c.query_all(&q).await? {
            let k: String = r.try_get("", "kid")?;
            let n: i64 = r.try_get("", "n")?;
            by_key.push((k, n as u64));
        }
        by_key.sort();
        let in_clear = match col.clear {
            Some(clear) => count(c, col.table, Expr::col(ident(clear)).is_not_null()).await?,
            None => 0,
        };
        out.push(ColumnStatus { column: col.name(), by_key, in_clear });
    }
    Ok(out)
}

async fn count<C: ConnectionTrait>(c: &C, table: &str, cond: sea_orm::sea_query::SimpleExpr) -> Result<u64> {
    let q = Query::select()
        .expr_as(Expr::col(ident("id")).count(), ident("n"))
        .from(ident(table))
        .and_where(cond)
        .to_owned();
    let n: i64 = match c.query_one(&q).await? {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    };
    Ok(n as u64)
}

fn not_under(col: &SealedColumn, kid: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::col(ident(col.sealed)).is_not_null().and(
        Expr::col(ident(col.sealed)).not_like(
            sea_orm::sea_query::LikeExpr::new(format!("{}%", like_escape(&envelope_prefix(kid)))).escape('\\'),
        ),
    )
}

/// What a rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct Rotation {
    pub to: String,
    /// Keys that held values before and hold none now.
    pub retired: Vec<String>,
    /// Values moved, by column.
    pub moved: Vec<(String, u64)>,
}

/// Moves every sealed value to the vault's current key (opening each with whichever of the
/// vault's keys it was sealed under), recomputing its index, in batches of 500, each batch a
/// transaction of its own whose updates apply only if the value is still the one read: a value
/// an instance changed meanwhile is left to the next pass. Idempotent and resumable: values
/// already under the current key are skipped, so running it again after an interruption does
/// the rest and a finished rotation moves nothing. At the end the registry retires every other
/// key and the audit log records the counts; `progress` hears about each batch.
pub async fn rotate(
    store: &crate::Store,
    actor: &str,
    now: impl Fn() -> DateTime<Utc>,
    mut progress: impl FnMut(&str, u64),
) -> Result<Rotation> {
    let vault = store.vault();
    let target = vault.sealing_key()?;
    let to = target.id().to_owned();
    let record = |action: &str, detail: serde_json::Value| AuditRecord {
        at: now(),
        actor_user_id: None,
        actor: actor.to_owned(),
        ip: "local".into(),
        action: action.into(),
        target_type: "personal_data_key".into(),
        target_id: to.clone(),
        outcome: Outcome::Ok,
        detail,
    };
    // The same checks as at start; registers the new key.
    let tx = store.write().await?;
    prepare(&tx, store.audit_algo(), vault, now()).await?;
    let reg: KeyRegistry = settings::get(&tx, KEY_REGISTRY).await?;
    let from: Vec<String> = reg.active().map(|e| e.id.clone()).filter(|id| *id != to).collect();
    audit::append(&tx, store.audit_algo(), &record("crypto.rotate_started", serde_json::json!({ "from": from })))
        .await?;
    tx.commit().await?;

    let mut moved = Vec::new();
    for col in SEALED_COLUMNS {
        let mut n = 0u64;
        // A value changed by an instance while its batch ran is picked up by the next pass.
        for _pass in 0..5 {
            let mut after = 0i64;
            let mut this_pass = 0u64;
            loop {
                let q = Query::select()
                    .columns([ident("id"), ident(col.sealed)])
                    .from(ident(col.table))
                    .and_where(not_under(col, &to))
                    .and_where(Expr::col(ident("id")).gt(after))
                    .order_by(ident("id"), sea_orm::Order::Asc)
                    .limit(BATCH)
                    .to_owned();
                let rows = store.db().query_all(&q).await?;
                let Some(last) = rows.last() else { break };
                after = last.try_get("", "id")?;
                let tx = store.write().await?;
                let mut batch = 0u64;
                for r in &rows {
                    let id: i64 = r.try_get("", "id")?;
                    let old = Sealed(r.try_get("", col.sealed)?);
                    let clear = vault.open(col.field, &old).map_err(|e| match e {
                        StoreError::Key(m) => key_error(format!("{}, row {id}: {m}", col.table)),
                        e => e,
                    })?;
                    let mut u = Query::update();
                    u.table(ident(col.table))
                        .value(ident(col.sealed), vault.seal(col.field, &clear)?.0)
                        .and_where(Expr::col(ident("id")).eq(id))
                        .and_where(Expr::col(ident(col.sealed)).eq(old.0.as_str()));
                    if let Some(index) = col.index {
                        u.value(ident(index), vault.index(col.field, &clear)?);
                    }
                    batch += tx.execute(&u).await?.rows_affected();
                }
                tx.commit().await?;
                this_pass += batch;
                progress(col.field.domain(), batch);
            }
            n += this_pass;
            if count(store.db(), col.table, not_under(col, &to)).await? == 0 {
                break;
            }
        }
        let left = count(store.db(), col.table, not_under(col, &to)).await?;
        if left > 0 {
            return Err(key_error(format!(
                "{left} values of {} are still under another key after five passes (instances writing under it?): run the rotation again",
                col.field.domain()
            )));
        }
        moved.push((col.name(), n));
    }

    let tx = store.write().await?;
    let mut reg: KeyRegistry = settings::get(&tx, KEY_REGISTRY).await?;
    let at = now();
    let mut retired = Vec::new();
    for e in reg.keys.iter_mut().filter(|e| e.id != to && e.retired_at.is_none()) {
        e.retired_at = Some(at);
        retired.push(e.id.clone());
    }
    settings::put(&tx, KEY_REGISTRY, &reg, None, at).await?;
    let values: serde_json::Map<String, serde_json::Value> =
        moved.iter().map(|(c, n)| (c.clone(), (*n).into())).collect();
    audit::append(
        &tx,
        store.audit_algo(),
        &record("crypto.rotate", serde_json::json!({ "retired": retired, "values": values })),
    )
    .await?;
    tx.commit().await?;
    store.compact_personal_tables().await?;
    Ok(Rotation { to, retired, moved })
}

impl crate::Store {
    /// Rewrites the tables that hold personal data so that values replaced (clear numbers,
    /// envelopes under a retired key) no longer linger in free pages: `VACUUM` and a truncating
    /// WAL checkpoint on SQLite, `VACUUM FULL` of those tables on PostgreSQL.
    pub async fn compact_personal_tables(&self) -> Result<()> {
        match self.backend() {
            DbBackend::Sqlite => {
                self.db().execute_unprepared("VACUUM").await?;
                self.db().execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
            }
            _ => {
                let mut tables: Vec<&str> = SEALED_COLUMNS.iter().map(|c| c.table).collect();
                tables.dedup();
                self.db().execute_unprepared(&format!("VACUUM FULL {}", tables.join(", "))).await?;
            }
        }
        Ok(())
    }
}
