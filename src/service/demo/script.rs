//! The demo program as a timeline: who does what, how long ago. Pure and
//! deterministic (a fixed seed), so every run seeds the same program,
//! relative to the day it runs.

use chrono::Duration;

use crate::domain::{
    pipeline::StageRules, AttributionRole, CertificationKind, CertificationLevel,
    ConflictResolution, MilestoneKind, OpportunityStage, PartnerContactRole, PartnerStatus,
    PartnerTier, PartnerType,
};

/// SplitMix64: tiny, and the same numbers on every platform and version.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `[low, high]`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = (high - low + 1).max(1) as u64;
        low + (self.next() % span) as i64
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: i64) -> bool {
        self.between(0, 99) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.between(0, items.len() as i64 - 1) as usize]
    }
}

/// Who acts in a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Admin,
    /// A partner manager (two of them).
    Manager(usize),
    /// A sales rep (four of them).
    Rep(usize),
    /// A partner's own staff, through its portal.
    Partner(usize),
}

/// Where an opportunity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deal {
    /// Created by approving registration `n`.
    Registered(usize),
    /// Direct opportunity `n`.
    Direct(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetRate(&'static str, &'static str),
    CreateTrack(usize),
    CreatePartner(usize),
    ChangeStatus(usize, PartnerStatus),
    SetNps(usize, i32),
    AddContact(usize),
    RecordMilestone(usize, MilestoneKind),
    Enroll {
        contact: usize,
        track: usize,
    },
    Award {
        contact: usize,
        track: usize,
    },
    Revoke {
        contact: usize,
        track: usize,
    },
    Submit(usize),
    Approve(usize),
    Reject(usize),
    Withdraw(usize),
    Extend(usize),
    Resolve(usize, ConflictResolution),
    CreateDirect(usize),
    Credit(Deal, usize, AttributionRole),
    Move(Deal, OpportunityStage),
    /// Portal logins, downloads and trainings of one partner in one month.
    Activity {
        partner: usize,
        logins: i32,
        downloads: i32,
        trainings: i32,
    },
    /// The background jobs, as of this moment.
    RunJobs,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// How long before now.
    pub ago: Duration,
    pub who: Who,
    pub action: Action,
}

pub struct Track {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: CertificationKind,
    pub level: CertificationLevel,
    pub validity_months: i32,
}

pub const TRACKS: [Track; 4] = [
    Track {
        code: "SALES-101",
        name: "Sales Foundations",
        kind: CertificationKind::Sales,
        level: CertificationLevel::Foundation,
        validity_months: 12,
    },
    Track {
        code: "SALES-201",
        name: "Solution Selling Professional",
        kind: CertificationKind::Sales,
        level: CertificationLevel::Professional,
        validity_months: 24,
    },
    Track {
        code: "TECH-201",
        name: "Implementation Professional",
        kind: CertificationKind::Technical,
        level: CertificationLevel::Professional,
        validity_months: 12,
    },
    Track {
        code: "TECH-301",
        name: "Solution Architect Expert",
        kind: CertificationKind::Technical,
        level: CertificationLevel::Expert,
        validity_months: 24,
    },
];

/// How a partner's year went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Certified early, registers often, wins.
    Star,
    /// Registers now and then.
    Steady,
    /// Signed recently; the runway is still running.
    New,
    /// Signed, never registered a deal: activation overdue.
    Stalled,
    /// Was active, went quiet.
    Dormant,
    /// Left the program.
    Offboarded,
    /// Still talking to us.
    Prospect,
}

pub struct Partner {
    pub name: String,
    pub partner_type: PartnerType,
    pub tier: PartnerTier,
    pub website: String,
    pub profile: Profile,
    /// Days before now it signed (`None`: never).
    pub signed_days_ago: Option<i64>,
    pub manager: usize,
}

pub struct Contact {
    pub partner: usize,
    pub name: String,
    pub email: String,
    pub role: PartnerContactRole,
}

pub struct Account {
    pub company: String,
    pub domain: String,
}

pub struct Registration {
    pub partner: usize,
    pub account: Account,
    pub customer: String,
    pub amount: i64,
    pub currency: &'static str,
    pub close_in_days: i64,
    pub product: &'static str,
}

pub struct Direct {
    pub name: String,
    pub account: Account,
    pub amount: i64,
    pub currency: &'static str,
    pub close_in_days: i64,
    pub owner: usize,
}

/// The whole demo program.
pub struct Script {
    pub partners: Vec<Partner>,
    pub contacts: Vec<Contact>,
    pub registrations: Vec<Registration>,
    pub directs: Vec<Direct>,
    pub steps: Vec<Step>,
}

const FIRST: [&str; 20] = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Wingtip",
    "Adatum",
    "Litware",
    "Proseware",
    "Lucerne",
    "Margie",
    "Alpine",
    "Bluefin",
    "Cobalt",
    "Driftwood",
    "Evergreen",
    "Foxglove",
    "Granite",
    "Harbor",
    "Ironbark",
    "Juniper",
];
const SECOND: [&str; 7] = [
    "Referrals",
    "Resale",
    "Distribution",
    "Integrations",
    "Managed",
    "Technologies",
    "Market",
];
const PARTNER_TYPES: [PartnerType; 7] = [
    PartnerType::Referral,
    PartnerType::Reseller,
    PartnerType::Distributor,
    PartnerType::SystemsIntegrator,
    PartnerType::Msp,
    PartnerType::Technology,
    PartnerType::Marketplace,
];
const CUSTOMERS: [&str; 30] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Cyberdyne",
    "Soylent",
    "Tyrell",
    "Vandelay",
    "Pied Piper",
    "Dunder",
    "Gringotts",
    "Oscorp",
    "Massive",
    "Aperture",
    "Black Mesa",
    "Monarch",
    "Sterling",
    "Gekko",
    "Duff",
    "Krusty",
    "Nakatomi",
    "Oceanic",
    "Prestige",
    "Rekall",
    "Sirius",
    "Virtucon",
];
const REGIONS: [&str; 16] = [
    "Bank",
    "Health",
    "Logistics",
    "Retail",
    "Energy",
    "Media",
    "Foods",
    "Labs",
    "Motors",
    "Air",
    "Insurance",
    "Telecom",
    "Pharma",
    "Games",
    "Travel",
    "Capital",
];
const PEOPLE: [&str; 16] = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi",
    "Liam", "Mei", "Nora", "Omar", "Priya",
];
const SURNAMES: [&str; 12] = [
    "Adeyemi", "Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Huang", "Iyer", "Jensen",
    "Kowalski", "Larsen",
];
const PRODUCTS: [&str; 4] = [
    "Platform",
    "Analytics add-on",
    "Enterprise support",
    "Migration",
];

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// The program. `seed` fixes every choice; the README's figures use 2026.
pub fn script(seed: u64) -> Script {
    let mut rng = Rng::new(seed);
    let mut s = Script {
        partners: Vec::new(),
        contacts: Vec::new(),
        registrations: Vec::new(),
        directs: Vec::new(),
        steps: Vec::new(),
    };
    let mut accounts = (0..CUSTOMERS.len() * REGIONS.len()).map(|i| {
        let company = format!(
            "{} {}",
            CUSTOMERS[i % CUSTOMERS.len()],
            REGIONS[i / CUSTOMERS.len()]
        );
        let domain = format!("{}.example", company.to_lowercase().replace(' ', "-"));
        Account { company, domain }
    });
    let step = |s: &mut Script, ago: Duration, who: Who, action: Action| {
        s.steps.push(Step { ago, who, action })
    };

    // The program's set-up, sixteen months ago.
    let start = days(480);
    step(&mut s, start, Who::Admin, Action::SetRate("EUR", "1.08"));
    step(&mut s, start, Who::Admin, Action::SetRate("GBP", "1.27"));
    for track in 0..TRACKS.len() {
        step(&mut s, start, Who::Admin, Action::CreateTrack(track));
    }

    for p in 0..40 {
        let profile = match p % 10 {
            0 | 1 => Profile::Star,
            2..=4 => Profile::Steady,
            5 => Profile::New,
            6 => Profile::Stalled,
            7 => Profile::Dormant,
            8 if p < 20 => Profile::Offboarded,
            8 => Profile::Prospect,
            _ => Profile::Steady,
        };
        let partner_type = PARTNER_TYPES[p % PARTNER_TYPES.len()];
        let signed_days_ago = match profile {
            Profile::Prospect => None,
            Profile::New => Some(rng.between(5, 100)),
            Profile::Stalled => Some(rng.between(130, 300)),
            _ => Some(rng.between(150, 455)),
        };
        let tier = match profile {
            Profile::Star => rng.pick(&[PartnerTier::Gold, PartnerTier::Platinum]),
            Profile::Steady | Profile::Dormant => rng.pick(&[
                PartnerTier::Silver,
                PartnerTier::Bronze,
                PartnerTier::Silver,
            ]),
            _ => PartnerTier::Bronze,
        };
        let name = format!(
            "{} {}",
            FIRST[p % FIRST.len()],
            SECOND[(p / 3 + p) % SECOND.len()]
        );
        let name = if p >= FIRST.len() {
            format!("{name} Group")
        } else {
            name
        };
        let website = format!("https://{}.example", name.to_lowercase().replace(' ', ""));
        let manager = p % 2;
        let partner = s.partners.len();
        s.partners.push(Partner {
            name,
            partner_type,
            tier,
            website,
            profile,
            signed_days_ago,
            manager,
        });
        let created = days(signed_days_ago.unwrap_or(20) + 21);
        step(
            &mut s,
            created,
            Who::Manager(manager),
            Action::CreatePartner(partner),
        );
        let Some(signed) = signed_days_ago else {
            continue;
        };
        let signed_at = days(signed);
        let manage = Who::Manager(manager);
        step(
            &mut s,
            signed_at,
            manage,
            Action::ChangeStatus(partner, PartnerStatus::Signed),
        );

        // People, and their certifications.
        let people = match profile {
            Profile::Star => 5,
            Profile::Steady | Profile::Dormant | Profile::Offboarded => 3,
            _ => 2,
        };
        let roles = [
            PartnerContactRole::Ae,
            PartnerContactRole::Se,
            PartnerContactRole::Ae,
            PartnerContactRole::Bdr,
            PartnerContactRole::Cs,
        ];
        let first_contact = s.contacts.len();
        for (i, role) in roles.iter().take(people).enumerate() {
            let first = PEOPLE[(p * 3 + i) % PEOPLE.len()];
            let last = SURNAMES[(p + i * 5) % SURNAMES.len()];
            let host = s.partners[partner]
                .website
                .trim_start_matches("https://")
                .to_owned();
            let contact = s.contacts.len();
            s.contacts.push(Contact {
                partner,
                name: format!("{first} {last}"),
                email: format!("{}.{}@{host}", first.to_lowercase(), last.to_lowercase()),
                role: *role,
            });
            step(
                &mut s,
                signed_at - days(1),
                manage,
                Action::AddContact(contact),
            );
        }
        let engaged = !matches!(profile, Profile::Stalled | Profile::Prospect);
        let certified = (signed - rng.between(5, 25)).max(1);
        if engaged {
            step(
                &mut s,
                signed_at - days(3),
                manage,
                Action::ChangeStatus(partner, PartnerStatus::Onboarding),
            );
            let onboarded = signed - rng.between(8, 20);
            // The newest are still onboarding.
            if onboarded > 0 && signed > 45 {
                step(
                    &mut s,
                    days(onboarded),
                    manage,
                    Action::RecordMilestone(partner, MilestoneKind::OnboardingComplete),
                );
                step(
                    &mut s,
                    days(onboarded),
                    manage,
                    Action::ChangeStatus(partner, PartnerStatus::Active),
                );
            }
            let planned = signed - rng.between(25, 60);
            if planned > 0 && profile != Profile::New {
                step(
                    &mut s,
                    days(planned),
                    manage,
                    Action::RecordMilestone(partner, MilestoneKind::JointGtmPlanSigned),
                );
            }
            // Sales certifications before the first registration (gating);
            // stars add a technical one and renew nothing, so some expire soon.
            step(
                &mut s,
                days(certified),
                manage,
                Action::Award {
                    contact: first_contact,
                    track: 0,
                },
            );
            if certified > 330 && matches!(profile, Profile::Star | Profile::Steady) {
                // Renewed before it lapsed; the second seller's lapses.
                step(
                    &mut s,
                    days(certified - 330),
                    manage,
                    Action::Award {
                        contact: first_contact,
                        track: 0,
                    },
                );
            }
            if people > 2 {
                step(
                    &mut s,
                    days(certified),
                    manage,
                    Action::Award {
                        contact: first_contact + 2,
                        track: 0,
                    },
                );
            }
            step(
                &mut s,
                days(certified),
                manage,
                Action::Enroll {
                    contact: first_contact + 1,
                    track: 2,
                },
            );
            if matches!(profile, Profile::Star | Profile::Steady) {
                let tech = (certified - rng.between(10, 40)).max(1);
                step(
                    &mut s,
                    days(tech),
                    manage,
                    Action::Award {
                        contact: first_contact + 1,
                        track: 2,
                    },
                );
            }
            if profile == Profile::Star {
                let pro = (certified - rng.between(30, 90)).max(1);
                step(
                    &mut s,
                    days(pro),
                    manage,
                    Action::Award {
                        contact: first_contact + 3,
                        track: 1,
                    },
                );
                step(
                    &mut s,
                    days(pro),
                    manage,
                    Action::Enroll {
                        contact: first_contact + 4,
                        track: 3,
                    },
                );
            }
        }
        if profile == Profile::Dormant {
            step(
                &mut s,
                days(rng.between(20, 60)),
                manage,
                Action::ChangeStatus(partner, PartnerStatus::Dormant),
            );
        }
        if profile == Profile::Offboarded {
            let left = rng.between(10, 90);
            step(
                &mut s,
                days(left + 1),
                Who::Admin,
                Action::Revoke {
                    contact: first_contact,
                    track: 0,
                },
            );
            step(
                &mut s,
                days(left),
                Who::Admin,
                Action::ChangeStatus(partner, PartnerStatus::Offboarded),
            );
        }
        if rng.chance(70) {
            let nps = match profile {
                Profile::Star => rng.between(55, 90),
                Profile::Steady => rng.between(20, 60),
                _ => rng.between(-20, 35),
            };
            step(
                &mut s,
                days(signed / 2),
                manage,
                Action::SetNps(partner, nps as i32),
            );
        }

        // Twelve months of portal activity, from signing to now.
        if engaged {
            let months = (signed / 30).min(12);
            for month in 0..=months {
                let (logins, downloads, trainings) = match profile {
                    Profile::Star => (rng.between(12, 30), rng.between(4, 12), rng.between(0, 3)),
                    Profile::Steady | Profile::New => {
                        (rng.between(4, 14), rng.between(1, 6), rng.between(0, 1))
                    }
                    _ if month * 30 < 90 => (0, 0, 0),
                    _ => (rng.between(1, 5), rng.between(0, 2), 0),
                };
                if logins + downloads + trainings > 0 {
                    let activity = Action::Activity {
                        partner,
                        logins: logins as i32,
                        downloads: downloads as i32,
                        trainings: trainings as i32,
                    };
                    let ago = (month * 30 + rng.between(1, 25)).min(signed - 1).max(0);
                    step(&mut s, days(ago), Who::Partner(partner), activity);
                }
            }
        }

        // Registrations over the partner's life, each with its fate.
        let (count, active_until) = match profile {
            Profile::Star => (rng.between(9, 14), 0),
            Profile::Steady => (rng.between(4, 7), 0),
            Profile::New => (rng.between(0, 2), 0),
            Profile::Dormant => (rng.between(2, 4), 90),
            Profile::Offboarded => (rng.between(1, 3), 120),
            Profile::Stalled | Profile::Prospect => (0, 0),
        };
        // After the first sales certification (gating), before going quiet.
        let first_day = (certified - 2).max(1);
        for _ in 0..count {
            let Some(account) = accounts.next() else {
                break;
            };
            let submitted = rng.between(active_until.clamp(1, first_day), first_day);
            let currency = match rng.between(0, 19) {
                0..=13 => "USD",
                14..=16 => "EUR",
                17 | 18 => "GBP",
                _ => "CAD",
            };
            let r = s.registrations.len();
            let first = PEOPLE[rng.between(0, 15) as usize];
            let last = SURNAMES[rng.between(0, 11) as usize];
            s.registrations.push(Registration {
                partner,
                customer: format!("{first} {last}"),
                account,
                amount: rng.between(8, 240) * 1_000,
                currency,
                close_in_days: rng.between(30, 120),
                product: rng.pick(&PRODUCTS),
            });
            registration_story(&mut s, &mut rng, r, submitted, manage);
        }
    }

    // Direct opportunities by the sales reps, some with a partner's help.
    let helpers: Vec<usize> = (0..s.partners.len())
        .filter(|&p| matches!(s.partners[p].profile, Profile::Star | Profile::Steady))
        .collect();
    for d in 0..150 {
        let Some(account) = accounts.next() else {
            break;
        };
        let owner = d % 4;
        let created = rng.between(3, 420);
        s.directs.push(Direct {
            name: format!("{} — {}", account.company, rng.pick(&PRODUCTS)),
            account,
            amount: rng.between(10, 300) * 1_000,
            currency: if rng.chance(85) { "USD" } else { "EUR" },
            close_in_days: rng.between(30, 150),
            owner,
        });
        let rep = Who::Rep(owner);
        step(&mut s, days(created), rep, Action::CreateDirect(d));
        // Reps 0 and 1 bring partners in often, 2 sometimes, 3 never.
        let attach = [55, 45, 20, 0][owner];
        // A partner active by then.
        let able: Vec<usize> = helpers
            .iter()
            .copied()
            .filter(|&p| {
                s.partners[p]
                    .signed_days_ago
                    .is_some_and(|signed| signed > created + 30)
            })
            .collect();
        if !able.is_empty() && rng.chance(attach) {
            let partner = rng.pick(&able);
            let when = days(created) - Duration::hours(2);
            if rng.chance(70) {
                step(
                    &mut s,
                    when,
                    rep,
                    Action::Credit(Deal::Direct(d), partner, AttributionRole::Influenced),
                );
            } else {
                let manager = Who::Manager(s.partners[partner].manager);
                step(
                    &mut s,
                    when,
                    manager,
                    Action::Credit(Deal::Direct(d), partner, AttributionRole::CoSell),
                );
            }
        }
        pipeline_story(&mut s, &mut rng, Deal::Direct(d), created, rep, 48);
    }

    conflicts(&mut s, &mut accounts, &helpers);

    // The jobs ran every week, and run once more now.
    for week in (0..=68).rev() {
        step(
            &mut s,
            days(week * 7) + Duration::hours(1),
            Who::Admin,
            Action::RunJobs,
        );
    }
    step(&mut s, Duration::zero(), Who::Admin, Action::RunJobs);
    // Oldest first; steps at the same moment keep the order they were written in.
    s.steps.sort_by_key(|step| std::cmp::Reverse(step.ago));
    s
}

/// Submission, decision and, when approved, the deal's way through the pipeline.
fn registration_story(s: &mut Script, rng: &mut Rng, r: usize, submitted: i64, manager: Who) {
    let partner = s.registrations[r].partner;
    let mut step =
        |ago: Duration, who: Who, action: Action| s.steps.push(Step { ago, who, action });
    step(days(submitted), Who::Partner(partner), Action::Submit(r));
    if submitted <= 2 {
        return; // still waiting for review
    }
    // Most decisions inside the 48-hour SLA, some late.
    let decided = days(submitted)
        - Duration::hours(if rng.chance(80) {
            rng.between(2, 40)
        } else {
            rng.between(50, 70)
        });
    if decided <= Duration::zero() {
        return;
    }
    match rng.between(0, 99) {
        0..=9 => step(decided, manager, Action::Reject(r)),
        10..=14 => step(decided, Who::Partner(partner), Action::Withdraw(r)),
        _ => {
            step(decided, manager, Action::Approve(r));
            let approved = decided.num_days();
            pipeline_story(s, rng, Deal::Registered(r), approved, manager, 62);
            // Some still-open deals get more protection near its end.
            let extended = days(approved - 70);
            let closed_before = s.steps.iter().any(|step| {
                matches!(step.action, Action::Move(Deal::Registered(n), stage) if n == r && stage.is_closed())
                    && step.ago >= extended
            });
            if approved > 80 && !closed_before && rng.chance(30) {
                s.steps.push(Step {
                    ago: extended,
                    who: manager,
                    action: Action::Extend(r),
                });
            }
        }
    }
}

/// An opportunity's stages from `created` days ago, closing won about
/// `win_percent` of the time it gets to close; stopped at today.
fn pipeline_story(
    s: &mut Script,
    rng: &mut Rng,
    deal: Deal,
    created: i64,
    who: Who,
    win_percent: i64,
) {
    let stages = [
        OpportunityStage::Qualified,
        OpportunityStage::Proposal,
        OpportunityStage::Negotiation,
    ];
    let mut day = created;
    for stage in stages {
        day -= rng.between(7, 25);
        if day <= 0 {
            return;
        }
        if rng.chance(8) {
            // Stalled: left open, so its protection runs out.
            return;
        }
        if rng.chance(6) {
            // Lost on the way.
            s.steps.push(Step {
                ago: days(day),
                who,
                action: Action::Move(deal, OpportunityStage::ClosedLost),
            });
            return;
        }
        s.steps.push(Step {
            ago: days(day),
            who,
            action: Action::Move(deal, stage),
        });
    }
    day -= rng.between(5, 30);
    if day <= 0 {
        return;
    }
    let close = if rng.chance(win_percent) {
        OpportunityStage::ClosedWon
    } else {
        OpportunityStage::ClosedLost
    };
    s.steps.push(Step {
        ago: days(day),
        who,
        action: Action::Move(deal, close),
    });
}

/// Open conflicts of every rule of SPEC §4.2, submitted in the last week.
fn conflicts(s: &mut Script, accounts: &mut impl Iterator<Item = Account>, helpers: &[usize]) {
    let pair = |s: &mut Script, account: Account, first: (usize, i64), second: (usize, i64)| {
        let mut push = |partner: usize, hours_ago: i64, account: &Account| {
            let r = s.registrations.len();
            s.registrations.push(Registration {
                partner,
                account: Account {
                    company: account.company.clone(),
                    domain: account.domain.clone(),
                },
                customer: "Morgan Reyes".into(),
                amount: 60_000,
                currency: "USD",
                close_in_days: 75,
                product: "Platform",
            });
            s.steps.push(Step {
                ago: Duration::hours(hours_ago),
                who: Who::Partner(partner),
                action: Action::Submit(r),
            });
            r
        };
        let a = push(first.0, first.1, &account);
        let b = push(second.0, second.1, &account);
        (a, b)
    };
    let (a, b, c, d) = (helpers[0], helpers[1], helpers[2], helpers[3]);
    // Earlier registration wins.
    if let Some(account) = accounts.next() {
        pair(s, account, (a, 100), (b, 30));
    }
    // An approved registration beats an unapproved one.
    if let Some(account) = accounts.next() {
        let (first, _) = pair(s, account, (c, 140), (d, 20));
        s.steps.push(Step {
            ago: Duration::hours(130),
            who: Who::Manager(0),
            action: Action::Approve(first),
        });
    }
    // Same hour: manual review.
    if let Some(account) = accounts.next() {
        pair(s, account, (a, 50), (c, 50));
    }
    // Partner vs direct: the rep's deal came within 7 days (co-sell), and
    // one where the partner registered long before (partner wins).
    for (registered_days, direct_days, rep) in [(5, 3, 0), (40, 2, 1)] {
        if let Some(account) = accounts.next() {
            let r = s.registrations.len();
            s.registrations.push(Registration {
                partner: b,
                customer: "Sasha Lind".into(),
                account: Account {
                    company: account.company.clone(),
                    domain: account.domain.clone(),
                },
                amount: 90_000,
                currency: "USD",
                close_in_days: 90,
                product: "Analytics add-on",
            });
            s.steps.push(Step {
                ago: days(registered_days),
                who: Who::Partner(b),
                action: Action::Submit(r),
            });
            let d = s.directs.len();
            s.directs.push(Direct {
                name: format!("{} — expansion", account.company),
                account,
                amount: 120_000,
                currency: "USD",
                close_in_days: 60,
                owner: rep,
            });
            s.steps.push(Step {
                ago: days(direct_days),
                who: Who::Rep(rep),
                action: Action::CreateDirect(d),
            });
        }
    }
    // The rep's deal was qualified before the partner registered: direct wins.
    if let Some(account) = accounts.next() {
        let d = s.directs.len();
        s.directs.push(Direct {
            name: format!("{} — renewal", account.company),
            account: Account {
                company: account.company.clone(),
                domain: account.domain.clone(),
            },
            amount: 45_000,
            currency: "USD",
            close_in_days: 45,
            owner: 2,
        });
        s.steps.push(Step {
            ago: days(20),
            who: Who::Rep(2),
            action: Action::CreateDirect(d),
        });
        s.steps.push(Step {
            ago: days(15),
            who: Who::Rep(2),
            action: Action::Move(Deal::Direct(d), OpportunityStage::Qualified),
        });
        let r = s.registrations.len();
        s.registrations.push(Registration {
            partner: a,
            customer: "Kai Moreno".into(),
            account,
            amount: 40_000,
            currency: "USD",
            close_in_days: 60,
            product: "Platform",
        });
        s.steps.push(Step {
            ago: days(1),
            who: Who::Partner(a),
            action: Action::Submit(r),
        });
    }
    // One settled conflict, for the audit trail.
    if let Some(account) = accounts.next() {
        let (_, second) = pair(s, account, (d, 300), (a, 290));
        s.steps.push(Step {
            ago: Duration::hours(250),
            who: Who::Manager(1),
            action: Action::Resolve(second, ConflictResolution::OtherPartnerWins),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_is_the_same_every_time_and_the_size_the_issue_asks() {
        let one = script(2026);
        let two = script(2026);
        assert_eq!(one.steps, two.steps);
        assert_eq!(one.partners.len(), 40);
        assert!(
            (150..=260).contains(&one.registrations.len()),
            "{}",
            one.registrations.len()
        );
        let opportunities = one.directs.len()
            + one
                .steps
                .iter()
                .filter(|s| matches!(s.action, Action::Approve(_)))
                .count();
        assert!((250..=350).contains(&opportunities), "{opportunities}");
        assert!(one.steps.windows(2).all(|w| w[0].ago >= w[1].ago));
        for t in PARTNER_TYPES {
            assert!(one.partners.iter().any(|p| p.partner_type == t), "{t:?}");
        }
    }
}
