//! `serve --demo`: a small program to explore, seeded on an empty database.

use chrono::{DateTime, Utc};
use entity::partner;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use super::{
    partners::{self, NewContact, NewPartner},
    Caller,
};
use crate::{
    auth::{token, Principal, ScopeSet},
    domain::{
        inputs::{DisplayName, EmailAddress, WebsiteUrl},
        PartnerContactRole, PartnerStatus, PartnerTier, PartnerType, Role,
    },
};

fn failed(what: &str) -> anyhow::Error {
    anyhow::anyhow!("demo seeding failed at {what}")
}

/// Seeds partners and contacts when the database has no partner yet, then
/// prints an admin token and the GraphiQL URL.
pub async fn seed(db: &DatabaseConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
    let admin = token::staff_user_for(db, "admin@partnergraph.example", Role::Admin, now).await?;
    let new_token = token::NewToken {
        role: Role::Admin,
        staff_user_id: Some(admin.id),
        partner_id: None,
        scopes: ScopeSet::all(),
        ttl: chrono::Duration::days(7),
        api_client_id: None,
    };
    let (token_id, secret) = token::issue(db, new_token, now).await?;
    if partner::Entity::find().count(db).await? == 0 {
        let principal = Principal {
            role: Role::Admin,
            staff_user_id: Some(admin.id),
            partner_id: None,
            token_id,
            api_client_id: None,
            contact_id: None,
            scopes: ScopeSet::all(),
        };
        let caller = Caller {
            principal: &principal,
            request_id: None,
            now,
        };
        let partners = [
            (
                "Northwind Integrations",
                PartnerType::SystemsIntegrator,
                PartnerTier::Gold,
                "https://northwind.example",
            ),
            (
                "Contoso Resale",
                PartnerType::Reseller,
                PartnerTier::Silver,
                "https://contoso.example",
            ),
            (
                "Fabrikam Referrals",
                PartnerType::Referral,
                PartnerTier::Bronze,
                "https://fabrikam.example",
            ),
        ];
        for (name, partner_type, tier, website) in partners {
            let new = NewPartner {
                name: DisplayName::parse(name).map_err(|_| failed(name))?,
                partner_type,
                tier,
                website: Some(WebsiteUrl::parse(website).map_err(|_| failed(website))?),
                owner_id: Some(admin.id),
                internal_notes: Some("Seeded by --demo".into()),
                margin: None,
            };
            let created = partners::create(db, &caller, new)
                .await
                .map_err(|_| failed(name))?;
            partners::change_status(db, &caller, created.id, PartnerStatus::Signed, None)
                .await
                .map_err(|_| failed(name))?;
            let email = format!("sales@{}", website.trim_start_matches("https://"));
            let contact = NewContact {
                partner_id: created.id,
                name: DisplayName::parse("Sam Seller").map_err(|_| failed("contact"))?,
                email: EmailAddress::parse(&email).map_err(|_| failed("contact"))?,
                role: PartnerContactRole::Ae,
            };
            partners::add_contact(db, &caller, contact)
                .await
                .map_err(|_| failed("contact"))?;
        }
    }
    println!("Demo program ready.");
    println!("  GraphiQL:    open http://<listen address>/graphql in a browser");
    println!("  Admin token: {}", secret.expose());
    Ok(())
}
