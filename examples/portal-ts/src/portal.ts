// A partner portal's backend, talking to PartnerGraph with a partner token:
// typed queries and a mutation over HTTP (with userErrors), and the live
// event feed over graphql-ws, resumed from the last cursor after a
// disconnect without missing or repeating an event.
//
//   PARTNERGRAPH_URL=http://127.0.0.1:8080/graphql PARTNERGRAPH_TOKEN=pgat_… node dist/portal.js
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

import type {
  EventsSubscription,
  EventsSubscriptionVariables,
  PortalQuery,
  SubmitMutation,
  SubmitMutationVariables,
} from './generated/graphql.js';
import { EVENTS, PORTAL, SUBMIT } from './operations.js';

const url = process.env.PARTNERGRAPH_URL ?? 'http://127.0.0.1:8080/graphql';
const token = process.env.PARTNERGRAPH_TOKEN ?? '';
const wsUrl = url.replace(/^http/, 'ws');

/** One GraphQL request over HTTP; throws on top-level errors. */
async function request<Data, Variables>(query: string, variables?: Variables): Promise<Data> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Data; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) {
    throw new Error(`${response.status}: ${JSON.stringify(body.errors)}`);
  }
  return body.data;
}

function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

async function submit(company: string, expectedCloseDate: string) {
  const data = await request<SubmitMutation, SubmitMutationVariables>(SUBMIT, {
    input: {
      companyName: company,
      companyDomain: `${company.toLowerCase().replace(/\W+/g, '')}.example`,
      customerContactName: 'Ada Buyer',
      customerContactEmail: `ada@${company.toLowerCase().replace(/\W+/g, '')}.example`,
      estimatedAmount: { amount: '25000.00', currency: 'EUR' },
      expectedCloseDate,
    },
  });
  return data.submitDealRegistration;
}

/** Events from the feed, after `after` (live when null), until `until` says stop. */
async function events(
  after: string | null,
  until: (seen: EventsSubscription['events'][]) => boolean,
  meanwhile?: () => Promise<void>,
): Promise<EventsSubscription['events'][]> {
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    lazy: false,
  });
  const seen: EventsSubscription['events'][] = [];
  try {
    const variables: EventsSubscriptionVariables = { after };
    const subscription = client.iterate<EventsSubscription>({ query: EVENTS, variables });
    const started = meanwhile ? new Promise((resolve) => setTimeout(resolve, 500)).then(meanwhile) : null;
    const timeout = setTimeout(() => subscription.return?.(), 10_000);
    for await (const result of subscription) {
      if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
      if (result.data) seen.push(result.data.events);
      if (until(seen)) break;
    }
    clearTimeout(timeout);
    await started;
  } finally {
    await client.dispose();
  }
  return seen;
}

const portal = await request<PortalQuery, Record<string, never>>(PORTAL);
const partner = portal.viewer.partner;
if (!partner) throw new Error('this token is not a partner token');
console.log(`${partner.name} (${partner.tier}, ${partner.status}): ${partner.dealRegistrations.totalCount} registrations`);

// A business-rule failure comes back as userErrors, not as an exception.
const rejected = await submit('Past Deal Inc', '2020-01-01');
if (rejected.userErrors.length === 0) throw new Error('a close date in the past was accepted');
for (const error of rejected.userErrors) {
  console.log(`userError on ${error.field?.join('.')}: ${error.code} ${error.message}`);
}

// Live: a registration submitted while subscribed arrives as an event.
const live = await events(
  null,
  (seen) => seen.some((e) => e.type === 'deal_registration.submitted'),
  async () => {
    const first = await submit('Globex Corp', inDays(30));
    console.log(`submitted ${first.dealRegistration?.reference} (${first.dealRegistration?.status})`);
  },
);
const last = live[live.length - 1];
console.log(`live: ${live.map((e) => e.type).join(', ')}; last cursor ${last.cursor}`);

// Disconnected meanwhile: another registration happens.
const second = await submit('Initech', inDays(45));
if (second.userErrors.length) throw new Error(JSON.stringify(second.userErrors));

// Resumed from the last cursor: exactly what was missed, nothing twice.
const resumed = await events(last.cursor, (seen) => seen.some((e) => e.subjectId === second.dealRegistration?.id));
if (resumed.some((e) => live.some((l) => l.cursor === e.cursor))) throw new Error('an event came twice');
if (!resumed.some((e) => e.type === 'deal_registration.submitted')) throw new Error('the missed event did not come');
console.log(`resumed after ${last.cursor}: ${resumed.map((e) => `${e.type}@${e.cursor}`).join(', ')}`);
