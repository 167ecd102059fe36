//! Partners: matched by id, then external id, then normalised website
//! domain, then normalised company name (SPEC §4.2); created with
//! `partners::create_in`, changed with `partners::update_in`, linked to
//! CRM ids with `external_ids::link_in`.

use std::collections::HashMap;

use entity::{partner, partner_external_id};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::{cells, columns::Field, row::Row, Done, Importer, Written};
use crate::{
    domain::{
        accounts::{normalize_company_name, normalize_domain},
        inputs::{customer_nps, free_text, DisplayName, ExternalKey, Percent, WebsiteUrl},
        PartnerTier, PartnerType,
    },
    ids::{self, NodeType},
    service::{
        external_ids::{self, Holder},
        partners::{self as service, NewPartner, PartnerChanges},
        Caller,
    },
    unit_of_work::UnitOfWork,
};

const OPERATION: &str = "importPartners";

static FIELDS: &[Field] = &[
    Field {
        name: "id",
        aliases: &["Partner ID", "PartnerGraph ID"],
        required: false,
    },
    Field {
        name: "externalIds",
        aliases: &["External ID", "External IDs", "CRM ID"],
        required: false,
    },
    Field {
        name: "name",
        aliases: &[
            "Company",
            "Company Name",
            "Account",
            "Account Name",
            "Partner",
            "Partner Name",
            "Organisation",
            "Organization",
        ],
        required: true,
    },
    Field {
        name: "type",
        aliases: &["Partner Type", "Category"],
        required: false,
    },
    Field {
        name: "tier",
        aliases: &["Partner Tier", "Level"],
        required: false,
    },
    Field {
        name: "website",
        aliases: &["Web", "Website URL", "URL", "Homepage", "Domain", "Site"],
        required: false,
    },
    Field {
        name: "customerNps",
        aliases: &["NPS", "Customer NPS"],
        required: false,
    },
    Field {
        name: "marginPercent",
        aliases: &["Margin", "Margin %", "Discount"],
        required: false,
    },
    Field {
        name: "internalNotes",
        aliases: &["Notes", "Comments", "Internal Notes"],
        required: false,
    },
];

/// `salesforce:001A; hubspot:42` → keys (the same form `export` writes).
pub fn external_keys(text: &str) -> Result<Vec<ExternalKey>, String> {
    let mut keys: Vec<ExternalKey> = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (system, id) = part
            .split_once(':')
            .ok_or_else(|| format!("`{part}` must be SYSTEM:ID, such as salesforce:001A000001"))?;
        let key = ExternalKey {
            system: ExternalKey::system(system).map_err(|e| format!("the system {e}"))?,
            external_id: ExternalKey::external_id(id).map_err(|e| format!("the id {e}"))?,
        };
        if keys.iter().any(|k| k.system == key.system) {
            return Err(format!("names two ids in {}", key.system));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// A partner row, parsed with the API's input types.
struct Parsed {
    id: Option<Uuid>,
    keys: Vec<ExternalKey>,
    name: DisplayName,
    partner_type: Option<PartnerType>,
    tier: Option<PartnerTier>,
    website: Option<WebsiteUrl>,
    customer_nps: Option<i32>,
    margin: Option<Percent>,
    internal_notes: Option<String>,
}

fn parse(row: &mut Row<'_>) -> Option<Parsed> {
    let id = row.parse("id", |t| {
        ids::decode_as(NodeType::Partner, t).ok_or("is not a partner id")
    });
    let keys = row.parse("externalIds", external_keys).unwrap_or_default();
    let name = row.require("name", DisplayName::parse);
    let partner_type = row.parse("type", cells::variant::<PartnerType>);
    let tier = row.parse("tier", cells::variant::<PartnerTier>);
    let website = row.parse("website", |t| WebsiteUrl::parse(&cells::website(t)));
    let customer_nps = row.parse("customerNps", |t| {
        cells::integer(t).and_then(|n| customer_nps(n).map_err(|e| e.0))
    });
    let margin = row.parse("marginPercent", |t| {
        cells::number(t).and_then(|n| Percent::parse(n).map_err(|e| e.0))
    });
    let internal_notes = row.parse("internalNotes", |t| free_text(t.to_owned()));
    if row.has_problems() {
        return None;
    }
    Some(Parsed {
        id,
        keys,
        name: name?,
        partner_type,
        tier,
        website,
        customer_nps,
        margin,
        internal_notes,
    })
}

/// Every partner, and the keys rows are matched by.
pub struct Partners {
    records: HashMap<Uuid, partner::Model>,
    by_key: HashMap<(String, String), Uuid>,
    keys_of: HashMap<Uuid, Vec<(String, String)>>,
    by_domain: HashMap<String, Uuid>,
    by_name: HashMap<String, Uuid>,
    /// Records this import wrote, with the first row that did.
    touched: HashMap<Uuid, usize>,
}

impl Partners {
    pub async fn load(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        let mut partners = Self {
            records: HashMap::new(),
            by_key: HashMap::new(),
            keys_of: HashMap::new(),
            by_domain: HashMap::new(),
            by_name: HashMap::new(),
            touched: HashMap::new(),
        };
        for p in partner::Entity::find().all(db).await? {
            partners.index(p);
        }
        for link in partner_external_id::Entity::find().all(db).await? {
            partners.index_key(link.partner_id, link.system, link.external_id);
        }
        Ok(partners)
    }

    fn index(&mut self, p: partner::Model) {
        if let Some(domain) = p.website.as_deref().map(normalize_domain) {
            if !domain.is_empty() {
                self.by_domain.entry(domain).or_insert(p.id);
            }
        }
        self.by_name
            .entry(normalize_company_name(&p.name))
            .or_insert(p.id);
        self.records.insert(p.id, p);
    }

    fn index_key(&mut self, partner_id: Uuid, system: String, external_id: String) {
        self.keys_of
            .entry(partner_id)
            .or_default()
            .push((system.clone(), external_id.clone()));
        self.by_key.insert((system, external_id), partner_id);
    }

    /// The partner a row names, and how it was found.
    fn find(&self, row: &mut Row<'_>, parsed: &Parsed) -> Option<(Uuid, String)> {
        if let Some(id) = parsed.id {
            if self.records.contains_key(&id) {
                return Some((id, "partner (by id)".into()));
            }
            row.problem("id", "no partner has this id");
            return None;
        }
        for key in &parsed.keys {
            if let Some(id) = self
                .by_key
                .get(&(key.system.clone(), key.external_id.clone()))
            {
                return Some((
                    *id,
                    format!("partner (by {} id {})", key.system, key.external_id),
                ));
            }
        }
        if let Some(website) = &parsed.website {
            let domain = normalize_domain(website.clone().into_inner().as_str());
            if let Some(id) = self.by_domain.get(&domain) {
                return Some((*id, format!("partner (by domain {domain})")));
            }
        }
        let name = normalize_company_name(parsed.name.as_str());
        self.by_name
            .get(&name)
            .map(|id| (*id, format!("partner (by name \"{name}\")")))
    }

    /// The row's CRM ids that `partner` does not hold yet; a problem when
    /// another partner holds one, or the partner holds another id there.
    fn new_keys(
        &self,
        row: &mut Row<'_>,
        partner: Option<Uuid>,
        keys: &[ExternalKey],
    ) -> Vec<ExternalKey> {
        let held = partner.and_then(|id| self.keys_of.get(&id));
        let mut new = Vec::new();
        for key in keys {
            match self
                .by_key
                .get(&(key.system.clone(), key.external_id.clone()))
            {
                Some(holder) if Some(*holder) == partner => {}
                Some(holder) => row.problem(
                    "externalIds",
                    format!(
                        "{} id {} belongs to partner {}",
                        key.system,
                        key.external_id,
                        self.records.get(holder).map_or("?", |p| p.name.as_str())
                    ),
                ),
                None => match held.and_then(|h| h.iter().find(|(s, _)| *s == key.system)) {
                    Some((system, other)) => row.problem(
                        "externalIds",
                        format!("the partner already has the {system} id {other}"),
                    ),
                    None => new.push(key.clone()),
                },
            }
        }
        new
    }
}

/// What differs between the row and the record: every non-empty cell, or
/// (`fill_only`, a duplicate row) only cells for fields still empty.
fn changes(current: &partner::Model, parsed: &Parsed, fill_only: bool) -> Option<PartnerChanges> {
    let mut changes = PartnerChanges::default();
    let mut any = false;
    if !fill_only && current.name != parsed.name.as_str() {
        changes.name = Some(parsed.name.clone());
        any = true;
    }
    if let Some(t) = parsed
        .partner_type
        .filter(|t| !fill_only && *t != current.partner_type)
    {
        changes.partner_type = Some(t);
        any = true;
    }
    if let Some(t) = parsed.tier.filter(|t| !fill_only && *t != current.tier) {
        changes.tier = Some(t);
        any = true;
    }
    if let Some(w) = &parsed.website {
        let text = w.clone().into_inner();
        if current.website.as_deref() != Some(text.as_str())
            && !(fill_only && current.website.is_some())
        {
            changes.website = Some(Some(w.clone()));
            any = true;
        }
    }
    if let Some(n) = parsed.customer_nps {
        if current.customer_nps != Some(n) && !(fill_only && current.customer_nps.is_some()) {
            changes.customer_nps = Some(Some(n));
            any = true;
        }
    }
    if let Some(m) = parsed.margin {
        if current.margin_bps != Some(m.basis_points())
            && !(fill_only && current.margin_bps.is_some())
        {
            changes.margin = Some(Some(m));
            any = true;
        }
    }
    if let Some(notes) = &parsed.internal_notes {
        if current.internal_notes.as_ref() != Some(notes)
            && !(fill_only && current.internal_notes.is_some())
        {
            changes.internal_notes = Some(Some(notes.clone()));
            any = true;
        }
    }
    any.then_some(changes)
}

impl Importer for Partners {
    fn fields() -> &'static [Field] {
        FIELDS
    }

    async fn write(
        &mut self,
        uow: &UnitOfWork,
        caller: &Caller<'_>,
        row: &mut Row<'_>,
    ) -> anyhow::Result<Option<Written>> {
        let Some(parsed) = parse(row) else {
            return Ok(None);
        };
        let found = self.find(row, &parsed);
        let keys = self.new_keys(row, found.as_ref().map(|(id, _)| *id), &parsed.keys);
        if row.has_problems() {
            return Ok(None);
        }
        let result = match &found {
            Some((id, _)) => {
                let current = self.records.get(id).cloned();
                let Some(current) = current else {
                    return Ok(None);
                };
                let fill_only = self.touched.contains_key(id);
                let saved = match changes(&current, &parsed, fill_only) {
                    Some(changes) => service::update_in(uow, OPERATION, &current, changes).await,
                    None => Ok(current.clone()),
                };
                saved.map(|saved| {
                    let done = if saved.version != current.version || !keys.is_empty() {
                        Done::Updated
                    } else {
                        Done::Unchanged
                    };
                    (saved, done)
                })
            }
            None => match parsed.partner_type {
                None => {
                    row.problem("type", "is required for a new partner");
                    return Ok(None);
                }
                Some(partner_type) => {
                    let new = NewPartner {
                        name: parsed.name.clone(),
                        partner_type,
                        tier: parsed.tier.unwrap_or_default(),
                        website: parsed.website.clone(),
                        owner_id: None,
                        internal_notes: parsed.internal_notes.clone(),
                        margin: parsed.margin,
                    };
                    match service::create_in(uow, caller, OPERATION, new).await {
                        Ok(created) => match parsed.customer_nps {
                            // The NPS is not a creation field of the API.
                            Some(nps) => {
                                let changes = PartnerChanges {
                                    customer_nps: Some(Some(nps)),
                                    ..PartnerChanges::default()
                                };
                                service::update_in(uow, OPERATION, &created, changes).await
                            }
                            None => Ok(created),
                        }
                        .map(|saved| (saved, Done::Created)),
                        Err(failure) => Err(failure),
                    }
                }
            },
        };
        let (saved, done) = match result {
            Ok(result) => result,
            Err(failure) => {
                row.failure(failure)?;
                return Ok(None);
            }
        };
        for key in keys {
            if let Err(failure) = external_ids::link_in(
                uow,
                OPERATION,
                Holder::Partner(saved.id),
                &key,
                "externalIds",
            )
            .await
            {
                row.failure(failure)?;
                return Ok(None);
            }
            self.index_key(saved.id, key.system, key.external_id);
        }
        let duplicate_of =
            found.and_then(|(id, how)| self.touched.get(&id).map(|first| (*first, how)));
        self.touched.entry(saved.id).or_insert(row.number);
        self.index(saved);
        Ok(Some(Written { done, duplicate_of }))
    }
}
