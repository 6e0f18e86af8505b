//! Bulletins and what follows them: rectification orders to departments, their written reports
//! (one row per version, so a returned report stays on record), files attached to reports and
//! self-checks, leader instructions with follow-up, each user's notifications, the reminders
//! sent, and self-check campaigns with their checklist, participants and answers.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000005_rectification"
    }
}

fn a(name: &'static str) -> Alias {
    Alias::new(name)
}

fn fk(from_table: &'static str, from_col: &'static str, to_table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(a(from_table), a(from_col))
        .to(a(to_table), a("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index(table: &'static str, name: &str, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut s = Index::create();
    s.name(name).table(a(table));
    for c in cols {
        s.col(a(c));
    }
    if unique {
        s.unique();
    }
    s.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("bulletins"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("status"), 16))
                .col(string_len(a("scope"), 16))
                .col(string_len(a("title"), 200))
                .col(text(a("body")))
                .col(date(a("period_start")))
                .col(date(a("period_end")))
                .col(boolean(a("mask_names")))
                .col(big_integer_null(a("corrects_id")))
                .col(text(a("requirement")))
                .col(string_len(a("deadline"), 100))
                .col(integer_null(a("year")))
                .col(integer_null(a("number")))
                .col(big_integer(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .col(big_integer_null(a("published_by")))
                .col(timestamp_with_time_zone_null(a("published_at")))
                .foreign_key(&mut fk("bulletins", "corrects_id", "bulletins"))
                .foreign_key(&mut fk("bulletins", "created_by", "users"))
                .foreign_key(&mut fk("bulletins", "published_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("bulletins", "uq_bulletins_number", &["year", "number"], true)).await?;

        m.create_table(
            Table::create()
                .table(a("bulletin_findings"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("bulletin_id")))
                .col(big_integer(a("finding_id")))
                .col(integer(a("position")))
                .foreign_key(&mut fk("bulletin_findings", "bulletin_id", "bulletins"))
                .foreign_key(&mut fk("bulletin_findings", "finding_id", "findings"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("bulletin_findings", "uq_bulletin_findings", &["bulletin_id", "finding_id"], true))
            .await?;
        m.create_index(index("bulletin_findings", "idx_bulletin_findings_finding", &["finding_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("rectification_orders"))
                .col(big_pk_auto(a("id")))
                .col(big_integer_null(a("bulletin_id")))
                .col(big_integer(a("department_id")))
                .col(text(a("requirement")))
                .col(date(a("deadline")))
                .col(string_len(a("status"), 16))
                .col(big_integer(a("issued_by")))
                .col(timestamp_with_time_zone(a("issued_at")))
                .col(timestamp_with_time_zone_null(a("first_submitted_at")))
                .col(timestamp_with_time_zone_null(a("accepted_at")))
                .col(timestamp_with_time_zone_null(a("overdue_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk("rectification_orders", "bulletin_id", "bulletins"))
                .foreign_key(&mut fk("rectification_orders", "department_id", "departments"))
                .foreign_key(&mut fk("rectification_orders", "issued_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("rectification_orders", "idx_orders_department", &["department_id", "status"], false))
            .await?;
        m.create_index(index("rectification_orders", "idx_orders_deadline", &["status", "deadline"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("order_findings"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("order_id")))
                .col(big_integer(a("finding_id")))
                .foreign_key(&mut fk("order_findings", "order_id", "rectification_orders"))
                .foreign_key(&mut fk("order_findings", "finding_id", "findings"))
                .to_owned(),
        )
        .await?;
        // A finding is rectified under one order, whichever bulletins name it.
        m.create_index(index("order_findings", "uq_order_findings_finding", &["finding_id"], true)).await?;
        m.create_index(index("order_findings", "idx_order_findings_order", &["order_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("rectification_reports"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("order_id")))
                .col(integer(a("version")))
                .col(string_len(a("status"), 16))
                .col(text(a("cause")))
                .col(text(a("measures")))
                .col(text(a("results")))
                .col(text(a("responsible")))
                .col(big_integer(a("drafted_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .col(big_integer_null(a("submitted_by")))
                .col(timestamp_with_time_zone_null(a("submitted_at")))
                .col(big_integer_null(a("reviewed_by")))
                .col(timestamp_with_time_zone_null(a("reviewed_at")))
                .col(text(a("review_comment")))
                .foreign_key(&mut fk("rectification_reports", "order_id", "rectification_orders"))
                .foreign_key(&mut fk("rectification_reports", "drafted_by", "users"))
                .foreign_key(&mut fk("rectification_reports", "submitted_by", "users"))
                .foreign_key(&mut fk("rectification_reports", "reviewed_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("rectification_reports", "uq_reports_version", &["order_id", "version"], true)).await?;

        m.create_table(
            Table::create()
                .table(a("attachments"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("owner_kind"), 32))
                .col(big_integer(a("owner_id")))
                .col(string_len(a("filename"), 255))
                .col(string_len(a("content_type"), 100))
                .col(big_integer(a("size")))
                .col(string_len(a("sha256"), 64))
                .col(string_len(a("object_key"), 300))
                .col(big_integer(a("uploaded_by")))
                .col(timestamp_with_time_zone(a("uploaded_at")))
                .foreign_key(&mut fk("attachments", "uploaded_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("attachments", "idx_attachments_owner", &["owner_kind", "owner_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("instructions"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("target_kind"), 16))
                .col(big_integer(a("target_id")))
                .col(big_integer(a("author_id")))
                .col(text(a("text")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(boolean(a("follow_up")))
                .col(big_integer_null(a("follow_up_department_id")))
                .col(date_null(a("follow_up_due")))
                .col(string_len_null(a("follow_up_status"), 16))
                .col(text(a("follow_up_note")))
                .col(big_integer_null(a("follow_up_done_by")))
                .col(timestamp_with_time_zone_null(a("follow_up_done_at")))
                .foreign_key(&mut fk("instructions", "author_id", "users"))
                .foreign_key(&mut fk("instructions", "follow_up_department_id", "departments"))
                .foreign_key(&mut fk("instructions", "follow_up_done_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("instructions", "idx_instructions_target", &["target_kind", "target_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("notifications"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("user_id")))
                .col(string_len(a("kind"), 32))
                .col(string_len(a("title"), 200))
                .col(text(a("body")))
                .col(string_len(a("link"), 300))
                .col(date_null(a("due")))
                .col(string_len_null(a("dedupe_key"), 200))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("read_at")))
                .foreign_key(&mut fk("notifications", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("notifications", "idx_notifications_user", &["user_id", "read_at"], false)).await?;
        m.create_index(index("notifications", "uq_notifications_dedupe", &["dedupe_key"], true)).await?;

        m.create_table(
            Table::create()
                .table(a("order_reminders"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("order_id")))
                .col(date(a("deadline")))
                .col(integer(a("point")))
                .col(timestamp_with_time_zone(a("sent_at")))
                .foreign_key(&mut fk("order_reminders", "order_id", "rectification_orders"))
                .to_owned(),
        )
        .await?;
        // The guarantee that a reminder goes out once, however many instances run the job.
        m.create_index(index("order_reminders", "uq_order_reminders", &["order_id", "deadline", "point"], true))
            .await?;

        m.create_table(
            Table::create()
                .table(a("campaigns"))
                .col(big_pk_auto(a("id")))
                .col(string_len(a("title"), 200))
                .col(text(a("description")))
                .col(date(a("period_start")))
                .col(date(a("period_end")))
                .col(string_len(a("status"), 16))
                .col(big_integer(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .col(timestamp_with_time_zone_null(a("opened_at")))
                .foreign_key(&mut fk("campaigns", "created_by", "users"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("campaign_items"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("campaign_id")))
                .col(integer(a("position")))
                .col(string_len(a("title"), 200))
                .col(text(a("guidance")))
                .foreign_key(&mut fk("campaign_items", "campaign_id", "campaigns"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("campaign_items", "idx_campaign_items", &["campaign_id", "position"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("campaign_participants"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("campaign_id")))
                .col(string_len(a("kind"), 16))
                .col(big_integer(a("department_id")))
                .col(big_integer_null(a("person_id")))
                .col(string_len(a("target_key"), 64))
                .col(string_len(a("status"), 16))
                .col(big_integer_null(a("submitted_by")))
                .col(timestamp_with_time_zone_null(a("submitted_at")))
                .foreign_key(&mut fk("campaign_participants", "campaign_id", "campaigns"))
                .foreign_key(&mut fk("campaign_participants", "department_id", "departments"))
                .foreign_key(&mut fk("campaign_participants", "person_id", "people"))
                .foreign_key(&mut fk("campaign_participants", "submitted_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "campaign_participants",
            "uq_campaign_participants",
            &["campaign_id", "target_key"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(a("self_check_answers"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("participant_id")))
                .col(big_integer(a("item_id")))
                .col(text(a("found")))
                .col(text(a("measures")))
                .col(date_null(a("due")))
                .col(big_integer(a("updated_by")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk("self_check_answers", "participant_id", "campaign_participants"))
                .foreign_key(&mut fk("self_check_answers", "item_id", "campaign_items"))
                .foreign_key(&mut fk("self_check_answers", "updated_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("self_check_answers", "uq_self_check_answers", &["participant_id", "item_id"], true)).await
    }
}
