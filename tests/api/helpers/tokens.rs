//! Bearer tokens issued straight into the test's database, as the CLI does.

use partnergraph::{
    auth::{token, ScopeSet},
    clock::Clock,
    domain::Role,
};

use super::TestApp;

impl TestApp {
    /// A token for a staff user with `role` (and `scopes`, or all of them),
    /// valid for a day of the test clock.
    pub async fn token(&self, role: Role, email: &str, scopes: Option<&str>) -> String {
        self.token_for(role, email, scopes, chrono::Duration::days(1))
            .await
    }

    pub async fn token_for(
        &self,
        role: Role,
        email: &str,
        scopes: Option<&str>,
        ttl: chrono::Duration,
    ) -> String {
        let user = token::staff_user_for(&self.db, email, role, self.clock.now())
            .await
            .unwrap();
        let scopes = scopes
            .map(|s| ScopeSet::parse(s).unwrap())
            .unwrap_or_else(ScopeSet::all);
        self.issue(token::NewToken {
            role,
            staff_user_id: Some(user.id),
            partner_id: None,
            scopes,
            ttl,
            api_client_id: None,
        })
        .await
    }

    /// A token for a partner user of the partner with global id `partner`.
    pub async fn partner_token(&self, partner: &str, role: Role) -> String {
        let partner_id =
            partnergraph::ids::decode_as(partnergraph::ids::NodeType::Partner, partner).unwrap();
        self.issue(token::NewToken {
            role,
            staff_user_id: None,
            partner_id: Some(partner_id),
            scopes: ScopeSet::all(),
            ttl: chrono::Duration::days(1),
            api_client_id: None,
        })
        .await
    }

    async fn issue(&self, new: token::NewToken) -> String {
        token::issue(&self.db, new, self.clock.now())
            .await
            .unwrap()
            .1
            .expose()
            .to_owned()
    }
}
