//! `partnergraph export payouts --period YYYY-MM`: a period's payouts as
//! CSV with stable columns, for finance systems.
//!
//! The CSV is written here rather than with a crate: the columns are ours,
//! every value is quoted the one way RFC 4180 asks (a field with a comma,
//! quote or line break is quoted, quotes doubled), and no reading is needed.

use chrono::{Months, NaiveDate};
use entity::{incentive_payout, partner};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    domain::{inputs::CurrencyCode, money::Money},
    ids::{self, NodeType},
};

/// The columns, in order; never reordered, only appended to.
pub const PAYOUT_COLUMNS: [&str; 10] = [
    "payout_id",
    "partner_id",
    "partner_name",
    "currency",
    "amount",
    "period_end",
    "status",
    "external_reference",
    "paid_at",
    "created_at",
];

/// The first day of the month `YYYY-MM`.
pub fn parse_period(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d").ok()
}

fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// The payouts whose period ends in the month starting `month`, oldest first, as CSV.
pub async fn payouts_csv(db: &impl ConnectionTrait, month: NaiveDate) -> Result<String, DbErr> {
    let next = month + Months::new(1);
    let payouts = incentive_payout::Entity::find()
        .filter(incentive_payout::Column::PeriodEnd.gte(month))
        .filter(incentive_payout::Column::PeriodEnd.lt(next))
        .order_by_asc(incentive_payout::Column::CreatedAt)
        .order_by_asc(incentive_payout::Column::Id)
        .all(db)
        .await?;
    let partners = partner::Entity::find()
        .filter(partner::Column::Id.is_in(payouts.iter().map(|p| p.partner_id)))
        .all(db)
        .await?;
    let mut out = PAYOUT_COLUMNS.join(",");
    out.push('\n');
    for p in &payouts {
        let name = partners
            .iter()
            .find(|x| x.id == p.partner_id)
            .map_or("", |x| x.name.as_str());
        let amount = CurrencyCode::parse(&p.currency)
            .map(|currency| {
                Money {
                    minor_units: p.amount_minor,
                    currency,
                }
                .amount()
                .to_string()
            })
            .unwrap_or_else(|_| p.amount_minor.to_string());
        let row = [
            ids::encode(NodeType::Payout, p.id),
            ids::encode(NodeType::Partner, p.partner_id),
            name.to_owned(),
            p.currency.clone(),
            amount,
            p.period_end.to_string(),
            p.status.to_string(),
            p.external_reference.clone().unwrap_or_default(),
            p.paid_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            p.created_at.to_rfc3339(),
        ];
        out.push_str(&row.iter().map(|v| field(v)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(field("Acme"), "Acme");
        assert_eq!(field("Acme, Inc."), "\"Acme, Inc.\"");
        assert_eq!(field("the \"best\""), "\"the \"\"best\"\"\"");
        assert_eq!(parse_period("2027-03"), NaiveDate::from_ymd_opt(2027, 3, 1));
        assert_eq!(parse_period("March"), None);
    }
}
