//! One kind's rows as a table, read with the principal's row scope and
//! shown with its field visibility: staff get every column, a partner only
//! the columns of fields the visibility policy gives it (`policy::partner_view`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    certification, certification_track, deal_registration, incentive_payout, opportunity,
    opportunity_attribution, opportunity_external_id, partner, partner_contact,
    partner_external_id,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{table::Table, Filter, Kind};
use crate::{
    auth::Principal,
    domain::{
        inputs::{CurrencyCode, Percent},
        money::Money,
        AttributionRole,
    },
    ids::{self, NodeType},
    policy::{self, partner_view},
};

/// One column: its header, the GraphQL field whose visibility it has, and
/// its cells.
struct Column {
    header: &'static str,
    visible_as: (&'static str, &'static str),
    cells: Vec<String>,
}

fn column<R>(
    header: &'static str,
    visible_as: (&'static str, &'static str),
    rows: &[R],
    cell: impl Fn(&R) -> String,
) -> Column {
    Column {
        header,
        visible_as,
        cells: rows.iter().map(cell).collect(),
    }
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn time(value: &Option<DateTime<Utc>>) -> String {
    value.map(|t| t.to_rfc3339()).unwrap_or_default()
}

fn date(value: NaiveDate) -> String {
    value.format("%Y-%m-%d").to_string()
}

fn amount(minor_units: i64, currency: &str) -> String {
    Money {
        minor_units,
        currency: CurrencyCode::stored(currency.to_owned()),
    }
    .amount()
    .to_string()
}

fn enum_text(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Names of the partners `principal` may see.
async fn partner_names(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> anyhow::Result<HashMap<Uuid, String>> {
    Ok(partner::Entity::find()
        .filter(policy::partner_rows(principal))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

fn name_of(names: &HashMap<Uuid, String>, id: Uuid) -> String {
    names.get(&id).cloned().unwrap_or_default()
}

/// `kind`'s rows that `principal` may see, in its view, oldest first.
pub async fn export(
    db: &impl ConnectionTrait,
    kind: Kind,
    principal: &Principal,
    filter: Filter,
) -> anyhow::Result<Table> {
    let columns = match kind {
        Kind::Partners => partners(db, principal).await?,
        Kind::Contacts => contacts(db, principal).await?,
        Kind::Certifications => certifications(db, principal).await?,
        Kind::Registrations => registrations(db, principal).await?,
        Kind::Opportunities => opportunities(db, principal).await?,
        Kind::Payouts => payouts(db, principal, filter).await?,
    };
    let shown: Vec<Column> = columns
        .into_iter()
        .filter(|c| {
            principal.is_staff() || partner_view::is_visible(c.visible_as.0, c.visible_as.1)
        })
        .collect();
    let rows = shown.first().map_or(0, |c| c.cells.len());
    Ok(Table {
        headers: shown.iter().map(|c| c.header.to_owned()).collect(),
        rows: (0..rows)
            .map(|i| shown.iter().map(|c| c.cells[i].clone()).collect())
            .collect(),
    })
}

async fn partners(db: &impl ConnectionTrait, principal: &Principal) -> anyhow::Result<Vec<Column>> {
    let rows = partner::Entity::find()
        .filter(policy::partner_rows(principal))
        .order_by_asc(partner::Column::CreatedAt)
        .order_by_asc(partner::Column::Id)
        .all(db)
        .await?;
    // CRM ids as `system:id; system:id`, the form import reads back.
    let mut external: HashMap<Uuid, Vec<String>> = HashMap::new();
    if principal.is_staff() {
        for link in partner_external_id::Entity::find()
            .order_by_asc(partner_external_id::Column::System)
            .all(db)
            .await?
        {
            external
                .entry(link.partner_id)
                .or_default()
                .push(format!("{}:{}", link.system, link.external_id));
        }
    }
    const P: &str = "Partner";
    Ok(vec![
        column("id", (P, "id"), &rows, |p| {
            ids::encode(NodeType::Partner, p.id)
        }),
        column("externalIds", (P, "externalIds"), &rows, |p| {
            external
                .get(&p.id)
                .map(|k| k.join("; "))
                .unwrap_or_default()
        }),
        column("name", (P, "name"), &rows, |p| p.name.clone()),
        column("type", (P, "type"), &rows, |p| enum_text(p.partner_type)),
        column("tier", (P, "tier"), &rows, |p| enum_text(p.tier)),
        column("status", (P, "status"), &rows, |p| enum_text(p.status)),
        column("website", (P, "website"), &rows, |p| text(&p.website)),
        column("signedAt", (P, "signedAt"), &rows, |p| time(&p.signed_at)),
        column("customerNps", (P, "customerNps"), &rows, |p| {
            p.customer_nps.map(|n| n.to_string()).unwrap_or_default()
        }),
        column("marginPercent", (P, "marginPercent"), &rows, |p| {
            p.margin_bps
                .map(|b| Percent::from_basis_points(b).as_decimal().to_string())
                .unwrap_or_default()
        }),
        column("internalNotes", (P, "internalNotes"), &rows, |p| {
            text(&p.internal_notes)
        }),
    ])
}

async fn contacts(db: &impl ConnectionTrait, principal: &Principal) -> anyhow::Result<Vec<Column>> {
    let names = partner_names(db, principal).await?;
    let rows = partner_contact::Entity::find()
        .filter(policy::contact_rows(principal))
        .order_by_asc(partner_contact::Column::CreatedAt)
        .order_by_asc(partner_contact::Column::Id)
        .all(db)
        .await?;
    const C: &str = "PartnerContact";
    Ok(vec![
        column("id", (C, "id"), &rows, |c| {
            ids::encode(NodeType::PartnerContact, c.id)
        }),
        column("partner", ("Partner", "name"), &rows, |c| {
            name_of(&names, c.partner_id)
        }),
        column("name", (C, "name"), &rows, |c| c.name.clone()),
        column("email", (C, "email"), &rows, |c| c.email.clone()),
        column("role", (C, "role"), &rows, |c| enum_text(c.role)),
        column("active", (C, "active"), &rows, |c| {
            c.deactivated_at.is_none().to_string()
        }),
        column("portalRole", (C, "portalRole"), &rows, |c| {
            c.portal_role.map(enum_text).unwrap_or_default()
        }),
    ])
}

async fn certifications(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> anyhow::Result<Vec<Column>> {
    let names = partner_names(db, principal).await?;
    let emails: HashMap<Uuid, String> = partner_contact::Entity::find()
        .filter(policy::contact_rows(principal))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.email))
        .collect();
    let tracks: HashMap<Uuid, String> = certification_track::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.code))
        .collect();
    let rows = certification::Entity::find()
        .filter(policy::certification_rows(principal))
        .order_by_asc(certification::Column::CreatedAt)
        .order_by_asc(certification::Column::Id)
        .all(db)
        .await?;
    const C: &str = "Certification";
    Ok(vec![
        column("id", (C, "id"), &rows, |c| {
            ids::encode(NodeType::Certification, c.id)
        }),
        column("partner", ("Partner", "name"), &rows, |c| {
            name_of(&names, c.partner_id)
        }),
        column("contactEmail", ("PartnerContact", "email"), &rows, |c| {
            name_of(&emails, c.contact_id)
        }),
        column("track", ("CertificationTrack", "code"), &rows, |c| {
            name_of(&tracks, c.track_id)
        }),
        column("status", (C, "status"), &rows, |c| enum_text(c.status)),
        column("enrolledAt", (C, "enrolledAt"), &rows, |c| {
            c.enrolled_at.to_rfc3339()
        }),
        column("earnedAt", (C, "earnedAt"), &rows, |c| time(&c.earned_at)),
        column("expiresAt", (C, "expiresAt"), &rows, |c| {
            time(&c.expires_at)
        }),
    ])
}

async fn registrations(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> anyhow::Result<Vec<Column>> {
    let names = partner_names(db, principal).await?;
    let rows = deal_registration::Entity::find()
        .filter(policy::registration_rows(principal))
        .order_by_asc(deal_registration::Column::SubmittedAt)
        .order_by_asc(deal_registration::Column::Id)
        .all(db)
        .await?;
    const R: &str = "DealRegistration";
    Ok(vec![
        column("id", (R, "id"), &rows, |r| {
            ids::encode(NodeType::DealRegistration, r.id)
        }),
        column("reference", (R, "reference"), &rows, |r| {
            r.reference.clone()
        }),
        column("partner", ("Partner", "name"), &rows, |r| {
            name_of(&names, r.partner_id)
        }),
        column("status", (R, "status"), &rows, |r| enum_text(r.status)),
        column("companyName", (R, "companyName"), &rows, |r| {
            r.company_name.clone()
        }),
        column("companyDomain", (R, "companyDomain"), &rows, |r| {
            r.company_domain.clone()
        }),
        column(
            "customerContactName",
            (R, "customerContactName"),
            &rows,
            |r| r.customer_contact_name.clone(),
        ),
        column(
            "customerContactEmail",
            (R, "customerContactEmail"),
            &rows,
            |r| r.customer_contact_email.clone(),
        ),
        column("estimatedAmount", (R, "estimatedAmount"), &rows, |r| {
            amount(r.amount_minor, &r.currency)
        }),
        column("currency", (R, "estimatedAmount"), &rows, |r| {
            r.currency.clone()
        }),
        column("expectedCloseDate", (R, "expectedCloseDate"), &rows, |r| {
            date(r.expected_close_date)
        }),
        column("product", (R, "product"), &rows, |r| text(&r.product)),
        column("notes", (R, "notes"), &rows, |r| text(&r.notes)),
        column("internalNotes", (R, "internalNotes"), &rows, |r| {
            text(&r.internal_notes)
        }),
        column("submittedAt", (R, "submittedAt"), &rows, |r| {
            r.submitted_at.to_rfc3339()
        }),
        column("decidedAt", (R, "decidedAt"), &rows, |r| {
            time(&r.decided_at)
        }),
        column("decisionReason", (R, "decisionReason"), &rows, |r| {
            text(&r.decision_reason)
        }),
        column("protectionEndsAt", (R, "protectionEndsAt"), &rows, |r| {
            time(&r.protection_ends_at)
        }),
    ])
}

async fn opportunities(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> anyhow::Result<Vec<Column>> {
    let rows = opportunity::Entity::find()
        .filter(policy::opportunity_rows(principal))
        .order_by_asc(opportunity::Column::CreatedAt)
        .order_by_asc(opportunity::Column::Id)
        .all(db)
        .await?;
    let references: HashMap<Uuid, String> = deal_registration::Entity::find()
        .filter(policy::registration_rows(principal))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.reference))
        .collect();
    // Who is credited, by role: staff only (the column is internal), so
    // every partner's name may be read.
    let mut credited: HashMap<(Uuid, AttributionRole), Vec<String>> = HashMap::new();
    if principal.is_staff() {
        let names = partner_names(db, principal).await?;
        for a in opportunity_attribution::Entity::find()
            .order_by_asc(opportunity_attribution::Column::CreatedAt)
            .all(db)
            .await?
        {
            credited
                .entry((a.opportunity_id, a.role))
                .or_default()
                .push(name_of(&names, a.partner_id));
        }
    }
    let credit = |o: &opportunity::Model, role| {
        credited
            .get(&(o.id, role))
            .map(|names| names.join("; "))
            .unwrap_or_default()
    };
    let mut external: HashMap<Uuid, Vec<String>> = HashMap::new();
    if principal.is_staff() {
        for link in opportunity_external_id::Entity::find()
            .order_by_asc(opportunity_external_id::Column::System)
            .all(db)
            .await?
        {
            external
                .entry(link.opportunity_id)
                .or_default()
                .push(format!("{}:{}", link.system, link.external_id));
        }
    }
    const O: &str = "Opportunity";
    Ok(vec![
        column("id", (O, "id"), &rows, |o| {
            ids::encode(NodeType::Opportunity, o.id)
        }),
        column("externalIds", (O, "externalIds"), &rows, |o| {
            external
                .get(&o.id)
                .map(|k| k.join("; "))
                .unwrap_or_default()
        }),
        column("name", (O, "name"), &rows, |o| o.name.clone()),
        column("companyName", (O, "companyName"), &rows, |o| {
            o.company_name.clone()
        }),
        column("companyDomain", (O, "companyDomain"), &rows, |o| {
            o.company_domain.clone()
        }),
        column("source", (O, "source"), &rows, |o| enum_text(o.source)),
        column("stage", (O, "stage"), &rows, |o| enum_text(o.stage)),
        column("amount", (O, "amount"), &rows, |o| {
            amount(o.amount_minor, &o.currency)
        }),
        column("currency", (O, "amount"), &rows, |o| o.currency.clone()),
        column("expectedCloseDate", (O, "expectedCloseDate"), &rows, |o| {
            date(o.expected_close_date)
        }),
        column("closedAt", (O, "closedAt"), &rows, |o| time(&o.closed_at)),
        column("closedLostReason", (O, "closedLostReason"), &rows, |o| {
            text(&o.closed_lost_reason)
        }),
        column("nextStep", (O, "nextStep"), &rows, |o| text(&o.next_step)),
        column("registration", (O, "dealRegistration"), &rows, |o| {
            o.deal_registration_id
                .map(|id| name_of(&references, id))
                .unwrap_or_default()
        }),
        column("sourcedBy", (O, "attributions"), &rows, |o| {
            credit(o, AttributionRole::Sourced)
        }),
        column("influencedBy", (O, "attributions"), &rows, |o| {
            credit(o, AttributionRole::Influenced)
        }),
        column("coSellWith", (O, "attributions"), &rows, |o| {
            credit(o, AttributionRole::CoSell)
        }),
        column("internalNotes", (O, "internalNotes"), &rows, |o| {
            text(&o.internal_notes)
        }),
    ])
}

async fn payouts(
    db: &impl ConnectionTrait,
    principal: &Principal,
    filter: Filter,
) -> anyhow::Result<Vec<Column>> {
    let mut select = incentive_payout::Entity::find().filter(policy::payout_rows(principal));
    if let Some(month) = filter.period {
        let next = month + chrono::Months::new(1);
        select = select
            .filter(incentive_payout::Column::PeriodEnd.gte(month))
            .filter(incentive_payout::Column::PeriodEnd.lt(next));
    }
    let rows = select
        .order_by_asc(incentive_payout::Column::CreatedAt)
        .order_by_asc(incentive_payout::Column::Id)
        .all(db)
        .await?;
    let names = partner_names(db, principal).await?;
    const P: &str = "Payout";
    Ok(vec![
        column("id", (P, "id"), &rows, |p| {
            ids::encode(NodeType::Payout, p.id)
        }),
        column("partnerId", (P, "partner"), &rows, |p| {
            ids::encode(NodeType::Partner, p.partner_id)
        }),
        column("partner", (P, "partner"), &rows, |p| {
            name_of(&names, p.partner_id)
        }),
        column("amount", (P, "amount"), &rows, |p| {
            amount(p.amount_minor, &p.currency)
        }),
        column("currency", (P, "amount"), &rows, |p| p.currency.clone()),
        column("periodEnd", (P, "periodEnd"), &rows, |p| date(p.period_end)),
        column("status", (P, "status"), &rows, |p| enum_text(p.status)),
        column("externalReference", (P, "externalReference"), &rows, |p| {
            text(&p.external_reference)
        }),
        column("failureReason", (P, "failureReason"), &rows, |p| {
            text(&p.failure_reason)
        }),
        column("paidAt", (P, "paidAt"), &rows, |p| time(&p.paid_at)),
        column("createdAt", (P, "createdAt"), &rows, |p| {
            p.created_at.to_rfc3339()
        }),
    ])
}
