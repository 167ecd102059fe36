//! What changes leave behind, read straight from the database, and the
//! scheduled jobs run at the test clock's time.

use entity::outbox_event;
use partnergraph::{clock::Clock, jobs};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::TestApp;

impl TestApp {
    /// The outbox events of `event_type`.
    pub async fn events(&self, event_type: &str) -> Vec<outbox_event::Model> {
        outbox_event::Entity::find()
            .filter(outbox_event::Column::EventType.eq(event_type))
            .all(&self.db)
            .await
            .unwrap()
    }

    /// Today by the test clock, as a GraphQL `Date`.
    pub fn clock_date(&self) -> String {
        self.clock.now().date_naive().to_string()
    }

    /// Runs the jobs that are due now, by the test clock.
    pub async fn run_jobs(&self) -> jobs::Report {
        jobs::run_due(&self.db, self.clock.now()).await.unwrap()
    }
}
