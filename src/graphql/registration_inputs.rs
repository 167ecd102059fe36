//! The field rules of a deal registration (SPEC §4.2), applied to the
//! inputs of `submitDealRegistration` and `updateDealRegistration`: every
//! bad field of one input is reported at once, each as a user error naming
//! it, the expected close date (not in the past) included.

use chrono::NaiveDate;

use super::{
    payload::InputCheck,
    registrations::{money_input, SubmitDealRegistrationInput, UpdateDealRegistrationInput},
};
use crate::{
    auth::Principal,
    domain::{
        inputs::{free_text, DisplayName, EmailAddress, InvalidInput},
        registrations::expected_close_date,
    },
    ids::NodeType,
    service::registrations::{parse_company_domain, NewRegistration, RegistrationChanges},
};

/// A submission, parsed: `None` after noting every bad field.
pub fn submission(
    check: &mut InputCheck,
    principal: &Principal,
    today: NaiveDate,
    input: SubmitDealRegistrationInput,
) -> Option<NewRegistration> {
    let partner_id = match &input.partner_id {
        Some(id) if principal.is_staff() => check.id("partnerId", NodeType::Partner, id),
        _ => None,
    };
    let company_name = check.field("companyName", DisplayName::parse(&input.company_name));
    let company_domain = check.field(
        "companyDomain",
        parse_company_domain(&input.company_domain).map_err(InvalidInput),
    );
    let contact_name = check.field(
        "customerContactName",
        DisplayName::parse(&input.customer_contact_name),
    );
    let contact_email = check.field(
        "customerContactEmail",
        EmailAddress::parse(&input.customer_contact_email),
    );
    let amount = money_input(check, "estimatedAmount", input.estimated_amount);
    let close = check.field(
        "expectedCloseDate",
        expected_close_date(input.expected_close_date.0, today),
    );
    let product = check.optional("product", input.product, free_text);
    let notes = check.optional("notes", input.notes, free_text);
    Some(NewRegistration {
        partner_id,
        company_name: company_name?,
        company_domain: company_domain?,
        customer_contact_name: contact_name?,
        customer_contact_email: contact_email?,
        estimated_amount: amount?,
        expected_close_date: close?,
        product,
        notes,
    })
}

/// An update, parsed: the registration's id and the changes, or `None`
/// after noting every bad field.
pub fn update(
    check: &mut InputCheck,
    principal: &Principal,
    today: NaiveDate,
    input: UpdateDealRegistrationInput,
) -> Option<(uuid::Uuid, RegistrationChanges)> {
    let id = check.id("id", NodeType::DealRegistration, &input.id);
    let internal_notes = if principal.is_staff() {
        check.clearable("internalNotes", input.internal_notes, free_text)
    } else {
        None
    };
    let changes = RegistrationChanges {
        customer_contact_name: check.optional(
            "customerContactName",
            input.customer_contact_name,
            |n| DisplayName::parse(&n),
        ),
        customer_contact_email: check.optional(
            "customerContactEmail",
            input.customer_contact_email,
            |e| EmailAddress::parse(&e),
        ),
        estimated_amount: input
            .estimated_amount
            .and_then(|m| money_input(check, "estimatedAmount", m)),
        expected_close_date: check.optional("expectedCloseDate", input.expected_close_date, |d| {
            expected_close_date(d.0, today)
        }),
        product: check.clearable("product", input.product, free_text),
        notes: check.clearable("notes", input.notes, free_text),
        internal_notes,
    };
    Some((id?, changes))
}
