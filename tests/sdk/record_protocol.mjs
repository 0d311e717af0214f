// Learns what each SDK of tests/sdk sends: runs the same four clients as sdk_clients_test.mjs
// against a recording server that stands in for Tessera (it answers CORS preflights, the Segment
// settings and the RudderStack source configuration, and 200 to everything else), then prints
// every request it received: method, path and query, headers, the body (gunzipped when sent
// compressed). PROTOCOL.md was written from its output.
//
// node tests/sdk/record_protocol.mjs --modules build/sdk-clients/node_modules [--out requests.json]
//      [--fail-first 503]   answer the first POST to each path with this status, to see retries
//      [--minimal-settings] answer analytics.js's settings with integrations["Segment.io"] only
import { createServer } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  browseAndSignUp, bundlePages, launchBrowser, loadModules, recordNetwork, rudderNodePurchase, segmentNodePurchase, servePages,
} from './sdk_clients.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, index, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[index + 1]]] : pairs), []),
);
const modules = loadModules(resolve(args.modules || 'build/sdk-clients/node_modules'));
const work = mkdtempSync(join(tmpdir(), 'tessera-sdk-record-'));
const WRITE_KEY = 'wk_recorder';
const failFirst = args['fail-first'] ? Number(args['fail-first']) : 0;
const minimalSettings = process.argv.includes('--minimal-settings');

// The settings analytics.js needs to send its events to `apiHost` over plain HTTP.
export function segmentSettings(writeKey, apiHost) {
  if (minimalSettings) return { integrations: { 'Segment.io': { apiKey: writeKey, apiHost, protocol: 'http' } } };
  return {
    integrations: { 'Segment.io': { apiKey: writeKey, apiHost, protocol: 'http' } },
    plan: { track: { __default: { enabled: true } }, identify: { __default: { enabled: true } } },
    metrics: { sampleRate: 0 },
  };
}

// The smallest source configuration RudderStack's SDK accepts (isValidSourceConfig: source.id,
// source.config an object, source.destinations an array), with its error and metrics reporting
// to RudderStack turned off.
export function rudderSourceConfig(writeKey) {
  return {
    source: {
      id: 'recorder-source', name: 'recorder', writeKey, enabled: true, workspaceId: 'recorder',
      config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
      destinations: [],
    },
  };
}

const recorded = [];
const failedPaths = new Set();
const recorder = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const raw = Buffer.concat(chunks);
    const encoding = request.headers['content-encoding'];
    let body = raw;
    try {
      if (encoding === 'gzip') body = gunzipSync(raw);
      else if (encoding === 'deflate') body = inflateSync(raw);
    } catch (error) {
      body = Buffer.from(`<cannot decode ${encoding}: ${error.message}>`);
    }
    const text = body.toString('utf8');
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* recorded as text */ }
    recorded.push({ method: request.method, url: request.url, headers: request.headers, bytes: raw.length, body: json ?? text });

    const origin = request.headers.origin;
    const cors = origin ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : {};
    const { pathname } = new URL(request.url, 'http://recorder');
    if (request.method === 'OPTIONS') {
      response.writeHead(204, {
        ...cors,
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': request.headers['access-control-request-headers'] || '',
        'Access-Control-Max-Age': '600',
      });
      response.end();
    } else if (request.method === 'GET' && /^\/v1\/projects\/[^/]+\/settings$/.test(pathname)) {
      response.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      response.end(JSON.stringify(segmentSettings(WRITE_KEY, `${request.headers.host}/v1`)));
    } else if (request.method === 'GET' && pathname.startsWith('/sourceConfig')) {
      response.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      response.end(JSON.stringify(rudderSourceConfig(WRITE_KEY)));
    } else if (failFirst && request.method === 'POST' && !failedPaths.has(pathname)) {
      failedPaths.add(pathname);
      recorded.at(-1).answered = failFirst;
      response.writeHead(failFirst, { ...cors, 'Content-Type': 'application/json' });
      response.end('{"error":{"code":"overloaded","message":"recorder: failing the first request to this path"}}');
    } else {
      response.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      response.end('{"success":true}');
    }
  });
});

const people = {
  segment: { userId: 'rec-seg-1', sku: 'SKU-1', traits: { email: 'Ji-Woo.Park@Example.COM', phone: '010-5971-9030', name: '박지우' } },
  rudder: { userId: 'rec-rs-2', sku: 'SKU-2', traits: { email: 'Seo-Yeon.Kim@Example.ORG', phone: '010-6234-7751', name: '김서연' } },
};
const order = { orderId: 'order-1', total: 39000, currency: 'KRW', products: [{ sku: 'SKU-1', price: 39000, quantity: 1 }] };

let browser = null;
let pages = null;
try {
  await new Promise((resolveListen) => recorder.listen(0, '127.0.0.1', resolveListen));
  const host = `http://127.0.0.1:${recorder.address().port}`;
  await bundlePages(modules, join(work, 'bundle'));
  pages = await servePages(join(work, 'bundle'));
  const step = (text) => console.error(`record: ${text}`);

  const mark = (label) => recorded.push({ marker: label });
  for (const sdk of ['segment', 'rudder']) {
    mark(`${sdk} browser`);
    browser = await launchBrowser(modules, args.chromium || '/usr/bin/chromium', join(work, `chromium-${sdk}`));
    const network = recordNetwork(browser);
    const loadConfig = sdk === 'segment' ? { writeKey: WRITE_KEY, cdnURL: host } : { writeKey: WRITE_KEY, dataPlaneUrl: host, configUrl: host };
    await browseAndSignUp({ context: browser, network, pagesOrigin: pages.origin, sdk, loadConfig, trackingOrigin: host, person: people[sdk], step, allowRetries: failFirst > 0 });
    const outside = network.entries.filter((entry) => !entry.url.startsWith(host) && !entry.url.startsWith(pages.origin) && !entry.url.startsWith('data:'));
    if (outside.length) step(`${sdk} browser also asked for: ${outside.map((entry) => entry.url).join(', ')}`);
    await browser.close();
    browser = null;
  }
  mark('segment node');
  await segmentNodePurchase({ modules, writeKey: WRITE_KEY, host, person: people.segment, order });
  mark('rudder node');
  await rudderNodePurchase({ modules, writeKey: WRITE_KEY, host, person: people.rudder, order });

  const output = JSON.stringify(recorded, null, 2);
  if (args.out) writeFileSync(args.out, output);
  else console.log(output);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (pages) await pages.close();
  recorder.closeAllConnections();
  recorder.close();
  rmSync(work, { recursive: true, force: true });
}
