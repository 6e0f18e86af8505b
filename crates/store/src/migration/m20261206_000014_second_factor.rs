//! The second factor (decision 0029): each enrolment of an authenticator app as a row of its own
//! (never deleted: replaced, disabled or reset ones stay on record), the recovery codes as
//! SHA-256 hashes, the logins waiting for their second step, and the mark the security admin's
//! reset leaves on an account (enrol again). Who a session is depends on all but the codes, so
//! the identity epoch moves with them.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000014_second_factor"
    }
}

#[derive(DeriveIden)]
enum SecondFactors {
    Table,
    Id,
    UserId,
    State,
    /// The TOTP secret in base32. Text, so that encryption at rest can wrap it later.
    Secret,
    CreatedAt,
    ConfirmedAt,
    /// The last TOTP step accepted: no code of this step or an earlier one is accepted again.
    LastUsedStep,
    EndedAt,
    EndedBy,
    EndReason,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    SecondFactorId,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum LoginChallenges {
    Table,
    /// SHA-256 (hex) of the pending login's cookie token.
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
    EndedAt,
    EndReason,
    Ip,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    /// Set by the security admin's reset: the user must enrol again, whatever the policy says.
    MustEnrolSecondFactor,
}

fn fk(table: impl IntoIden, col: impl IntoIden, to: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(to, Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SecondFactors::Table)
                .col(big_pk_auto(SecondFactors::Id))
                .col(big_integer(SecondFactors::UserId))
                .col(string_len(SecondFactors::State, 20).check(Expr::col(SecondFactors::State).is_in([
                    "pending",
                    "active",
                    "replaced",
                    "abandoned",
                    "disabled",
                    "reset",
                ])))
                .col(text(SecondFactors::Secret))
                .col(timestamp_with_time_zone(SecondFactors::CreatedAt))
                .col(timestamp_with_time_zone_null(SecondFactors::ConfirmedAt))
                .col(big_integer_null(SecondFactors::LastUsedStep))
                .col(timestamp_with_time_zone_null(SecondFactors::EndedAt))
                .col(big_integer_null(SecondFactors::EndedBy))
                .col(string_len_null(SecondFactors::EndReason, 500))
                .foreign_key(&mut fk(SecondFactors::Table, SecondFactors::UserId, Users::Table))
                .foreign_key(&mut fk(SecondFactors::Table, SecondFactors::EndedBy, Users::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_second_factors_user")
                .table(SecondFactors::Table)
                .col(SecondFactors::UserId)
                .col(SecondFactors::State)
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // One active factor per account, whatever races: the same partial index on both.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_second_factors_active ON second_factors (user_id) WHERE state = 'active'",
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .col(big_pk_auto(RecoveryCodes::Id))
                .col(big_integer(RecoveryCodes::SecondFactorId))
                .col(big_integer(RecoveryCodes::UserId))
                .col(string_len(RecoveryCodes::CodeHash, 64))
                .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                .col(timestamp_with_time_zone_null(RecoveryCodes::RevokedAt))
                .foreign_key(&mut fk(RecoveryCodes::Table, RecoveryCodes::SecondFactorId, SecondFactors::Table))
                .foreign_key(&mut fk(RecoveryCodes::Table, RecoveryCodes::UserId, Users::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_recovery_codes_hash")
                .table(RecoveryCodes::Table)
                .col(RecoveryCodes::UserId)
                .col(RecoveryCodes::CodeHash)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LoginChallenges::Table)
                .col(string_len(LoginChallenges::Id, 64).primary_key())
                .col(big_integer(LoginChallenges::UserId))
                .col(timestamp_with_time_zone(LoginChallenges::CreatedAt))
                .col(timestamp_with_time_zone(LoginChallenges::ExpiresAt))
                .col(timestamp_with_time_zone_null(LoginChallenges::EndedAt))
                .col(string_len_null(LoginChallenges::EndReason, 40))
                .col(string_len(LoginChallenges::Ip, 64))
                .foreign_key(&mut fk(LoginChallenges::Table, LoginChallenges::UserId, Users::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_login_challenges_user")
                .table(LoginChallenges::Table)
                .col(LoginChallenges::UserId)
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(boolean(Users::MustEnrolSecondFactor).default(false))
                .to_owned(),
        )
        .await?;

        // Whether a session may do more than enrol depends on these: cached identities must go.
        let watched = [
            ("second_factors_insert", "INSERT ON second_factors"),
            ("second_factors_change", "UPDATE OF state ON second_factors"),
            ("users_second_factor", "UPDATE OF must_enrol_second_factor ON users"),
        ];
        let pg = m.get_database_backend() == sea_orm::DbBackend::Postgres;
        for (name, on) in watched {
            let sql = if pg {
                format!(
                    "CREATE TRIGGER identity_epoch_{name} AFTER {on} FOR EACH STATEMENT \
                     EXECUTE FUNCTION identity_epoch_bump()"
                )
            } else {
                format!(
                    "CREATE TRIGGER identity_epoch_{name} AFTER {on} FOR EACH ROW \
                     BEGIN UPDATE identity_epoch SET value = value + 1 WHERE id = 1; END"
                )
            };
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
