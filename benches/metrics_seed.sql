-- Seed data of `cargo bench --bench metrics` (PostgreSQL): 1,000 partners,
-- 100,000 opportunities, 50,000 deal registrations, 500,000 activity records,
-- with bulk INSERT … SELECT generate_series. Every figure is a function of the
-- row number, so each run seeds the same program. Ids are md5 of a name, so
-- rows can point at each other without a lookup. `:as_of` is replaced with
-- the time the benchmark's windows end at; the data spans the 15 months
-- before it.

-- Staff owners of opportunities.
INSERT INTO staff_user (id, email, name, role, created_at)
SELECT md5('staff:' || s)::uuid, 'rep' || s || '@vendor.example', 'Rep ' || s, 'SALES',
       :as_of - interval '500 days'
FROM generate_series(0, 5) AS s;

INSERT INTO exchange_rate (currency, rate_to_base, updated_at) VALUES
  ('EUR', '1.08', :as_of - interval '30 days'),
  ('GBP', '1.27', :as_of - interval '30 days');

INSERT INTO certification_track (id, code, name, kind, level, validity_months, active, version, created_at, updated_at)
SELECT md5('track:' || t)::uuid, 'TRACK-' || t, 'Track ' || t,
       (ARRAY['PRODUCT', 'SALES', 'TECHNICAL', 'SALES'])[t + 1],
       (ARRAY['FOUNDATION', 'PROFESSIONAL', 'EXPERT', 'FOUNDATION'])[t + 1],
       24, t < 3, 1, :as_of - interval '600 days', :as_of - interval '600 days'
FROM generate_series(0, 3) AS t;

-- Partners signed over the past 15 months (456 days).
INSERT INTO partner (id, name, name_key, partner_type, tier, status, website, signed_at, owner_id,
                     internal_notes, margin_bps, version, created_at, updated_at,
                     activation_overdue_notified_at, customer_nps, recommended_tier, recommended_tier_at)
SELECT md5('partner:' || i)::uuid,
       'Partner ' || lpad(i::text, 5, '0'), 'partner ' || lpad(i::text, 5, '0'),
       (ARRAY['REFERRAL', 'RESELLER', 'DISTRIBUTOR', 'SYSTEMS_INTEGRATOR', 'MSP', 'TECHNOLOGY'])[i % 6 + 1],
       (ARRAY['BRONZE', 'BRONZE', 'SILVER', 'SILVER', 'GOLD', 'PLATINUM'])[i % 6 + 1],
       (ARRAY['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ONBOARDING', 'SIGNED', 'ACTIVE', 'DORMANT', 'ACTIVE', 'OFFBOARDED'])[i % 10 + 1],
       'https://partner-' || i || '.example.com',
       :as_of - make_interval(secs => ((i::bigint * 39397) % (456 * 86400))::double precision),
       md5('staff:' || (i % 6))::uuid, NULL, NULL, 1,
       :as_of - make_interval(secs => ((i::bigint * 39397) % (456 * 86400))::double precision) - interval '20 days',
       :as_of - interval '1 day', NULL,
       CASE WHEN i % 4 = 0 THEN NULL ELSE (i * 37) % 201 - 100 END, NULL, NULL
FROM generate_series(0, 999) AS i;

-- Milestones: every partner signed; later ones reached by fewer, at spread times.
INSERT INTO partner_milestone (partner_id, milestone, achieved_at)
SELECT p.id, m.milestone, p.signed_at + make_interval(days => m.offset_days + (p.n * m.step) % m.spread)
FROM (SELECT i AS n, md5('partner:' || i)::uuid AS id,
             :as_of - make_interval(secs => ((i::bigint * 39397) % (456 * 86400))::double precision) AS signed_at
      FROM generate_series(0, 999) AS i) p
JOIN (VALUES ('AGREEMENT_SIGNED', 0, 1, 1, 100),
             ('ONBOARDING_COMPLETE', 3, 7, 30, 85),
             ('CERTIFICATION_COMPLETE', 10, 11, 60, 60),
             ('JOINT_GTM_PLAN_SIGNED', 14, 13, 50, 50),
             ('FIRST_REGISTERED_DEAL', 7, 17, 160, 75),
             ('FIRST_CLOSED_WON', 40, 19, 200, 45))
  AS m (milestone, offset_days, step, spread, percent)
  ON (p.n * 53) % 100 < m.percent
WHERE p.signed_at + make_interval(days => m.offset_days + (p.n * m.step) % m.spread) < :as_of;

-- Two contacts per partner; certifications on the tracks.
INSERT INTO partner_contact (id, partner_id, name, email, role, version, created_at, updated_at)
SELECT md5('contact:' || c)::uuid, md5('partner:' || (c / 2))::uuid, 'Contact ' || c,
       'contact' || c || '@partner-' || (c / 2) || '.example',
       (ARRAY['BDR', 'AE', 'SE', 'CS', 'OTHER'])[c % 5 + 1], 1,
       :as_of - interval '460 days', :as_of - interval '460 days'
FROM generate_series(0, 1999) AS c;

INSERT INTO certification (id, partner_id, contact_id, track_id, status, enrolled_at, earned_at,
                           expires_at, expiring_notified_for, version, created_at, updated_at)
SELECT md5('certification:' || c || ':' || t)::uuid, md5('partner:' || (c / 2))::uuid,
       md5('contact:' || c)::uuid, md5('track:' || t)::uuid,
       CASE WHEN (c + t) % 5 = 0 THEN 'IN_PROGRESS' WHEN (c + t) % 11 = 0 THEN 'EXPIRED' ELSE 'ACTIVE' END,
       :as_of - make_interval(days => 20 + (c * 13 + t * 29) % 430),
       CASE WHEN (c + t) % 5 = 0 THEN NULL
            ELSE :as_of - make_interval(days => 20 + (c * 13 + t * 29) % 430) + interval '15 days' END,
       CASE WHEN (c + t) % 5 = 0 THEN NULL
            WHEN (c + t) % 11 = 0 THEN :as_of - interval '5 days'
            ELSE :as_of - make_interval(days => 20 + (c * 13 + t * 29) % 430) + interval '745 days' END,
       NULL, 1, :as_of - interval '460 days', :as_of - interval '460 days'
FROM generate_series(0, 1999) AS c
JOIN generate_series(0, 3) AS t ON (c * 7 + t * 3) % 10 < 4;

-- Opportunities created over 15 months; opportunity i belongs to partner
-- i / 100 (a hundred each). Stage by i: 20 % won, 15 % lost, the rest open. Currencies: USD,
-- EUR and GBP (with rates) and CAD (without). Owners: six reps, 1 in 5 none.
INSERT INTO opportunity (id, name, company_name, company_domain, company_key, domain_key, source, stage,
                         next_step, amount_minor, currency, expected_close_date, closed_at,
                         closed_lost_reason, qualified_at, deal_registration_id, owner_id, discount_bps,
                         margin_bps, competitor_intel, internal_notes, crm_managed, version, created_at,
                         updated_at)
SELECT md5('opportunity:' || i)::uuid, 'Deal ' || i, 'Customer ' || i, 'customer-' || i || '.example',
       'customer ' || i, 'customer-' || i || '.example',
       CASE WHEN i % 10 < 6 THEN 'PARTNER_SOURCED' ELSE 'DIRECT' END,
       CASE WHEN (i * 7) % 20 < 4 THEN 'CLOSED_WON'
            WHEN (i * 7) % 20 < 7 THEN 'CLOSED_LOST'
            ELSE (ARRAY['REGISTERED', 'QUALIFIED', 'PROPOSAL', 'NEGOTIATION'])[(i / 7) % 4 + 1] END,
       NULL, 100000 + (i * 7919) % 19900000,
       (ARRAY['USD', 'USD', 'USD', 'USD', 'USD', 'USD', 'EUR', 'EUR', 'GBP', 'CAD'])[(i / 3) % 10 + 1],
       (:as_of + make_interval(days => (i % 365) - 100))::date,
       CASE WHEN (i * 7) % 20 < 7 THEN
         LEAST(o.created_at + make_interval(days => 10 + (i * 31) % 170, secs => (i % 86400)::double precision),
               :as_of - make_interval(secs => (1 + i % 86000)::double precision)) END,
       CASE WHEN (i * 7) % 20 BETWEEN 4 AND 6 THEN 'Lost to a competitor' END,
       NULL, NULL,
       CASE WHEN i % 5 = 4 THEN NULL ELSE md5('staff:' || (i % 6))::uuid END,
       NULL, NULL, NULL, NULL, false, 1, o.created_at, o.created_at
FROM generate_series(0, 99999) AS i,
     LATERAL (SELECT :as_of - make_interval(secs => ((i::bigint * 104729) % (456 * 86400))::double precision)
              AS created_at) o;

-- Attributions: 60 % partner-sourced (1 in 10 of those with an influencer
-- too), 20 % influenced or co-sell only, 20 % direct with none.
INSERT INTO opportunity_attribution (id, opportunity_id, partner_id, role, credit_bps, created_at)
SELECT md5('attribution:' || i)::uuid, md5('opportunity:' || i)::uuid, md5('partner:' || (i / 100))::uuid,
       CASE WHEN i % 10 < 6 THEN 'SOURCED' WHEN i % 10 = 6 THEN 'INFLUENCED' ELSE 'CO_SELL' END,
       CASE WHEN i % 10 < 6 AND i % 100 < 6 THEN 7000 ELSE 10000 END,
       :as_of - interval '1 day'
FROM generate_series(0, 99999) AS i
WHERE i % 10 < 8;
INSERT INTO opportunity_attribution (id, opportunity_id, partner_id, role, credit_bps, created_at)
SELECT md5('attribution:' || i || ':2')::uuid, md5('opportunity:' || i)::uuid,
       md5('partner:' || ((i / 100 + 337) % 1000))::uuid, 'INFLUENCED', 3000, :as_of - interval '1 day'
FROM generate_series(0, 99999) AS i
WHERE i % 10 < 6 AND i % 100 < 6;

-- Registrations: registration j is on opportunity 2j + j % 2 (whose partner
-- registered it), submitted over 15 months; decided ones mostly within the
-- 48-hour SLA.
INSERT INTO deal_registration (id, reference, partner_id, status, company_name, company_domain, company_key,
                               domain_key, customer_contact_name, customer_contact_email, amount_minor,
                               currency, expected_close_date, product, notes, internal_notes, submitted_at,
                               submitted_by, reviewer_id, decided_at, decision_reason, protection_starts_at,
                               protection_ends_at, extension_count, sla_due_at, expiring_notified_for,
                               opportunity_id, version, created_at, updated_at)
SELECT md5('registration:' || j)::uuid, 'DR-' || lpad(j::text, 6, '0'),
       md5('partner:' || ((2 * j + j % 2) / 100))::uuid, r.status,
       'Customer ' || (2 * j + j % 2), 'customer-' || (2 * j + j % 2) || '.example',
       'customer ' || (2 * j + j % 2), 'customer-' || (2 * j + j % 2) || '.example',
       'Carla Customer', 'carla@customer-' || j || '.example', 100000 + (j * 7907) % 9900000, 'USD',
       (:as_of + make_interval(days => j % 200))::date, NULL, NULL, NULL,
       r.submitted_at, 'rep@partner.example', NULL,
       CASE WHEN r.status IN ('SUBMITTED', 'UNDER_REVIEW', 'WITHDRAWN') THEN NULL
            ELSE LEAST(r.submitted_at + make_interval(hours => (j * 13) % 60, mins => j % 60), :as_of - interval '1 minute') END,
       NULL, NULL, NULL, 0, r.submitted_at + interval '48 hours', NULL,
       CASE WHEN r.status IN ('APPROVED', 'EXPIRED') THEN md5('opportunity:' || (2 * j + j % 2))::uuid END,
       1, r.submitted_at, r.submitted_at
FROM generate_series(0, 49999) AS j,
     LATERAL (SELECT :as_of - make_interval(secs => ((j::bigint * 15485863) % (456 * 86400))::double precision)
                AS submitted_at,
             (ARRAY['APPROVED', 'APPROVED', 'APPROVED', 'APPROVED', 'APPROVED', 'REJECTED', 'REJECTED',
                    'SUBMITTED', 'UNDER_REVIEW', 'EXPIRED', 'WITHDRAWN', 'APPROVED'])[j % 12 + 1] AS status) r;
UPDATE opportunity o SET deal_registration_id = r.id
FROM deal_registration r WHERE r.opportunity_id = o.id;

-- Activity over the year: logins, downloads and trainings.
INSERT INTO partner_activity (id, partner_id, kind, occurred_at, count, contact_id, external_id, created_at)
SELECT md5('activity:' || a)::uuid, md5('partner:' || ((a * 31) % 1000))::uuid,
       (ARRAY['PORTAL_LOGIN', 'PORTAL_LOGIN', 'PORTAL_LOGIN', 'PORTAL_LOGIN', 'PORTAL_LOGIN',
              'RESOURCE_DOWNLOAD', 'RESOURCE_DOWNLOAD', 'RESOURCE_DOWNLOAD', 'TRAINING_COMPLETED',
              'PORTAL_LOGIN'])[(a / 7) % 10 + 1],
       t.occurred_at, 1 + a % 3, NULL, NULL, t.occurred_at
FROM generate_series(0, 499999) AS a,
     LATERAL (SELECT :as_of - make_interval(secs => (1 + (a::bigint * 7907) % (365 * 86400 - 1))::double precision)
              AS occurred_at) t;

ANALYZE;
