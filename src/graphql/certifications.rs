//! Certification tracks and certifications: types, queries and mutations.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::{certification, certification_track};

use super::{
    connection::{connection, empty_page, filter_id, page_args},
    context,
    enums::{stored_all, CertificationKind, CertificationLevel, CertificationStatus},
    loaders::{self, ContactOfVisibleRow, TrackId},
    partners::PartnerContact,
    payload::{mutate, InputCheck},
};
use crate::{
    auth::Action,
    domain::{inputs::DisplayName, UserError},
    error::ApiResult,
    ids::{self, NodeType},
    service::certifications::{self as service, CertificationFilter, NewTrack, TrackChanges},
};

/// A certification programme partner people can earn.
pub struct CertificationTrack(certification_track::Model);

impl From<certification_track::Model> for CertificationTrack {
    fn from(model: certification_track::Model) -> Self {
        Self(model)
    }
}

/// A certification programme partner people can earn.
#[Object]
impl CertificationTrack {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::CertificationTrack, self.0.id))
    }

    /// Unique code, e.g. `SALES-101`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the track certifies.
    async fn kind(&self) -> CertificationKind {
        self.0.kind.into()
    }

    /// How advanced the track is.
    async fn level(&self) -> CertificationLevel {
        self.0.level.into()
    }

    /// Months a certification stays valid after it is earned.
    async fn validity_months(&self) -> i32 {
        self.0.validity_months
    }

    /// Whether contacts can enroll and be awarded.
    async fn active(&self) -> bool {
        self.0.active
    }

    /// Bumped by every change; pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A partner contact's certification on one track.
pub struct Certification(certification::Model);

impl From<certification::Model> for Certification {
    fn from(model: certification::Model) -> Self {
        Self(model)
    }
}

/// A partner contact's certification on one track.
#[Object]
impl Certification {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Certification, self.0.id))
    }

    /// The certified person.
    async fn contact(&self, ctx: &Context<'_>) -> ApiResult<Option<PartnerContact>> {
        // The certification is already scoped to the caller; its contact belongs to the same partner.
        Ok(loaders::load(ctx, ContactOfVisibleRow(self.0.contact_id))
            .await?
            .map(PartnerContact::from))
    }

    /// The track.
    async fn track(&self, ctx: &Context<'_>) -> ApiResult<Option<CertificationTrack>> {
        Ok(loaders::load(ctx, TrackId(self.0.track_id))
            .await?
            .map(CertificationTrack))
    }

    /// Where the certification stands.
    async fn status(&self) -> CertificationStatus {
        self.0.status.into()
    }

    /// When the contact enrolled.
    async fn enrolled_at(&self) -> DateTime<Utc> {
        self.0.enrolled_at
    }

    /// When it was (last) earned.
    async fn earned_at(&self) -> Option<DateTime<Utc>> {
        self.0.earned_at
    }

    /// When it expires: `earnedAt` plus the track's validity.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// Bumped by every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

connection!(
    CertificationTrackConnection,
    CertificationTrackEdge,
    CertificationTrack,
    "certification tracks"
);
connection!(
    CertificationConnection,
    CertificationEdge,
    Certification,
    "certifications"
);

/// Narrows the `certifications` list; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct CertificationFilterInput {
    /// Only this partner's contacts' certifications.
    pub partner_id: Option<ID>,
    /// Only this contact's certifications.
    pub contact_id: Option<ID>,
    /// Only certifications in one of these statuses.
    pub status: Option<Vec<CertificationStatus>>,
    /// Only certifications on tracks of this kind.
    pub kind: Option<CertificationKind>,
    /// Only certifications on tracks of this level.
    pub level: Option<CertificationLevel>,
    /// Only active certifications that expire within this many days.
    pub expiring_within_days: Option<i32>,
}

/// The certifications of `partner_id` or `contact_id`, as a connection.
pub async fn certifications_of(
    ctx: &Context<'_>,
    filter: CertificationFilter,
    page: crate::service::pagination::PageArgs,
) -> ApiResult<CertificationConnection> {
    let request = context::request(ctx)?;
    request.principal.authorize(Action::ReadCertifications)?;
    let page = service::list(context::db(ctx)?, &request.caller(), filter, page).await?;
    Ok(CertificationConnection::from_page(page, Certification))
}

/// The certifications of one of a list's partners or contacts, as a
/// connection, read with those of its siblings.
pub async fn nested_certifications(
    ctx: &Context<'_>,
    of: service::CertificationsOf,
    parent: uuid::Uuid,
    page: crate::service::pagination::PageArgs,
) -> ApiResult<CertificationConnection> {
    context::request(ctx)?
        .principal
        .authorize(Action::ReadCertifications)?;
    let page = super::loaders::nested_page(ctx, of, parent, page).await?;
    Ok(CertificationConnection::from_page(page, Certification))
}

#[derive(Default)]
pub struct CertificationQuery;

#[Object]
impl CertificationQuery {
    /// Certification tracks, by code. Needs `certifications:read`.
    async fn certification_tracks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only active tracks.", default = false)] active_only: bool,
        #[graphql(desc = "Return the first n tracks (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return tracks after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n tracks (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return tracks before this cursor.")] before: Option<String>,
    ) -> ApiResult<CertificationTrackConnection> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadCertifications)?;
        let page = service::tracks(
            context::db(ctx)?,
            active_only,
            page_args(ctx, first, after, last, before),
        )
        .await?;
        Ok(CertificationTrackConnection::from_page(
            page,
            CertificationTrack,
        ))
    }

    /// Certifications you may see, filtered. Needs `certifications:read`.
    async fn certifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the certifications must meet.")] filter: Option<
            CertificationFilterInput,
        >,
        #[graphql(desc = "Return the first n certifications (at most 100; default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Return certifications after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n certifications (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Return certifications before this cursor.")] before: Option<String>,
    ) -> ApiResult<CertificationConnection> {
        let filter = filter.unwrap_or_default();
        let page = page_args(ctx, first, after, last, before);
        let (Ok(partner_id), Ok(contact_id)) = (
            filter_id(filter.partner_id, NodeType::Partner),
            filter_id(filter.contact_id, NodeType::PartnerContact),
        ) else {
            let page = empty_page(ctx, Action::ReadCertifications, &page)?;
            return Ok(CertificationConnection::from_page(page, Certification));
        };
        let filter = CertificationFilter {
            partner_id,
            contact_id,
            statuses: stored_all(filter.status),
            kind: filter.kind.map(Into::into),
            level: filter.level.map(Into::into),
            expiring_within_days: filter.expiring_within_days,
        };
        certifications_of(ctx, filter, page).await
    }
}

/// A new certification track.
#[derive(InputObject)]
pub struct CreateCertificationTrackInput {
    /// Unique code: 2 to 40 letters, digits, `-` or `_` (stored upper-case).
    pub code: String,
    /// Display name.
    pub name: String,
    /// What the track certifies.
    pub kind: CertificationKind,
    /// How advanced the track is.
    pub level: CertificationLevel,
    /// Months a certification stays valid, 1 to 120; 12 when absent.
    pub validity_months: Option<i32>,
    /// Whether contacts can enroll right away; true when absent.
    pub active: Option<bool>,
}

/// Changes to a track; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateCertificationTrackInput {
    /// The track's global id.
    pub id: ID,
    /// The `version` you read, if the change should be refused when the track changed since.
    pub expected_version: Option<i32>,
    /// New display name.
    pub name: Option<String>,
    /// New level.
    pub level: Option<CertificationLevel>,
    /// New validity in months, 1 to 120 (applies to certifications earned from now on).
    pub validity_months: Option<i32>,
    /// Activate or retire the track.
    pub active: Option<bool>,
}

/// A contact and a track.
#[derive(InputObject)]
pub struct EnrollCertificationInput {
    /// The partner contact's global id.
    pub contact_id: ID,
    /// The track's global id.
    pub track_id: ID,
}

/// A certification earned.
#[derive(InputObject)]
pub struct AwardCertificationInput {
    /// The partner contact's global id.
    pub contact_id: ID,
    /// The track's global id.
    pub track_id: ID,
    /// When it was earned; now when absent. Not in the future.
    pub earned_at: Option<DateTime<Utc>>,
}

/// A certification to withdraw.
#[derive(InputObject)]
pub struct RevokeCertificationInput {
    /// The certification's global id.
    pub id: ID,
}

/// The result of a track mutation.
#[derive(SimpleObject)]
pub struct CertificationTrackPayload {
    /// The track, unless `userErrors` says why not.
    pub certification_track: Option<CertificationTrack>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The result of a certification mutation.
#[derive(SimpleObject)]
pub struct CertificationPayload {
    /// The certification, unless `userErrors` says why not.
    pub certification: Option<Certification>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

fn track_payload(
    (track, user_errors): (Option<certification_track::Model>, Vec<UserError>),
) -> CertificationTrackPayload {
    CertificationTrackPayload {
        certification_track: track.map(CertificationTrack),
        user_errors,
    }
}

fn certification_payload(
    (certification, user_errors): (Option<certification::Model>, Vec<UserError>),
) -> CertificationPayload {
    CertificationPayload {
        certification: certification.map(Certification),
        user_errors,
    }
}

#[derive(Default)]
pub struct CertificationMutation;

#[Object]
impl CertificationMutation {
    /// Adds a certification track. Needs `PARTNER_MANAGER` or `ADMIN` and `certifications:write`.
    async fn create_certification_track(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new track.")] input: CreateCertificationTrackInput,
    ) -> ApiResult<CertificationTrackPayload> {
        mutate(ctx, Action::WriteCertifications, |request| async move {
            let new = InputCheck::parse(|check| {
                let code = check.field(
                    "code",
                    service::parse_code(&input.code).map_err(crate::domain::inputs::InvalidInput),
                );
                let name = check.field("name", DisplayName::parse(&input.name));
                Some(NewTrack {
                    code: code?,
                    name: name?,
                    kind: input.kind.into(),
                    level: input.level.into(),
                    validity_months: input.validity_months.unwrap_or(12),
                    active: input.active.unwrap_or(true),
                })
            })?;
            service::create_track(context::db(ctx)?, &request.caller(), new).await
        })
        .await
        .map(track_payload)
    }

    /// Changes a certification track. Needs `PARTNER_MANAGER` or `ADMIN` and `certifications:write`.
    async fn update_certification_track(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateCertificationTrackInput,
    ) -> ApiResult<CertificationTrackPayload> {
        mutate(ctx, Action::WriteCertifications, |request| async move {
            let (id, changes) = InputCheck::parse(|check| {
                let id = check.id("id", NodeType::CertificationTrack, &input.id);
                let name = check.optional("name", input.name, |n| DisplayName::parse(&n));
                let changes = TrackChanges {
                    name,
                    level: input.level.map(Into::into),
                    validity_months: input.validity_months,
                    active: input.active,
                };
                Some((id?, changes))
            })?;
            service::update_track(
                context::db(ctx)?,
                &request.caller(),
                id,
                input.expected_version,
                changes,
            )
            .await
        })
        .await
        .map(track_payload)
    }

    /// Enrolls a partner contact on a track (`IN_PROGRESS`). Needs `PARTNER_MANAGER` or `ADMIN` and `certifications:write`.
    async fn enroll_certification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contact and the track.")] input: EnrollCertificationInput,
    ) -> ApiResult<CertificationPayload> {
        mutate(ctx, Action::WriteCertifications, |request| async move {
            let (contact, track) = InputCheck::parse(|check| {
                let contact = check.id("contactId", NodeType::PartnerContact, &input.contact_id);
                let track = check.id("trackId", NodeType::CertificationTrack, &input.track_id);
                Some((contact?, track?))
            })?;
            service::enroll(context::db(ctx)?, &request.caller(), contact, track).await
        })
        .await
        .map(certification_payload)
    }

    /// Awards a track to a partner contact: `ACTIVE` until `expiresAt`.
    /// Awarding a held track renews it. Needs `PARTNER_MANAGER` or `ADMIN` and `certifications:write`.
    async fn award_certification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contact, the track and when it was earned.")]
        input: AwardCertificationInput,
    ) -> ApiResult<CertificationPayload> {
        mutate(ctx, Action::WriteCertifications, |request| async move {
            let (contact, track) = InputCheck::parse(|check| {
                let contact = check.id("contactId", NodeType::PartnerContact, &input.contact_id);
                let track = check.id("trackId", NodeType::CertificationTrack, &input.track_id);
                Some((contact?, track?))
            })?;
            service::award(
                context::db(ctx)?,
                &request.caller(),
                contact,
                track,
                input.earned_at,
            )
            .await
        })
        .await
        .map(certification_payload)
    }

    /// Withdraws a certification (`REVOKED`). Needs `PARTNER_MANAGER` or `ADMIN` and `certifications:write`.
    async fn revoke_certification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The certification to withdraw.")] input: RevokeCertificationInput,
    ) -> ApiResult<CertificationPayload> {
        mutate(ctx, Action::WriteCertifications, |request| async move {
            let id = InputCheck::parse(|check| check.id("id", NodeType::Certification, &input.id))?;
            service::revoke(context::db(ctx)?, &request.caller(), id).await
        })
        .await
        .map(certification_payload)
    }
}
