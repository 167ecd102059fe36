//! Partners as the admin makes and changes them.

use std::{future::IntoFuture, pin::Pin};

use serde::Serialize;
use serde_json::{json, Value};

use super::TestApp;

/// A partner to create, a RESELLER unless told otherwise; `.await` it for
/// its global id.
pub struct NewPartner<'a> {
    app: &'a TestApp,
    name: String,
    kind: String,
    signed: bool,
    sales_certified: bool,
}

impl TestApp {
    /// A partner named `name`, created by the admin (see [`NewPartner`]).
    pub fn partner(&self, name: &str) -> NewPartner<'_> {
        NewPartner {
            app: self,
            name: name.to_owned(),
            kind: "RESELLER".to_owned(),
            signed: false,
            sales_certified: false,
        }
    }

    /// The `version` of the node `id` of GraphQL type `type_name`.
    pub async fn version_of(&self, id: impl Serialize, type_name: &str) -> i64 {
        let query =
            format!("query($id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ version }} }} }}");
        let data = self.admin_data(&query, json!({ "id": id })).await;
        data["node"]["version"].as_i64().unwrap()
    }

    /// Applies `changes` (fields of `UpdatePartnerInput`) to `partner` as
    /// the admin, at its current version; fails on any user error.
    pub async fn update_partner(&self, partner: &str, changes: Value) {
        let mut input = changes;
        input["id"] = json!(partner);
        input["expectedVersion"] = json!(self.version_of(partner, "Partner").await);
        let data = self
            .admin_data(
                "mutation($input: UpdatePartnerInput!) { updatePartner(input: $input) { userErrors { field code message } } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(data["updatePartner"]["userErrors"], json!([]), "{data}");
    }

    /// Moves `partner` to `status` as the admin.
    pub async fn set_partner_status(&self, partner: &str, status: &str) {
        let data = self
            .admin_data(
                "mutation($id: ID!, $status: PartnerStatus!) { changePartnerStatus(input: { id: $id, status: $status }) { userErrors { code } } }",
                json!({ "id": partner, "status": status }),
            )
            .await;
        assert_eq!(
            data["changePartnerStatus"]["userErrors"],
            json!([]),
            "{data}"
        );
    }
}

impl NewPartner<'_> {
    /// Its `PartnerType`: RESELLER, REFERRAL, MSP, …
    pub fn kind(mut self, kind: &str) -> Self {
        kind.clone_into(&mut self.kind);
        self
    }

    /// Signed once created.
    pub fn signed(mut self) -> Self {
        self.signed = true;
        self
    }

    /// With a contact holding a sales certification, so that a reseller
    /// passes the certification gate on deal registrations.
    pub fn sales_certified(mut self) -> Self {
        self.sales_certified = true;
        self
    }

    async fn create(self) -> String {
        let app = self.app;
        let data = app
            .admin_data(
                "mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code } } }",
                json!({ "input": { "name": self.name, "type": self.kind } }),
            )
            .await;
        let id = data["createPartner"]["partner"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no partner: {data}"))
            .to_owned();
        if self.signed {
            app.set_partner_status(&id, "SIGNED").await;
        }
        if self.sales_certified {
            // Track codes are unique: one per partner, from its id's random end.
            let code = format!("S-{}", &id[id.len() - 20..]);
            let track = app.track(&code, "SALES").await;
            let email = format!(
                "seller@{}.example",
                self.name.to_lowercase().replace(' ', "")
            );
            let seller = app.contact(&id, &email).await;
            let awarded = app.award(&seller, &track).await;
            assert_eq!(awarded["userErrors"], json!([]), "{awarded}");
        }
        id
    }
}

impl<'a> IntoFuture for NewPartner<'a> {
    type Output = String;
    type IntoFuture = Pin<Box<dyn std::future::Future<Output = String> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.create())
    }
}
