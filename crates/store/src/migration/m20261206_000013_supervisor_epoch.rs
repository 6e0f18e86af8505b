//! A linked account's permissions follow its supervisor's status and term (decision 0022's
//! identity epoch moves when they change).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000013_supervisor_epoch"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let on = "UPDATE OF status, term_start, term_end ON supervisors";
        let sql = if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            format!(
                "CREATE TRIGGER identity_epoch_supervisors_change AFTER {on} FOR EACH STATEMENT \
                 EXECUTE FUNCTION identity_epoch_bump()"
            )
        } else {
            format!(
                "CREATE TRIGGER identity_epoch_supervisors_change AFTER {on} FOR EACH ROW \
                 BEGIN UPDATE identity_epoch SET value = value + 1 WHERE id = 1; END"
            )
        };
        m.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}
