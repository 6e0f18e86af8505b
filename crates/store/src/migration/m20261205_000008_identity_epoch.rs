//! A counter that moves whenever who a session is changes: a session ended, an account disabled,
//! its password, department or link changed, a role granted or revoked, a department renamed or
//! moved. Instances cache identities in memory and drop them when they see it move (decision
//! 0022). Triggers bump it, so every writer — the server, the command line, a later migration —
//! moves it without having to remember.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000008_identity_epoch"
    }
}

/// (trigger name, the statement it follows). Login bookkeeping (`failed_logins`, `locked_until`,
/// `last_login_at`) and `last_seen_at` are left out on purpose: they change often and no cached
/// identity depends on them.
const WATCHED: &[(&str, &str)] = &[
    ("sessions_end", "UPDATE OF ended_at ON sessions"),
    (
        "users_change",
        "UPDATE OF username, display_name, password_hash, person_id, department_id, supervisor_id, \
         must_change_password, password_changed_at, status ON users",
    ),
    ("user_roles_insert", "INSERT ON user_roles"),
    ("user_roles_update", "UPDATE ON user_roles"),
    ("user_roles_delete", "DELETE ON user_roles"),
    ("departments_change", "UPDATE OF path, name ON departments"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let pg = m.get_database_backend() == sea_orm::DbBackend::Postgres;
        db.execute_unprepared(
            "CREATE TABLE identity_epoch (id integer PRIMARY KEY CHECK (id = 1), value bigint NOT NULL)",
        )
        .await?;
        db.execute_unprepared("INSERT INTO identity_epoch (id, value) VALUES (1, 0)").await?;
        let bump = "UPDATE identity_epoch SET value = value + 1 WHERE id = 1";
        if pg {
            db.execute_unprepared(&format!(
                "CREATE FUNCTION identity_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN {bump}; RETURN NULL; END $$"
            ))
            .await?;
        }
        for (name, on) in WATCHED {
            let sql = if pg {
                format!(
                    "CREATE TRIGGER identity_epoch_{name} AFTER {on} FOR EACH STATEMENT \
                     EXECUTE FUNCTION identity_epoch_bump()"
                )
            } else {
                format!("CREATE TRIGGER identity_epoch_{name} AFTER {on} FOR EACH ROW BEGIN {bump}; END")
            };
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
