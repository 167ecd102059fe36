// PartnerGraph's GraphiQL: everything comes from this server (no CDN).
// Queries and mutations go to /graphql over HTTP, subscriptions over
// graphql-transport-ws on the same path; the headers editor's headers
// (an `Authorization: Bearer …` header) go with both, and are kept in
// this browser's local storage.
(function () {
  'use strict';
  var http = new URL('/graphql', window.location.href);
  var ws = new URL('/graphql', window.location.href);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({ url: http.href, subscriptionUrl: ws.href });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: 'headers',
      defaultHeaders: JSON.stringify({ Authorization: 'Bearer <your token>' }, null, 2),
      defaultQuery: '# Put your token in the Headers tab below, then run:\n{\n  viewer {\n    kind\n    role\n    scopes\n  }\n}\n',
    }),
  );
})();
