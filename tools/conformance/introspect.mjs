// graphql-js, as GraphiQL, Apollo and graphql-codegen use it: the
// introspection query with every option, then a client schema built from
// the answer. Run once with a staff token and once with a partner token.
//
//   PARTNERGRAPH_URL=… PARTNERGRAPH_TOKEN=… EXPECT=staff|partner node introspect.mjs
import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';

const url = process.env.PARTNERGRAPH_URL;
const token = process.env.PARTNERGRAPH_TOKEN;
const expect = process.env.EXPECT ?? 'staff';

const query = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});
const response = await fetch(url, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json',
    authorization: `Bearer ${token}`,
  },
  body: JSON.stringify({ query }),
});
const body = await response.json();
if (response.status !== 200 || body.errors) {
  console.error(`introspection as ${expect} failed: ${response.status} ${JSON.stringify(body)}`);
  process.exit(1);
}
const schema = buildClientSchema(body.data);
const partner = schema.getType('Partner');
const internal = 'internalNotes' in partner.getFields();
if ((expect === 'partner') === internal) {
  console.error(`introspection as ${expect}: Partner.internalNotes ${internal ? 'is' : 'is not'} there`);
  process.exit(1);
}
const scalars = ['DateTime', 'Date', 'Decimal', 'CurrencyCode'];
for (const name of scalars) {
  if (!schema.getType(name)?.specifiedByURL) {
    console.error(`introspection as ${expect}: scalar ${name} has no specifiedByURL`);
    process.exit(1);
  }
}
const types = Object.keys(schema.getTypeMap()).length;
console.log(`graphql-js introspection as ${expect}: ${types} types, ${printSchema(schema).length} bytes of SDL`);
