//! The event feed (SPEC §6): the `events` query for polling clients and the
//! subscriptions, which all read the outbox through `events::feed` with the
//! caller's view.

use std::collections::BTreeSet;

use async_graphql::{ComplexObject, Context, Json, Object, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use sea_orm::{DatabaseConnection, Iterable};
use uuid::Uuid;

use super::{
    certifications::Certification,
    connection::PageInfo,
    context::{self, RequestContext},
    enums::{CertificationStatus, DealRegistrationStatus, OpportunityStage, PartnerStatus},
    partners::Partner,
    registrations::{DealRegistration, Opportunity},
};
use crate::{
    domain::{self, EventType, SubjectType},
    error::{ApiError, ApiResult},
    events::{
        self,
        bus::EventBus,
        feed::{self, Filter, Seen},
        view::{self, Audience},
    },
    ids::{self, NodeType},
    service::{certifications, opportunities, partners, registrations},
};

/// One change, as the outbox recorded it and as you may see it.
pub struct Event(Seen);

/// One change, as the outbox recorded it and as you may see it.
#[Object]
impl Event {
    /// Position in the feed; pass it as `after` to read on from here.
    async fn cursor(&self) -> String {
        events::encode_cursor(self.0.event.id)
    }

    /// The event type, e.g. `deal_registration.status_changed`.
    #[graphql(name = "type")]
    async fn event_type(&self) -> String {
        self.0.event.event_type.to_string()
    }

    /// When the change happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.event.occurred_at
    }

    /// The global id of the object the event is about.
    async fn subject_id(&self) -> ID {
        ID(subject_global_id(
            self.0.event.subject_type,
            self.0.event.subject_id,
        ))
    }

    /// The event's data in your view: partners see partner-safe fields only.
    async fn data(&self) -> Json<&serde_json::Value> {
        Json(self.0.data())
    }
}

/// Every outbox subject is a node, so `subjectId` is always an opaque global id.
fn subject_global_id(subject_type: SubjectType, id: Uuid) -> String {
    ids::encode(subject_type.into(), id)
}

/// A page of the event feed, oldest first.
#[derive(SimpleObject)]
pub struct EventConnection {
    /// The events of this page, each with its cursor.
    pub edges: Vec<EventEdge>,
    /// Where this page sits; `endCursor` is where the next poll starts.
    pub page_info: PageInfo,
}

/// One event with its cursor.
#[derive(SimpleObject)]
pub struct EventEdge {
    /// The event's position in the feed.
    pub cursor: String,
    /// The event.
    pub node: Event,
}

/// The event types a client named; an unknown name is an error.
fn parse_types(types: Option<Vec<String>>) -> ApiResult<BTreeSet<EventType>> {
    let named: BTreeSet<String> = types.unwrap_or_default().into_iter().collect();
    named
        .iter()
        .map(|name| {
            name.parse().map_err(|_| {
                ApiError::BadUserInput(format!("`types`: unknown event type `{name}`"))
            })
        })
        .collect()
}

/// The filter for a principal's feed: the requested types it may read (all
/// it may read when none are named).
fn filter_for(request: &RequestContext, requested: BTreeSet<EventType>) -> Filter {
    let types = EventType::iter()
        .filter(|t| requested.is_empty() || requested.contains(t))
        .filter(|t| view::readable(&request.principal, *t))
        .collect();
    Filter {
        audience: Audience::of(&request.principal),
        types,
        subject_id: None,
        partner_id: None,
    }
}

fn parse_after(after: Option<String>) -> ApiResult<Option<i64>> {
    after
        .map(|cursor| {
            events::decode_cursor(&cursor).ok_or_else(|| {
                ApiError::BadUserInput("`after` is not a cursor this feed gave out".into())
            })
        })
        .transpose()
}

/// The row id behind a global id of `node_type`; anything else is an error
/// naming the argument.
fn parse_id(argument: &str, id: Option<ID>, node_type: NodeType) -> ApiResult<Option<Uuid>> {
    id.map(|id| {
        ids::decode_as(node_type, &id).ok_or_else(|| {
            ApiError::BadUserInput(format!("`{argument}` is not a {} id", node_type.name()))
        })
    })
    .transpose()
}

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// The event feed for polling: events after `after`, oldest first, in
    /// your view. A partner sees its own partner's events only.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Event types to include, e.g. `opportunity.stage_changed`; all when omitted."
        )]
        types: Option<Vec<String>>,
        #[graphql(desc = "Start after this cursor; from the oldest event when omitted.")]
        after: Option<String>,
        #[graphql(desc = "How many events, 1 to 100 (default 50).")] first: Option<i32>,
    ) -> ApiResult<EventConnection> {
        let request = context::request(ctx)?;
        let first = first.unwrap_or(50);
        if !(1..=100).contains(&first) {
            return Err(ApiError::BadUserInput(
                "`first` must be between 1 and 100".into(),
            ));
        }
        let filter = filter_for(request, parse_types(types)?);
        let after = parse_after(after)?.unwrap_or(0);
        let mut edges = Vec::new();
        let mut cursor = after;
        let mut has_next_page = false;
        if !filter.types.is_empty() {
            // Read one more than asked to know whether another page follows.
            let (seen, _) = feed::page(context::db(ctx)?, &filter, after, first as u64 + 1).await?;
            has_next_page = seen.len() > first as usize;
            for seen in seen.into_iter().take(first as usize) {
                cursor = seen.event.id;
                edges.push(EventEdge {
                    cursor: events::encode_cursor(cursor),
                    node: Event(seen),
                });
            }
        }
        Ok(EventConnection {
            page_info: PageInfo {
                has_next_page,
                has_previous_page: after > 0,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                // Where the next poll starts, even from an empty page.
                end_cursor: Some(events::encode_cursor(cursor)),
            },
            edges,
        })
    }
}

/// Declares a change object: the changed object (resolved as it is now, in
/// the caller's view), the previous and new value of `$status`, when, and
/// the feed cursor.
macro_rules! change_object {
    ($name:ident, $doc:literal, $object:ident: $object_ty:ty => $find:path,
     $previous:ident, $status:ident: $status_ty:ty = $stored_ty:ty,
     $previous_key:literal, $status_key:literal) => {
        #[doc = $doc]
        #[derive(SimpleObject)]
        #[graphql(complex)]
        pub struct $name {
            /// The value before the change (none when there was no earlier one).
            pub $previous: Option<$status_ty>,
            /// The value after the change.
            pub $status: Option<$status_ty>,
            /// When the change happened.
            pub occurred_at: DateTime<Utc>,
            /// Position in the event feed: resume `events(after:)` from here.
            pub cursor: String,
            #[graphql(skip)]
            pub subject_id: Uuid,
        }

        impl From<Seen> for $name {
            fn from(seen: Seen) -> Self {
                Self {
                    $previous: status::<$stored_ty>(&seen, $previous_key).map(Into::into),
                    $status: status::<$stored_ty>(&seen, $status_key).map(Into::into),
                    occurred_at: seen.event.occurred_at,
                    cursor: events::encode_cursor(seen.event.id),
                    subject_id: seen.event.subject_id,
                }
            }
        }

        #[ComplexObject]
        impl $name {
            /// The changed object as it is now; null if you may no longer see it.
            async fn $object(&self, ctx: &Context<'_>) -> ApiResult<Option<$object_ty>> {
                let request = context::request(ctx)?;
                let found = $find(context::db(ctx)?, &request.caller(), self.subject_id).await?;
                Ok(found.map(Into::into))
            }
        }
    };
}

change_object!(
    DealRegistrationStatusChange, "A deal registration moved to another status.",
    deal_registration: DealRegistration => registrations::find,
    previous_status, status: DealRegistrationStatus = domain::DealRegistrationStatus,
    "previousStatus", "status"
);
change_object!(
    OpportunityStageChange, "An opportunity moved to another stage.",
    opportunity: Opportunity => opportunities::find,
    previous_stage, stage: OpportunityStage = domain::OpportunityStage,
    "previousStage", "stage"
);
change_object!(
    CertificationStatusChange, "A certification moved to another status.",
    certification: Certification => certifications::find,
    previous_status, status: CertificationStatus = domain::CertificationStatus,
    "previousStatus", "status"
);
change_object!(
    PartnerStatusChange, "A partner moved to another status.",
    partner: Partner => partners::find,
    previous_status, status: PartnerStatus = domain::PartnerStatus,
    "previousStatus", "status"
);

/// The value of a status field of the payload, as the enum it is stored as.
fn status<T: std::str::FromStr>(seen: &Seen, key: &str) -> Option<T> {
    seen.data().get(key)?.as_str()?.parse().ok()
}

/// Live changes over WebSocket (`graphql-transport-ws` or `graphql-ws`).
#[derive(Default)]
pub struct Subscription;

/// The bus and database a subscription reads; the WebSocket layer provides them.
fn sources(ctx: &Context<'_>) -> ApiResult<(DatabaseConnection, EventBus)> {
    let bus = ctx.data_opt::<EventBus>().cloned().ok_or_else(|| {
        ApiError::BadUserInput("subscriptions run over WebSocket on /graphql".into())
    })?;
    Ok((context::db(ctx)?.clone(), bus))
}

/// A live stream of one event type, narrowed to a subject or a partner.
fn changes<T>(
    ctx: &Context<'_>,
    event_type: EventType,
    subject_id: Option<Uuid>,
    partner_id: Option<Uuid>,
) -> ApiResult<impl Stream<Item = ApiResult<T>> + use<T>>
where
    T: From<Seen> + Send + 'static,
{
    let request = context::request(ctx)?;
    let mut filter = filter_for(request, BTreeSet::from([event_type]));
    if filter.types.is_empty() {
        return Err(ApiError::Forbidden(format!(
            "your token may not read `{event_type}` events"
        )));
    }
    filter.subject_id = subject_id;
    filter.partner_id = partner_id;
    let (db, bus) = sources(ctx)?;
    Ok(feed::stream(db, bus, filter, None).map(|seen| Ok(T::from(seen?))))
}

/// Live changes over WebSocket (`graphql-transport-ws` or `graphql-ws`).
#[Subscription]
impl Subscription {
    /// Every event you may see after `after`, then live ones as they happen:
    /// reconnect with the last cursor you received and you miss nothing and
    /// see nothing twice. Without `after`, from now on.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Event types to include; all when omitted.")] types: Option<Vec<String>>,
        #[graphql(desc = "Resume after this cursor.")] after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Event, ApiError>>, ApiError> {
        let request = context::request(ctx)?;
        let filter = filter_for(request, parse_types(types)?);
        let after = parse_after(after)?;
        let (db, bus) = sources(ctx)?;
        Ok(feed::stream(db, bus, filter, after).map(|seen| Ok(Event(seen?))))
    }

    /// Status changes of deal registrations: one (`id`), one partner's
    /// (`partnerId`), or all you may see.
    async fn deal_registration_status_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this registration.")] id: Option<ID>,
        #[graphql(desc = "Only this partner's registrations.")] partner_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<DealRegistrationStatusChange, ApiError>>, ApiError> {
        let id = parse_id("id", id, NodeType::DealRegistration)?;
        let partner = parse_id("partnerId", partner_id, NodeType::Partner)?;
        changes(ctx, EventType::DealRegistrationStatusChanged, id, partner)
    }

    /// Stage changes of opportunities: one (`id`), one partner's
    /// (`partnerId`), or all you may see.
    async fn opportunity_stage_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this opportunity.")] id: Option<ID>,
        #[graphql(desc = "Only opportunities this partner is credited on.")] partner_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<OpportunityStageChange, ApiError>>, ApiError> {
        let id = parse_id("id", id, NodeType::Opportunity)?;
        let partner = parse_id("partnerId", partner_id, NodeType::Partner)?;
        changes(ctx, EventType::OpportunityStageChanged, id, partner)
    }

    /// Status changes of certifications, of one partner's people or all you may see.
    async fn certification_status_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this partner's certifications.")] partner_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<CertificationStatusChange, ApiError>>, ApiError> {
        let partner = parse_id("partnerId", partner_id, NodeType::Partner)?;
        changes(ctx, EventType::CertificationStatusChanged, None, partner)
    }

    /// Status changes of partners: one partner's or all you may see.
    async fn partner_status_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this partner.")] partner_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<PartnerStatusChange, ApiError>>, ApiError> {
        let partner = parse_id("partnerId", partner_id, NodeType::Partner)?;
        changes(ctx, EventType::PartnerStatusChanged, None, partner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_is_an_opaque_id() {
        let id = Uuid::now_v7();
        for subject in SubjectType::iter() {
            let encoded = subject_global_id(subject, id);
            assert_eq!(
                ids::decode(&encoded).map(|(t, u)| (t.name().to_owned(), u)),
                Some((subject.to_string(), id))
            );
        }
    }
}
