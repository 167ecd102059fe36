//! Plays the demo script through the use cases, each step as its actor at
//! the moment the script gives: every change has its audit entry and its
//! event, dated as if the program had run for sixteen months.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use entity::opportunity;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::script::{Action, Deal, Script, Who, TRACKS};
use crate::{
    auth::{token, Principal, ScopeSet},
    domain::{
        exchange::Rate,
        inputs::{CurrencyCode, DisplayName, EmailAddress, InvalidInput, WebsiteUrl},
        money::Money,
        scores::ActivityKind,
        OpportunityStage, Role,
    },
    jobs,
    service::{
        activation, activity, certifications, exchange_rates, opportunities, partners,
        registrations, Caller, Failure,
    },
};

/// The people who act: staff by role, and each partner's portal.
pub struct Cast {
    pub admin: Principal,
    pub managers: Vec<Principal>,
    pub reps: Vec<Principal>,
    pub partners: Vec<Option<Principal>>,
}

/// The rows the script's indices became.
#[derive(Default)]
pub struct Seeded {
    pub partners: Vec<Option<Uuid>>,
    contacts: Vec<Option<Uuid>>,
    tracks: Vec<Option<Uuid>>,
    registrations: Vec<Option<Uuid>>,
    registered_deals: Vec<Option<Uuid>>,
    directs: Vec<Option<Uuid>>,
}

fn missing(what: &str, index: usize) -> anyhow::Error {
    anyhow::anyhow!("the demo script used {what} {index} before creating it")
}

fn id(ids: &[Option<Uuid>], what: &str, index: usize) -> anyhow::Result<Uuid> {
    ids.get(index)
        .copied()
        .flatten()
        .ok_or_else(|| missing(what, index))
}

fn set(ids: &mut Vec<Option<Uuid>>, index: usize, id: Uuid) {
    if ids.len() <= index {
        ids.resize(index + 1, None);
    }
    ids[index] = Some(id);
}

fn input<T>(parsed: Result<T, InvalidInput>) -> anyhow::Result<T> {
    parsed.map_err(|e| anyhow::anyhow!("demo data refused: {}", e.0))
}

fn money(amount: i64, currency: &str) -> anyhow::Result<Money> {
    input(Money::from_decimal(
        Decimal::from(amount),
        input(CurrencyCode::parse(currency))?,
    ))
}

/// A use case's refusal, as an error naming the step.
trait Played<T> {
    fn step(self, action: &Action) -> anyhow::Result<T>;
}

impl<T> Played<T> for Result<T, Failure> {
    fn step(self, action: &Action) -> anyhow::Result<T> {
        self.map_err(|failure| anyhow::anyhow!("demo step {action:?} failed: {failure:?}"))
    }
}

/// Plays every step in order; stops at the first refusal (a bug in the script).
pub async fn play(
    db: &DatabaseConnection,
    script: &Script,
    cast: &mut Cast,
    now: DateTime<Utc>,
) -> anyhow::Result<Seeded> {
    let mut ids = Seeded::default();
    for step in &script.steps {
        let at = now - step.ago;
        let principal = match step.who {
            Who::Admin => cast.admin.clone(),
            Who::Manager(n) => cast.managers[n % cast.managers.len()].clone(),
            Who::Rep(n) => cast.reps[n % cast.reps.len()].clone(),
            Who::Partner(p) => cast
                .partners
                .get(p)
                .cloned()
                .flatten()
                .ok_or_else(|| missing("partner", p))?,
        };
        let caller = Caller {
            principal: &principal,
            request_id: None,
            now: at,
        };
        let action = &step.action;
        match action {
            Action::SetRate(currency, rate) => {
                let rate = input(Rate::parse(Decimal::from_str(rate)?))?;
                let currency = input(CurrencyCode::parse(currency))?;
                exchange_rates::set(db, &caller, currency, rate)
                    .await
                    .step(action)?;
            }
            Action::CreateTrack(t) => {
                let track = &TRACKS[*t];
                let new = certifications::NewTrack {
                    code: track.code.to_owned(),
                    name: input(DisplayName::parse(track.name))?,
                    kind: track.kind,
                    level: track.level,
                    validity_months: track.validity_months,
                    active: true,
                };
                let created = certifications::create_track(db, &caller, new)
                    .await
                    .step(action)?;
                set(&mut ids.tracks, *t, created.id);
            }
            Action::CreatePartner(p) => {
                let plan = &script.partners[*p];
                let new = partners::NewPartner {
                    name: input(DisplayName::parse(&plan.name))?,
                    partner_type: plan.partner_type,
                    tier: plan.tier,
                    website: Some(input(WebsiteUrl::parse(&plan.website))?),
                    owner_id: cast.managers[plan.manager].staff_user_id,
                    internal_notes: None,
                    margin: None,
                };
                let created = partners::create(db, &caller, new).await.step(action)?;
                set(&mut ids.partners, *p, created.id);
                let portal = portal_principal(db, created.id, now).await?;
                if cast.partners.len() <= *p {
                    cast.partners.resize(*p + 1, None);
                }
                cast.partners[*p] = Some(portal);
            }
            Action::ChangeStatus(p, status) => {
                let partner = id(&ids.partners, "partner", *p)?;
                partners::change_status(db, &caller, partner, *status, None)
                    .await
                    .step(action)?;
            }
            Action::SetNps(p, nps) => {
                let partner = id(&ids.partners, "partner", *p)?;
                let current = partners::require(db, &caller, partner).await.step(action)?;
                let changes = partners::PartnerChanges {
                    customer_nps: Some(Some(*nps)),
                    ..Default::default()
                };
                partners::update(db, &caller, partner, current.version, changes)
                    .await
                    .step(action)?;
            }
            Action::AddContact(c) => {
                let plan = &script.contacts[*c];
                let new = partners::NewContact {
                    partner_id: id(&ids.partners, "partner", plan.partner)?,
                    name: input(DisplayName::parse(&plan.name))?,
                    email: input(EmailAddress::parse(&plan.email))?,
                    role: plan.role,
                };
                let created = partners::add_contact(db, &caller, new).await.step(action)?;
                set(&mut ids.contacts, *c, created.id);
            }
            Action::RecordMilestone(p, milestone) => {
                let partner = id(&ids.partners, "partner", *p)?;
                activation::record(db, &caller, partner, *milestone, None)
                    .await
                    .step(action)?;
            }
            Action::Enroll { contact, track } => {
                let contact = id(&ids.contacts, "contact", *contact)?;
                let track = id(&ids.tracks, "track", *track)?;
                certifications::enroll(db, &caller, contact, track)
                    .await
                    .step(action)?;
            }
            Action::Award { contact, track } => {
                let contact = id(&ids.contacts, "contact", *contact)?;
                let track = id(&ids.tracks, "track", *track)?;
                certifications::award(db, &caller, contact, track, None)
                    .await
                    .step(action)?;
            }
            Action::Revoke { contact, track } => {
                let contact = id(&ids.contacts, "contact", *contact)?;
                let track = id(&ids.tracks, "track", *track)?;
                let held = certifications::of_contact(db, &caller, contact)
                    .await
                    .map_err(Failure::Api)
                    .step(action)?
                    .into_iter()
                    .find(|c| c.track_id == track)
                    .ok_or_else(|| anyhow::anyhow!("demo step {action:?}: nothing to revoke"))?;
                certifications::revoke(db, &caller, held.id)
                    .await
                    .step(action)?;
            }
            Action::Submit(r) => {
                let plan = &script.registrations[*r];
                let new = registrations::NewRegistration {
                    partner_id: None,
                    company_name: input(DisplayName::parse(&plan.account.company))?,
                    company_domain: registrations::parse_company_domain(&plan.account.domain)
                        .map_err(anyhow::Error::msg)?,
                    customer_contact_name: input(DisplayName::parse(&plan.customer))?,
                    customer_contact_email: input(EmailAddress::parse(&format!(
                        "{}@{}",
                        plan.customer.to_lowercase().replace(' ', "."),
                        plan.account.domain
                    )))?,
                    estimated_amount: money(plan.amount, plan.currency)?,
                    expected_close_date: at.date_naive()
                        + chrono::Duration::days(plan.close_in_days),
                    product: Some(plan.product.to_owned()),
                    notes: None,
                };
                let created = registrations::submit(db, &caller, new).await.step(action)?;
                set(&mut ids.registrations, *r, created.id);
            }
            Action::Approve(r) => {
                let registration = id(&ids.registrations, "registration", *r)?;
                registrations::approve(db, &caller, registration, None)
                    .await
                    .step(action)?;
                let deal = opportunity::Entity::find()
                    .filter(opportunity::Column::DealRegistrationId.eq(registration))
                    .one(db)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("approval created no opportunity"))?;
                set(&mut ids.registered_deals, *r, deal.id);
            }
            Action::Reject(r) => {
                let registration = id(&ids.registrations, "registration", *r)?;
                let reason = "The customer is already in an active evaluation with our team.";
                registrations::reject(db, &caller, registration, reason.into())
                    .await
                    .step(action)?;
            }
            Action::Withdraw(r) => {
                let registration = id(&ids.registrations, "registration", *r)?;
                registrations::withdraw(db, &caller, registration)
                    .await
                    .step(action)?;
            }
            Action::Extend(r) => {
                let registration = id(&ids.registrations, "registration", *r)?;
                let reason = "The customer's procurement review moved a quarter.";
                registrations::extend(db, &caller, registration, 30, reason.into())
                    .await
                    .step(action)?;
            }
            Action::Resolve(r, resolution) => {
                let registration = id(&ids.registrations, "registration", *r)?;
                let open = registrations::conflicts(db, registration)
                    .await?
                    .into_iter()
                    .find(|c| c.resolution.is_none())
                    .ok_or_else(|| anyhow::anyhow!("demo step {action:?}: no open conflict"))?;
                let rationale = "The other partner registered first and holds the relationship.";
                registrations::resolve_conflict(
                    db,
                    &caller,
                    open.id,
                    *resolution,
                    rationale.into(),
                )
                .await
                .step(action)?;
            }
            Action::CreateDirect(d) => {
                let plan = &script.directs[*d];
                let new = opportunities::NewOpportunity {
                    name: input(DisplayName::parse(&plan.name))?,
                    company_name: input(DisplayName::parse(&plan.account.company))?,
                    company_domain: registrations::parse_company_domain(&plan.account.domain)
                        .map_err(anyhow::Error::msg)?,
                    amount: money(plan.amount, plan.currency)?,
                    expected_close_date: at.date_naive()
                        + chrono::Duration::days(plan.close_in_days),
                    next_step: None,
                    owner_id: cast.reps[plan.owner].staff_user_id,
                    discount: None,
                    margin: None,
                    competitor_intel: None,
                    internal_notes: None,
                };
                let created = opportunities::create(db, &caller, new).await.step(action)?;
                set(&mut ids.directs, *d, created.id);
            }
            Action::Credit(deal, p, role) => {
                let deal = deal_id(&ids, *deal)?;
                let partner = id(&ids.partners, "partner", *p)?;
                opportunities::add_partner(db, &caller, deal, partner, *role, None)
                    .await
                    .step(action)?;
            }
            Action::Move(deal, stage) => {
                let deal = deal_id(&ids, *deal)?;
                let reason = (*stage == OpportunityStage::ClosedLost)
                    .then(|| "Lost to a competitor on price.".to_owned());
                opportunities::move_stage(db, &caller, deal, *stage, None, reason)
                    .await
                    .step(action)?;
            }
            Action::Activity {
                logins,
                downloads,
                trainings,
                ..
            } => {
                let records = [
                    (ActivityKind::PortalLogin, *logins),
                    (ActivityKind::ResourceDownload, *downloads),
                    (ActivityKind::TrainingCompleted, *trainings),
                ]
                .into_iter()
                .filter(|(_, count)| *count > 0)
                .map(|(kind, count)| activity::NewActivity {
                    partner_id: None,
                    kind,
                    occurred_at: None,
                    count,
                    contact_id: None,
                    external_id: None,
                })
                .collect();
                activity::record(db, &caller, records, false)
                    .await
                    .step(action)?;
            }
            Action::RunJobs => {
                jobs::run_due(db, at).await?;
            }
        }
    }
    Ok(ids)
}

fn deal_id(ids: &Seeded, deal: Deal) -> anyhow::Result<Uuid> {
    match deal {
        Deal::Registered(r) => id(&ids.registered_deals, "registered deal", r),
        Deal::Direct(d) => id(&ids.directs, "direct opportunity", d),
    }
}

/// A partner's portal integration, as the principal its people act through.
async fn portal_principal(
    db: &DatabaseConnection,
    partner_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<Principal> {
    let scopes = ScopeSet::all();
    let new = token::NewToken {
        role: Role::PartnerRep,
        staff_user_id: None,
        partner_id: Some(partner_id),
        scopes: scopes.clone(),
        // Only the seeding acts with it.
        ttl: chrono::Duration::minutes(5),
        api_client_id: None,
    };
    let (token_id, _secret) = token::issue(db, new, now).await?;
    Ok(Principal {
        role: Role::PartnerRep,
        staff_user_id: None,
        partner_id: Some(partner_id),
        token_id,
        api_client_id: None,
        scopes,
    })
}
