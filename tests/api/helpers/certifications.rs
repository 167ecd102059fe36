//! Certification tracks, partner contacts and awards, as the admin makes them.

use serde_json::{json, Value};

use super::TestApp;

impl TestApp {
    /// A FOUNDATION track named and coded `code`, of `kind` (SALES, TECHNICAL, …).
    pub async fn track(&self, code: &str, kind: &str) -> String {
        let data = self
            .admin_data(
                "mutation($input: CreateCertificationTrackInput!) { createCertificationTrack(input: $input) { certificationTrack { id } userErrors { field code message } } }",
                json!({ "input": { "code": code, "name": code, "kind": kind, "level": "FOUNDATION" } }),
            )
            .await;
        data["createCertificationTrack"]["certificationTrack"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no track: {data}"))
            .to_owned()
    }

    /// A contact of `partner` with `email`.
    pub async fn contact(&self, partner: &str, email: &str) -> String {
        let data = self
            .admin_data(
                "mutation($input: AddPartnerContactInput!) { addPartnerContact(input: $input) { contact { id } userErrors { field code message } } }",
                json!({ "input": { "partnerId": partner, "name": "Person", "email": email, "role": "SE" } }),
            )
            .await;
        data["addPartnerContact"]["contact"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no contact: {data}"))
            .to_owned()
    }

    /// Awards `track` to `contact`; the `awardCertification` payload.
    pub async fn award(&self, contact: &str, track: &str) -> Value {
        self.admin_data(
            "mutation($input: AwardCertificationInput!) { awardCertification(input: $input) {
                certification { id status earnedAt expiresAt } userErrors { field code message } } }",
            json!({ "input": { "contactId": contact, "trackId": track } }),
        )
        .await["awardCertification"]
            .clone()
    }
}
