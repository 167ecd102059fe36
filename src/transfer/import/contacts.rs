//! Partner contacts: matched by id, then by partner and e-mail (unique per
//! partner); the partner named by its id or its company name (normalised as
//! in SPEC §4.2). Written with the contact use cases' unit-of-work calls.
//! `active` = false deactivates (and revokes the contact's tokens); a
//! deactivated contact is never reactivated by an import. Portal roles are
//! exported but granted one person at a time (`grantPortalAccess`).

use std::collections::HashMap;

use entity::{partner, partner_contact};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::{cells, columns::Field, row::Row, Done, Importer, Written};
use crate::{
    domain::{
        accounts::normalize_company_name,
        inputs::{DisplayName, EmailAddress},
        PartnerContactRole,
    },
    ids::{self, NodeType},
    service::{
        partners::{self as service, ContactChanges, NewContact},
        Caller,
    },
    unit_of_work::UnitOfWork,
};

const OPERATION: &str = "importContacts";

static FIELDS: &[Field] = &[
    Field {
        name: "id",
        aliases: &["Contact ID"],
        required: false,
    },
    Field {
        name: "partner",
        aliases: &[
            "Partner Name",
            "Company",
            "Company Name",
            "Account",
            "Account Name",
            "Organisation",
            "Organization",
            "partnerId",
        ],
        required: true,
    },
    Field {
        name: "name",
        aliases: &["Contact", "Contact Name", "Full Name", "Person"],
        required: true,
    },
    Field {
        name: "email",
        aliases: &["E-mail", "Email Address", "Mail", "Work Email"],
        required: true,
    },
    Field {
        name: "role",
        aliases: &["Contact Role", "Function"],
        required: false,
    },
    Field {
        name: "active",
        aliases: &["Enabled", "Is Active"],
        required: false,
    },
];

struct Parsed {
    id: Option<Uuid>,
    partner_id: Uuid,
    name: DisplayName,
    email: EmailAddress,
    role: Option<PartnerContactRole>,
    active: Option<bool>,
}

/// Contacts by partner and e-mail, and partners by id and name.
pub struct Contacts {
    records: HashMap<Uuid, partner_contact::Model>,
    by_email: HashMap<(Uuid, String), Uuid>,
    partners: HashMap<Uuid, String>,
    partner_by_name: HashMap<String, Uuid>,
    touched: HashMap<Uuid, usize>,
    deactivated: bool,
}

impl Contacts {
    pub async fn load(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        let mut contacts = Self {
            records: HashMap::new(),
            by_email: HashMap::new(),
            partners: HashMap::new(),
            partner_by_name: HashMap::new(),
            touched: HashMap::new(),
            deactivated: false,
        };
        for p in partner::Entity::find().all(db).await? {
            contacts
                .partner_by_name
                .entry(normalize_company_name(&p.name))
                .or_insert(p.id);
            contacts.partners.insert(p.id, p.name);
        }
        for c in partner_contact::Entity::find().all(db).await? {
            contacts.index(c);
        }
        Ok(contacts)
    }

    fn index(&mut self, c: partner_contact::Model) {
        self.by_email.insert((c.partner_id, c.email.clone()), c.id);
        self.records.insert(c.id, c);
    }

    fn partner(&self, text: &str) -> Result<Uuid, String> {
        if let Some(id) = ids::decode_as(NodeType::Partner, text) {
            return self
                .partners
                .contains_key(&id)
                .then_some(id)
                .ok_or_else(|| "no partner has this id".to_owned());
        }
        self.partner_by_name
            .get(&normalize_company_name(text))
            .copied()
            .ok_or_else(|| "no partner has this name (import the partners first)".to_owned())
    }

    fn parse(&self, row: &mut Row<'_>) -> Option<Parsed> {
        let id = row.parse("id", |t| {
            ids::decode_as(NodeType::PartnerContact, t).ok_or("is not a partner contact id")
        });
        let partner_id = row.require("partner", |t| self.partner(t));
        let name = row.require("name", DisplayName::parse);
        let email = row.require("email", EmailAddress::parse);
        let role = row.parse("role", cells::variant::<PartnerContactRole>);
        let active = row.parse("active", cells::flag);
        if row.has_problems() {
            return None;
        }
        Some(Parsed {
            id,
            partner_id: partner_id?,
            name: name?,
            email: email?,
            role,
            active,
        })
    }

    fn find(&self, row: &mut Row<'_>, parsed: &Parsed) -> Option<Uuid> {
        if let Some(id) = parsed.id {
            if self.records.contains_key(&id) {
                return Some(id);
            }
            row.problem("id", "no partner contact has this id");
            return None;
        }
        self.by_email
            .get(&(parsed.partner_id, parsed.email.as_str().to_owned()))
            .copied()
    }
}

impl Importer for Contacts {
    fn fields() -> &'static [Field] {
        FIELDS
    }

    async fn write(
        &mut self,
        uow: &UnitOfWork,
        _caller: &Caller<'_>,
        row: &mut Row<'_>,
    ) -> anyhow::Result<Option<Written>> {
        let Some(parsed) = self.parse(row) else {
            return Ok(None);
        };
        let found = self.find(row, &parsed);
        if row.has_problems() {
            return Ok(None);
        }
        let current = found.and_then(|id| self.records.get(&id).cloned());
        let fill_only = found.is_some_and(|id| self.touched.contains_key(&id));
        if let Some(current) = &current {
            if current.partner_id != parsed.partner_id {
                row.problem(
                    "partner",
                    "a contact stays with its partner: add a new contact to the other partner",
                );
                return Ok(None);
            }
            if current.deactivated_at.is_some() && parsed.active == Some(true) {
                row.problem(
                    "active",
                    "a deactivated contact is not reactivated by an import",
                );
                return Ok(None);
            }
        }
        let result = match &current {
            Some(current) => {
                let mut changes = ContactChanges::default();
                if !fill_only {
                    if current.name != parsed.name.as_str() {
                        changes.name = Some(parsed.name.clone());
                    }
                    if current.email != parsed.email.as_str() {
                        changes.email = Some(parsed.email.clone());
                    }
                    changes.role = parsed.role.filter(|r| *r != current.role);
                }
                let changed =
                    changes.name.is_some() || changes.email.is_some() || changes.role.is_some();
                let saved = if changed {
                    service::update_contact_in(uow, OPERATION, current, changes).await
                } else {
                    Ok(current.clone())
                };
                match saved {
                    Ok(saved) => {
                        deactivate(self, uow, saved, parsed.active, changed, Done::Unchanged).await
                    }
                    Err(failure) => Err(failure),
                }
            }
            None => {
                let new = NewContact {
                    partner_id: parsed.partner_id,
                    name: parsed.name.clone(),
                    email: parsed.email.clone(),
                    role: parsed.role.unwrap_or(PartnerContactRole::Other),
                };
                match service::add_contact_in(uow, OPERATION, new).await {
                    Ok(created) => {
                        deactivate(self, uow, created, parsed.active, true, Done::Created).await
                    }
                    Err(failure) => Err(failure),
                }
            }
        };
        let (saved, done) = match result {
            Ok(result) => result,
            Err(failure) => {
                row.failure(failure)?;
                return Ok(None);
            }
        };
        let duplicate_of = found.and_then(|id| {
            self.touched
                .get(&id)
                .map(|first| (*first, format!("contact ({})", parsed.email.as_str())))
        });
        self.touched.entry(saved.id).or_insert(row.number);
        self.index(saved);
        Ok(Some(Written { done, duplicate_of }))
    }

    async fn committed(&self, db: &DatabaseConnection) {
        if self.deactivated {
            crate::auth::cache::tokens_revoked(db).await;
        }
    }
}

/// Deactivates `contact` when the row says it is inactive; what became of
/// the row (`base` when nothing else changed).
async fn deactivate(
    contacts: &mut Contacts,
    uow: &UnitOfWork,
    contact: partner_contact::Model,
    active: Option<bool>,
    changed: bool,
    base: Done,
) -> crate::service::Outcome<(partner_contact::Model, Done)> {
    let done = match (base, changed) {
        (Done::Created, _) => Done::Created,
        (_, true) => Done::Updated,
        _ => base,
    };
    if active == Some(false) && contact.deactivated_at.is_none() {
        let saved = service::deactivate_contact_in(uow, OPERATION, &contact).await?;
        contacts.deactivated = true;
        let done = if done == Done::Created {
            Done::Created
        } else {
            Done::Updated
        };
        return Ok((saved, done));
    }
    Ok((contact, done))
}
