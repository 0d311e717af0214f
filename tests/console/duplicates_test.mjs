// End-to-end test of identity stewardship in the console (issue 25; docs/console.md, "Possible
// duplicates"): the real `tessera serve`, headless chromium, the console as built. It seeds two
// pairs of people who signed up twice (the same name and birth date, different e-mails) and one
// profile that a shared anonymous id (a family laptop) made of two people, then:
//   - a read key sees the candidates and their explanation, with every decision button disabled;
//   - an admin says the first pair is "Not the same person": the candidate leaves the list, and
//     GET /v1/profiles/.../duplicates no longer lists it;
//   - an admin merges the second pair: both e-mails are in one profile over HTTP;
//   - on that merged profile, and on the laptop's, an admin selects two identities and separates
//     them: over HTTP they are in two profiles again, the page shows the first one's and names the
//     other's.
// Every decision is confirmed inside the page; a window.confirm would fail the test.
//
// node tests/console/duplicates_test.mjs --tessera build/tools/tessera --modules build/console-web/node_modules \
//      --out build/console-screenshots
import assert from 'node:assert/strict';
import { browserTest, sendBatch, waitUntil } from './harness.mjs';

const { step, shot, shotPath, startTessera, launchBrowser, run } = browserTest('duplicates');

const WRITE_WEB = 'duplicates-test-web';
const READ_KEY = 'duplicates-test-read';
const ADMIN_KEY = 'duplicates-test-admin';

// The duplicate index is on for every space by default (docs/duplicates.md); auto-merge is off, so
// the pairs stay two profiles until someone decides.
const config = {
  sources: [{ name: 'website', write_key: WRITE_WEB, space: 'default', channel: 'web' }],
  read_keys: [READ_KEY],
  admin_keys: [ADMIN_KEY],
};

const MINJUN = ['minjun@example.com', 'mj.kim@work.example'];
const JIWOO = ['jiwoo.choi@example.com', 'jw.choi@mail.example'];
const LAPTOP = ['dad@example.com', 'haeun@example.com'];
// Two sign-ups with a user id each: one profile may hold one user id, so a merge is refused.
const SEOJUN = ['seojun@example.com', 'sj.park@example.org'];

const waitFor = (what, condition, timeoutMs = 20_000) => waitUntil(what, condition, { timeoutMs });

async function getJson(base, path, key = READ_KEY) {
  const response = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  const text = await response.text();
  return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

async function profileOf(base, email) {
  const { status, body } = await getJson(base, `/v1/profiles/email:${encodeURIComponent(email)}`);
  assert.equal(status, 200, `GET profile of ${email}: ${JSON.stringify(body)}`);
  return body.profileId;
}

async function duplicatesOf(base, profileId) {
  const { status, body } = await getJson(base, `/v1/profiles/id:${profileId}/duplicates`);
  assert.equal(status, 200, `GET duplicates of ${profileId}: ${JSON.stringify(body)}`);
  return body.candidates.map((candidate) => candidate.profile);
}

async function seed(base) {
  const person = (anonymousId, messageId, traits) => ({ type: 'identify', anonymousId, messageId, traits });
  await sendBatch(base, WRITE_WEB, [
    person('anon-minjun-1', 'kmj-1', { name: 'Kim Min-jun', birthday: '1988-03-02', email: MINJUN[0] }),
    person('anon-minjun-2', 'kmj-2', { name: 'Kim Min-jun', birthday: '1988-03-02', email: MINJUN[1], city: 'Busan' }),
    person('anon-jiwoo-1', 'cjw-1', { name: 'Choi Ji-woo', birthday: '1990-11-23', email: JIWOO[0] }),
    person('anon-jiwoo-2', 'cjw-2', { name: 'CHOI JIWOO', birthday: '1990-11-23', email: JIWOO[1] }),
    { type: 'identify', userId: 'u-seojun-1', messageId: 'psj-1', traits: { name: 'Park Seo-jun', birthday: '1979-05-30', email: SEOJUN[0] } },
    { type: 'identify', userId: 'u-seojun-2', messageId: 'psj-2', traits: { name: 'Park Seo-jun', birthday: '1979-05-30', email: SEOJUN[1] } },
    // One laptop, two people: the shared anonymous id puts both e-mails in one profile.
    person('family-laptop', 'lap-1', { email: LAPTOP[0] }),
    person('family-laptop', 'lap-2', { email: LAPTOP[1] }),
  ], 'identify events');
  await waitFor('the seeded profiles and their duplicates', async () => {
    for (const email of [...MINJUN, ...JIWOO, ...LAPTOP, ...SEOJUN]) {
      if ((await getJson(base, `/v1/profiles/email:${encodeURIComponent(email)}`)).status !== 200) return false;
    }
    const minjun = await profileOf(base, MINJUN[0]);
    const { status, body } = await getJson(base, `/v1/profiles/id:${minjun}/duplicates`);
    return status === 200 && body.candidates.length > 0 && (await profileOf(base, LAPTOP[0])) === (await profileOf(base, LAPTOP[1]));
  });
}

async function signIn(page, base, key) {
  await page.goto(`${base}/console/`);
  await page.fill('#key', key);
  await page.click('form button[type=submit]');
  await page.waitForSelector('h1:text("Dashboard")');
}

async function openProfile(page, base, ref) {
  await page.goto(`${base}/console/#/profile/${ref}`);
  await page.waitForSelector('h1:text-matches("^Profile p")');
  await page.waitForSelector('#duplicates:not([data-state=loading])');
  assert.equal(await page.getAttribute('#duplicates', 'data-state'), 'ready', `duplicates of ${ref}: ${await page.textContent('#duplicates')}`);
}

const shownProfile = async (page) => (await page.textContent('h1')).match(/^Profile (p\d+)/)[1];

// Selects two identities of the profile shown and separates them; returns the profiles they are in
// now, over HTTP, after checking the page shows the first and names the second.
async function separateIdentities(page, base, [first, second]) {
  await page.check(`input.pick[data-identity="email:${first}"]`);
  assert.ok(await page.isDisabled('button[data-action=separate-identities]'), 'one selected identity is not enough');
  await page.check(`input.pick[data-identity="email:${second}"]`);
  await page.click('button[data-action=separate-identities]');
  await page.click('#identities form.confirm-step button[data-action=confirm]');
  await page.waitForSelector('.notice[data-other-profile]');
  const [a, b] = [await profileOf(base, first), await profileOf(base, second)];
  assert.notEqual(a, b, `${first} and ${second} are still in one profile`);
  assert.equal(await shownProfile(page), a, 'the page shows the profile the first identifier is in');
  assert.equal(await page.getAttribute('.notice[data-other-profile]', 'data-other-profile'), b, 'the notice names the other profile');
  assert.match(await page.textContent('.notice[data-other-profile]'), new RegExp(`${b}`));
  const identities = await page.textContent('table.identities');
  assert.ok(identities.includes(first) && !identities.includes(second), `identities after the separation: ${identities}`);
  return [a, b];
}

async function main() {
  const { base } = await startTessera(config);
  step(`tessera on ${base}`);
  await seed(base);
  const minjun = await profileOf(base, MINJUN[0]);
  const minjunTwin = await profileOf(base, MINJUN[1]);
  assert.notEqual(minjun, minjunTwin, 'two sign-ups are two profiles');
  assert.ok((await duplicatesOf(base, minjun)).includes(minjunTwin), 'the server lists the twin as a duplicate');
  step(`seeded; ${minjun} and ${minjunTwin} are candidates`);

  // --- A read key: the list and its explanation, the buttons disabled with a note.
  let context = await launchBrowser('chromium-read', { viewport: { width: 1280, height: 900 } });
  let page = await context.newPage();
  await signIn(page, base, READ_KEY);
  await openProfile(page, base, `email:${encodeURIComponent(MINJUN[0])}`);
  const readCard = `#duplicates article.candidate[data-profile="${minjunTwin}"]`;
  await page.waitForSelector(readCard);
  for (const action of ['merge', 'separate']) {
    assert.ok(await page.isDisabled(`${readCard} button[data-action=${action}]`), `a read key's ${action} button is disabled`);
  }
  assert.match(await page.textContent('#duplicates .admin-note'), /admin key/, 'a read key is told why');
  assert.ok(await page.isDisabled('input.pick >> nth=0'), "a read key's identity checkboxes are disabled");
  await shot(page, 'read-key');
  await context.close();
  step('a read key sees the candidates, not the buttons');

  // --- An admin: the explanation, then "Not the same person".
  context = await launchBrowser('chromium-admin', { viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  const problems = [];
  page.on('dialog', (dialog) => {
    problems.push(`a ${dialog.type()} dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await signIn(page, base, ADMIN_KEY);
  await openProfile(page, base, `email:${encodeURIComponent(MINJUN[0])}`);
  const card = `#duplicates article.candidate[data-profile="${minjunTwin}"]`;
  await page.waitForSelector(card);
  const probability = Number(await page.getAttribute(`${card} .probability`, 'data-probability'));
  assert.ok(probability > 0.9, `same name and birth date, other e-mails: p ${probability}`);
  assert.match(await page.textContent(`${card} .probability`), /^\d{1,3}(\.\d+)?%$/, 'the probability reads as a percentage');
  const rows = await page.$$eval(`${card} table.explanation tbody tr`, (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  const row = (comparison) => rows.find((cells) => cells[0] === comparison);
  assert.deepEqual(row('name'), ['name', 'exact', row('name')?.[2], 'Kim Min-jun', 'Kim Min-jun'], `name row: ${JSON.stringify(rows)}`);
  assert.match(row('name')[2], /^\+\d+\.\d\d$/, 'an agreeing name weighs for, with its sign');
  assert.deepEqual(row('birth_date'), ['birth_date', 'exact', row('birth_date')?.[2], '1988-03-02', '1988-03-02'], `birth date row: ${JSON.stringify(rows)}`);
  assert.match(row('birth_date')[2], /^\+\d+\.\d\d$/);
  assert.ok(row('email') && /^-\d+\.\d\d$/.test(row('email')[2]), `different e-mails weigh against: ${JSON.stringify(row('email'))}`);
  assert.ok(await page.isVisible(`a[href="#/profile/id:${minjunTwin}"]`), 'the candidate links to its profile');
  await page.evaluate(() => document.activeElement.blur());
  await page.locator('#duplicates').screenshot({ path: shotPath('candidates') });

  await page.click(`${card} button[data-action=separate]`);
  await page.waitForSelector(`${card} form.confirm-step`);
  assert.equal(await duplicatesOf(base, minjun).then((list) => list.includes(minjunTwin)), true, 'nothing is sent before the confirm step');
  await page.fill(`${card} form.confirm-step input[name=note]`, 'different phone numbers, checked by the call centre');
  await page.click(`${card} form.confirm-step button[data-action=confirm]`);
  await page.waitForSelector('p.notice.ok');
  await page.waitForSelector('#duplicates[data-state=ready]');
  assert.equal(await page.$(card), null, 'the candidate left the list');
  assert.equal(await shownProfile(page), minjun, 'the same profile is shown again');
  assert.ok(!(await duplicatesOf(base, minjun)).includes(minjunTwin), 'GET .../duplicates no longer lists it');
  assert.notEqual(await profileOf(base, MINJUN[0]), await profileOf(base, MINJUN[1]), 'still two people');
  step('"Not the same person" removed the candidate');

  // --- Merge the second pair.
  const jiwoo = await profileOf(base, JIWOO[0]);
  const jiwooTwin = await profileOf(base, JIWOO[1]);
  await openProfile(page, base, `id:${jiwoo}`);
  const mergeCard = `#duplicates article.candidate[data-profile="${jiwooTwin}"]`;
  await page.waitForSelector(mergeCard);
  await page.click(`${mergeCard} button[data-action=merge]`);
  await page.click(`${mergeCard} form.confirm-step button[data-action=cancel]`);
  assert.equal(await page.$(`${mergeCard} form.confirm-step`), null, 'cancel closes the confirm step');
  assert.notEqual(await profileOf(base, JIWOO[0]), await profileOf(base, JIWOO[1]), 'a cancelled merge sends nothing');
  await page.click(`${mergeCard} button[data-action=merge]`);
  await page.click(`${mergeCard} form.confirm-step button[data-action=confirm]`);
  await page.waitForSelector('p.notice.ok');
  const merged = await profileOf(base, JIWOO[0]);
  assert.equal(await profileOf(base, JIWOO[1]), merged, 'both e-mails resolve to one profile after the merge');
  assert.equal(await shownProfile(page), merged, 'the page shows the merged profile');
  const mergedIdentities = await page.textContent('table.identities');
  assert.ok(JIWOO.every((email) => mergedIdentities.includes(email)), `merged identities: ${mergedIdentities}`);
  await shot(page, 'merged');
  step(`merged ${jiwoo} and ${jiwooTwin} into ${merged}`);

  // --- Unmerge: the merged pair, then the laptop's two people.
  const [jiwooAgain, twinAgain] = await separateIdentities(page, base, JIWOO);
  await shot(page, 'separated');
  step(`separated the merged pair again: ${jiwooAgain} and ${twinAgain}`);
  await openProfile(page, base, `email:${encodeURIComponent(LAPTOP[0])}`);
  const [dad, daughter] = await separateIdentities(page, base, LAPTOP);
  step(`separated the laptop's profile: ${dad} and ${daughter}`);

  // --- A merge the identity rules refuse: the server's reason is shown, nothing changes.
  const seojun = await profileOf(base, SEOJUN[0]);
  const seojunTwin = await profileOf(base, SEOJUN[1]);
  await openProfile(page, base, `id:${seojun}`);
  const refusedCard = `#duplicates article.candidate[data-profile="${seojunTwin}"]`;
  await page.waitForSelector(refusedCard);
  await page.click(`${refusedCard} button[data-action=merge]`);
  await page.click(`${refusedCard} form.confirm-step button[data-action=confirm]`);
  await page.waitForSelector(`${refusedCard} .error`);
  assert.match(await page.textContent(`${refusedCard} .error`), /Not merged: .*user_id/, 'the refusal says why');
  assert.notEqual(await profileOf(base, SEOJUN[0]), await profileOf(base, SEOJUN[1]), 'a refused merge changes nothing');
  step('a refused merge shows the server\'s reason');

  assert.deepEqual(problems, [], 'no dialogs and no page errors');
  await context.close();
}

await run(main);
