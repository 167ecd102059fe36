//! Events out of the outbox: who may see which event in which view, the
//! in-process bus, and the feed that replays then goes live. The wake-up
//! after a commit is `crate::signal`, shared with the token cache.

pub mod bus;
pub mod feed;
pub mod view;

/// Every event type the outbox carries (SPEC §6).
pub const TYPES: &[&str] = &[
    "partner.created",
    "partner.status_changed",
    "partner.tier_changed",
    "partner.milestone_reached",
    "partner.activation_overdue",
    "deal_registration.submitted",
    "deal_registration.status_changed",
    "deal_registration.extended",
    "deal_registration.expiring",
    "deal_registration.conflict_detected",
    "deal_registration.conflict_resolved",
    "opportunity.created",
    "opportunity.stage_changed",
    "certification.status_changed",
    "certification.expiring",
    "webhook.test",
    // An endpoint stopped receiving (410 Gone, or five days of failure).
    "webhook_endpoint.disabled",
    // Program intelligence (internal): activity, and the daily tier recommendation.
    "partner.activity_recorded",
    "partner.tier_recommendation_changed",
];

/// The cursor as clients see it: opaque, but it sorts like the feed.
pub fn encode_cursor(id: i64) -> String {
    format!("{id:020}")
}

/// The outbox id behind a cursor, or `None` for anything we did not issue.
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    cursor
        .parse::<i64>()
        .ok()
        .filter(|id| *id >= 0 && cursor.len() == 20)
}
