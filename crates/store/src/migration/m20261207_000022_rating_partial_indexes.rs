//! The ratings' guards read two rare kinds of rating at a window: the quick ones (given seconds
//! after the case's completion) and the held ones. Each had an index over every rating
//! (`idx_ratings_window_quick`, `idx_ratings_window_status`), so every rating wrote a page of each
//! at a random place; partial indexes of only those rows replace them (decision 0037).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000022_rating_partial_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for name in ["idx_ratings_window_quick", "idx_ratings_window_status"] {
            m.drop_index(Index::drop().name(name).table(Alias::new("ratings")).to_owned()).await?;
        }
        // The same statements on both databases. A query uses the quick ones only when it says
        // `quick` itself (a bound `quick = ?` proves nothing to either planner), and only outside
        // an `OR` (SQLite plans each arm of one without the terms around it); the held one is
        // implied by any `hold_reason = ?`. A rating keeps its hold reason once reviewed.
        for (name, col) in [("idx_ratings_quick_window", "window_id"), ("idx_ratings_quick_person", "person_id")] {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON ratings ({col}, given_at) WHERE quick")).await?;
        }
        db.execute_unprepared(
            "CREATE INDEX idx_ratings_held ON ratings (window_id, hold_reason, status) WHERE hold_reason IS NOT NULL",
        )
        .await?;
        Ok(())
    }
}
