// End-to-end test of the web console in a real browser (Debian's chromium, headless, driven by
// playwright-core). It starts Tessera on an ephemeral port with a fresh data directory, seeds a
// person seen on the web, the app and a POS till (with a Korean phone in local format, a web
// anonymous id, an app device id, an email and a loyalty card) plus a refused merge, then, as a
// user would: signs in with the keyboard, finds the person by "010-1234-5678", checks the profile,
// the identity graph and the timeline, builds an audience, downloads its CSV, watches the live
// tail, and looks at the profile on a phone-sized screen. Screenshots go to the output directory.
//
// node tests/console/console_test.mjs --tessera build/tools/tessera --modules build/console-web/node_modules \
//      --out build/console-screenshots
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { browserTest, sendBatch, waitUntil } from './harness.mjs';

// Its screenshots keep their names of old, without a "console-" prefix.
const { outDir, step, shot, shotPath, startTessera, launchBrowser, run } = browserTest('console', { screenshotPrefix: '' });

const WRITE_WEB = 'console-test-web';
const WRITE_APP = 'console-test-app';
const WRITE_POS = 'console-test-pos';
const READ_KEY = 'console-test-read';
const ADMIN_KEY = 'console-test-admin';

const config = {
  sources: [
    { name: 'website', write_key: WRITE_WEB, space: 'default', channel: 'web' },
    { name: 'mobile-app', write_key: WRITE_APP, space: 'default', channel: 'app' },
    { name: 'seoul-store', write_key: WRITE_POS, space: 'default', channel: 'pos' },
  ],
  read_keys: [READ_KEY],
  admin_keys: [ADMIN_KEY],
  identity: { default_phone_region: 'KR' },
};

async function readApi(base, path) {
  const response = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
  return { status: response.status, body: response.status === 200 ? await response.json() : await response.text() };
}

const waitFor = (what, condition, timeoutMs = 20_000) => waitUntil(what, condition, { timeoutMs });

const minutesAgo = (minutes) => new Date(Date.now() - minutes * 60_000).toISOString();

async function seed(base) {
  // Computed traits the profile shows: lifetime value, churn risk, orders in 90 days.
  for (const [name, definition] of Object.entries({
    ltv: { kind: 'lifetime_value', event: 'Order Completed', property: 'properties.total' },
    churn_risk: { kind: 'churn_risk', event: 'Order Completed' },
    orders_90d: { kind: 'count', event: 'Order Completed', window: '90d' },
  })) {
    const response = await fetch(`${base}/v1/computed-traits/${name}`, {
      method: 'PUT', headers: { Authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify(definition),
    });
    assert.equal(response.status, 200, `defining ${name}: ${await response.text()}`);
  }
  // Someone else first: user u-2002 with their own email. Later an event carries u-2002 with
  // Minji's email, which would give her profile two user ids: the merge is refused.
  await sendBatch(base, WRITE_WEB, [
    { type: 'identify', userId: 'u-2002', traits: { name: 'Park Jisoo', email: 'jisoo@example.com' }, messageId: 's-1', timestamp: minutesAgo(300) },
  ]);
  // The app was installed before anyone knew who used it: a profile of its own, merged later.
  await sendBatch(base, WRITE_APP, [
    { type: 'track', anonymousId: 'app-install-9', event: 'Application Installed', messageId: 'm-0', timestamp: minutesAgo(250), context: { device: { id: 'IOS-DEVICE-42' }, os: { name: 'iOS' } } },
  ]);
  await sendBatch(base, WRITE_WEB, [
    { type: 'page', anonymousId: 'web-anon-7f3a', name: 'Home', messageId: 'm-1', timestamp: minutesAgo(240) },
    {
      type: 'identify', anonymousId: 'web-anon-7f3a', userId: 'u-1001', messageId: 'm-2', timestamp: minutesAgo(235),
      traits: { name: 'Kim Minji', email: 'Minji.Kim@example.com', phone: '010-1234-5678', plan: 'gold' },
      context: { consent: { marketing_email: true, sms: false } },
    },
  ]);
  // Forty product views on the web: more than one page of the timeline (25), to scroll through.
  await sendBatch(base, WRITE_WEB, Array.from({ length: 40 }, (_, i) => ({
    type: 'track', userId: 'u-1001', event: 'Product Viewed', messageId: `view-${i}`,
    properties: { sku: `SKU-${i}` }, timestamp: minutesAgo(230 - i),
  })));
  await sendBatch(base, WRITE_APP, [
    { type: 'track', userId: 'u-1001', event: 'App Opened', messageId: 'm-3', timestamp: minutesAgo(120), context: { device: { id: 'IOS-DEVICE-42' }, os: { name: 'iOS' } } },
  ]);
  await sendBatch(base, WRITE_POS, [
    {
      // A till knows no user id: the receipt is the anonymous id, the phone and card link it.
      type: 'track', anonymousId: 'receipt-0001', event: 'Order Completed', messageId: 'pos-receipt-1', timestamp: minutesAgo(60),
      properties: { total: 59000, currency: 'KRW' },
      context: { traits: { phone: '010-1234-5678' }, externalIds: [{ id: 'LC-778899', type: 'loyalty_id', collection: 'users', encoding: 'none' }] },
    },
    // Another buyer at the till, so the audience has two members.
    { type: 'track', userId: 'u-3003', event: 'Order Completed', messageId: 'pos-receipt-2', timestamp: minutesAgo(50), context: { traits: { email: 'joon@example.com' } }, properties: { total: 12000 } },
  ]);
  await sendBatch(base, WRITE_WEB, [
    { type: 'identify', userId: 'u-2002', traits: { email: 'minji.kim@example.com' }, messageId: 'm-refused', timestamp: minutesAgo(30) },
  ]);
  // The resolver applies the log in the background: wait until the person is whole.
  await waitFor('the seeded profile', async () => {
    const { status, body } = await readApi(base, '/v1/profiles/phone:010-1234-5678/merges');
    if (status !== 200) return false;
    const profile = await readApi(base, '/v1/profiles/phone:010-1234-5678');
    const types = new Set(profile.body.identities.map((identity) => identity.type));
    return body.merges.some((record) => record.kind === 'refused_merge') && body.merges.some((record) => record.kind === 'merge') &&
      types.has('loyalty_id') && types.has('device_id') && profile.body.eventCount >= 45;
  });
}

async function main() {
  const { port, base } = await startTessera(config);
  step(`tessera on ${base}`);
  await seed(base);
  step('seeded');

  const context = await launchBrowser('chromium-laptop', { viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const outside = [];
  const problems = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${base}/`) && !url.startsWith(`ws://127.0.0.1:${port}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) outside.push(url);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 40[34]/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));

  // --- The page comes from Tessera with its policy; HEAD answers the same headers without a body.
  const pageBody = await (await fetch(`${base}/console/`)).text();
  const head = await fetch(`${base}/console/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(pageBody)), 'HEAD keeps the length');

  // --- Sign in with the keyboard only.
  const landing = await page.goto(`${base}/console`);
  assert.equal(new URL(page.url()).pathname, '/console/', '/console redirects to /console/');
  assert.match(landing.headers()['content-security-policy'] || '', /default-src 'self'/, 'the page carries its CSP');
  await page.waitForSelector('#key');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'key', 'the key field has focus on arrival');
  assert.ok(!(await page.isVisible('#nav')) && !(await page.isVisible('#sign-out')), 'no navigation before signing in');
  await shot(page, '01-sign-in', { fullPage: false });
  await page.keyboard.type(ADMIN_KEY);
  await page.keyboard.press('Enter');
  // The dashboard is the first page. Nobody here bought twice, so there is no purchase model,
  // and the page says so instead of drawing its charts (tests/console/dashboard_test.mjs has them).
  await page.waitForSelector('h1:text("Dashboard")');
  assert.match(await page.textContent('#who'), /admin key/);
  await page.waitForSelector('#dashboard[data-state=ready]');
  assert.match(await page.textContent('[data-chart=tracking][data-state=empty]'), /No purchase model yet/);

  // --- Search the phone in local format, keyboard only: Tab from the heading to the field.
  await page.click('#nav a[data-nav=search]');
  await page.waitForSelector('h1:text("Find a person")');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'q', 'Tab from the heading reaches the search field');
  await page.keyboard.type('010-1234-5678');
  await page.keyboard.press('Enter');
  await page.waitForSelector('h1:text-matches("^Profile p")');
  const heading = await page.textContent('h1');
  assert.match(heading, /Kim Minji/, `profile heading: ${heading}`);
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1', 'focus moves to the new view');
  step(`found ${heading}`);

  // --- The skip link: first in the tab order, moves focus to the content, keeps the route.
  const routeBefore = await page.evaluate(() => location.hash);
  // Backwards from the heading: sign-out, the five sections, then the skip link, first of all.
  const visited = [];
  for (let i = 0; i < 8 && visited.at(-1) !== 'skip-link'; i += 1) {
    await page.keyboard.press('Shift+Tab');
    visited.push(await page.evaluate(() => document.activeElement.className || document.activeElement.textContent.trim()));
  }
  assert.deepEqual(visited, ['link-button', 'Live', 'Destinations', 'Audiences', 'Search', 'Dashboard', 'skip-link'], `tab order of the header: ${visited}`);
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main', 'the skip link focuses the content');
  assert.equal(await page.evaluate(() => location.hash), routeBefore, 'the skip link does not change the view');
  assert.match(await page.textContent('h1'), /Kim Minji/);

  // --- The profile shows every identity, normalized, with sources.
  const identities = await page.textContent('table.identities');
  for (const expected of ['+821012345678', 'minji.kim@example.com', 'u-1001', 'web-anon-7f3a', 'ios-device-42', 'LC-778899', 'seoul-store', 'mobile-app', 'website']) {
    assert.ok(identities.includes(expected), `identities table lacks ${expected}: ${identities}`);
  }
  const activity = await page.textContent('#activity');
  for (const channel of ['web', 'app', 'pos']) assert.ok(activity.includes(channel), `activity lacks ${channel}`);
  assert.ok((await page.textContent('#consent')).includes('marketing_email'), 'consent is shown');
  assert.ok((await page.textContent('#traits')).includes('gold'), 'traits are shown');
  const computed = await page.textContent('#computed');
  assert.ok(computed.includes('ltv') && computed.includes('59000') && computed.includes('churn_risk') && computed.includes('orders_90d'),
    `computed traits: ${computed}`);

  // --- The identity graph: a node per identifier, edges from the events that linked them, the refused merge.
  await page.waitForSelector('#identity-graph g.node[data-id="phone:+821012345678"]');
  const nodeIds = await page.$$eval('#identity-graph g.node', (nodes) => nodes.map((node) => node.dataset.id).filter(Boolean));
  for (const id of ['user_id:u-1001', 'anonymous_id:web-anon-7f3a', 'email:minji.kim@example.com', 'device_id:ios-device-42', 'phone:+821012345678']) {
    assert.ok(nodeIds.includes(id), `graph lacks node ${id}: ${nodeIds}`);
  }
  const edges = await page.$$eval('#identity-graph g.edge:not(.refused)', (list) => list.map((edge) => `${edge.dataset.from}|${edge.dataset.to}`));
  assert.ok(edges.includes('user_id:u-1001|anonymous_id:web-anon-7f3a'), `graph lacks the identify link: ${edges}`);
  assert.ok(edges.includes('user_id:u-1001|device_id:ios-device-42'), `graph lacks the app link: ${edges}`);
  assert.ok(edges.includes('anonymous_id:receipt-0001|loyalty_id:LC-778899') && edges.includes('anonymous_id:receipt-0001|phone:+821012345678'),
    `graph lacks the till's links (receipt, card, phone): ${edges}`);
  assert.ok((await page.$$('#identity-graph g.edge.refused')).length >= 1, 'the refused merge is drawn');
  const mergeEdges = await page.$$eval('#identity-graph g.edge.merge', (list) => list.map((edge) => `${edge.dataset.from}|${edge.dataset.to}`));
  assert.deepEqual(mergeEdges, ['user_id:u-1001|device_id:ios-device-42'], 'the App Opened event merged the app install profile');
  assert.ok(nodeIds.includes('anonymous_id:app-install-9'), 'the merged profile\'s identifiers are the person\'s');
  // Every label of the picture can be read: no two overlap (boxes shrunk by 1 unit for the halo).
  const overlapping = await page.$$eval('#identity-graph text', (texts) => {
    const boxes = texts.map((text) => ({ text: text.textContent, box: text.getBBox() }));
    const hits = [];
    for (let i = 0; i < boxes.length; i += 1) {
      for (let j = i + 1; j < boxes.length; j += 1) {
        const a = boxes[i].box;
        const b = boxes[j].box;
        if (a.x + 1 < b.x + b.width - 1 && b.x + 1 < a.x + a.width - 1 && a.y + 1 < b.y + b.height - 1 && b.y + 1 < a.y + a.height - 1) {
          hits.push(`"${boxes[i].text}" and "${boxes[j].text}"`);
        }
      }
    }
    return hits;
  });
  assert.deepEqual(overlapping, [], 'graph labels overlap');
  const merges = await page.textContent('table.merges');
  assert.ok(merges.includes('refused') && merges.includes('merged'), `merges table: ${merges}`);
  assert.match(await page.textContent('.facts'), /Merged from\s*p\d+/, 'the profile says what was merged into it');
  await page.evaluate(() => document.activeElement.blur());  // No focus ring in the pictures.
  await page.locator('#graph').screenshot({ path: shotPath('03-identity-graph') });
  await shot(page, '02-profile');
  step(`graph: ${nodeIds.length} nodes, ${edges.length} edges`);

  // --- The timeline: newest first, infinite scroll on the cursor, filters.
  await page.waitForFunction(() => document.querySelectorAll('#timeline-list li').length >= 25);
  const firstPage = await page.$$eval('#timeline-list li', (items) => items.length);
  assert.equal(firstPage, 25, 'the first page holds 25 events');
  assert.match(await page.textContent('#timeline-list li:first-child'), /Order Completed/, 'newest first');
  await page.locator('#timeline-status').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelectorAll('#timeline-list li').length > 25, null, { timeout: 10_000 });
  await page.waitForFunction(() => /\(all\)/.test(document.getElementById('timeline-status').textContent));
  const all = await page.$$eval('#timeline-list li', (items) => items.length);
  assert.ok(all >= 45, `scrolling loads every event: ${all}`);
  assert.ok(!(await page.isVisible('#timeline-more')), '"Load more" goes once everything is shown');
  await page.selectOption('#timeline-channel', 'pos');
  await page.click('#timeline form button[type=submit]');
  await page.waitForFunction(() => /\(all\)/.test(document.getElementById('timeline-status').textContent) &&
    document.querySelectorAll('#timeline-list li').length === 1);
  assert.match(await page.textContent('#timeline-list'), /Order Completed/);
  await page.selectOption('#timeline-channel', '');
  await page.fill('#timeline-event', 'App Opened');
  await page.press('#timeline-event', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#timeline-list li').length === 1 &&
    /App Opened/.test(document.getElementById('timeline-list').textContent));
  await page.locator('#timeline').screenshot({ path: shotPath('04-timeline-filtered') });
  step(`timeline: ${all} events, filters work`);

  // --- Build an audience with the form, preview it, export its CSV.
  await page.goto(`${base}/console/#/audiences/new`);
  await page.waitForSelector('#audience-name');
  await page.fill('#audience-name', 'pos_buyers');
  await page.fill('#audience-description', 'Bought at a till');
  await page.fill('fieldset.rule input[name=field]', 'Order Completed');
  await page.selectOption('fieldset.rule select[name=kind]', 'event');
  assert.match(await page.inputValue('#audience-json'), /"event": "Order Completed"/);
  await page.click('#audience-form button[type=submit]');
  await page.waitForSelector('#audience-size');
  await page.waitForFunction(() => document.getElementById('audience-size').textContent === '2', null, { timeout: 20_000 });
  await page.waitForSelector('table.preview-members tbody tr');
  const preview = await page.textContent('table.preview-members');
  assert.ok(preview.includes('+821012345678') && preview.includes('u-3003'), `preview members: ${preview}`);
  await shot(page, '05-audience-preview');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#preview button[data-audience=pos_buyers]')]);
  const csvPath = join(outDir, 'pos_buyers.csv');
  await download.saveAs(csvPath);
  const csv = readFileSync(csvPath, 'utf8');
  const lines = csv.trim().split(/\r?\n/);
  assert.equal(lines[0], 'id,enteredAt,user_id,email,phone,loyalty_id', `CSV header: ${lines[0]}`);
  assert.equal(lines.length, 3, `CSV rows: ${csv}`);
  assert.ok(csv.includes('minji.kim@example.com') && csv.includes('+821012345678') && csv.includes('LC-778899') && csv.includes('joon@example.com'), `CSV: ${csv}`);
  await page.goto(`${base}/console/#/audiences`);
  await page.waitForSelector('.size[data-audience=pos_buyers]');
  assert.equal(await page.textContent('.size[data-audience=pos_buyers]'), '2');
  await shot(page, '06-audiences', { fullPage: false });

  // --- Edit it: the saved condition comes back as rows; one more rule narrows it to Minji.
  await page.click('a[href="#/audiences/edit/pos_buyers"]');
  await page.waitForSelector('fieldset.rule');
  assert.equal(await page.inputValue('fieldset.rule input[name=field]'), 'Order Completed', 'the rule is read back');
  await page.click('#add-rule');
  const second = page.locator('fieldset.rule').nth(1);
  await second.locator('select[name=kind]').selectOption('identifier');
  await second.locator('input[name=field]').fill('phone');
  assert.match(await page.inputValue('#audience-json'), /"all": \[[\s\S]*"identifier": "phone"/);
  await page.click('#audience-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('audience-size')?.textContent === '1', null, { timeout: 20_000 });
  step('audience built, CSV downloaded, edited');

  // --- Live tail over the WebSocket, and the rate chart.
  await page.goto(`${base}/console/#/live`);
  await page.waitForFunction(() => document.getElementById('live-state')?.textContent === 'Connected');
  for (let round = 0; round < 3; round += 1) {
    await sendBatch(base, WRITE_APP, Array.from({ length: 5 }, (_, i) => ({
      type: 'track', userId: 'u-1001', event: 'Live Test Event', messageId: `live-${round}-${i}`, context: { device: { id: 'IOS-DEVICE-42' } },
    })));
    await new Promise((r) => setTimeout(r, 700));
  }
  await page.waitForFunction(() => document.querySelectorAll('#live-rows tr').length >= 15);
  const liveText = await page.textContent('#live-rows');
  assert.ok(liveText.includes('Live Test Event') && liveText.includes('mobile-app') && liveText.includes('u-1001'), `live rows: ${liveText}`);
  await page.waitForFunction(() => /events\/s/.test(document.getElementById('live-rate').textContent) &&
    document.querySelector('#rate-chart polyline')?.getAttribute('points').length > 0);
  await shot(page, '07-live-tail', { fullPage: false });
  step('live tail shows events and the rate');

  assert.deepEqual(outside, [], 'no request may go anywhere but Tessera');
  assert.deepEqual(problems.filter((text) => /Content Security Policy|Refused to/.test(text)), [], 'no CSP violations');
  await context.close();

  // --- A phone-sized screen, with a read key.
  const phone = await launchBrowser('chromium-phone', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  await small.goto(`${base}/console/`);
  await small.fill('#key', READ_KEY);
  await small.click('form button[type=submit]');
  await small.waitForSelector('h1:text("Dashboard")');
  await small.waitForSelector('#dashboard[data-state=ready]');
  const dashboardOverflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(dashboardOverflow <= 1, `the dashboard fits the phone's width (overflow ${dashboardOverflow}px)`);
  await small.goto(`${base}/console/#/search/phone:010-1234-5678`);
  await small.waitForSelector('h1:text-matches("^Profile p")');
  await small.waitForSelector('#identity-graph');
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page fits the phone's width (overflow ${overflow}px)`);
  await shot(small, '08-phone-profile', { fullPage: false });
  await small.locator('#graph').screenshot({ path: shotPath('09-phone-graph') });
  await small.goto(`${base}/console/#/audiences`);
  await small.waitForSelector('.size[data-audience=pos_buyers]');
  assert.equal(await small.$('a[href="#/audiences/new"]'), null, 'a read key is not offered to build audiences');
  await phone.close();
  step('phone-sized view fits');
}

await run(main);
