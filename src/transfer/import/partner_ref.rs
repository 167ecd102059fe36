//! A partner named in a cell of another kind's row: by its id, a CRM id
//! (`salesforce:001A`), its website's domain or its company name, each
//! normalised as the partner import matches them (SPEC §4.2).

use std::collections::{HashMap, HashSet};

use entity::{partner, partner_external_id};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::{
    domain::accounts::{normalize_company_name, normalize_domain},
    ids::{self, NodeType},
};

/// Every partner by the keys a cell may name it with.
pub struct PartnerRefs {
    ids: HashSet<Uuid>,
    by_key: HashMap<(String, String), Uuid>,
    by_domain: HashMap<String, Uuid>,
    by_name: HashMap<String, Uuid>,
}

impl PartnerRefs {
    pub async fn load(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        let mut refs = Self {
            ids: HashSet::new(),
            by_key: HashMap::new(),
            by_domain: HashMap::new(),
            by_name: HashMap::new(),
        };
        for p in partner::Entity::find().all(db).await? {
            if let Some(domain) = p.website.as_deref().map(normalize_domain) {
                if !domain.is_empty() {
                    refs.by_domain.entry(domain).or_insert(p.id);
                }
            }
            refs.by_name
                .entry(normalize_company_name(&p.name))
                .or_insert(p.id);
            refs.ids.insert(p.id);
        }
        for link in partner_external_id::Entity::find().all(db).await? {
            refs.by_key
                .insert((link.system, link.external_id), link.partner_id);
        }
        Ok(refs)
    }

    /// The partner `text` names, or why none is found.
    pub fn resolve(&self, text: &str) -> Result<Uuid, String> {
        if let Some(id) = ids::decode_as(NodeType::Partner, text) {
            return self
                .ids
                .contains(&id)
                .then_some(id)
                .ok_or_else(|| "no partner has this id".to_owned());
        }
        if let Some((system, external_id)) = text.split_once(':') {
            let key = (system.trim().to_lowercase(), external_id.trim().to_owned());
            if let Some(id) = self.by_key.get(&key) {
                return Ok(*id);
            }
        }
        let domain = normalize_domain(text);
        if domain.contains('.') && !domain.contains(' ') {
            if let Some(id) = self.by_domain.get(&domain) {
                return Ok(*id);
            }
        }
        self.by_name
            .get(&normalize_company_name(text))
            .copied()
            .ok_or_else(|| {
                "no partner has this name, domain or id (import the partners first)".to_owned()
            })
    }
}
