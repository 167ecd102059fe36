//! Partner activity (SPEC §4.5): `recordPartnerActivity` and, for
//! integrations, `recordPartnerActivities` (up to 500, all or nothing).

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::partner_activity;

use super::{context, enums::ActivityKind, payload::mutate};
use crate::{
    auth::Action,
    domain::{UserError, UserErrorCode},
    error::ApiResult,
    ids::{self, NodeType},
    service::{
        activity::{self as service, NewActivity, MAX_BATCH},
        Failure,
    },
};

/// Something a partner's people did that counts toward engagement.
pub struct PartnerActivity(partner_activity::Model);

impl From<partner_activity::Model> for PartnerActivity {
    fn from(model: partner_activity::Model) -> Self {
        Self(model)
    }
}

/// Something a partner's people did that counts toward engagement.
#[Object]
impl PartnerActivity {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::PartnerActivity, self.0.id))
    }

    /// What was done.
    async fn kind(&self) -> ActivityKind {
        self.0.kind.into()
    }

    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// How many times (at least 1).
    async fn count(&self) -> i32 {
        self.0.count
    }

    /// The contact who did it, by global id, if given.
    async fn contact_id(&self) -> Option<ID> {
        self.0
            .contact_id
            .map(|id| ID(ids::encode(NodeType::PartnerContact, id)))
    }

    /// The sender's own id for the record; sending it again changes nothing.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }

    /// When it was recorded.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One activity record.
#[derive(InputObject, Clone)]
pub struct RecordPartnerActivityInput {
    /// The partner (staff only, who record on a partner's behalf; a partner records its own).
    pub partner_id: Option<ID>,
    /// What was done.
    pub kind: ActivityKind,
    /// When it happened; now when absent, and never in the future.
    pub occurred_at: Option<DateTime<Utc>>,
    /// How many times, at least 1; 1 when absent.
    pub count: Option<i32>,
    /// The partner contact who did it.
    pub contact_id: Option<ID>,
    /// Your own id for this record (an LMS or portal event id): sending the
    /// same record again is a no-op; the same id for another activity is refused.
    pub external_id: Option<String>,
}

/// Up to 500 activity records, recorded all together or not at all.
#[derive(InputObject)]
pub struct RecordPartnerActivitiesInput {
    /// The records; each bad one is named by its index in `userErrors`.
    pub activities: Vec<RecordPartnerActivityInput>,
}

/// The result of `recordPartnerActivity`.
#[derive(SimpleObject)]
pub struct RecordPartnerActivityPayload {
    /// The record (the first one, when it was sent before), unless `userErrors` says why not.
    pub activity: Option<PartnerActivity>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of `recordPartnerActivities`.
#[derive(SimpleObject)]
pub struct RecordPartnerActivitiesPayload {
    /// The records in input order; empty when `userErrors` says why none was recorded.
    pub activities: Vec<PartnerActivity>,
    /// Every bad record, by `["input", "activities", index, field]`.
    pub user_errors: Vec<UserError>,
}

/// Decodes the ids of `input`; a malformed id is an error at its field.
fn parse(
    input: RecordPartnerActivityInput,
    index: Option<usize>,
    errors: &mut Vec<UserError>,
) -> NewActivity {
    let mut id_of = |field: &str, node_type: NodeType, id: Option<ID>| {
        let id = id?;
        let decoded = ids::decode_as(node_type, &id);
        if decoded.is_none() {
            let mut path = vec!["input".to_owned()];
            if let Some(i) = index {
                path.extend(["activities".to_owned(), i.to_string()]);
            }
            path.push(field.to_owned());
            errors.push(UserError {
                field: Some(path),
                code: UserErrorCode::NotFound,
                message: format!("no {} has this id", node_type.name()),
            });
        }
        decoded
    };
    NewActivity {
        partner_id: id_of("partnerId", NodeType::Partner, input.partner_id),
        contact_id: id_of("contactId", NodeType::PartnerContact, input.contact_id),
        kind: input.kind.into(),
        occurred_at: input.occurred_at,
        count: input.count.unwrap_or(1),
        external_id: input.external_id,
    }
}

#[derive(Default)]
pub struct ActivityMutation;

#[Object]
impl ActivityMutation {
    /// Records what a partner's people did (portal logins, downloads,
    /// trainings). A partner records its own; `PARTNER_MANAGER` and `ADMIN`
    /// record on a partner's behalf. Needs `partners:write`.
    async fn record_partner_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity.")] input: RecordPartnerActivityInput,
    ) -> ApiResult<RecordPartnerActivityPayload> {
        let (recorded, user_errors) = mutate(ctx, Action::RecordActivity, |request| async move {
            let mut errors = Vec::new();
            let new = parse(input, None, &mut errors);
            if !errors.is_empty() {
                return Err(Failure::User(errors));
            }
            service::record(context::db(ctx)?, &request.caller(), vec![new], true).await
        })
        .await?;
        Ok(RecordPartnerActivityPayload {
            activity: recorded.and_then(|mut all| all.pop()).map(PartnerActivity),
            user_errors,
        })
    }

    /// Records up to 500 activities at once, all or nothing (for LMS and
    /// portal integrations). Same rights as `recordPartnerActivity`.
    async fn record_partner_activities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activities.")] input: RecordPartnerActivitiesInput,
    ) -> ApiResult<RecordPartnerActivitiesPayload> {
        let (recorded, user_errors) = mutate(ctx, Action::RecordActivity, |request| async move {
            if input.activities.len() > MAX_BATCH {
                return Err(UserError::on_field(
                    "activities",
                    UserErrorCode::InvalidValue,
                    format!("at most {MAX_BATCH} activities at once"),
                )
                .into());
            }
            let mut errors = Vec::new();
            let batch: Vec<NewActivity> = input
                .activities
                .into_iter()
                .enumerate()
                .map(|(i, a)| parse(a, Some(i), &mut errors))
                .collect();
            if !errors.is_empty() {
                return Err(Failure::User(errors));
            }
            service::record(context::db(ctx)?, &request.caller(), batch, false).await
        })
        .await?;
        Ok(RecordPartnerActivitiesPayload {
            activities: recorded
                .unwrap_or_default()
                .into_iter()
                .map(PartnerActivity)
                .collect(),
            user_errors,
        })
    }
}
