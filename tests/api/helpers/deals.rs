//! Deal registrations and the opportunities their approval opens.

use serde_json::{json, Value};

use super::TestApp;

/// A deal registration's input: Carla Customer at `company` (domain
/// `company.example`, lower case without spaces), 25,000.00 EUR, closing
/// 2027-03-31; the methods change one part.
pub fn deal(company: &str) -> Deal {
    let domain = format!("{}.example", company.to_lowercase().replace(' ', ""));
    Deal(json!({
        "companyName": company, "companyDomain": domain,
        "customerContactName": "Carla Customer", "customerContactEmail": "carla@customer.example",
        "estimatedAmount": { "amount": "25000.00", "currency": "EUR" },
        "expectedCloseDate": "2027-03-31",
    }))
}

#[derive(Clone, serde::Serialize)]
#[serde(transparent)]
pub struct Deal(Value);

impl Deal {
    pub fn domain(self, domain: &str) -> Self {
        self.with("companyDomain", json!(domain))
    }

    pub fn amount(self, amount: &str, currency: &str) -> Self {
        self.with(
            "estimatedAmount",
            json!({ "amount": amount, "currency": currency }),
        )
    }

    /// Any other field of `SubmitDealRegistrationInput`.
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.0[field] = value;
        self
    }
}

impl From<Deal> for Value {
    fn from(deal: Deal) -> Value {
        deal.0
    }
}

impl TestApp {
    /// Submits `deal` as `token`; the `submitDealRegistration` payload,
    /// failing on any top-level error.
    pub async fn submit_deal(&self, token: &str, deal: impl Into<Value>) -> Value {
        let (_, body) = self
            .post(
                token,
                "mutation($input: SubmitDealRegistrationInput!) { submitDealRegistration(input: $input) {
                    dealRegistration { id reference status slaDueAt estimatedAmount { amount currency } }
                    userErrors { field code message } } }",
                json!({ "input": deal.into() }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        body["data"]["submitDealRegistration"].clone()
    }

    /// Registers `deal` as `token`; the registration's id.
    pub async fn register_deal(&self, token: &str, deal: impl Into<Value>) -> String {
        let payload = self.submit_deal(token, deal).await;
        payload["dealRegistration"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not registered: {payload}"))
            .to_owned()
    }

    /// Approves `registration` as the admin; the id of the opportunity it opens.
    pub async fn approve(&self, registration: &str) -> String {
        let data = self
            .admin_data(
                "mutation($id: ID!) { approveDealRegistration(input: { id: $id }) { dealRegistration { opportunity { id } } userErrors { code message } } }",
                json!({ "id": registration }),
            )
            .await;
        data["approveDealRegistration"]["dealRegistration"]["opportunity"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not approved: {data}"))
            .to_owned()
    }

    /// `deal` registered by a rep of `partner` and approved; the rep's token
    /// and the opportunity's id.
    pub async fn sourced_opportunity(&self, partner: &str, deal: Deal) -> (String, String) {
        let rep = self
            .partner_token(partner, partnergraph::domain::Role::PartnerRep)
            .await;
        let registration = self.register_deal(&rep, deal).await;
        let opportunity = self.approve(&registration).await;
        (rep, opportunity)
    }

    /// `deal` registered as `rep`, approved, and its opportunity won; the
    /// opportunity's id.
    pub async fn won_deal(&self, rep: &str, deal: Deal) -> String {
        let registration = self.register_deal(rep, deal).await;
        let opportunity = self.approve(&registration).await;
        for stage in ["QUALIFIED", "CLOSED_WON"] {
            let data = self
                .admin_data(
                    "mutation($id: ID!, $stage: OpportunityStage!) { moveOpportunityStage(input: { id: $id, stage: $stage }) { opportunity { stage } userErrors { code message } } }",
                    json!({ "id": opportunity, "stage": stage }),
                )
                .await;
            assert_eq!(
                data["moveOpportunityStage"]["opportunity"]["stage"], stage,
                "{data}"
            );
        }
        opportunity
    }
}
