//! Deal registrations: the partner named by id, CRM id, domain or name
//! (`partner_ref`); matched by id, then by the same partner's still-active
//! claim on the same account (normalised domain or company name, SPEC
//! §4.2), so a file re-sent by e-mail never registers a deal twice. A new
//! row is submitted as `submitDealRegistration` submits (certification
//! gating, conflict detection, events, the first-deal milestone). A match
//! that is still undecided takes the row's deal terms as
//! `updateDealRegistration` does; the account, status and decision are
//! never changed by an import.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::deal_registration;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{
    cells, columns::Field, money, partner_ref::PartnerRefs, row::Row, Done, Importer, Written,
};
use crate::{
    domain::{
        accounts::normalize_company_name,
        inputs::{free_text, DisplayName, EmailAddress},
        money::Money,
    },
    ids::{self, NodeType},
    service::{
        deals::accounts,
        registrations::{
            parse_company_domain, submit_in, update_in, NewRegistration, RegistrationChanges,
        },
        Caller,
    },
    unit_of_work::UnitOfWork,
};

const OPERATION: &str = "importRegistrations";

static FIELDS: &[Field] = &[
    Field {
        name: "id",
        aliases: &["Registration ID"],
        required: false,
    },
    Field {
        name: "partner",
        aliases: &["Partner Name", "Reseller", "Registered By", "partnerId"],
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
            "End Customer",
        ],
        required: true,
    },
    Field {
        name: "companyDomain",
        aliases: &["Domain", "Website", "Company Website", "Customer Domain"],
        required: true,
    },
    Field {
        name: "customerContactName",
        aliases: &["Customer Contact", "Contact", "Contact Name"],
        required: true,
    },
    Field {
        name: "customerContactEmail",
        aliases: &["Customer Email", "Contact Email", "Email", "E-mail"],
        required: true,
    },
    Field {
        name: "estimatedAmount",
        aliases: &[
            "Amount",
            "Deal Size",
            "Value",
            "Deal Value",
            "Estimated Value",
        ],
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
        name: "product",
        aliases: &["Products", "Product Interest"],
        required: false,
    },
    Field {
        name: "notes",
        aliases: &["Partner Notes", "Comments"],
        required: false,
    },
    Field {
        name: "internalNotes",
        aliases: &["Internal Notes"],
        required: false,
    },
];

struct Parsed {
    id: Option<Uuid>,
    partner_id: Uuid,
    company_name: DisplayName,
    company_domain: String,
    contact_name: DisplayName,
    contact_email: EmailAddress,
    amount: Money,
    expected_close_date: NaiveDate,
    product: Option<String>,
    notes: Option<String>,
    internal_notes: Option<String>,
}

/// Registrations by id, and the active claims by partner and account key.
pub struct Registrations {
    records: HashMap<Uuid, deal_registration::Model>,
    /// (partner, domain or company key) → its active claim.
    claims: HashMap<(Uuid, String), Uuid>,
    partners: PartnerRefs,
    touched: HashMap<Uuid, usize>,
}

impl Registrations {
    pub async fn load(
        db: &impl ConnectionTrait,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<Self> {
        let mut r = Self {
            records: HashMap::new(),
            claims: HashMap::new(),
            partners: PartnerRefs::load(db).await?,
            touched: HashMap::new(),
        };
        for record in deal_registration::Entity::find()
            .filter(accounts::active_claims(now))
            .all(db)
            .await?
        {
            r.claim(&record);
        }
        for record in deal_registration::Entity::find().all(db).await? {
            r.records.insert(record.id, record);
        }
        Ok(r)
    }

    fn claim(&mut self, r: &deal_registration::Model) {
        self.claims
            .entry((r.partner_id, r.domain_key.clone()))
            .or_insert(r.id);
        self.claims
            .entry((r.partner_id, r.company_key.clone()))
            .or_insert(r.id);
    }

    fn parse(&self, row: &mut Row<'_>) -> Option<Parsed> {
        let id = row.parse("id", |t| {
            ids::decode_as(NodeType::DealRegistration, t).ok_or("is not a deal registration id")
        });
        let partner_id = row.require("partner", |t| self.partners.resolve(t));
        let company_name = row.require("companyName", DisplayName::parse);
        let company_domain = row.require("companyDomain", parse_company_domain);
        let contact_name = row.require("customerContactName", DisplayName::parse);
        let contact_email = row.require("customerContactEmail", EmailAddress::parse);
        let amount = money::read(row, "estimatedAmount", "currency", true);
        let expected_close_date = row.require("expectedCloseDate", cells::date);
        let product = row.parse("product", |t| free_text(t.to_owned()));
        let notes = row.parse("notes", |t| free_text(t.to_owned()));
        let internal_notes = row.parse("internalNotes", |t| free_text(t.to_owned()));
        if row.has_problems() {
            return None;
        }
        Some(Parsed {
            id,
            partner_id: partner_id?,
            company_name: company_name?,
            company_domain: company_domain?,
            contact_name: contact_name?,
            contact_email: contact_email?,
            amount: amount?,
            expected_close_date: expected_close_date?,
            product,
            notes,
            internal_notes,
        })
    }

    fn find(&self, row: &mut Row<'_>, parsed: &Parsed) -> Option<Uuid> {
        if let Some(id) = parsed.id {
            if self.records.contains_key(&id) {
                return Some(id);
            }
            row.problem("id", "no deal registration has this id");
            return None;
        }
        let company_key = normalize_company_name(parsed.company_name.as_str());
        self.claims
            .get(&(parsed.partner_id, parsed.company_domain.clone()))
            .or_else(|| self.claims.get(&(parsed.partner_id, company_key)))
            .copied()
    }
}

/// What differs between the row and the record: every non-empty cell, or
/// (`fill_only`, a duplicate row) only cells for fields still empty.
fn changes(
    current: &deal_registration::Model,
    parsed: &Parsed,
    fill_only: bool,
) -> Option<RegistrationChanges> {
    let mut c = RegistrationChanges::default();
    if !fill_only {
        if current.customer_contact_name != parsed.contact_name.as_str() {
            c.customer_contact_name = Some(parsed.contact_name.clone());
        }
        if current.customer_contact_email != parsed.contact_email.as_str() {
            c.customer_contact_email = Some(parsed.contact_email.clone());
        }
        if current.amount_minor != parsed.amount.minor_units
            || current.currency != parsed.amount.currency.as_str()
        {
            c.estimated_amount = Some(parsed.amount.clone());
        }
        if current.expected_close_date != parsed.expected_close_date {
            c.expected_close_date = Some(parsed.expected_close_date);
        }
    }
    let fill = |now: &Option<String>, new: &Option<String>| match new {
        Some(new) if now.as_ref() != Some(new) && !(fill_only && now.is_some()) => {
            Some(Some(new.clone()))
        }
        _ => None,
    };
    c.product = fill(&current.product, &parsed.product);
    c.notes = fill(&current.notes, &parsed.notes);
    c.internal_notes = fill(&current.internal_notes, &parsed.internal_notes);
    let any = c.customer_contact_name.is_some()
        || c.customer_contact_email.is_some()
        || c.estimated_amount.is_some()
        || c.expected_close_date.is_some()
        || c.product.is_some()
        || c.notes.is_some()
        || c.internal_notes.is_some();
    any.then_some(c)
}

impl Importer for Registrations {
    fn fields() -> &'static [Field] {
        FIELDS
    }

    async fn write(
        &mut self,
        uow: &UnitOfWork,
        caller: &Caller<'_>,
        row: &mut Row<'_>,
    ) -> anyhow::Result<Option<Written>> {
        let Some(parsed) = self.parse(row) else {
            return Ok(None);
        };
        let found = self.find(row, &parsed);
        let current = found.and_then(|id| self.records.get(&id).cloned());
        if let Some(current) = &current {
            if current.partner_id != parsed.partner_id {
                row.problem(
                    "partner",
                    "a registration stays with its partner: the other partner submits its own",
                );
            }
        }
        if row.has_problems() {
            return Ok(None);
        }
        let fill_only = found.is_some_and(|id| self.touched.contains_key(&id));
        let result = match &current {
            Some(current) => match changes(current, &parsed, fill_only) {
                None => Ok((current.clone(), Done::Unchanged)),
                Some(changes) => update_in(uow, caller, OPERATION, current, changes)
                    .await
                    .map(|saved| (saved, Done::Updated)),
            },
            None => {
                let new = NewRegistration {
                    partner_id: Some(parsed.partner_id),
                    company_name: parsed.company_name.clone(),
                    company_domain: parsed.company_domain.clone(),
                    customer_contact_name: parsed.contact_name.clone(),
                    customer_contact_email: parsed.contact_email.clone(),
                    estimated_amount: parsed.amount.clone(),
                    expected_close_date: parsed.expected_close_date,
                    product: parsed.product.clone(),
                    notes: parsed.notes.clone(),
                };
                let submitted = submit_in(uow, caller, OPERATION, parsed.partner_id, new).await;
                match (submitted, &parsed.internal_notes) {
                    // Internal notes are staff's, set after the submission.
                    (Ok(created), Some(notes)) => {
                        let notes = RegistrationChanges {
                            internal_notes: Some(Some(notes.clone())),
                            ..RegistrationChanges::default()
                        };
                        update_in(uow, caller, OPERATION, &created, notes).await
                    }
                    (submitted, _) => submitted,
                }
                .map(|created| (created, Done::Created))
            }
        };
        let (saved, done) = match result {
            Ok(r) => r,
            Err(failure) => {
                row.failure(failure)?;
                return Ok(None);
            }
        };
        let duplicate_of = found.and_then(|id| {
            self.touched
                .get(&id)
                .map(|first| (*first, "registration (partner and account)".to_owned()))
        });
        self.touched.entry(saved.id).or_insert(row.number);
        if done == Done::Created {
            self.claim(&saved);
        }
        self.records.insert(saved.id, saved);
        Ok(Some(Written { done, duplicate_of }))
    }
}
