// The graphql-http audit suite (https://github.com/graphql/graphql-http),
// every audit, against a running PartnerGraph server. Any audit that is not
// `ok` (an error, a warning or a notice) fails the run.
//
//   PARTNERGRAPH_URL=http://127.0.0.1:8080/graphql PARTNERGRAPH_TOKEN=pgat_… node audit.mjs
import { serverAudits } from 'graphql-http';

const url = process.env.PARTNERGRAPH_URL;
const token = process.env.PARTNERGRAPH_TOKEN;
if (!url || !token) {
  console.error('set PARTNERGRAPH_URL and PARTNERGRAPH_TOKEN');
  process.exit(2);
}

// Every request carries the bearer token, as any client of ours would.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const audits = serverAudits({ url, fetchFn });
const counts = {};
for (const audit of audits) {
  const result = await audit.fn();
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  if (result.status !== 'ok') {
    let body = '';
    try {
      body = await result.response?.text();
    } catch {
      // The body was read already.
    }
    console.log(`${result.status.toUpperCase()} ${audit.id} ${audit.name}\n  ${result.reason}\n  ${body ?? ''}`);
  }
}
const others = Object.entries(counts).filter(([status]) => status !== 'ok');
console.log(`graphql-http audits: ${counts.ok ?? 0}/${audits.length} ok${others.map(([s, n]) => `, ${n} ${s}`).join('')}`);
process.exit(counts.ok === audits.length ? 0 : 1);
