//! Incentive rules (SPEC §4.8): what one plan version pays one partner for
//! one triggering fact (an opportunity won, a registration approved), and
//! why, in words the partner understands.
//!
//! Everything is integer arithmetic on minor units of the plan's currency.
//! Rates are basis points (1 % = 100). A percentage accrual is computed
//! exactly and rounded once, half away from zero; with tiers, the accrual is
//! the rounded period total after the fact minus the rounded total before
//! it, so a period's accruals always add up to its rounded total.

use chrono::{DateTime, Duration, Utc};

use super::{money::div_round_half_away, AccrualStatus, AttributionRole};

/// Basis points in one (100 %).
pub const WHOLE_BPS: i64 = 10_000;

/// What the percentage is taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The opportunity's amount.
    OpportunityAmount,
    /// The amount × the partner's attribution credit.
    CreditedAmount,
    /// No percentage: each role earns its flat amount.
    Flat,
}

/// What a role earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payout {
    /// A percentage of the basis, in basis points.
    Rate(i64),
    /// A fixed amount in minor units.
    Flat(i64),
}

/// Where a plan's window starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowAnchor {
    PartnerSigned,
    PlanStart,
}

/// "The first `max_count` deals within `days` of the anchor": the window is
/// `[anchor, anchor + days)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub anchor: WindowAnchor,
    pub days: i64,
    pub max_count: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierPeriod {
    Month,
    Quarter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierMode {
    /// Only the amount past a threshold earns the higher rate.
    Marginal,
    /// Passing a threshold re-rates the whole period at the higher rate.
    Retroactive,
}

/// A rate that applies to the part of a period's basis above `above`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bracket {
    /// Minor units; the first bracket starts at 0.
    pub above: i64,
    pub rate_bps: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiers {
    pub period: TierPeriod,
    pub mode: TierMode,
    /// Ordered by `above`, the first at 0.
    pub brackets: Vec<Bracket>,
}

/// The rules of one plan version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub basis: Basis,
    /// What each role earns; a role not listed earns nothing.
    pub payouts: Vec<(AttributionRole, Payout)>,
    pub window: Option<Window>,
    /// When set, they replace the roles' rates (flat payouts are unaffected).
    pub tiers: Option<Tiers>,
    /// The most one partner can earn under the plan, in minor units.
    pub cap: Option<i64>,
}

/// One triggering fact for one partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    pub role: AttributionRole,
    /// The partner's attribution credit in basis points (SOURCED: 10,000).
    pub credit_bps: i64,
    /// The amount in the plan's currency, minor units.
    pub amount: i64,
    pub at: DateTime<Utc>,
}

/// What the partner already has under this plan before the fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct History {
    /// Accrued facts inside the plan's window.
    pub window_count: u32,
    /// The basis already accrued in the fact's tier period.
    pub period_basis: i64,
    /// Everything accrued under the plan, for the cap.
    pub earned: i64,
}

/// Dates the window is anchored at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchors {
    pub partner_signed_at: Option<DateTime<Utc>>,
    pub plan_starts_at: DateTime<Utc>,
}

/// One step of an explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The basis: the amount, and the credit when the basis is credited.
    Basis {
        amount: i64,
        credit_bps: Option<i64>,
        basis: i64,
    },
    /// A role's rate, applied to the basis.
    Rate {
        role: AttributionRole,
        rate_bps: i64,
        earned: i64,
    },
    /// A role's flat amount.
    Flat { role: AttributionRole, earned: i64 },
    /// The tier period's basis before and after, and what the tiers earn on it.
    Tier {
        mode: TierMode,
        period_basis_before: i64,
        period_basis_after: i64,
        rate_bps: i64,
        earned: i64,
    },
    /// The fact's place in the window: `position` of `max_count`.
    Window {
        position: u32,
        max_count: Option<u32>,
        days: i64,
        anchor: WindowAnchor,
    },
    /// The cap cut the amount down to what was left of it.
    Cap { cap: i64, left: i64 },
}

/// What a plan pays for a fact, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accrual {
    /// Minor units of the plan's currency; never negative.
    pub amount: i64,
    /// The basis the fact adds to its tier period.
    pub basis: i64,
    pub steps: Vec<Step>,
}

/// Why a plan pays nothing for a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotEarned {
    /// The plan pays nothing for this attribution role.
    Role,
    /// The fact is outside the plan's window, or the window's anchor is unknown
    /// (a partner that has not signed).
    OutsideWindow,
    /// The window's maximum count is reached.
    WindowFull,
    /// The cap is reached.
    CapReached,
}

/// What `plan` pays for `fact`, given what the partner already has.
pub fn accrue(
    plan: &Plan,
    anchors: Anchors,
    fact: Fact,
    history: History,
) -> Result<Accrual, NotEarned> {
    let payout = plan
        .payouts
        .iter()
        .find(|(role, _)| *role == fact.role)
        .map(|(_, payout)| *payout)
        .ok_or(NotEarned::Role)?;
    let mut steps = Vec::new();
    if let Some(window) = plan.window {
        let anchor = match window.anchor {
            WindowAnchor::PartnerSigned => anchors.partner_signed_at,
            WindowAnchor::PlanStart => Some(anchors.plan_starts_at),
        }
        .ok_or(NotEarned::OutsideWindow)?;
        if fact.at < anchor || fact.at >= anchor + Duration::days(window.days) {
            return Err(NotEarned::OutsideWindow);
        }
        if window
            .max_count
            .is_some_and(|max| history.window_count >= max)
        {
            return Err(NotEarned::WindowFull);
        }
        steps.push(Step::Window {
            position: history.window_count + 1,
            max_count: window.max_count,
            days: window.days,
            anchor: window.anchor,
        });
    }
    let credited = plan.basis == Basis::CreditedAmount;
    let basis = if credited {
        div_round_half_away(
            i128::from(fact.amount) * i128::from(fact.credit_bps),
            i128::from(WHOLE_BPS),
        )
    } else {
        fact.amount
    };
    let earned = match (payout, &plan.tiers, plan.basis) {
        (Payout::Flat(_), _, _) | (_, _, Basis::Flat) => {
            let amount = match payout {
                Payout::Flat(amount) => amount,
                Payout::Rate(_) => 0,
            };
            steps.push(Step::Flat {
                role: fact.role,
                earned: amount,
            });
            amount
        }
        (Payout::Rate(rate_bps), None, _) => {
            steps.push(Step::Basis {
                amount: fact.amount,
                credit_bps: credited.then_some(fact.credit_bps),
                basis,
            });
            // Exact: amount × credit × rate, rounded once.
            let exact = if credited {
                i128::from(fact.amount) * i128::from(fact.credit_bps) * i128::from(rate_bps)
            } else {
                i128::from(fact.amount) * i128::from(rate_bps) * i128::from(WHOLE_BPS)
            };
            let earned = div_round_half_away(exact, i128::from(WHOLE_BPS * WHOLE_BPS));
            steps.push(Step::Rate {
                role: fact.role,
                rate_bps,
                earned,
            });
            earned
        }
        (Payout::Rate(_), Some(tiers), _) => {
            steps.push(Step::Basis {
                amount: fact.amount,
                credit_bps: credited.then_some(fact.credit_bps),
                basis,
            });
            let before = history.period_basis;
            let after = before.saturating_add(basis);
            let earned = tier_total(tiers, after) - tier_total(tiers, before);
            steps.push(Step::Tier {
                mode: tiers.mode,
                period_basis_before: before,
                period_basis_after: after,
                rate_bps: rate_at(tiers, after),
                earned,
            });
            earned
        }
    };
    let amount = match plan.cap {
        Some(cap) => {
            let left = (cap - history.earned).max(0);
            if left == 0 {
                return Err(NotEarned::CapReached);
            }
            if earned > left {
                steps.push(Step::Cap { cap, left });
            }
            earned.min(left)
        }
        None => earned,
    };
    Ok(Accrual {
        amount: amount.max(0),
        basis: if plan.basis == Basis::Flat { 0 } else { basis },
        steps,
    })
}

/// The rate of the bracket a period basis of `basis` reaches.
fn rate_at(tiers: &Tiers, basis: i64) -> i64 {
    tiers
        .brackets
        .iter()
        .rev()
        .find(|bracket| basis > bracket.above || bracket.above == 0)
        .map_or(0, |bracket| bracket.rate_bps)
}

/// What the tiers pay on a whole period basis, rounded to minor units.
fn tier_total(tiers: &Tiers, basis: i64) -> i64 {
    let exact: i128 = match tiers.mode {
        TierMode::Retroactive => i128::from(basis) * i128::from(rate_at(tiers, basis)),
        TierMode::Marginal => tiers
            .brackets
            .iter()
            .enumerate()
            .map(|(i, bracket)| {
                let top = tiers
                    .brackets
                    .get(i + 1)
                    .map_or(basis, |next| next.above.min(basis));
                let portion = (top - bracket.above).max(0);
                i128::from(portion) * i128::from(bracket.rate_bps)
            })
            .sum(),
    };
    div_round_half_away(exact, i128::from(WHOLE_BPS))
}

/// The first instant of the tier period holding `at` (calendar months and
/// quarters in UTC).
pub fn period_start(period: TierPeriod, at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{Datelike, TimeZone};
    let month = match period {
        TierPeriod::Month => at.month(),
        TierPeriod::Quarter => (at.month() - 1) / 3 * 3 + 1,
    };
    Utc.with_ymd_and_hms(at.year(), month, 1, 0, 0, 0)
        .single()
        .unwrap_or(at)
}

/// One fact a partner already earned under a plan: when, the basis it
/// added to its tier period, and the amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earned {
    pub at: DateTime<Utc>,
    pub basis: i64,
    pub amount: i64,
}

impl History {
    /// What `earned` (the partner's standing accruals under the plan) means
    /// for a new fact at `at`: the facts inside the window, the basis of
    /// `at`'s tier period, everything earned (for the cap).
    pub fn of(plan: &Plan, anchors: Anchors, at: DateTime<Utc>, earned: &[Earned]) -> Self {
        let window = plan.window.and_then(|window| {
            let anchor = match window.anchor {
                WindowAnchor::PartnerSigned => anchors.partner_signed_at,
                WindowAnchor::PlanStart => Some(anchors.plan_starts_at),
            }?;
            Some((anchor, anchor + Duration::days(window.days)))
        });
        let period = plan
            .tiers
            .as_ref()
            .map(|tiers| (tiers.period, period_start(tiers.period, at)));
        let mut history = History::default();
        for e in earned {
            if window.is_some_and(|(from, to)| e.at >= from && e.at < to) {
                history.window_count += 1;
            }
            if period.is_some_and(|(p, start)| period_start(p, e.at) == start && e.at <= at) {
                history.period_basis += e.basis;
            }
            history.earned += e.amount;
        }
        history
    }
}

/// What staff do to accruals in bulk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    Hold,
    Approve,
    Reject,
}

/// The status a review moves an accrual to, or `None` when it may not:
/// hold what is pending or approved, approve what is pending or held
/// (early, before the hold ends), reject anything not yet paid or undone.
pub fn reviewed(status: AccrualStatus, review: Review) -> Option<AccrualStatus> {
    use AccrualStatus::*;
    match (review, status) {
        (Review::Hold, Pending | Approved) => Some(OnHold),
        (Review::Approve, Pending | OnHold) => Some(Approved),
        (Review::Reject, Pending | OnHold | Approved) => Some(Rejected),
        _ => None,
    }
}

/// Whether an accrual still counts toward windows, tiers and caps.
pub fn stands(status: AccrualStatus) -> bool {
    !matches!(status, AccrualStatus::Rejected | AccrualStatus::Reversed)
}

/// What an explanation needs besides its steps: the plan as the partner
/// knows it, and the currency's decimals.
#[derive(Debug, Clone, Copy)]
pub struct Wording<'a> {
    pub plan_name: &'a str,
    pub plan_version: i32,
    pub currency: &'a str,
    /// Digits after the decimal point of the currency.
    pub digits: u32,
}

/// `minor` minor units with `digits` decimals and thousands separators,
/// then the currency: `12,345.60 EUR`.
pub fn format_money(minor: i64, digits: u32, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    let scale = 10u64.pow(digits);
    let whole = (magnitude / scale).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if digits == 0 {
        format!("{sign}{grouped} {currency}")
    } else {
        let fraction = magnitude % scale;
        format!(
            "{sign}{grouped}.{fraction:0width$} {currency}",
            width = digits as usize
        )
    }
}

/// Basis points as a percentage: `1000` → `10%`, `250` → `2.5%`.
pub fn format_rate(bps: i64) -> String {
    let whole = bps / 100;
    let rest = bps % 100;
    if rest == 0 {
        format!("{whole}%")
    } else if rest % 10 == 0 {
        format!("{whole}.{}%", rest / 10)
    } else {
        format!("{whole}.{rest:02}%")
    }
}

fn role_words(role: AttributionRole) -> &'static str {
    match role {
        AttributionRole::Sourced => "sourced",
        AttributionRole::Influenced => "influenced",
        AttributionRole::CoSell => "co-sell",
    }
}

/// The steps of an accrual in words a partner understands, first the plan.
pub fn explain(steps: &[Step], wording: Wording<'_>) -> Vec<String> {
    let money = |minor: i64| format_money(minor, wording.digits, wording.currency);
    let mut lines = vec![format!(
        "Plan \"{}\", version {}",
        wording.plan_name, wording.plan_version
    )];
    for step in steps {
        lines.push(match *step {
            Step::Basis {
                amount,
                credit_bps: Some(credit),
                basis,
            } => format!(
                "Deal amount {} × your credit {} = {}",
                money(amount),
                format_rate(credit),
                money(basis)
            ),
            Step::Basis {
                amount,
                credit_bps: None,
                ..
            } => format!("Deal amount {}", money(amount)),
            Step::Rate {
                role,
                rate_bps,
                earned,
            } => format!(
                "{} rate {} earns {}",
                capitalised(role_words(role)),
                format_rate(rate_bps),
                money(earned)
            ),
            Step::Flat { role, earned } => format!(
                "Fixed amount for a {} deal: {}",
                role_words(role),
                money(earned)
            ),
            Step::Tier {
                mode,
                period_basis_before,
                period_basis_after,
                rate_bps,
                earned,
            } => {
                let how = match mode {
                    TierMode::Marginal => {
                        "only the part above each threshold earns its tier's rate"
                    }
                    TierMode::Retroactive => "the whole period is paid at the tier reached",
                };
                format!(
                    "Tier period total {} → {}; tier rate now {} ({how}); this deal adds {}",
                    money(period_basis_before),
                    money(period_basis_after),
                    format_rate(rate_bps),
                    money(earned)
                )
            }
            Step::Window {
                position,
                max_count,
                days,
                anchor,
            } => {
                let from = match anchor {
                    WindowAnchor::PartnerSigned => "of signing",
                    WindowAnchor::PlanStart => "of the plan's start",
                };
                match max_count {
                    Some(max) => format!(
                        "Deal {position} of {max} fast-start deals within {days} days {from}"
                    ),
                    None => format!("Deal {position} within {days} days {from}"),
                }
            }
            Step::Cap { cap, left } => format!(
                "Capped: the plan pays at most {} per partner; {} was left",
                money(cap),
                money(left)
            ),
        });
    }
    lines
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use AttributionRole::*;

    /// Minor units of a two-decimal currency.
    fn units(whole: i64) -> i64 {
        whole * 100
    }

    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::days(n)
    }

    fn anchors() -> Anchors {
        Anchors {
            partner_signed_at: Some(day(0)),
            plan_starts_at: day(0),
        }
    }

    fn commission() -> Plan {
        Plan {
            basis: Basis::CreditedAmount,
            payouts: vec![
                (Sourced, Payout::Rate(1_000)),
                (Influenced, Payout::Rate(1_000)),
            ],
            window: None,
            tiers: None,
            cap: None,
        }
    }

    fn fact(role: AttributionRole, credit_bps: i64, amount: i64, at: i64) -> Fact {
        Fact {
            role,
            credit_bps,
            amount,
            at: day(at),
        }
    }

    #[test]
    fn role_rates_on_the_credited_amount() {
        // SPEC §4.8: 100,000 won; SOURCED credit 1.0 and INFLUENCED credit 0.3 at 10 %.
        let sourced = accrue(
            &commission(),
            anchors(),
            fact(Sourced, 10_000, units(100_000), 5),
            History::default(),
        );
        let influenced = accrue(
            &commission(),
            anchors(),
            fact(Influenced, 3_000, units(100_000), 5),
            History::default(),
        );
        assert_eq!(sourced.map(|a| a.amount), Ok(units(10_000)));
        assert_eq!(influenced.map(|a| a.amount), Ok(units(3_000)));
        let co_sell = accrue(
            &commission(),
            anchors(),
            fact(CoSell, 5_000, units(100_000), 5),
            History::default(),
        );
        assert_eq!(co_sell, Err(NotEarned::Role));
    }

    #[test]
    fn the_fast_start_window_pays_the_first_three_deals_within_90_days() {
        // 500 for each of the first 3 deals won within 90 days of signing:
        // days 30, 60 and 85 earn it, day 95 does not.
        let plan = Plan {
            basis: Basis::Flat,
            payouts: vec![(Sourced, Payout::Flat(units(500)))],
            window: Some(Window {
                anchor: WindowAnchor::PartnerSigned,
                days: 90,
                max_count: Some(3),
            }),
            tiers: None,
            cap: None,
        };
        let mut history = History::default();
        let mut paid = Vec::new();
        for at in [30, 60, 85, 95] {
            match accrue(
                &plan,
                anchors(),
                fact(Sourced, 10_000, units(1_000), at),
                history,
            ) {
                Ok(accrual) => {
                    history.window_count += 1;
                    history.earned += accrual.amount;
                    paid.push((at, accrual.amount));
                }
                Err(reason) => assert_eq!(reason, NotEarned::OutsideWindow, "day {at}"),
            }
        }
        assert_eq!(
            paid,
            vec![(30, units(500)), (60, units(500)), (85, units(500))]
        );
    }

    #[test]
    fn the_window_is_half_open_and_counts_deals() {
        let plan = Plan {
            basis: Basis::Flat,
            payouts: vec![(Sourced, Payout::Flat(units(500)))],
            window: Some(Window {
                anchor: WindowAnchor::PartnerSigned,
                days: 90,
                max_count: Some(3),
            }),
            tiers: None,
            cap: None,
        };
        let earn = |at, window_count| {
            accrue(
                &plan,
                anchors(),
                fact(Sourced, 10_000, 1, at),
                History {
                    window_count,
                    ..History::default()
                },
            )
            .map(|a| a.amount)
        };
        assert_eq!(earn(0, 0), Ok(units(500)));
        assert_eq!(earn(89, 2), Ok(units(500)));
        assert_eq!(earn(90, 0), Err(NotEarned::OutsideWindow));
        assert_eq!(earn(-1, 0), Err(NotEarned::OutsideWindow));
        assert_eq!(earn(10, 3), Err(NotEarned::WindowFull));
        let unsigned = Anchors {
            partner_signed_at: None,
            plan_starts_at: day(0),
        };
        assert_eq!(
            accrue(
                &plan,
                unsigned,
                fact(Sourced, 10_000, 1, 5),
                History::default()
            ),
            Err(NotEarned::OutsideWindow)
        );
    }

    fn quarter_tiers(mode: TierMode) -> Plan {
        Plan {
            basis: Basis::OpportunityAmount,
            payouts: vec![(Sourced, Payout::Rate(0))],
            window: None,
            tiers: Some(Tiers {
                period: TierPeriod::Quarter,
                mode,
                brackets: vec![
                    Bracket {
                        above: 0,
                        rate_bps: 500,
                    },
                    Bracket {
                        above: units(50_000),
                        rate_bps: 800,
                    },
                ],
            }),
            cap: None,
        }
    }

    /// Accrues `amounts` in order in one quarter; the accruals.
    fn quarter(plan: &Plan, amounts: &[i64]) -> Vec<i64> {
        let mut history = History::default();
        amounts
            .iter()
            .map(|amount| {
                let accrual = accrue(plan, anchors(), fact(Sourced, 10_000, *amount, 10), history)
                    .map_or(0, |a| a.amount);
                history.period_basis += amount;
                history.earned += accrual;
                accrual
            })
            .collect()
    }

    #[test]
    fn quarter_tiers_in_both_modes() {
        // SPEC §4.8: 5 % up to 50,000 and 8 % above, on 80,000 won in the quarter.
        let marginal = quarter_tiers(TierMode::Marginal);
        let retroactive = quarter_tiers(TierMode::Retroactive);
        assert_eq!(quarter(&marginal, &[units(80_000)]), vec![units(4_900)]);
        assert_eq!(quarter(&retroactive, &[units(80_000)]), vec![units(6_400)]);
        // The same 80,000 in two deals: the crossing deal carries the step up.
        assert_eq!(
            quarter(&marginal, &[units(40_000), units(40_000)]),
            vec![units(2_000), units(2_900)]
        );
        assert_eq!(
            quarter(&retroactive, &[units(40_000), units(40_000)]),
            vec![units(2_000), units(4_400)]
        );
        // Exactly at the threshold is still the lower rate.
        assert_eq!(quarter(&retroactive, &[units(50_000)]), vec![units(2_500)]);
    }

    #[test]
    fn tier_accruals_add_up_to_the_rounded_period_total() {
        let plan = quarter_tiers(TierMode::Marginal);
        let amounts = [333, 333, 334, 1];
        let total: i64 = quarter(&plan, &amounts).iter().sum();
        assert_eq!(
            total,
            tier_total(plan.tiers.as_ref().unwrap_or_else(|| unreachable!()), 1_001)
        );
    }

    #[test]
    fn the_cap_cuts_the_last_accrual_and_then_stops() {
        let plan = Plan {
            cap: Some(units(12_000)),
            ..commission()
        };
        let first = accrue(
            &plan,
            anchors(),
            fact(Sourced, 10_000, units(100_000), 5),
            History::default(),
        );
        assert_eq!(first.as_ref().map(|a| a.amount), Ok(units(10_000)));
        let second = accrue(
            &plan,
            anchors(),
            fact(Sourced, 10_000, units(100_000), 6),
            History {
                earned: units(10_000),
                ..History::default()
            },
        );
        assert_eq!(second.as_ref().map(|a| a.amount), Ok(units(2_000)));
        assert!(second.is_ok_and(|a| a.steps.contains(&Step::Cap {
            cap: units(12_000),
            left: units(2_000)
        })));
        let third = accrue(
            &plan,
            anchors(),
            fact(Sourced, 10_000, units(100_000), 7),
            History {
                earned: units(12_000),
                ..History::default()
            },
        );
        assert_eq!(third, Err(NotEarned::CapReached));
    }

    #[test]
    fn percentages_round_once_half_away_from_zero() {
        // 0.05 × 2.5 % of 30 % = 0.000375 → 0.00; 1.00 × 2.5 % × 30 % = 0.0075 → 0.01.
        let plan = Plan {
            payouts: vec![(Influenced, Payout::Rate(250))],
            ..commission()
        };
        let earn = |amount| {
            accrue(
                &plan,
                anchors(),
                fact(Influenced, 3_000, amount, 1),
                History::default(),
            )
            .map(|a| a.amount)
        };
        assert_eq!(earn(5), Ok(0));
        assert_eq!(earn(100), Ok(1));
        assert_eq!(earn(units(100_000)), Ok(units(750)));
    }

    #[test]
    fn explanations_read_like_a_statement() {
        let plan = Plan {
            basis: Basis::Flat,
            payouts: vec![(Sourced, Payout::Flat(units(500)))],
            window: Some(Window {
                anchor: WindowAnchor::PartnerSigned,
                days: 90,
                max_count: Some(3),
            }),
            tiers: None,
            cap: None,
        };
        let history = History {
            window_count: 1,
            ..History::default()
        };
        let accrual = accrue(&plan, anchors(), fact(Sourced, 10_000, 1, 40), history)
            .unwrap_or_else(|_| unreachable!());
        let wording = Wording {
            plan_name: "Fast start",
            plan_version: 2,
            currency: "EUR",
            digits: 2,
        };
        assert_eq!(
            explain(&accrual.steps, wording),
            vec![
                "Plan \"Fast start\", version 2".to_owned(),
                "Deal 2 of 3 fast-start deals within 90 days of signing".to_owned(),
                "Fixed amount for a sourced deal: 500.00 EUR".to_owned(),
            ]
        );
        let influenced = accrue(
            &commission(),
            anchors(),
            fact(Influenced, 3_000, units(100_000), 5),
            History::default(),
        )
        .unwrap_or_else(|_| unreachable!());
        assert_eq!(
            explain(&influenced.steps, wording)[1..],
            [
                "Deal amount 100,000.00 EUR × your credit 30% = 30,000.00 EUR".to_owned(),
                "Influenced rate 10% earns 3,000.00 EUR".to_owned(),
            ]
        );
        assert_eq!(format_money(-123_456_789, 2, "USD"), "-1,234,567.89 USD");
        assert_eq!(format_money(5, 0, "JPY"), "5 JPY");
        assert_eq!(format_rate(250), "2.5%");
        assert_eq!(format_rate(1_234), "12.34%");
    }

    #[test]
    fn reviews_move_only_undecided_money() {
        use AccrualStatus::*;
        assert_eq!(reviewed(Pending, Review::Hold), Some(OnHold));
        assert_eq!(reviewed(OnHold, Review::Approve), Some(Approved));
        assert_eq!(reviewed(Approved, Review::Reject), Some(Rejected));
        assert_eq!(reviewed(Paid, Review::Reject), None);
        assert_eq!(reviewed(Reversed, Review::Approve), None);
        assert_eq!(reviewed(Approved, Review::Approve), None);
    }

    #[test]
    fn history_counts_the_window_the_period_and_the_cap() {
        let plan = Plan {
            window: Some(Window {
                anchor: WindowAnchor::PartnerSigned,
                days: 90,
                max_count: Some(3),
            }),
            ..quarter_tiers(TierMode::Marginal)
        };
        let earned = [
            Earned {
                at: day(30),
                basis: 10,
                amount: 1,
            },
            Earned {
                at: day(95),
                basis: 20,
                amount: 2,
            },
            Earned {
                at: day(100),
                basis: 40,
                amount: 4,
            },
        ];
        let history = History::of(&plan, anchors(), day(100), &earned);
        assert_eq!(history.window_count, 1);
        // Day 30 is in the first quarter; days 95 and 100 in the second.
        assert_eq!(history.period_basis, 60);
        assert_eq!(history.earned, 7);
    }

    #[test]
    fn periods_start_on_calendar_months_and_quarters() {
        let at = Utc
            .with_ymd_and_hms(2026, 8, 17, 13, 5, 0)
            .single()
            .unwrap_or_default();
        let start = |y, m| {
            Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
                .single()
                .unwrap_or_default()
        };
        assert_eq!(period_start(TierPeriod::Month, at), start(2026, 8));
        assert_eq!(period_start(TierPeriod::Quarter, at), start(2026, 7));
    }
}
