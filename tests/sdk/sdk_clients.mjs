// The four real SDKs of tests/sdk, run unchanged against one tracking host: Segment's analytics.js
// (@segment/analytics-next) and RudderStack's JavaScript SDK (@rudderstack/analytics-js) in
// Debian's headless chromium on a page of another origin, and Segment's and RudderStack's node
// SDKs (@segment/analytics-node, @rudderstack/rudder-sdk-node) from this process. Used by the test
// (sdk_clients_test.mjs, against Tessera) and by record_protocol.mjs (against a recording server,
// to learn what each SDK sends: PROTOCOL.md).
//
// Each browser run is what a visitor of a Korean shop does: an anonymous page view on the home
// page, a product page (a new page load, where the SDK finds its anonymous id again in the site's
// storage) with a product added to the cart, then a checkout page where the visitor signs up
// (identify with a user id, an email and a phone in local format). The node run is the shop's
// back end recording the purchase with the user id. Every call is flushed explicitly, and every
// wait has a deadline.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// The SDKs and tools from a node_modules directory outside the source tree (<build>/sdk-clients).
export function loadModules(modulesDir) {
  const require = createRequire(join(modulesDir, 'noop.js'));
  return {
    modulesDir,
    require,
    chromium: require('playwright-core').chromium,
    esbuild: require('esbuild'),
  };
}

export async function waitFor(what, condition, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Bundles pages/segment.js and pages/rudder.js with the packages exactly as installed (one IIFE
// file each, dynamic imports included) into outDir.
export async function bundlePages(modules, outDir) {
  await modules.esbuild.build({
    entryPoints: { segment: join(here, 'pages', 'segment.js'), rudder: join(here, 'pages', 'rudder.js') },
    outdir: outDir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome100',
    nodePaths: [modules.modulesDir],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
}

// The shop's website: its own origin (http://localhost:PORT, another host and port than the
// tracking host's 127.0.0.1), pages /segment/{home,product,checkout} and /rudder/{...} that each
// load their bundled SDK.
export async function servePages(bundleDir) {
  const titles = { home: '홈', product: '상품', checkout: '주문하기' };
  const server = createServer((request, response) => {
    const { pathname } = new URL(request.url, 'http://localhost');
    const script = pathname.match(/^\/(segment|rudder)\.js$/);
    const page = pathname.match(/^\/(segment|rudder)\/(home|product|checkout)$/);
    if (script) {
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
      response.end(readFileSync(join(bundleDir, `${script[1]}.js`)));
    } else if (page) {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      response.end(`<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>${titles[page[2]]}</title>` +
        `<link rel="icon" href="data:,"><script src="/${page[1]}.js"></script></head><body><h1>${titles[page[2]]}</h1></body></html>`);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  return {
    origin: `http://localhost:${server.address().port}`,
    close: () => new Promise((resolveClose) => { server.closeAllConnections(); server.close(resolveClose); }),
  };
}

// A fresh chromium profile (Playwright passes the directory as --user-data-dir) with a Korean
// visitor's language and time zone: navigator.language is "ko-KR", which both SDKs send as
// context.locale.
export function launchBrowser(modules, chromiumPath, userDataDir) {
  return modules.chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    locale: 'ko-KR',
    timezoneId: 'Asia/Seoul',
    viewport: { width: 1280, height: 800 },
  });
}

// Every request a browser context makes, with its answer's status (Chromium does not show CORS
// preflights to Playwright: a refused preflight shows here as a failed request and as a console
// error naming the reason).
export function recordNetwork(context) {
  const entries = [];
  const consoleMessages = [];
  context.on('request', (request) => {
    entries.push({ request, method: request.method(), url: request.url(), postData: request.postData(), status: null, failure: null, done: false });
  });
  const entryOf = (request) => entries.find((entry) => entry.request === request);
  // Done once the answer's head has arrived: an SDK that never reads the body (analytics.js) leaves
  // Playwright's requestfinished unfired for some answers. The body is read only to explain an error.
  context.on('response', async (response) => {
    const entry = entryOf(response.request());
    if (!entry) return;
    entry.status = response.status();
    if (entry.status >= 300) {
      entry.responseBody = await Promise.race([response.text().catch(() => ''), new Promise((r) => setTimeout(() => r('<body not read>'), 2_000))]);
    }
    entry.done = true;
  });
  // A body the page never read is cancelled when the page goes away (net::ERR_ABORTED): that
  // request was answered all the same, so only a request without an answer counts as failed.
  context.on('requestfailed', (request) => {
    const entry = entryOf(request);
    if (!entry || entry.status !== null) return;
    entry.failure = request.failure()?.errorText || 'failed';
    entry.done = true;
  });
  context.on('console', (message) => consoleMessages.push(`${message.type()}: ${message.text()}`));
  context.on('weberror', (error) => consoleMessages.push(`page error: ${error.error().message}`));
  return {
    entries,
    consoleMessages,
    describe() {
      return entries.map((entry) => `  ${entry.method} ${entry.url} -> ${entry.failure || entry.status || 'pending'}` +
        (entry.status >= 400 && entry.responseBody ? ` ${entry.responseBody}` : '')).join('\n') +
        (consoleMessages.length ? `\n  console:\n    ${consoleMessages.join('\n    ')}` : '');
    },
  };
}

// The events in the body of a tracking request: one event, or a batch's events.
export function eventsInBody(postData) {
  let body;
  try { body = JSON.parse(postData); } catch { return []; }
  if (Array.isArray(body.batch)) return body.batch.map((event) => ({ ...event, batchSentAt: body.sentAt }));
  return body.type || body.event || body.messageId ? [body] : [];
}

// Runs one visitor's browsing in a fresh page of `context`. `sdk` is "segment" or "rudder";
// `loadConfig` what the page's SDK is loaded with; `trackingOrigin` where events must go. Returns
// the anonymous id, the events as the browser sent them (each request's body) and the page's
// user agent.
export async function browseAndSignUp({ context, network, pagesOrigin, sdk, loadConfig, trackingOrigin, person, step, allowRetries = false }) {
  const tab = await context.newPage();
  const trackingRequests = () => network.entries.filter((entry) => entry.method === 'POST' && entry.url.startsWith(`${trackingOrigin}/`));
  const ok = (entry) => entry.done && !entry.failure && entry.status >= 200 && entry.status < 300;
  // Every event in every tracking request the host answered 2xx (a retried event more than once).
  const sentEvents = () => trackingRequests().filter(ok).flatMap((entry) => eventsInBody(entry.postData).map((event) => ({ ...event, requestUrl: entry.url })));
  const deliveredCount = () => new Set(sentEvents().map((event) => event.messageId)).size;
  // Waits until the tracking host has answered 2xx to requests carrying `count` distinct events in
  // all; unless retries are expected, a refused or failed request fails at once with the whole
  // network log.
  const waitForDelivered = (count, what) => waitFor(`${sdk}: ${what} delivered (${count} events in all)`, () => {
    const bad = trackingRequests().find((entry) => entry.done && !ok(entry));
    if (bad && !allowRetries) {
      throw new Error(`${sdk}: ${bad.method} ${bad.url} -> ${bad.failure || bad.status} ${bad.responseBody || ''}\nbody: ${bad.postData}\nnetwork:\n${network.describe()}`);
    }
    const inFlight = trackingRequests().some((entry) => !entry.done);
    return !inFlight && deliveredCount() >= count;
  }, 30_000).catch((error) => {
    throw error.message.includes('network:') ? error : new Error(`${error.message}\nnetwork:\n${network.describe()}`);
  });
  const visit = async (path) => {
    await tab.goto(`${pagesOrigin}/${sdk}/${path}`);
    try {
      return await tab.evaluate((config) => window.site.load(config), loadConfig);
    } catch (error) {
      throw new Error(`${sdk}: loading the SDK on /${sdk}/${path} failed: ${error.message}\nnetwork:\n${network.describe()}`);
    }
  };

  const home = await visit('home');
  await tab.evaluate(() => window.site.page('Home', { section: 'landing' }));
  await waitForDelivered(1, 'the home page view');
  step(`${sdk} browser: anonymous page view on the home page (anonymous id ${home.anonymousId})`);

  const product = await visit(`product?sku=${person.sku}`);
  if (product.anonymousId !== home.anonymousId) {
    throw new Error(`${sdk}: the anonymous id changed between two pages of the site: ${home.anonymousId} then ${product.anonymousId}`);
  }
  await tab.evaluate((sku) => window.site.page('Product', { sku }), person.sku);
  await tab.evaluate((sku) => window.site.track('Product Added', { sku, price: 39000, currency: 'KRW' }), person.sku);
  await waitForDelivered(3, 'the product page view and Product Added');
  step(`${sdk} browser: product page view and Product Added`);

  await visit('checkout');
  await tab.evaluate(([userId, traits]) => window.site.identify(userId, traits), [person.userId, person.traits]);
  await waitForDelivered(4, 'the identify');
  step(`${sdk} browser: identify ${person.userId} with ${person.traits.email} and ${person.traits.phone}`);

  const userAgent = await tab.evaluate(() => navigator.userAgent);
  await tab.close();
  return { anonymousId: home.anonymousId, events: sentEvents(), userAgent };
}

// The shop's back end records the purchase with Segment's node SDK, then flushes and closes it.
export async function segmentNodePurchase({ modules, writeKey, host, person, order }) {
  const { Analytics } = modules.require('@segment/analytics-node');
  const analytics = new Analytics({ writeKey, host, maxRetries: 2, httpRequestTimeout: 10_000 });
  const errors = [];
  analytics.on('error', (error) => errors.push(error));
  const delivered = new Promise((resolveSent, reject) => {
    analytics.track({ userId: person.userId, event: 'Order Completed', properties: order }, (error, context) => {
      if (error) reject(new Error(`analytics-node did not deliver Order Completed: ${describeError(error)}`));
      else resolveSent(context);
    });
  });
  await analytics.closeAndFlush({ timeout: 20_000 });
  const context = await delivered;
  if (errors.length) throw new Error(`analytics-node reported errors: ${errors.map(describeError).join('; ')}`);
  return { messageId: context.event.messageId };
}

// The same with RudderStack's node SDK (gzip on, its default), flushed explicitly.
export async function rudderNodePurchase({ modules, writeKey, host, person, order }) {
  const Analytics = modules.require('@rudderstack/rudder-sdk-node');
  const errors = [];
  const client = new Analytics(writeKey, {
    dataPlaneUrl: host, flushInterval: 60_000, retryCount: 1, timeout: 10_000, logLevel: 'error',
    errorHandler: (error) => errors.push(error),
  });
  const delivered = new Promise((resolveSent, reject) => {
    client.track({ userId: person.userId, event: 'Order Completed', properties: order }, (error) => {
      if (error) reject(new Error(`rudder-sdk-node did not deliver Order Completed: ${describeError(error)}`));
      else resolveSent();
    });
  });
  await client.flush();
  await delivered;
  if (errors.length) throw new Error(`rudder-sdk-node reported errors: ${errors.map(describeError).join('; ')}`);
}

function describeError(error) {
  const response = error?.response;
  if (response) return `HTTP ${response.status} ${JSON.stringify(response.data ?? '')}`;
  const reason = error?.reason ?? error?.error ?? error;
  return reason?.message ? `${reason.message}${reason.code ? ` (${reason.code})` : ''}` : String(reason);
}
