// Apollo Client's persisted-query link, unchanged, against PartnerGraph.
//
//   node apollo.mjs manifest   prints an Apollo persisted query manifest of
//                              the query below, as the link will hash it
//   PARTNERGRAPH_URL=… PARTNERGRAPH_TOKEN=… node apollo.mjs apq
//       automatic persisted queries: the first client learns that the
//       server does not know the hash and sends the text once; a second
//       client then runs the query by hash alone, by GET
//   PARTNERGRAPH_URL=… PARTNERGRAPH_TOKEN=<partner> node apollo.mjs trusted
//       trusted documents on, the manifest registered: the registered query
//       runs by hash at once, any other operation is refused
import { createHash } from 'node:crypto';
import apollo from '@apollo/client/core/core.cjs';
import utilities from '@apollo/client/utilities/utilities.cjs';
import persistedQueries from '@apollo/client/link/persisted-queries/persisted-queries.cjs';

const { ApolloClient, HttpLink, InMemoryCache, gql } = apollo;
const { createPersistedQueryLink } = persistedQueries;
const { print } = utilities;
const mode = process.argv[2] ?? 'apq';
const url = process.env.PARTNERGRAPH_URL;
const token = process.env.PARTNERGRAPH_TOKEN;

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function client(requests) {
  const recordingFetch = (input, init) => {
    requests.push({ method: init?.method ?? 'GET', url: String(input), body: init?.body });
    return fetch(input, init);
  };
  const http = new HttpLink({ uri: url, headers: { authorization: `Bearer ${token}` }, fetch: recordingFetch });
  const link = createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(http);
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

const query = gql`
  query ApolloViewer {
    viewer {
      kind
      role
    }
  }
`;

if (mode === 'manifest') {
  // What the link hashes: the document as the cache sends it, printed.
  const body = print(new InMemoryCache().transformDocument(query));
  const manifest = {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: [{ id: sha256(body), name: 'ApolloViewer', type: 'query', body }],
  };
  console.log(JSON.stringify(manifest));
  process.exit(0);
}

if (mode === 'trusted') {
  const requests = [];
  const { data } = await client(requests).query({ query });
  if (data?.viewer?.kind !== 'PARTNER' || requests.length !== 1 || requests[0].method !== 'GET') {
    throw new Error(`expected one GET by hash, saw ${JSON.stringify(requests)} and ${JSON.stringify(data)}`);
  }
  const other = gql`
    query NotRegistered {
      viewer {
        kind
      }
    }
  `;
  const refused = await client([])
    .query({ query: other, errorPolicy: 'all' })
    .then(
      (result) => result.errors ?? [],
      (error) => [...(error.graphQLErrors ?? []), ...(error.networkError?.result?.errors ?? [])],
    );
  if (!refused.some((e) => e.extensions?.code === 'FORBIDDEN')) {
    throw new Error(`an unregistered operation ran: ${JSON.stringify(refused)}`);
  }
  console.log('Apollo Client with trusted documents: the registered query ran by hash, another was refused');
  process.exit(0);
}

const first = [];
const { data } = await client(first).query({ query });
if (!data?.viewer?.kind) throw new Error(`no data: ${JSON.stringify(data)}`);
if (first.length !== 2) throw new Error(`expected a miss then a registration, saw ${first.length} requests`);

const second = [];
const again = await client(second).query({ query });
if (again.data.viewer.kind !== data.viewer.kind) throw new Error('different answers');
const only = second[0];
if (second.length !== 1 || only.method !== 'GET' || new URL(only.url).searchParams.has('query')) {
  throw new Error(`expected one GET by hash alone, saw ${JSON.stringify(second)}`);
}
console.log(`Apollo Client persisted-query link: registered in ${first.length} requests, then 1 GET by hash (${data.viewer.kind})`);
