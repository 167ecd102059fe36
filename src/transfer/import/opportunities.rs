//! Opportunities with their attribution: matched by id, then external id,
//! then the same opportunity name on the same account (normalised domain
//! or company name, SPEC §4.2), since one account has many deals. A new
//! opportunity is created as the API creates one (`opportunity.created`,
//! conflict detection for a direct one); partners named in `sourcedBy`,
//! `influencedBy` and `coSellWith` are credited (a `sourcedBy` partner
//! makes it `PARTNER_SOURCED`). On an existing opportunity the import
//! changes its terms (name, amount, close date, next step, notes) and adds
//! credits it lacks; its stage moves only through `moveOpportunityStage`.

use std::collections::HashMap;

use entity::{opportunity, opportunity_attribution, opportunity_external_id, partner};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::{
    cells, columns::Field, money, partners::external_keys, row::Row, Done, Importer, Written,
};
use crate::{
    domain::{
        accounts::{normalize_company_name, normalize_domain},
        inputs::{close_date, free_text, DisplayName, ExternalKey},
        money::Money,
        AttributionRole, OpportunitySource, OpportunityStage,
    },
    ids::{self, NodeType},
    service::{
        deals::{attribution, conflicts, opportunity as record},
        external_ids::{self, Holder},
        opportunities::{update_in, OpportunityChanges},
        registrations::parse_company_domain,
        settings, Caller, Failure,
    },
    unit_of_work::UnitOfWork,
};

const OPERATION: &str = "importOpportunities";

static FIELDS: &[Field] = &[
    Field {
        name: "id",
        aliases: &["Opportunity ID"],
        required: false,
    },
    Field {
        name: "externalIds",
        aliases: &["External ID", "External IDs", "CRM ID"],
        required: false,
    },
    Field {
        name: "name",
        aliases: &["Opportunity", "Opportunity Name", "Deal", "Deal Name"],
        required: true,
    },
    Field {
        name: "companyName",
        aliases: &[
            "Company",
            "Company Name",
            "Account",
            "Account Name",
            "Customer",
        ],
        required: true,
    },
    Field {
        name: "companyDomain",
        aliases: &["Domain", "Website", "Company Website", "Customer Domain"],
        required: true,
    },
    Field {
        name: "stage",
        aliases: &["Deal Stage", "Sales Stage"],
        required: false,
    },
    Field {
        name: "amount",
        aliases: &["Deal Size", "Value", "Deal Value", "ACV"],
        required: true,
    },
    Field {
        name: "currency",
        aliases: &["Currency Code", "CCY"],
        required: false,
    },
    Field {
        name: "expectedCloseDate",
        aliases: &["Close Date", "Expected Close", "Closing Date"],
        required: true,
    },
    Field {
        name: "nextStep",
        aliases: &["Next Steps"],
        required: false,
    },
    Field {
        name: "internalNotes",
        aliases: &["Notes", "Comments"],
        required: false,
    },
    Field {
        name: "sourcedBy",
        aliases: &["Sourced By", "Source Partner", "Partner"],
        required: false,
    },
    Field {
        name: "influencedBy",
        aliases: &["Influenced By", "Influencers"],
        required: false,
    },
    Field {
        name: "coSellWith",
        aliases: &["Co-Sell", "Co-sell Partners"],
        required: false,
    },
];

struct Parsed {
    id: Option<Uuid>,
    keys: Vec<ExternalKey>,
    name: DisplayName,
    company_name: DisplayName,
    company_domain: String,
    stage: Option<OpportunityStage>,
    amount: Money,
    expected_close_date: chrono::NaiveDate,
    next_step: Option<String>,
    internal_notes: Option<String>,
    credits: Vec<(Uuid, AttributionRole)>,
}

pub struct Opportunities {
    records: HashMap<Uuid, opportunity::Model>,
    by_key: HashMap<(String, String), Uuid>,
    /// (normalised opportunity name, domain or company key) → opportunity.
    by_account: HashMap<(String, String), Uuid>,
    credited: HashMap<Uuid, Vec<(Uuid, AttributionRole)>>,
    partner_by_name: HashMap<String, Uuid>,
    influence_bps: i32,
    touched: HashMap<Uuid, usize>,
}

impl Opportunities {
    pub async fn load(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        let settings = settings::get(db)
            .await
            .map_err(|e| anyhow::anyhow!("cannot read the program settings: {e:?}"))?;
        let mut o = Self {
            records: HashMap::new(),
            by_key: HashMap::new(),
            by_account: HashMap::new(),
            credited: HashMap::new(),
            partner_by_name: HashMap::new(),
            influence_bps: settings.influence_weight_bps,
            touched: HashMap::new(),
        };
        for p in partner::Entity::find().all(db).await? {
            o.partner_by_name
                .entry(normalize_company_name(&p.name))
                .or_insert(p.id);
        }
        for a in opportunity_attribution::Entity::find().all(db).await? {
            o.credited
                .entry(a.opportunity_id)
                .or_default()
                .push((a.partner_id, a.role));
        }
        for link in opportunity_external_id::Entity::find().all(db).await? {
            o.by_key
                .insert((link.system, link.external_id), link.opportunity_id);
        }
        for record in opportunity::Entity::find().all(db).await? {
            o.index(record);
        }
        Ok(o)
    }

    fn index(&mut self, record: opportunity::Model) {
        let name = normalize_company_name(&record.name);
        self.by_account
            .entry((name.clone(), record.domain_key.clone()))
            .or_insert(record.id);
        self.by_account
            .entry((name, record.company_key.clone()))
            .or_insert(record.id);
        self.records.insert(record.id, record);
    }

    /// `Acme; Globex` → the partners, by name or id.
    fn partners(&self, text: &str) -> Result<Vec<Uuid>, String> {
        text.split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                ids::decode_as(NodeType::Partner, t)
                    .or_else(|| {
                        self.partner_by_name
                            .get(&normalize_company_name(t))
                            .copied()
                    })
                    .ok_or_else(|| format!("no partner is named `{t}` (import the partners first)"))
            })
            .collect()
    }

    fn parse(&self, row: &mut Row<'_>) -> Option<Parsed> {
        let id = row.parse("id", |t| {
            ids::decode_as(NodeType::Opportunity, t).ok_or("is not an opportunity id")
        });
        let keys = row.parse("externalIds", external_keys).unwrap_or_default();
        let name = row.require("name", DisplayName::parse);
        let company_name = row.require("companyName", DisplayName::parse);
        let company_domain = row.require("companyDomain", parse_company_domain);
        let stage = row.parse("stage", cells::variant::<OpportunityStage>);
        let money = money::read(row, "amount", "currency", true);
        let expected_close_date = row.require("expectedCloseDate", cells::date);
        let next_step = row.parse("nextStep", |t| free_text(t.to_owned()));
        let internal_notes = row.parse("internalNotes", |t| free_text(t.to_owned()));
        let mut credits = Vec::new();
        for (field, role) in [
            ("sourcedBy", AttributionRole::Sourced),
            ("influencedBy", AttributionRole::Influenced),
            ("coSellWith", AttributionRole::CoSell),
        ] {
            let partners = row.parse(field, |t| self.partners(t)).unwrap_or_default();
            if role == AttributionRole::Sourced && partners.len() > 1 {
                row.problem(field, "an opportunity has at most one sourcing partner");
            }
            credits.extend(partners.into_iter().map(|p| (p, role)));
        }
        if row.has_problems() {
            return None;
        }
        Some(Parsed {
            id,
            keys,
            name: name?,
            company_name: company_name?,
            company_domain: company_domain?,
            stage,
            amount: money?,
            expected_close_date: expected_close_date?,
            next_step,
            internal_notes,
            credits,
        })
    }

    fn find(&self, row: &mut Row<'_>, parsed: &Parsed) -> Option<Uuid> {
        if let Some(id) = parsed.id {
            if self.records.contains_key(&id) {
                return Some(id);
            }
            row.problem("id", "no opportunity has this id");
            return None;
        }
        for key in &parsed.keys {
            if let Some(id) = self
                .by_key
                .get(&(key.system.clone(), key.external_id.clone()))
            {
                return Some(*id);
            }
        }
        let name = normalize_company_name(parsed.name.as_str());
        self.by_account
            .get(&(name.clone(), normalize_domain(&parsed.company_domain)))
            .or_else(|| {
                self.by_account
                    .get(&(name, normalize_company_name(parsed.company_name.as_str())))
            })
            .copied()
    }
}

impl Importer for Opportunities {
    fn fields() -> &'static [Field] {
        FIELDS
    }

    async fn write(
        &mut self,
        uow: &UnitOfWork,
        caller: &Caller<'_>,
        row: &mut Row<'_>,
    ) -> anyhow::Result<Option<Written>> {
        let today = uow.now().date_naive();
        let Some(parsed) = self.parse(row) else {
            return Ok(None);
        };
        let found = self.find(row, &parsed);
        // Checked before any write, so a rejected row leaves nothing behind.
        for key in &parsed.keys {
            match self
                .by_key
                .get(&(key.system.clone(), key.external_id.clone()))
            {
                Some(holder) if Some(*holder) != found => row.problem(
                    "externalIds",
                    format!(
                        "{} id {} belongs to another opportunity",
                        key.system, key.external_id
                    ),
                ),
                _ => {}
            }
        }
        if row.has_problems() {
            return Ok(None);
        }
        let current = found.and_then(|id| self.records.get(&id).cloned());
        let fill_only = found.is_some_and(|id| self.touched.contains_key(&id));
        let credited = found
            .and_then(|id| self.credited.get(&id).cloned())
            .unwrap_or_default();
        let new_credits: Vec<(Uuid, AttributionRole)> = parsed
            .credits
            .iter()
            .filter(|(p, _)| !credited.iter().any(|(q, _)| q == p))
            .copied()
            .collect();
        if new_credits
            .iter()
            .any(|(_, r)| *r == AttributionRole::Sourced)
            && credited.iter().any(|(_, r)| *r == AttributionRole::Sourced)
        {
            row.problem("sourcedBy", "the opportunity already has a SOURCED partner");
            return Ok(None);
        }
        let result: Result<(opportunity::Model, Done), Failure> = match &current {
            Some(current) => {
                let mut changes = OpportunityChanges::default();
                let mut any = false;
                if !fill_only {
                    if current.name != parsed.name.as_str() {
                        changes.name = Some(parsed.name.clone());
                        any = true;
                    }
                    if current.amount_minor != parsed.amount.minor_units
                        || current.currency != parsed.amount.currency.as_str()
                    {
                        changes.amount = Some(parsed.amount.clone());
                        any = true;
                    }
                    if current.expected_close_date != parsed.expected_close_date {
                        if let Err(e) = close_date(parsed.expected_close_date, today) {
                            row.problem("expectedCloseDate", e.0);
                            return Ok(None);
                        }
                        changes.expected_close_date = Some(parsed.expected_close_date);
                        any = true;
                    }
                }
                if let Some(step) = &parsed.next_step {
                    if current.next_step.as_ref() != Some(step)
                        && !(fill_only && current.next_step.is_some())
                    {
                        changes.next_step = Some(Some(step.clone()));
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
                let saved = if any {
                    update_in(uow, OPERATION, current, changes).await
                } else {
                    Ok(current.clone())
                };
                saved.map(|s| {
                    let done = if any || !new_credits.is_empty() {
                        Done::Updated
                    } else {
                        Done::Unchanged
                    };
                    (s, done)
                })
            }
            None => {
                if let Err(e) = close_date(parsed.expected_close_date, today) {
                    row.problem("expectedCloseDate", e.0);
                    return Ok(None);
                }
                let sourced = parsed
                    .credits
                    .iter()
                    .find(|(_, r)| *r == AttributionRole::Sourced)
                    .map(|(p, _)| *p);
                let draft = record::Draft {
                    name: parsed.name.as_str().to_owned(),
                    company_name: parsed.company_name.as_str().to_owned(),
                    company_domain: parsed.company_domain.clone(),
                    source: if sourced.is_some() {
                        OpportunitySource::PartnerSourced
                    } else {
                        OpportunitySource::Direct
                    },
                    stage: parsed.stage.unwrap_or(OpportunityStage::Registered),
                    amount_minor: parsed.amount.minor_units,
                    currency: parsed.amount.currency.as_str().to_owned(),
                    expected_close_date: parsed.expected_close_date,
                    deal_registration_id: None,
                    owner_id: caller.principal.staff_user_id,
                    next_step: parsed.next_step.clone(),
                    discount_bps: None,
                    margin_bps: None,
                    competitor_intel: None,
                    internal_notes: parsed.internal_notes.clone(),
                    crm_managed: false,
                };
                match record::create(uow, OPERATION, draft, sourced).await {
                    Ok(created) if sourced.is_none() => {
                        conflicts::flag_for_direct_opportunity(uow, &created)
                            .await
                            .map(|()| (created, Done::Created))
                    }
                    Ok(created) => Ok((created, Done::Created)),
                    Err(e) => Err(e.into()),
                }
            }
        };
        let (saved, done) = match result {
            Ok(r) => r,
            Err(failure) => {
                row.failure(failure)?;
                return Ok(None);
            }
        };
        for (partner_id, role) in &new_credits {
            let bps = match role {
                AttributionRole::Sourced => 10_000,
                AttributionRole::Influenced => self.influence_bps,
                AttributionRole::CoSell => 5_000,
            };
            if let Err(e) =
                attribution::credit(uow, OPERATION, saved.id, *partner_id, *role, bps).await
            {
                row.failure(e.into())?;
                return Ok(None);
            }
            self.credited
                .entry(saved.id)
                .or_default()
                .push((*partner_id, *role));
        }
        for key in &parsed.keys {
            if let Err(failure) = external_ids::link_in(
                uow,
                OPERATION,
                Holder::Opportunity(saved.id),
                key,
                "externalIds",
            )
            .await
            {
                row.failure(failure)?;
                return Ok(None);
            }
            self.by_key
                .insert((key.system.clone(), key.external_id.clone()), saved.id);
        }
        let duplicate_of = found.and_then(|id| {
            self.touched
                .get(&id)
                .map(|first| (*first, "opportunity".to_owned()))
        });
        self.touched.entry(saved.id).or_insert(row.number);
        self.index(saved);
        Ok(Some(Written { done, duplicate_of }))
    }
}
