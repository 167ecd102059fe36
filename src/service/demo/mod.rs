//! `serve --demo`: a living program to explore, seeded on an empty database
//! through the normal write path (audit and events included): 40 partners
//! signed over sixteen months, their people and certifications, about 200
//! registrations and 300 opportunities, a year of portal activity, and the
//! staff who own the deals. The same program every time, dated relative to
//! today (`script`); played through the use cases (`play`).

mod play;
mod script;

use chrono::{DateTime, Utc};
use entity::partner;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use uuid::Uuid;

use crate::{
    auth::{token, Principal, ScopeSet},
    domain::Role,
};

/// The fixed seed of the demo program.
const SEED: u64 = 2026;

/// What a new user needs to start exploring.
pub struct Demo {
    /// An `ADMIN` token with every scope.
    pub admin_token: String,
    /// The showcase partner, and tokens acting for it.
    pub partner_name: String,
    pub partner_admin_token: String,
    pub partner_rep_token: String,
    /// Whether this run seeded the program (false: the database had partners).
    pub seeded: bool,
}

const TOKEN_TTL_DAYS: i64 = 30;

async fn staff(
    db: &DatabaseConnection,
    email: &str,
    role: Role,
    now: DateTime<Utc>,
) -> anyhow::Result<(Principal, String)> {
    let user = token::staff_user_for(db, email, role, now).await?;
    let new = token::NewToken {
        role,
        staff_user_id: Some(user.id),
        partner_id: None,
        scopes: ScopeSet::all(),
        ttl: chrono::Duration::days(TOKEN_TTL_DAYS),
        api_client_id: None,
    };
    let (token_id, secret) = token::issue(db, new, now).await?;
    let principal = Principal {
        role,
        staff_user_id: Some(user.id),
        partner_id: None,
        token_id,
        api_client_id: None,
        scopes: ScopeSet::all(),
    };
    Ok((principal, secret.expose().to_owned()))
}

async fn partner_token(
    db: &DatabaseConnection,
    partner_id: Uuid,
    role: Role,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let new = token::NewToken {
        role,
        staff_user_id: None,
        partner_id: Some(partner_id),
        scopes: ScopeSet::all(),
        ttl: chrono::Duration::days(TOKEN_TTL_DAYS),
        api_client_id: None,
    };
    let (_, secret) = token::issue(db, new, now).await?;
    Ok(secret.expose().to_owned())
}

/// Seeds the demo program when the database has no partner yet, and issues
/// fresh tokens either way.
pub async fn seed(db: &DatabaseConnection, now: DateTime<Utc>) -> anyhow::Result<Demo> {
    let (admin, admin_token) = staff(db, "admin@partnergraph.example", Role::Admin, now).await?;
    let empty = partner::Entity::find().count(db).await? == 0;
    let script = script::script(SEED);
    let showcase = 0;
    let partner_id = if empty {
        let mut cast = play::Cast {
            admin,
            managers: Vec::new(),
            reps: Vec::new(),
            partners: Vec::new(),
        };
        for email in [
            "maya.manager@partnergraph.example",
            "omar.manager@partnergraph.example",
        ] {
            cast.managers
                .push(staff(db, email, Role::PartnerManager, now).await?.0);
        }
        for email in [
            "ana.sales@partnergraph.example",
            "ben.sales@partnergraph.example",
            "cleo.sales@partnergraph.example",
            "dan.sales@partnergraph.example",
        ] {
            cast.reps.push(staff(db, email, Role::Sales, now).await?.0);
        }
        staff(db, "vera.viewer@partnergraph.example", Role::Viewer, now).await?;
        let seeded = play::play(db, &script, &mut cast, now).await?;
        seeded.partners.first().copied().flatten()
    } else {
        partner::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .find(|p| p.name == script.partners[showcase].name)
            .map(|p| p.id)
    };
    let Some(partner_id) = partner_id else {
        return Ok(Demo {
            admin_token,
            partner_name: String::new(),
            partner_admin_token: String::new(),
            partner_rep_token: String::new(),
            seeded: false,
        });
    };
    Ok(Demo {
        admin_token,
        partner_name: script.partners[showcase].name.clone(),
        partner_admin_token: partner_token(db, partner_id, Role::PartnerAdmin, now).await?,
        partner_rep_token: partner_token(db, partner_id, Role::PartnerRep, now).await?,
        seeded: empty,
    })
}

/// Three queries worth trying first; the first over the year to `now`.
pub fn queries(now: DateTime<Utc>) -> [(&'static str, String); 3] {
    let from = (now - chrono::Duration::days(365)).format("%Y-%m-%dT00:00:00Z");
    let to = now.format("%Y-%m-%dT00:00:00Z");
    [
        (
            "the program over the last year (staff)",
            format!(
                "{{ programMetrics(from: \"{from}\", to: \"{to}\") {{ registrationsSubmitted \
                 activatedPartnerRate {{ value }} winRates {{ segment outcomes {{ winRate {{ value }} }} }} \
                 repAdoption {{ repsWithPartnerDeals {{ value }} }} }} }}"
            ),
        ),
        (
            "partners and their runway (staff)",
            "{ partners(first: 5) { edges { node { name tier status activation { live overdue } } } } }".into(),
        ),
        (
            "its own deals (partner)",
            "{ viewer { partner { name } } dealRegistrations(first: 5) { totalCount edges { node { reference status } } } }"
                .into(),
        ),
    ]
}

impl Demo {
    /// What `serve --demo` prints.
    pub fn print(&self, graphql_url: &str, now: DateTime<Utc>) {
        if self.seeded {
            println!(
                "Demo program seeded: 40 partners, their people, deals and a year of activity."
            );
        } else {
            println!("The database already has partners; nothing was seeded.");
        }
        println!("  GraphiQL:            {graphql_url} (open in a browser)");
        println!("  Admin token:         {}", self.admin_token);
        if !self.partner_name.is_empty() {
            println!(
                "  Partner admin token: {} ({})",
                self.partner_admin_token, self.partner_name
            );
            println!("  Partner rep token:   {}", self.partner_rep_token);
        }
        println!("  Send a token as `Authorization: Bearer <token>`. Queries to try:");
        for (what, query) in queries(now) {
            println!("    # {what}\n    {query}");
        }
    }
}
