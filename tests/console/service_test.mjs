// End-to-end test of the service history on the console's profile page (issue 26; docs/console.md,
// "Service history"): the real `tessera serve`, headless chromium, the console as built. A source on
// the `service` channel sends Segment track events through POST /v1/batch, as the helpdesk and call
// centre connectors would emit them (no connector signatures involved):
//   - one person (e-mail and phone, identified on the web) has an open "Ticket Created" ticket with a
//     subject and a priority, a ticket created and then solved with csat 1, and a "Call Completed"
//     call from the "billing" queue, joined to them by their phone number;
//   - another person never contacted customer service.
// The page must show the first person's numbers (1 open, 1 solved, 1 call and 3 contacts in 30 days,
// 100% satisfaction of 1 rating), the last contact (the call), the ticket rows newest update first,
// open_tickets among the computed traits, the jump link and the timeline's "service" filter; and the
// second person's "No contact with customer service yet."
//
// node tests/console/service_test.mjs --tessera build/tools/tessera --modules build/console-web/node_modules \
//      --out build/console-screenshots
import assert from 'node:assert/strict';
import { browserTest, sendBatch, waitUntil } from './harness.mjs';

const { step, shot, shotPath, startTessera, launchBrowser, run } = browserTest('service');

const WRITE_WEB = 'service-test-web';
const WRITE_SERVICE = 'service-test-helpdesk';
const READ_KEY = 'service-test-read';
const ADMIN_KEY = 'service-test-admin';

const config = {
  sources: [
    { name: 'website', write_key: WRITE_WEB, space: 'default', channel: 'web' },
    { name: 'helpdesk', write_key: WRITE_SERVICE, space: 'default', channel: 'service' },
  ],
  read_keys: [READ_KEY],
  admin_keys: [ADMIN_KEY],
};

const CUSTOMER = { email: 'seoyeon.lee@example.com', phone: '+821055501234', name: 'Lee Seo-yeon' };
const QUIET = { email: 'quiet.person@example.com', name: 'Quiet Person' };
const OPEN_SUBJECT = 'Refund for order 1042';
const SOLVED_SUBJECT = 'Cannot sign in to the app';

const waitFor = (what, condition, timeoutMs = 20_000) => waitUntil(what, condition, { timeoutMs });

async function getJson(base, path, key = READ_KEY) {
  const response = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  const text = await response.text();
  return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

const profileOf = (base, email) => getJson(base, `/v1/profiles/email:${encodeURIComponent(email)}`);

// "Now minus a few minutes": inside every 30- and 90-day window, in a fixed order.
const minutesAgo = (minutes) => new Date(Date.now() - minutes * 60_000).toISOString();

async function seed(base) {
  await sendBatch(base, WRITE_WEB, [
    { type: 'identify', anonymousId: 'anon-seoyeon', messageId: 'web-seoyeon', timestamp: minutesAgo(60), traits: CUSTOMER },
    { type: 'identify', anonymousId: 'anon-quiet', messageId: 'web-quiet', timestamp: minutesAgo(60), traits: QUIET },
  ], 'identify events');
  // Segment wants a userId or an anonymousId: the helpdesk's requester and the caller's number get
  // anonymous ids of their own; context.traits joins them to the person.
  const ticket = (event, messageId, minutes, properties) => ({
    type: 'track', event, messageId, timestamp: minutesAgo(minutes), anonymousId: 'zendesk-requester-9001',
    context: { traits: { email: CUSTOMER.email } }, properties: { provider: 'zendesk', ...properties },
  });
  await sendBatch(base, WRITE_SERVICE, [
    ticket('Ticket Created', 'zendesk-201-created', 40, { ticket_id: '201', status: 'new', subject: SOLVED_SUBJECT, priority: 'normal' }),
    ticket('Ticket Solved', 'zendesk-201-solved', 30, { ticket_id: '201', status: 'solved', subject: SOLVED_SUBJECT, priority: 'normal', csat: 1 }),
    ticket('Ticket Created', 'zendesk-202-created', 15, { ticket_id: '202', status: 'open', subject: OPEN_SUBJECT, priority: 'high' }),
    // The call centre knows the caller by phone only; the web identify joined it to the e-mail.
    {
      type: 'track', event: 'Call Completed', messageId: 'twilio-CA0001', timestamp: minutesAgo(5), anonymousId: 'twilio-caller-CA0001',
      context: { traits: { phone: CUSTOMER.phone } },
      properties: { provider: 'twilio', call_sid: 'CA0001', direction: 'inbound', queue: 'billing' },
    },
  ], 'service events');
  await waitFor('the seeded profiles, their service history and open_tickets', async () => {
    const [customer, quiet] = await Promise.all([profileOf(base, CUSTOMER.email), profileOf(base, QUIET.email)]);
    if (customer.status !== 200 || quiet.status !== 200) return false;
    const service = customer.body.service;
    return Boolean(service) && service.calls30d === 1 && service.tickets.length === 2 && service.ratings90d === 1
      && customer.body.computedTraits?.open_tickets === 1;
  });
}

async function signIn(page, base, key) {
  await page.goto(`${base}/console/`);
  await page.fill('#key', key);
  await page.click('form button[type=submit]');
  await page.waitForSelector('h1:text("Dashboard")');
}

async function openProfile(page, base, email) {
  await page.goto(`${base}/console/#/profile/email:${encodeURIComponent(email)}`);
  await page.waitForSelector('h1:text-matches("^Profile p")');
  await page.waitForSelector('#service');
}

const fact = (page, name) => page.textContent(`#service dd[data-fact="${name}"]`);

async function main() {
  const { base } = await startTessera(config);
  step(`tessera on ${base}`);
  await seed(base);
  const { body: profile } = await profileOf(base, CUSTOMER.email);
  const service = profile.service;
  assert.equal(service.openTickets, 1, `API service: ${JSON.stringify(service)}`);
  assert.equal(service.solvedTickets, 1, `API service: ${JSON.stringify(service)}`);
  assert.equal(service.csatAvg90d, 1, `API service: ${JSON.stringify(service)}`);
  assert.equal(service.lastContact?.kind, 'call', `API lastContact: ${JSON.stringify(service.lastContact)}`);
  step(`seeded; ${profile.profileId} has ${service.contacts30d} contacts in 30 days`);

  const context = await launchBrowser('chromium', { viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('dialog', (dialog) => {
    problems.push(`a ${dialog.type()} dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await signIn(page, base, READ_KEY);

  // --- The person with a service history.
  await openProfile(page, base, CUSTOMER.email);
  assert.equal(await page.getAttribute('#service', 'data-state'), 'history');
  assert.equal(await page.getAttribute('#service', 'aria-labelledby'), 'service-heading');
  assert.equal(await page.textContent('#service-heading'), 'Service history');
  assert.equal(await fact(page, 'open-tickets'), '1');
  assert.equal(await fact(page, 'solved-tickets'), '1');
  assert.equal(await fact(page, 'calls-30d'), '1');
  assert.equal(await fact(page, 'contacts-30d'), '3', 'two tickets opened and one call');
  assert.equal(await fact(page, 'csat-90d'), '100% of 1 rating');
  const last = await fact(page, 'last-contact');
  assert.match(last, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ · call \(twilio\), inbound, completed: billing$/, `last contact: ${last}`);
  assert.equal(await page.getAttribute('#service dd[data-fact="last-contact"] time', 'datetime'), service.lastContact.at);

  const rows = await page.$$eval('#service table.service-tickets tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.equal(rows.length, 2, `ticket rows: ${JSON.stringify(rows)}`);
  // Newest update first: the open ticket (15 minutes ago), then the solved one (30 minutes ago).
  const [open, solved] = rows;
  assert.deepEqual([open[0], open[1], open[3], open[4], open[7]], ['zendesk', '202', OPEN_SUBJECT, 'high', 'not rated'], `open row: ${JSON.stringify(open)}`);
  assert.match(open[2], /^open/, `open row's status: ${open[2]}`);
  assert.deepEqual([solved[0], solved[1], solved[3], solved[4], solved[7]], ['zendesk', '201', SOLVED_SUBJECT, 'normal', 'good'], `solved row: ${JSON.stringify(solved)}`);
  assert.match(solved[2], /^solved/, `solved row's status: ${solved[2]}`);
  assert.deepEqual(await page.$$eval('#service .ticket-status', (spans) => spans.map((span) => span.dataset.open)), ['true', 'false']);
  assert.ok(solved[5] < solved[6], `a solved ticket was opened before its update: ${solved[5]} / ${solved[6]}`);

  const computed = await page.$$eval('#computed tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.deepEqual(computed.find(([name]) => name === 'open_tickets'), ['open_tickets', '1'], `computed traits: ${JSON.stringify(computed)}`);
  assert.ok(computed.some(([name]) => name === 'csat_avg_90d'), `csat_avg_90d among computed traits: ${JSON.stringify(computed)}`);

  // The card sits after "Activity per channel", and the jump nav leads to it.
  const order = await page.$$eval('main .grid > section', (sections) => sections.map((section) => section.id));
  assert.equal(order.indexOf('service'), order.indexOf('activity') + 1, `card order: ${order.join(', ')}`);
  await page.click('nav.jump a[href="#service"]');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'service-heading', 'the jump link focuses the card heading');
  await page.evaluate(() => document.activeElement.blur());
  await page.locator('#service').screenshot({ path: shotPath('card') });
  await shot(page, 'profile');
  step('the service history card shows the counts, the last contact and the tickets');

  // The timeline's channel filter knows "service": only the helpdesk's events remain.
  await page.selectOption('#timeline-channel', 'service');
  await page.click('#timeline form button[type=submit]');
  await waitFor('the service timeline', async () => /\(all\)/.test(await page.textContent('#timeline-status')) && (await page.$$('#timeline-list li')).length === 4);
  const names = await page.$$eval('#timeline-list li .event-name', (items) => items.map((item) => item.textContent));
  assert.deepEqual([...names].sort(), ['Call Completed', 'Ticket Created', 'Ticket Created', 'Ticket Solved'], `service timeline: ${names}`);
  step('the timeline filters on the service channel');

  // --- The person who never contacted customer service.
  await openProfile(page, base, QUIET.email);
  assert.equal(await page.getAttribute('#service', 'data-state'), 'empty');
  assert.equal((await page.textContent('#service p.empty')).trim(), 'No contact with customer service yet.');
  assert.equal(await page.$('#service table'), null, 'no ticket table without a history');
  await page.locator('#service').screenshot({ path: shotPath('empty') });
  step('a person without contact shows the empty text');

  // --- Phone width: the card and its table reflow without a horizontal scroll of the page.
  await page.setViewportSize({ width: 390, height: 844 });
  await openProfile(page, base, CUSTOMER.email);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `the page scrolls sideways at phone width by ${overflow}px`);
  await page.locator('#service').screenshot({ path: shotPath('card-phone') });

  assert.deepEqual(problems, [], 'no dialogs and no page errors');
  await context.close();
}

await run(main);
