//! Events out of the outbox: who may see which event in which view, the
//! in-process bus, and the feed that replays then goes live. The wake-up
//! after a commit is `crate::signal`, shared with the token cache; the event
//! types themselves (SPEC §6) are `domain::EventType`.

pub mod bus;
pub mod feed;
pub mod view;

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
