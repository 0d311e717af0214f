// What the console's browser tests (console_test.mjs, destinations_test.mjs, dashboard_test.mjs)
// share, so that each of them holds only what it checks: the command line (tests/CMakeLists.txt
// passes --tessera, --modules and --out), a work directory of its own, the real `tessera serve` on
// an ephemeral port with the test's configuration, Debian's chromium driven headless by
// playwright-core, a progress log and screenshots, and the end of every run: the diagnostics of a
// failure, the browser and the server stopped, the work directory removed, the exit code set.
// Each test's keys, sources, seeding, receivers and checks stay in the test.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startTesseraProcess } from '../support/tessera_process.mjs';
import { browserTestArgs } from '../support/browser_test_args.mjs';

// Chromium's switches for every test: headless without a sandbox (the tests may run as root in a
// container), and nothing the browser would fetch on its own (updates, sync, QUIC), so that the
// only requests it makes are the page's and the tests can insist that they all go to Tessera.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Sets up one browser test named `name` ("console", "destinations", "dashboard"): reads the command
// line, makes the work directory (tessera-NAME-XXXXXX in the temp directory), and returns what the
// test uses of it, which keeps hold of the server and the browser so that `run` can stop them
// whatever happens. Screenshots are named SCREENSHOT_PREFIX + name + ".png" in the --out directory
// (NAME- by default; console_test.mjs keeps its unprefixed names).
export function browserTest(name, { screenshotPrefix = `${name}-` } = {}) {
  const { tesseraBinary, outDir, chromiumPath, chromium } = browserTestArgs();
  const work = mkdtempSync(join(tmpdir(), `tessera-${name}-`));
  let server = null;
  let browser = null;
  let serverOutput = '';

  // The progress log: one line a step, named after the test, so that ctest's output says which
  // test got how far.
  const step = (text) => console.log(`${name} test: ${text}`);

  // Where the screenshot `file` goes, for pictures of a part of the page (locator.screenshot).
  const shotPath = (file) => join(outDir, `${screenshotPrefix}${file}.png`);

  // A screenshot of the page, the whole of it unless { fullPage: false }: what a person would have
  // seen, for looking at after the run.
  const shot = (page, file, { fullPage = true } = {}) => page.screenshot({ path: shotPath(file), fullPage });

  // Starts the real `tessera serve` with the test's configuration (its sources, keys, destinations,
  // ...) on 127.0.0.1 and an ephemeral port, with a fresh data directory in the work directory, and
  // resolves to { port, base } once it listens. Everything it prints is kept for a failure's report.
  async function startTessera(config) {
    const configPath = join(work, 'tessera.json');
    const full = { listen: { address: '127.0.0.1', port: 0 }, data_dir: join(work, 'data'), ...config };
    writeFileSync(configPath, JSON.stringify(full, null, 2));
    const started = await startTesseraProcess(tesseraBinary, configPath, (chunk) => { serverOutput += chunk; });
    server = started.child;
    return { port: started.port, base: `http://127.0.0.1:${started.port}` };
  }

  // Launches chromium with a fresh profile directory `profile` in the work directory (Playwright
  // passes it as --user-data-dir) and playwright's `options` (viewport, downloads, touch, ...).
  // The context is the one `run` closes should the test fail before it does.
  async function launchBrowser(profile, options = {}) {
    browser = await chromium.launchPersistentContext(join(work, profile), {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      ...options,
    });
    return browser;
  }

  // Runs the test's `main` and ends the process: on a failure, the error, what `onFailure` adds
  // (the test's own diagnostics) and everything the server printed; then, pass or fail, closes the
  // browser, stops the server (SIGTERM, waiting up to 10 s), runs `cleanup` (the test's own
  // servers), removes the work directory, and exits with 1 on a failure, 0 otherwise.
  async function run(main, { onFailure = () => {}, cleanup = () => {} } = {}) {
    let failed = false;
    try {
      await main();
      step(`passed; screenshots in ${outDir}`);
    } catch (error) {
      failed = true;
      console.error(`${name} test FAILED: ${error.stack || error}`);
      onFailure();
      console.error(`tessera output:\n${serverOutput}`);
    } finally {
      if (browser) await browser.close().catch(() => {});
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((r) => { server.once('exit', r); setTimeout(r, 10_000); });
      }
      await cleanup();
      rmSync(work, { recursive: true, force: true });
    }
    process.exit(failed ? 1 : 0);
  }

  return { outDir, work, step, shot, shotPath, startTessera, launchBrowser, run };
}

// Sends `batch` to POST /v1/batch of the server at `base` with a source's write key, as the SDKs
// do, and asserts it was taken whole (200, nothing rejected): every test seeds its data this way.
// `what` names the events in the messages ("pos events").
export async function sendBatch(base, writeKey, batch, what = 'events') {
  const response = await fetch(`${base}/v1/batch`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
    body: JSON.stringify({ batch }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, `sending ${what} failed: ${text}`);
  assert.ok(!text.includes('rejected'), `${what} were rejected: ${text}`);
}

// Polls `condition` (sync or async) every `intervalMs` until it holds, and throws "timed out waiting
// for WHAT" after `timeoutMs`: the server applies its log, evaluates audiences and delivers in the
// background, so the tests wait for what they then check.
export async function waitUntil(what, condition, { timeoutMs, intervalMs = 100 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
