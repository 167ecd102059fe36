// GraphiQL in a real headless browser (Chromium through puppeteer-core),
// with every host but the server unreachable: the page renders, the docs
// pane lists the schema once the Authorization header is set, a query
// answers, and a subscription (graphql-transport-ws) yields an event.
//
//   PARTNERGRAPH_URL=http://127.0.0.1:PORT PARTNERGRAPH_TOKEN=… CHROMIUM=/usr/bin/chromium node browser.mjs
import puppeteer from 'puppeteer-core';

const base = process.env.PARTNERGRAPH_URL;
const token = process.env.PARTNERGRAPH_TOKEN;
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const origin = new URL(base).origin;

const fail = (message) => {
  console.error(`GraphiQL check failed: ${message}`);
  process.exit(1);
};

const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  const elsewhere = [];
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  // Other hosts are unreachable: any request to one is refused and counted.
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith('data:') || new URL(url).origin === origin) {
      request.continue();
    } else {
      elsewhere.push(url);
      request.abort('addressunreachable');
    }
  });

  // 1. The page renders, from this server alone.
  await page.goto(`${origin}/graphql`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('.graphiql-container', { timeout: 15000 });

  // 2. The Authorization header, set in the headers editor (the tab's
  // second editor, after the variables').
  await page.click('button[data-name="headers"]');
  await page.evaluate((token) => {
    const editor = document.querySelectorAll('.graphiql-editor-tool .CodeMirror')[1];
    editor.CodeMirror.setValue(JSON.stringify({ Authorization: `Bearer ${token}` }));
  }, token);
  // Without a token the first schema fetch was refused (401), as it should;
  // from here on nothing may fail. Re-fetch the schema (the toolbar's button).
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the editor's debounce
  const before = problems.splice(0).filter((p) => !p.includes('status of 401'));
  if (before.length) fail(`errors while loading the page: ${before.join(' | ')}`);
  await page.click('button[aria-label="Re-fetch GraphQL schema"]');

  // 3. The docs pane lists the schema.
  await page.click('.graphiql-sidebar-section button');
  await page.waitForSelector('.graphiql-doc-explorer', { timeout: 5000 });
  await page
    .waitForFunction(
      () => [...document.querySelectorAll('.graphiql-doc-explorer-type-name')].some((a) => a.textContent === 'Query'),
      { timeout: 15000 },
    )
    .catch(async () =>
      fail(
        `the docs pane shows no schema: ${await page.evaluate(() => document.querySelector('.graphiql-doc-explorer').innerText)} | ${problems.join(' | ')}`,
      ),
    );
  await page.evaluate(() =>
    [...document.querySelectorAll('.graphiql-doc-explorer-type-name')].find((a) => a.textContent === 'Query').click(),
  );
  await page.waitForFunction(
    () => [...document.querySelectorAll('.graphiql-doc-explorer-field-name')].some((a) => a.textContent === 'partners'),
    { timeout: 5000 },
  );

  const run = async (query) => {
    await page.evaluate((query) => {
      document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query);
    }, query);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the editor's debounce
    await page.click('.graphiql-execute-button');
  };
  const response = () => page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());

  // 4. A query answers.
  await run('{ viewer { kind role } }');
  await page.waitForFunction(
    () => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue().includes('"STAFF"'),
    { timeout: 10000 },
  );

  // 5. A subscription yields an event caused meanwhile.
  await run('subscription Live { events(types: ["partner.created"]) { cursor type } }');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const created = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation { createPartner(input: {name: "From the browser check", type: REFERRAL}) { partner { id } } }' }),
  }).then((r) => r.json());
  if (!created.data?.createPartner?.partner?.id) fail(`could not create a partner: ${JSON.stringify(created)}`);
  await page
    .waitForFunction(
      () => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue().includes('partner.created'),
      { timeout: 10000 },
    )
    .catch(async () => fail(`no event in the response pane: ${await response()}`));

  if (elsewhere.length) fail(`the page asked other hosts for ${elsewhere.join(', ')}`);
  if (problems.length) fail(`errors in the page: ${problems.join(' | ')}`);
  console.log('GraphiQL: rendered from this server alone; docs list the schema; a query and a subscription answered');
} finally {
  await browser.close();
}
