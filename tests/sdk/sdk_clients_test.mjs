// End-to-end test of issue 18, "Real clients, unchanged": the real npm packages of Segment and
// RudderStack, exactly as published (versions pinned in tests/sdk/package-lock.json), send to a
// real Tessera, and the profile API then shows one person per visitor with every event once.
//
// It starts Tessera on an ephemeral port with a fresh data directory and a shop's website on
// another origin (http://localhost:PORT), then, for each vendor, one visitor in Debian's headless
// chromium with a Korean locale browses anonymously, adds a product and signs up with a mixed-case
// email and a phone in local format ("010-5971-9030"), and the shop's back end records the
// purchase with the vendor's node SDK:
//   - Segment: @segment/analytics-next (loading its settings from Tessera's
//     /v1/projects/{writeKey}/settings) and @segment/analytics-node;
//   - RudderStack: @rudderstack/analytics-js (bundled entry, source configuration from Tessera's
//     /sourceConfig/) and @rudderstack/rudder-sdk-node (gzip on).
// Then, by the browser's anonymous id, the lower-cased email, the phone in E.164 and the user id,
// GET /v1/profiles/{type}:{value} must answer the same profile, and its events must be exactly what
// the SDKs sent, each once, with the browser's context (page URL, user agent, locale, library) and
// the times (sentAt, receivedAt, a timestamp corrected from the SDK's).
//
// node tests/sdk/sdk_clients_test.mjs --tessera build/tools/tessera --modules build/sdk-clients/node_modules
//      [--chromium /usr/bin/chromium] [--keep]   (--keep leaves the data directory for a look)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTesseraProcess } from '../support/tessera_process.mjs';
import {
  browseAndSignUp, bundlePages, launchBrowser, loadModules, recordNetwork, rudderNodePurchase, segmentNodePurchase, servePages, waitFor,
} from './sdk_clients.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, index, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[index + 1]]] : pairs), []),
);
const tesseraBinary = resolve(args.tessera || 'build/tools/tessera');
const modules = loadModules(resolve(args.modules || 'build/sdk-clients/node_modules'));
const chromiumPath = args.chromium || '/usr/bin/chromium';
const keep = process.argv.includes('--keep');

const KEYS = {
  segmentWeb: 'sdk-test-segment-web',
  segmentServer: 'sdk-test-segment-server',
  rudderWeb: 'sdk-test-rudder-web',
  rudderServer: 'sdk-test-rudder-server',
  read: 'sdk-test-read',
};
// One person per vendor, so that each vendor's pair of SDKs must stitch its own visitor.
const PEOPLE = {
  segment: {
    userId: 'sdk-segment-user-1', sku: 'SKU-SEG-1',
    traits: { email: 'Ji-Woo.Park@Example.COM', phone: '010-5971-9030', name: '박지우' },
    email: 'ji-woo.park@example.com', e164: '+821059719030',
    browserLibrary: 'analytics.js', serverLibrary: '@segment/analytics-node',
    webSource: 'segment-web', serverSource: 'segment-server',
  },
  rudder: {
    userId: 'sdk-rudder-user-2', sku: 'SKU-RS-2',
    traits: { email: 'Seo-Yeon.Kim@Example.ORG', phone: '010-6234-7751', name: '김서연' },
    email: 'seo-yeon.kim@example.org', e164: '+821062347751',
    browserLibrary: 'RudderLabs JavaScript SDK', serverLibrary: 'analytics-node',
    webSource: 'rudder-web', serverSource: 'rudder-server',
  },
};
const ORDER = (sku) => ({ orderId: `order-${sku}`, total: 39000, currency: 'KRW', products: [{ sku, price: 39000, quantity: 1 }] });

const work = mkdtempSync(join(tmpdir(), 'tessera-sdk-'));
let server = null;
let serverOutput = '';
let browser = null;
let pages = null;
const failures = [];
const step = (text) => console.log(`sdk clients test: ${text}`);
const check = (condition, message) => { if (!condition) failures.push(message); return condition; };

function startTessera(pagesOrigin) {
  // No default phone region: the region of "010-..." must come from the browser's context.locale.
  const webSource = (name, writeKey) => ({ name, write_key: writeKey, space: 'default', channel: 'web', allowed_origins: [pagesOrigin] });
  const config = {
    listen: { address: '127.0.0.1', port: 0 },
    data_dir: join(work, 'data'),
    sources: [
      webSource('segment-web', KEYS.segmentWeb),
      { name: 'segment-server', write_key: KEYS.segmentServer, space: 'default', channel: 'server' },
      webSource('rudder-web', KEYS.rudderWeb),
      { name: 'rudder-server', write_key: KEYS.rudderServer, space: 'default', channel: 'server' },
    ],
    read_keys: [KEYS.read],
  };
  const configPath = join(work, 'tessera.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return startTesseraProcess(tesseraBinary, configPath, (chunk) => { serverOutput += chunk; }).then((started) => {
    server = started.child;
    return started.port;
  });
}

async function readApi(base, path) {
  const response = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${KEYS.read}` } });
  const text = await response.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* kept as text */ }
  return { status: response.status, body };
}
const ref = (type, value) => `/v1/profiles/${type}:${encodeURIComponent(value)}`;

// One vendor's visitor: the browser part, then the back end's purchase.
async function runVendor(base, sdk) {
  const person = PEOPLE[sdk];
  browser = await launchBrowser(modules, chromiumPath, join(work, `chromium-${sdk}`));
  const network = recordNetwork(browser);
  const loadConfig = sdk === 'segment'
    ? { writeKey: KEYS.segmentWeb, cdnURL: base }
    : { writeKey: KEYS.rudderWeb, dataPlaneUrl: base, configUrl: base };
  const visit = await browseAndSignUp({ context: browser, network, pagesOrigin: pages.origin, sdk, loadConfig, trackingOrigin: base, person, step });
  const outside = network.entries.filter((entry) => !entry.url.startsWith(`${base}/`) && !entry.url.startsWith(`${pages.origin}/`) && !entry.url.startsWith('data:'));
  check(outside.length === 0, `${sdk}: the page asked for something else than the site and Tessera: ${outside.map((entry) => entry.url).join(', ')}`);
  await browser.close();
  browser = null;

  const purchase = { userId: person.userId, event: 'Order Completed', properties: ORDER(person.sku) };
  let serverMessageId = null;
  if (sdk === 'segment') {
    ({ messageId: serverMessageId } = await segmentNodePurchase({ modules, writeKey: KEYS.segmentServer, host: base, person, order: purchase.properties }));
  } else {
    await rudderNodePurchase({ modules, writeKey: KEYS.rudderServer, host: base, person, order: purchase.properties });
  }
  step(`${sdk} node: Order Completed for ${person.userId} delivered and flushed`);
  return { visit, serverMessageId };
}

function removeWork() {
  try {
    rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    console.error(`sdk clients test: could not remove ${work}: ${error.message}`);
  }
}

const within = (a, b, ms) => Math.abs(Date.parse(a) - Date.parse(b)) <= ms;

async function verifyVendor(base, sdk, { visit, serverMessageId }) {
  const person = PEOPLE[sdk];
  const failuresBefore = failures.length;
  const browserEvents = new Map(visit.events.map((event) => [event.messageId, event]));
  const expectedCount = browserEvents.size + 1;
  const resent = visit.events.length - browserEvents.size;
  if (resent) step(`${sdk}: the browser sent ${resent} event(s) more than once (retries); Tessera must keep each once`);

  // The resolver applies the log in the background: wait until the user id's profile has them all.
  let last = null;
  await waitFor(`${sdk}: the profile of user_id:${person.userId} with ${expectedCount} events`, async () => {
    last = await readApi(base, ref('user_id', person.userId));
    return last.status === 200 && last.body.eventCount >= expectedCount;
  }, 20_000).catch((error) => {
    failures.push(`${error.message}; last answer: ${last?.status} ${JSON.stringify(last?.body)}`);
  });

  // One person by each identifier.
  const lookups = {
    anonymous_id: visit.anonymousId,
    email: person.email,
    phone: person.e164,
    user_id: person.userId,
  };
  const profileIds = new Set();
  let profile = null;
  for (const [type, value] of Object.entries(lookups)) {
    const answer = await readApi(base, ref(type, value));
    const sentAs = { email: person.traits.email, phone: `${person.traits.phone} with context.locale ko-KR` }[type];
    if (!check(answer.status === 200, `${sdk}: GET ${ref(type, value)} -> ${answer.status} ${JSON.stringify(answer.body)}` +
      (sentAs ? ` (the identify sent ${sentAs})` : ''))) continue;
    profileIds.add(answer.body.profileId);
    if (type === 'user_id') profile = answer.body;
  }
  check(profileIds.size <= 1, `${sdk}: the identifiers answer different profiles: ${[...profileIds].join(', ')} (they should be one person)`);
  if (!profile) return null;
  const identities = profile.identities.map((identity) => `${identity.type}:${identity.value}`);
  for (const [type, value] of Object.entries(lookups)) {
    check(identities.includes(`${type}:${value}`), `${sdk}: the profile's identities lack ${type}:${value}; it has ${identities.join(', ')}`);
  }
  check(profile.eventCount === expectedCount, `${sdk}: eventCount is ${profile.eventCount}, expected ${expectedCount} (4 from the browser, 1 from the server)`);

  // Every event exactly once in the timeline.
  const timeline = await readApi(base, `${ref('user_id', person.userId)}/events?limit=100`);
  if (!check(timeline.status === 200, `${sdk}: GET .../events -> ${timeline.status} ${JSON.stringify(timeline.body)}`)) return profile;
  const stored = timeline.body.events.map((entry) => entry.event);
  // What Tessera could not take from an event (e.g. "traits.phone: not a valid phone number for
  // region US") is a warning on its timeline entry: the SDKs' events must need none.
  for (const entry of timeline.body.events) {
    const warnings = entry.summary?.warnings || [];
    check(warnings.length === 0, `${sdk}: Tessera warned about the ${entry.event.type} ${entry.event.messageId}: ${warnings.join('; ')}`);
  }
  const storedIds = stored.map((event) => event.messageId);
  const duplicated = storedIds.filter((id, index) => storedIds.indexOf(id) !== index);
  check(duplicated.length === 0, `${sdk}: the timeline holds message ids more than once: ${duplicated.join(', ')}`);
  check(stored.length === expectedCount, `${sdk}: the timeline has ${stored.length} events, expected ${expectedCount}: ` +
    stored.map((event) => `${event.type} ${event.event || event.name || ''} ${event.messageId}`).join('; '));
  for (const messageId of browserEvents.keys()) {
    check(storedIds.includes(messageId), `${sdk}: the browser's ${browserEvents.get(messageId).type} ${messageId} is not in the timeline`);
  }
  const purchases = stored.filter((event) => event.type === 'track' && event.event === 'Order Completed');
  check(purchases.length === 1, `${sdk}: ${purchases.length} Order Completed events in the timeline, expected 1`);
  if (serverMessageId) check(purchases[0]?.messageId === serverMessageId, `${sdk}: Order Completed has message id ${purchases[0]?.messageId}, the SDK sent ${serverMessageId}`);

  // The browser's context arrived as sent, with the times.
  for (const event of stored) {
    const sent = browserEvents.get(event.messageId);
    const what = `${sdk}: ${event.type} ${event.event || event.name || ''} (${event.messageId})`;
    check(event.sentAt && event.receivedAt && event.timestamp, `${what} lacks sentAt, receivedAt or timestamp: ${JSON.stringify(event)}`);
    if (sent) {
      check(event.source === person.webSource && event.channel === 'web', `${what}: source ${event.source}, channel ${event.channel}; expected ${person.webSource}, web`);
      check(event.anonymousId === visit.anonymousId, `${what}: anonymousId ${event.anonymousId}, the browser's is ${visit.anonymousId}`);
      const context = event.context || {};
      check(context.page?.url === sent.context.page.url && context.page.url.startsWith(`${pages.origin}/${sdk}/`),
        `${what}: context.page.url is ${context.page?.url}, the browser sent ${sent.context.page.url}`);
      check(context.userAgent === visit.userAgent, `${what}: context.userAgent is ${context.userAgent}, the browser's is ${visit.userAgent}`);
      check(context.locale === 'ko-KR', `${what}: context.locale is ${context.locale}, expected ko-KR`);
      check(context.library?.name === person.browserLibrary, `${what}: context.library.name is ${context.library?.name}, expected ${person.browserLibrary}`);
      const clientTime = sent.timestamp || sent.originalTimestamp;
      check(within(event.timestamp, clientTime, 5_000), `${what}: timestamp ${event.timestamp} is far from the SDK's ${clientTime}`);
    } else {
      check(event.source === person.serverSource && event.channel === 'server', `${what}: source ${event.source}, channel ${event.channel}; expected ${person.serverSource}, server`);
      check(event.userId === person.userId, `${what}: userId ${event.userId}, expected ${person.userId}`);
      check(event.context?.library?.name === person.serverLibrary, `${what}: context.library.name is ${event.context?.library?.name}, expected ${person.serverLibrary}`);
    }
    check(within(event.receivedAt, event.timestamp, 60_000), `${what}: receivedAt ${event.receivedAt} and timestamp ${event.timestamp} are more than a minute apart`);
  }
  const identify = stored.find((event) => event.type === 'identify');
  check(identify?.userId === person.userId, `${sdk}: the identify has userId ${identify?.userId}, expected ${person.userId}`);
  if (failures.length > failuresBefore) {
    step(`${sdk}: ${failures.length - failuresBefore} problem(s) with profile ${profile.profileId} (listed at the end)`);
    return profile;
  }
  step(`${sdk}: profile ${profile.profileId} answers for ${Object.entries(lookups).map(([t, v]) => `${t}:${v}`).join(', ')} with ${stored.length} events`);
  return profile;
}

async function stopTessera() {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function main() {
  await bundlePages(modules, join(work, 'bundle'));
  pages = await servePages(join(work, 'bundle'));
  const port = await startTessera(pages.origin);
  const base = `http://127.0.0.1:${port}`;
  step(`tessera on ${base}, the shop's pages on ${pages.origin}`);

  const runs = {};
  for (const sdk of ['segment', 'rudder']) runs[sdk] = await runVendor(base, sdk);
  const profiles = {};
  for (const sdk of ['segment', 'rudder']) profiles[sdk] = await verifyVendor(base, sdk, runs[sdk]);
  if (profiles.segment && profiles.rudder) {
    check(profiles.segment.profileId !== profiles.rudder.profileId, `the two visitors are one profile (${profiles.segment.profileId}); they are different people`);
  }
}

// Well inside ctest's 300 s: a hung step still ends with the server killed (Playwright closes the
// browsers it launched when this process exits), as does an interrupt.
const abort = async (why) => {
  console.error(`sdk clients test: FAILED: ${why}; tessera's output:\n${serverOutput.slice(-3000)}`);
  server?.kill('SIGKILL');
  await Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 3_000))]).catch(() => {});
  if (!keep) removeWork();
  process.exit(1);
};
setTimeout(() => abort('did not finish in 240 s'), 240_000).unref();
process.once('SIGINT', () => abort('interrupted'));
process.once('SIGTERM', () => abort('terminated'));

let error = null;
try {
  await main();
} catch (caught) {
  error = caught;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (pages) await pages.close();
  await stopTessera();
  if (!keep) removeWork();
  else console.log(`sdk clients test: kept ${work}`);
}
if (error) failures.unshift(error.stack || String(error));
if (failures.length) {
  console.error(`sdk clients test: FAILED (${failures.length}):\n- ${failures.join('\n- ')}`);
  console.error(`tessera's output (last 3000 bytes):\n${serverOutput.slice(-3000)}`);
  process.exit(1);
}
console.log('sdk clients test: passed');
