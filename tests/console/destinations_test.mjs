// End-to-end test of the console's Destinations view and campaign lift panel in a real browser
// (Debian's chromium, headless, driven by playwright-core). It starts Tessera with two webhook
// destinations pointing at a receiver in this process (plain http, allowed with a warning) and an
// audience with a 25% holdout, sends sign-ups and orders with the write key, makes the receiver
// refuse one batch (400: a dead letter) and fail another once (500, then retried), then, as a user
// would: reads the destinations' figures and checks them against the API and against what the
// receiver really got; pauses one, sees that nothing reaches the receiver while new events wait,
// resumes it and sees them arrive; replays the dead letter; sees a read key refused; and checks
// the audience's lift panel against GET /v1/audiences/{name}/lift and the groups the receiver saw.
//
// node tests/console/destinations_test.mjs --tessera build/tools/tessera \
//      --modules build/console-web/node_modules --out build/console-screenshots
import { createServer } from 'node:http';
import assert from 'node:assert/strict';
import { browserTest, sendBatch, waitUntil } from './harness.mjs';

const { step, shot, shotPath, startTessera, launchBrowser, run } = browserTest('destinations');

const WRITE_KEY = 'destinations-test-write';
const READ_KEY = 'destinations-test-read';
const ADMIN_KEY = 'destinations-test-admin';
const PEOPLE = 40;

// --- The webhook receiver: records every request; refuses a batch holding "Poison Event" with 400
// while `refusePoison` holds, and answers the first batch holding "Flaky Event" with 500.
const received = [];  // {path, status, events: [{event, userId, messageId, properties}]}
let refusePoison = true;
let flakyFailed = false;
let receiver = null;
function startReceiver() {
  receiver = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      let events = [];
      try {
        events = JSON.parse(Buffer.concat(chunks).toString('utf8')).batch || [];
      } catch {
        events = [];
      }
      const names = events.map((event) => event.event);
      let status = 200;
      if (refusePoison && names.includes('Poison Event')) status = 400;
      else if (!flakyFailed && names.includes('Flaky Event')) {
        flakyFailed = true;
        status = 500;
      }
      received.push({ path: request.url, status, events });
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(status === 200 ? '{"ok":true}' : `{"error":"refused with ${status}"}`);
    });
  });
  // Tessera keeps one connection per destination: no idle close in the middle of the test.
  receiver.keepAliveTimeout = 300_000;
  return new Promise((done) => receiver.listen(0, '127.0.0.1', () => done(receiver.address().port)));
}

// Events the receiver took (2xx) on a path.
const accepted = (path) => received.filter((r) => r.path === path && r.status === 200).flatMap((r) => r.events);

// Tessera's configuration: two webhooks on the receiver, fast enough for a test.
function configFor(receiverPort) {
  const hook = (path) => `http://127.0.0.1:${receiverPort}${path}`;
  const fast = { requests_per_second: 200, timeout_ms: 5000, retry: { initial_ms: 50, max_ms: 200 } };
  return {
    sources: [{ name: 'website', write_key: WRITE_KEY, space: 'default', channel: 'web' }],
    read_keys: [READ_KEY],
    admin_keys: [ADMIN_KEY],
    destinations: [
      { name: 'crm-hook', type: 'webhook', url: hook('/crm'), secret: 'crm-secret', events: { types: ['track'] }, ...fast },
      { name: 'ads-sync', type: 'webhook', url: hook('/ads'), secret: 'ads-secret', audiences: ['signed_up'], ...fast },
    ],
  };
}

let base = '';
const send = (batch) => sendBatch(base, WRITE_KEY, batch);

async function apiGet(path, key = READ_KEY) {
  const response = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  const text = await response.text();
  assert.equal(response.status, 200, `GET ${path}: ${text}`);
  return JSON.parse(text);
}
const destination = (name) => apiGet(`/v1/destinations/${name}`);

const waitFor = (what, condition, timeoutMs = 30_000) => waitUntil(what, condition, { timeoutMs });

// Everything written for a destination has left its outbox (delivered or dead-lettered).
const settled = (name) => waitFor(`${name} to settle`, async () => {
  const status = await destination(name);
  return status.written > 0 && status.lag === 0;
});

// The console's formats (console/src/destinations.js, lift.js), to read the page as a user would.
const count = (value) => Number(value).toLocaleString('en-US');
const percent = (share) => `${(share * 100).toFixed(1)}%`;
const points = (value) => `${value > 0 ? '+' : ''}${(value * 100).toFixed(1)} points`;
const money = (value) => Number(value).toLocaleString('en-US', { maximumFractionDigits: 2 });
const time = (iso) => new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

const card = (name) => `section.destination[data-destination="${name}"]`;
const fieldOf = (name, field) => `${card(name)} dd[data-field="${field}"]`;

// Waits until the view, refreshing on its own, shows `expected` ({field: API value}) for a destination.
async function viewShows(page, name, expected) {
  try {
    await page.waitForFunction(({ selector, expected: want }) => Object.entries(want).every(([field, value]) =>
      document.querySelector(`${selector} dd[data-field="${field}"]`)?.dataset.value === String(value)),
    { selector: card(name), expected }, { timeout: 15_000 });
  } catch (error) {
    const shown = await page.$$eval(`${card(name)} dd[data-field]`, (cells) => cells.map((cell) => `${cell.dataset.field}=${cell.dataset.value}`));
    throw new Error(`${name}: the view never showed ${JSON.stringify(expected)}; it shows ${shown.join(' ')}`);
  }
}

async function main() {
  const receiverPort = await startReceiver();
  ({ base } = await startTessera(configFor(receiverPort)));
  step(`tessera on ${base}, receiver on ${receiverPort}`);

  // The audience through the API, not the config: the console may then save it again.
  const definition = await fetch(`${base}/v1/audiences/signed_up`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({
      description: 'Signed up', condition: { event: 'Signed Up' }, holdout: 0.25,
      conversion: { event: 'Order Completed', within_days: 30, revenue: 'properties.revenue' },
    }),
  });
  assert.equal(definition.status, 200, `defining signed_up: ${await definition.text()}`);

  // --- Sign-ups: every person enters signed_up; ads-sync receives the treated ones only.
  await send(Array.from({ length: PEOPLE }, (_, i) => ({
    type: 'track', userId: `u-${i}`, event: 'Signed Up', messageId: `signup-${i}`,
  })));
  await waitFor('all sign-ups in the audience', async () => (await apiGet('/v1/audiences/signed_up')).size === PEOPLE);
  await settled('ads-sync');
  await settled('crm-hook');
  const reached = new Set(accepted('/ads').filter((event) => event.event === 'Audience Entered').map((event) => event.userId));
  const treated = Array.from({ length: PEOPLE }, (_, i) => `u-${i}`).filter((user) => reached.has(user));
  const held = Array.from({ length: PEOPLE }, (_, i) => `u-${i}`).filter((user) => !reached.has(user));
  assert.ok(treated.length > 0 && held.length > 1, `both groups have people: ${treated.length} treated, ${held.length} held out`);
  // The campaign "works": two in three reached people buy, one in three held-out ones (at least one).
  const buyers = [...treated.filter((_, i) => i % 3 !== 2), ...held.filter((_, i) => i % 3 === 0)];
  await send(buyers.map((user, i) => ({
    type: 'track', userId: user, event: 'Order Completed', messageId: `order-${user}`, properties: { revenue: 10 + i },
  })));
  await settled('crm-hook');
  step(`${treated.length} reached, ${held.length} held out, ${buyers.length} orders`);

  // --- A batch the receiver refuses (400: dead letter at once) and one it fails once (500: retried).
  await send([{ type: 'track', userId: 'u-poison', event: 'Poison Event', messageId: 'poison-1' }]);
  await waitFor('the dead letter', async () => (await destination('crm-hook')).deadLetters === 1);
  await send([{ type: 'track', userId: 'u-flaky', event: 'Flaky Event', messageId: 'flaky-1' }]);
  await waitFor('the flaky batch delivered', async () => accepted('/crm').some((event) => event.event === 'Flaky Event'));
  await settled('crm-hook');

  const context = await launchBrowser('chromium-destinations', { viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  let statusPolls = 0;
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/v1/destinations') statusPolls += 1;
  });

  // --- Sign in with the admin key; Destinations is reached from Audiences.
  await page.goto(`${base}/console/`);
  await page.fill('#key', ADMIN_KEY);
  await page.click('form button[type=submit]');
  await page.waitForSelector('h1:text("Dashboard")');
  await page.click('#nav a[data-nav=audiences]');
  await page.click('#destinations-link');
  await page.waitForSelector('h1:text("Destinations")');
  assert.equal(await page.evaluate(() => location.hash), '#/destinations');
  await page.waitForSelector(card('crm-hook'));
  await page.waitForSelector(card('ads-sync'));

  // --- The figures are the API's, and the API's are what the receiver saw.
  const crm = await destination('crm-hook');
  const ads = await destination('ads-sync');
  const crmDelivered = accepted('/crm').length;
  assert.equal(crm.delivered, crmDelivered, `crm-hook delivered ${crm.delivered}, the receiver took ${crmDelivered}`);
  assert.equal(crm.delivered, PEOPLE + buyers.length + 1, 'sign-ups, orders and the flaky event reached the CRM');
  assert.equal(ads.delivered, treated.length, 'ads-sync delivered one entry per reached person');
  assert.equal(crm.deadLetters, 1);
  assert.ok(crm.failures >= 2 && crm.retries >= 1, `the 400 and the 500 are counted: ${JSON.stringify(crm)}`);
  for (const status of [crm, ads]) {
    await viewShows(page, status.name, {
      type: 'webhook', delivered: status.delivered, requests: status.requests, lag: 0, deadLetters: status.deadLetters,
      deadLettered: status.deadLettered, errorRate: status.errorRate, retries: status.retries,
    });
    assert.equal(await page.textContent(fieldOf(status.name, 'delivered')), count(status.delivered));
    assert.equal(await page.textContent(fieldOf(status.name, 'lag')), '0');
    assert.match(await page.textContent(fieldOf(status.name, 'errorRate')),
      new RegExp(`^${percent(status.errorRate).replace('.', '\\.')} \\(${status.failures} of ${status.requests} requests failed\\)$`));
  }
  assert.equal(await page.getAttribute(`${card('crm-hook')} [role=switch]`, 'aria-checked'), 'true', 'crm-hook is sending');
  // Last errors, newest first, as the API lists them: the 500 and the 400.
  const errorRows = await page.$$eval(`${card('crm-hook')} table.error-list tbody tr`, (rows) => rows.map((row) => [...row.cells].map((c) => c.textContent)));
  assert.deepEqual(errorRows, crm.lastErrors.map((error) => [time(error.time), error.message]), 'last errors as the API has them');
  assert.ok(crm.lastErrors.some((error) => /500/.test(error.message)) && crm.lastErrors.some((error) => /400/.test(error.message)),
    `the last errors name the 500 and the 400: ${JSON.stringify(crm.lastErrors)}`);
  // The dead letter: reason, last status, attempts, and what it held.
  const { deadLetters } = await apiGet('/v1/destinations/crm-hook/dead-letters');
  assert.equal(deadLetters.length, 1);
  assert.equal(deadLetters[0].lastStatus, 400);
  await page.waitForSelector(`${card('crm-hook')} table.dead-letter-list tbody tr td[data-label="Reason"]`);
  const letterRow = await page.$$eval(`${card('crm-hook')} table.dead-letter-list tbody tr`, (rows) => rows.map((row) => [...row.cells].map((c) => c.textContent)));
  assert.equal(letterRow.length, 1, `one dead letter row: ${JSON.stringify(letterRow)}`);
  assert.deepEqual(letterRow[0].slice(0, 5), [String(deadLetters[0].sequence), deadLetters[0].reason, '400', String(deadLetters[0].attempts), time(deadLetters[0].lastAttempt)]);
  assert.match(letterRow[0][5], /Poison Event/, 'the dead letter says what it held');
  assert.match(await page.textContent(`${card('crm-hook')} button.replay`), /^Replay 1 dead letter$/);
  assert.equal(await page.isDisabled(`${card('ads-sync')} button.replay`), true, 'nothing to replay on ads-sync');
  await page.evaluate(() => document.activeElement.blur());
  await shot(page, '01-view');
  step('figures, last errors and the dead letter match the API and the receiver');

  // --- Pause: persisted, and the receiver gets nothing of what arrives meanwhile.
  await page.click(`${card('crm-hook')} [role=switch]`);
  await page.waitForSelector(`${card('crm-hook')} [role=switch][aria-checked=false]`);
  assert.equal((await destination('crm-hook')).paused, true, 'the API reports crm-hook paused');
  assert.match(await page.textContent(`${card('crm-hook')} .action-status`), /crm-hook is paused/);
  const beforePause = received.filter((r) => r.path === '/crm').length;
  await send(Array.from({ length: 5 }, (_, i) => ({ type: 'track', userId: `u-${i}`, event: 'While Paused', messageId: `paused-${i}` })));
  // The view shows the 5 waiting rows: they are in the outbox, and the delivery thread could have sent them.
  await viewShows(page, 'crm-hook', { lag: 5, delivered: crm.delivered });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(received.filter((r) => r.path === '/crm').length, beforePause, 'nothing reaches a paused destination');
  assert.match(await page.textContent(`${card('crm-hook')} .badge.state`), /paused/);
  await page.evaluate(() => document.activeElement.blur());
  await shot(page, '02-paused');
  step('paused: 5 rows wait, the receiver got nothing');

  // --- Resume: the waiting events arrive, and the throughput shows them.
  await page.click(`${card('crm-hook')} [role=switch]`);
  await page.waitForSelector(`${card('crm-hook')} [role=switch][aria-checked=true]`);
  assert.equal((await destination('crm-hook')).paused, false, 'the API reports crm-hook sending');
  await waitFor('the paused events to arrive', () => accepted('/crm').filter((event) => event.event === 'While Paused').length === 5);
  await viewShows(page, 'crm-hook', { lag: 0, delivered: crm.delivered + 5 });
  await page.waitForFunction((selector) => /^[0-9.]+ deliveries\/s/.test(document.querySelector(selector)?.textContent || '') &&
    Number.parseFloat(document.querySelector(selector).textContent) > 0, fieldOf('crm-hook', 'throughput'), { timeout: 10_000 });
  step(`resumed: ${await page.textContent(fieldOf('crm-hook', 'throughput'))}`);

  // --- Replay the dead letter, now that the receiver takes it.
  refusePoison = false;
  await page.click(`${card('crm-hook')} button.replay`);
  await waitFor('the replayed dead letter', () => accepted('/crm').some((event) => event.event === 'Poison Event'));
  await waitFor('no dead letters left', async () => (await destination('crm-hook')).deadLetters === 0);
  const replayed = await destination('crm-hook');
  assert.equal(replayed.replayed, 1);
  await viewShows(page, 'crm-hook', { deadLetters: 0, replayed: 1, delivered: replayed.delivered });
  await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === 'None',
    `${card('crm-hook')} table.dead-letter-list td.empty`);
  assert.equal(await page.isDisabled(`${card('crm-hook')} button.replay`), true, 'nothing left to replay');
  await page.evaluate(() => document.activeElement.blur());
  await shot(page, '03-replayed');
  step('replayed the dead letter');

  // --- The lift panel: the API's numbers, and those are the groups the receiver saw.
  const lift = await apiGet('/v1/audiences/signed_up/lift');
  const treatedBuyers = buyers.filter((user) => reached.has(user));
  const revenueOf = (users) => users.reduce((sum, user) => sum + 10 + buyers.indexOf(user), 0);
  assert.equal(lift.treated.members, treated.length, 'treated are the people the destination received');
  assert.equal(lift.holdout.members, held.length, 'held out are the others');
  assert.equal(lift.treated.converted, treatedBuyers.length);
  assert.equal(lift.holdout.converted, buyers.length - treatedBuyers.length);
  assert.equal(lift.treated.revenue, revenueOf(treatedBuyers));
  assert.ok(lift.lift && lift.lift.relative !== undefined, `a lift with a relative figure: ${JSON.stringify(lift.lift)}`);
  await page.goto(`${base}/console/#/audiences/edit/signed_up`);
  await page.waitForSelector('#lift table.lift-groups');
  for (const group of ['treated', 'holdout']) {
    const cells = await page.$$eval(`#lift tr[data-group=${group}] td`, (tds) => Object.fromEntries(tds.map((td) => [td.dataset.field, { value: td.dataset.value, text: td.textContent }])));
    const expected = lift[group];
    for (const field of ['members', 'converted', 'rate', 'revenue', 'revenuePerMember']) {
      assert.equal(cells[field].value, String(expected[field]), `${group}.${field}`);
    }
    assert.equal(cells.rateCi.value, expected.rateCi.join(','), `${group}.rateCi`);
    assert.equal(cells.rate.text, percent(expected.rate), `${group} rate as shown`);
    assert.equal(cells.rateCi.text, `${percent(expected.rateCi[0])} to ${percent(expected.rateCi[1])}`, `${group} interval as shown`);
    assert.equal(cells.revenuePerMember.text, money(expected.revenuePerMember), `${group} revenue per member as shown`);
  }
  const figure = (field) => page.$eval(`#lift dd[data-field=${field}]`, (dd) => ({ value: dd.dataset.value, text: dd.textContent }));
  assert.deepEqual(await figure('absolute'), { value: String(lift.lift.absolute), text: points(lift.lift.absolute) });
  assert.deepEqual(await figure('absoluteCi'), { value: lift.lift.absoluteCi.join(','), text: `${points(lift.lift.absoluteCi[0])} to ${points(lift.lift.absoluteCi[1])}` });
  assert.equal((await figure('relative')).value, String(lift.lift.relative));
  assert.equal((await figure('relativeCi')).value, lift.lift.relativeCi.join(','));
  assert.equal(Number((await figure('revenuePerMemberLift')).value), lift.treated.revenuePerMember - lift.holdout.revenuePerMember);
  assert.match(await page.textContent('#lift .lift-setup'), /Holdout: 25% .*"Order Completed" within 30 days/);
  assert.equal(await page.inputValue('#audience-holdout'), '0.25', 'the editor shows the saved holdout');
  assert.equal(await page.inputValue('#conversion-event'), 'Order Completed');
  await page.locator('#lift').screenshot({ path: shotPath('04-lift') });
  step(`lift panel: ${points(lift.lift.absolute)}, as the API says`);

  // --- Saving the audience from the console keeps its holdout and conversion.
  await page.click('#audience-form button[type=submit]');
  await page.waitForSelector('#audience-status .ok');
  const resaved = await apiGet('/v1/audiences/signed_up/lift');
  assert.equal(resaved.holdoutShare, 0.25, 'a save from the console keeps the holdout');
  assert.deepEqual(resaved.conversion, lift.conversion, 'and the conversion');

  // --- An audience without a holdout: the panel says why there is no lift.
  const defined = await fetch(`${base}/v1/audiences/no_holdout`, {
    method: 'PUT', headers: { Authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify({ condition: { event: 'Signed Up' } }),
  });
  assert.equal(defined.status, 200, await defined.text());
  await waitFor('no_holdout evaluated', async () => (await apiGet('/v1/audiences/no_holdout')).evaluated);
  const none = await apiGet('/v1/audiences/no_holdout/lift');
  assert.equal(none.holdoutShare, 0);
  assert.equal(none.lift, null);
  await page.goto(`${base}/console/#/audiences/edit/no_holdout`);
  await page.waitForSelector('#lift-none');
  assert.match(await page.textContent('#lift-none'), /keeps no holdout/);
  assert.equal(await page.getAttribute('#lift tr[data-group=holdout] td[data-field=members]', 'data-value'), String(none.holdout.members));
  await page.locator('#lift').screenshot({ path: shotPath('05-no-holdout') });
  step('an audience without a holdout says so');

  // --- A read key sees the destinations but cannot pause: the server's refusal is shown.
  await page.click('#sign-out');
  await page.fill('#key', READ_KEY);
  await page.click('form button[type=submit]');
  await page.waitForSelector('h1:text("Dashboard")');
  await page.goto(`${base}/console/#/destinations`);
  await page.waitForSelector(`${card('crm-hook')} [role=switch][aria-checked=true]`);
  await page.click(`${card('crm-hook')} [role=switch]`);
  await page.waitForSelector(`${card('crm-hook')} .action-status .error`);
  assert.match(await page.textContent(`${card('crm-hook')} .action-status`), /Could not pause crm-hook: only an admin key can act on destinations \(HTTP 403\)/);
  assert.equal(await page.getAttribute(`${card('crm-hook')} [role=switch]`, 'aria-checked'), 'true', 'the switch stays as the server has it');
  assert.equal((await destination('crm-hook')).paused, false, 'a read key paused nothing');
  await shot(page, '06-read-key-refused');
  step('a read key is refused with the server\'s message');

  // --- Leaving the view stops its refresh.
  assert.ok(statusPolls >= 3, `the view refreshes on its own (${statusPolls} polls)`);
  await page.goto(`${base}/console/#/search`);
  await page.waitForSelector('h1:text("Find a person")');
  const after = statusPolls;
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(statusPolls, after, 'no refresh once the view is closed');
  assert.deepEqual(pageErrors, [], 'no script errors');
  await context.close();
}

await run(main, {
  onFailure: () => console.error(`receiver saw: ${JSON.stringify(received.map((r) => [r.path, r.status, r.events.map((e) => e.event)]))}`),
  cleanup: () => {
    if (receiver) {
      receiver.closeAllConnections();
      receiver.close();
    }
  },
});
