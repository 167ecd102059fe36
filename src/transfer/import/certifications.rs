//! Certifications: the contact named by its id, or by its partner and
//! e-mail; the track by its code; matched by id, then by (contact, track),
//! of which there is one. A row with an earned date awards the track as
//! `awardCertification` does (the same checks: active track, not in the
//! future, not already expired; a different date renews it); a new row
//! without one enrols the contact. Status is not imported: it follows from
//! the earned date (revocation is `revokeCertification`, one at a time).

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{certification, certification_track, partner_contact};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::{cells, columns::Field, partner_ref::PartnerRefs, row::Row, Done, Importer, Written};
use crate::{
    domain::inputs::EmailAddress,
    ids::{self, NodeType},
    service::{certifications as service, Caller},
    unit_of_work::UnitOfWork,
};

const OPERATION: &str = "importCertifications";

static FIELDS: &[Field] = &[
    Field {
        name: "id",
        aliases: &["Certification ID"],
        required: false,
    },
    Field {
        name: "contact",
        aliases: &["contactId", "Contact ID"],
        required: false,
    },
    Field {
        name: "partner",
        aliases: &[
            "Partner Name",
            "Company",
            "Account",
            "Account Name",
            "partnerId",
        ],
        required: false,
    },
    Field {
        name: "contactEmail",
        aliases: &["E-mail", "Email", "Email Address", "Work Email"],
        required: false,
    },
    Field {
        name: "track",
        aliases: &["Track Code", "Certification", "Course", "trackCode"],
        required: true,
    },
    Field {
        name: "earnedAt",
        aliases: &[
            "Earned",
            "Earned On",
            "Date Earned",
            "Completed",
            "Completion Date",
        ],
        required: false,
    },
];

struct Parsed {
    id: Option<Uuid>,
    contact_id: Uuid,
    track_id: Uuid,
    earned: Option<NaiveDate>,
}

/// Certifications by (contact, track); contacts by id and by partner and
/// e-mail; tracks by code.
pub struct Certifications {
    records: HashMap<Uuid, certification::Model>,
    by_pair: HashMap<(Uuid, Uuid), Uuid>,
    contacts: HashMap<Uuid, Uuid>,
    contact_by_email: HashMap<(Uuid, String), Uuid>,
    tracks: HashMap<String, certification_track::Model>,
    partners: PartnerRefs,
    touched: HashMap<Uuid, usize>,
}

impl Certifications {
    pub async fn load(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        let mut c = Self {
            records: HashMap::new(),
            by_pair: HashMap::new(),
            contacts: HashMap::new(),
            contact_by_email: HashMap::new(),
            tracks: HashMap::new(),
            partners: PartnerRefs::load(db).await?,
            touched: HashMap::new(),
        };
        for contact in partner_contact::Entity::find().all(db).await? {
            c.contact_by_email
                .insert((contact.partner_id, contact.email), contact.id);
            c.contacts.insert(contact.id, contact.partner_id);
        }
        for track in certification_track::Entity::find().all(db).await? {
            c.tracks.insert(track.code.clone(), track);
        }
        for record in certification::Entity::find().all(db).await? {
            c.index(record);
        }
        Ok(c)
    }

    fn index(&mut self, record: certification::Model) {
        self.by_pair
            .insert((record.contact_id, record.track_id), record.id);
        self.records.insert(record.id, record);
    }

    fn track(&self, text: &str) -> Result<Uuid, String> {
        let code = service::parse_code(text)?;
        match self.tracks.get(&code) {
            None => Err("no certification track has this code".into()),
            Some(track) if !track.active => Err("the track is not active".into()),
            Some(track) => Ok(track.id),
        }
    }

    /// The contact by its id, else by its partner and e-mail.
    fn contact(&self, row: &mut Row<'_>) -> Option<Uuid> {
        if row.text("contact").is_some() {
            return row.parse("contact", |t| {
                ids::decode_as(NodeType::PartnerContact, t)
                    .filter(|id| self.contacts.contains_key(id))
                    .ok_or("no partner contact has this id")
            });
        }
        let partner = row.require("partner", |t| self.partners.resolve(t));
        let email = row.require("contactEmail", EmailAddress::parse);
        let key = (partner?, email?.into_inner());
        let found = self.contact_by_email.get(&key).copied();
        if found.is_none() {
            row.problem(
                "contactEmail",
                "the partner has no contact with this e-mail (import the contacts first)",
            );
        }
        found
    }

    fn parse(&self, row: &mut Row<'_>) -> Option<Parsed> {
        let id = row.parse("id", |t| {
            ids::decode_as(NodeType::Certification, t).ok_or("is not a certification id")
        });
        let contact_id = self.contact(row);
        let track_id = row.require("track", |t| self.track(t));
        let earned = row.parse("earnedAt", cells::date);
        if row.has_problems() {
            return None;
        }
        Some(Parsed {
            id,
            contact_id: contact_id?,
            track_id: track_id?,
            earned,
        })
    }

    fn find(&self, row: &mut Row<'_>, parsed: &Parsed) -> Option<Uuid> {
        if let Some(id) = parsed.id {
            match self.records.get(&id) {
                Some(c) if (c.contact_id, c.track_id) == (parsed.contact_id, parsed.track_id) => {
                    return Some(id)
                }
                Some(_) => row.problem(
                    "id",
                    "the certification is another contact's or another track's",
                ),
                None => row.problem("id", "no certification has this id"),
            }
            return None;
        }
        self.by_pair
            .get(&(parsed.contact_id, parsed.track_id))
            .copied()
    }
}

impl Importer for Certifications {
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
        if row.has_problems() {
            return Ok(None);
        }
        let current = found.and_then(|id| self.records.get(&id));
        let fill_only = found.is_some_and(|id| self.touched.contains_key(&id));
        // An empty cell never clears, and a duplicate row only fills.
        let award = match (current, parsed.earned) {
            (_, None) => false,
            (Some(c), Some(earned)) => match c.earned_at {
                Some(at) => at.date_naive() != earned && !fill_only,
                None => true,
            },
            (None, Some(_)) => true,
        };
        let earned_at = parsed
            .earned
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc());
        let result = match (current.is_some(), award) {
            (true, false) => None,
            (_, true) => Some(
                service::award_in(
                    uow,
                    caller,
                    OPERATION,
                    parsed.contact_id,
                    parsed.track_id,
                    earned_at,
                )
                .await,
            ),
            (false, false) => Some(
                service::enroll_in(uow, caller, OPERATION, parsed.contact_id, parsed.track_id)
                    .await,
            ),
        };
        let (saved, done) = match result {
            None => (current.cloned(), Done::Unchanged),
            Some(Ok(saved)) if current.is_some() => (Some(saved), Done::Updated),
            Some(Ok(saved)) => (Some(saved), Done::Created),
            Some(Err(failure)) => {
                row.failure(failure)?;
                return Ok(None);
            }
        };
        let duplicate_of = found.and_then(|id| {
            self.touched
                .get(&id)
                .map(|first| (*first, "certification (contact and track)".to_owned()))
        });
        if let Some(saved) = saved {
            self.touched.entry(saved.id).or_insert(row.number);
            self.index(saved);
        }
        Ok(Some(Written { done, duplicate_of }))
    }
}
