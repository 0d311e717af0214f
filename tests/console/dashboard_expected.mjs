// The dashboard test's data and arithmetic (tests/console/dashboard_test.mjs): the events it sends,
// drawn from a seeded generator so every run sends the same, and what GET /v1/kpis must answer for
// them, counted here from the events alone, following the contract in docs/console.md:
//   - a person is a profile after merges (the merged visitor's events are the customer's);
//   - events, active and new profiles follow the channel filter; events_by_channel, merges, orders,
//     revenue and customers do not;
//   - a purchase is an Order Completed in USD (the test's purchase rules); the EUR order is an
//     event, not a purchase; no customer buys twice on one day, so orders and transactions agree;
//     every order comes from the till (pos) in one request, so the resolver's sweep fits the
//     purchase model on all of them at once;
//   - a repeat customer of a period bought in it on a later day than their first purchase ever.

const DAY_MS = 86_400_000;
export const DAYS = 56;
// The eight weeks end yesterday (UTC): the purchase model is fitted as of today, and customers whose
// history ended long before that day all look gone, which leaves a degenerate fit. Events keep
// explicit timestamps all the same, and the same days relative to today every run.
const TODAY = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const FIRST = TODAY - DAYS * DAY_MS;
const CUSTOMERS = 60;
const VISITORS = 10;
const MERGED_CUSTOMER = 'cust-05';

const dayOf = (ms) => new Date(ms).toISOString().slice(0, 10);
const msOf = (day) => Date.parse(`${day}T00:00:00Z`);
export const addDays = (day, n) => dayOf(msOf(day) + n * DAY_MS);
// The test's i-th day (0 to DAYS - 1), as YYYY-MM-DD.
export const dayAt = (i) => dayOf(FIRST + i * DAY_MS);
export const today = () => dayOf(TODAY);

// mulberry32: small, seeded, and the same in every node.
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Gamma(shape, 1) by Marsaglia and Tsang (boosted below shape 1), and Beta from two of them.
function distributions(random) {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const gamma = (shape) => {
    if (shape < 1) return gamma(shape + 1) * random() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x;
      let v;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = random();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  const beta = (a, b) => {
    const x = gamma(a);
    return x / (x + gamma(b));
  };
  return { gamma, beta };
}

// Returns { events: [{channel, day, person, name, purchase: {cents, counted} | null, merge}],
// batches: [{channel, batch}] } in the order they must be sent: the identify that merges last.
export function seedEvents() {
  const random = generator(20250303);
  const below = (n) => Math.floor(random() * n);
  const { gamma, beta } = distributions(random);
  // Purchase days as BG/NBD tells them (the model the server fits, so the fit is a sane one): while
  // alive a customer buys at a rate λ ~ Gamma(0.9, 3) a week, and after each purchase drops out
  // with a probability p ~ Beta(0.8, 2.5). Purchases on one day are one.
  const purchaseDays = (first) => {
    const rate = Math.max(gamma(0.9) / 3, 1e-6) / 7;
    const dropout = beta(0.8, 2.5);
    const days = [first];
    for (let time = first; random() >= dropout;) {
      time += -Math.log(1 - random()) / rate;
      if (time >= DAYS) break;
      if (Math.floor(time) !== days.at(-1)) days.push(Math.floor(time));
    }
    return days;
  };
  const events = [];
  let sequence = 0;
  const add = (channel, dayIndex, person, body, { purchase = null, merge = false } = {}) => {
    sequence += 1;
    // Between 08:00 and 18:00 UTC: always inside the day, whatever the sequence.
    const time = FIRST + dayIndex * DAY_MS + (8 * 60 + (sequence % 600)) * 60_000;
    events.push({
      channel, day: dayOf(time), person, name: body.event || body.type, purchase, merge,
      body: { ...body, messageId: `dashboard-${sequence}`, timestamp: new Date(time).toISOString() },
    });
  };

  for (let i = 0; i < CUSTOMERS; i += 1) {
    const id = `cust-${String(i).padStart(2, '0')}`;
    // The merged customer exists before the visitor's first page view (day 4); the first customer
    // opens the range on its first day.
    const first = id === MERGED_CUSTOMER ? 2 : i === 0 ? 0 : below(21);
    add('web', first, id, { type: 'identify', userId: id, traits: { email: `${id}@example.com` } });
    // Each customer with a typical basket of their own (the spend model needs that spread).
    const basket = 15 + below(150);
    const days = new Set(purchaseDays(first));
    for (const day of days) {
      const cents = Math.round(basket * (0.6 + 0.8 * random()) * 100);
      add('pos', day, id,
        { type: 'track', userId: id, event: 'Order Completed', properties: { revenue: cents / 100, currency: 'USD', order_id: `o-${sequence}` } },
        { purchase: { cents, counted: true } });
    }
    if (i === 7) {
      // An order in another currency: tallied by the model, not a purchase under the rules.
      let day = first;
      while (days.has(day)) day += 1;
      add('pos', day, id, { type: 'track', userId: id, event: 'Order Completed', properties: { revenue: 50, currency: 'EUR' } },
        { purchase: { cents: 5000, counted: false } });
    }
    const views = 1 + below(3);
    for (let v = 0; v < views; v += 1) {
      const day = first + below(DAYS - first);
      if (i % 3 === 1) add('app', day, id, { type: 'track', userId: id, event: 'App Opened' });
      else add('web', day, id, { type: 'page', userId: id, name: 'Pricing' });
    }
  }
  for (let i = 0; i < VISITORS; i += 1) {
    const id = `visitor-${i}`;
    const views = 1 + below(2);
    for (let v = 0; v < views; v += 1) add('web', below(DAYS), id, { type: 'page', anonymousId: id, name: 'Home' });
  }
  // A visitor who turns out to be cust-05: two anonymous page views, then an identify that carries
  // both ids and merges the two profiles (on day 9). The last day's app open ends the range.
  add('web', 4, MERGED_CUSTOMER, { type: 'page', anonymousId: 'anon-merge', name: 'Home' });
  add('web', 6, MERGED_CUSTOMER, { type: 'page', anonymousId: 'anon-merge', name: 'Pricing' });
  add('app', DAYS - 1, 'cust-01', { type: 'track', userId: 'cust-01', event: 'App Opened' });
  const merging = events.length;
  add('web', 9, MERGED_CUSTOMER, { type: 'identify', anonymousId: 'anon-merge', userId: MERGED_CUSTOMER }, { merge: true });

  // One source per channel, so the batches go per channel: first every order in one request (the
  // sweep that fits the model then sees them all), then the rest at most 100 events a request; the
  // merging identify goes alone, after both profiles exist.
  const orders = events.filter((event) => event.purchase);
  const batches = [{ channel: 'pos', batch: orders.map((event) => event.body) }];
  for (const channel of ['web', 'app', 'pos']) {
    const mine = events.slice(0, merging).filter((event) => event.channel === channel && !event.purchase).map((event) => event.body);
    for (let i = 0; i < mine.length; i += 100) batches.push({ channel, batch: mine.slice(i, i + 100) });
  }
  batches.push({ channel: 'web', batch: [events[merging].body] });
  return { events, batches };
}

// The periods of [from, to] at a granularity, the range widened to whole weeks (Monday first) or
// months.
export function periodsOf(from, to, granularity) {
  const periods = [];
  if (granularity === 'day') {
    for (let day = from; day <= to; day = addDays(day, 1)) periods.push({ start: day, end: day });
  } else if (granularity === 'week') {
    const monday = (day) => addDays(day, -((new Date(msOf(day)).getUTCDay() + 6) % 7));
    for (let start = monday(from); start <= to; start = addDays(start, 7)) periods.push({ start, end: addDays(start, 6) });
  } else {
    for (let start = `${from.slice(0, 7)}-01`; start <= to;) {
      const next = new Date(msOf(start));
      next.setUTCMonth(next.getUTCMonth() + 1);
      const following = dayOf(next.getTime());
      periods.push({ start, end: addDays(following, -1) });
      start = following;
    }
  }
  return periods;
}

// What GET /v1/kpis must answer for `events` and a query, plus the test's own sums.
export function expectedKpis(events, { from, to, granularity = 'day', channel = null }) {
  const lastDay = events.reduce((last, event) => (event.day > last ? event.day : last), '');
  const end = to || lastDay;
  const periods = periodsOf(from || addDays(end, -89), end, granularity);
  const matching = (event) => !channel || event.channel === channel;
  const purchases = events.filter((event) => event.purchase?.counted);

  const firstEvent = new Map();
  for (const event of events.filter(matching)) {
    if (!firstEvent.has(event.person) || event.day < firstEvent.get(event.person)) firstEvent.set(event.person, event.day);
  }
  const firstPurchase = new Map();
  for (const event of purchases) {
    if (!firstPurchase.has(event.person) || event.day < firstPurchase.get(event.person)) firstPurchase.set(event.person, event.day);
  }

  const figures = (start, finish) => {
    const inside = (event) => event.day >= start && event.day <= finish;
    const seen = events.filter((event) => inside(event) && matching(event));
    const bought = purchases.filter(inside);
    const byChannel = {};
    for (const event of events.filter(inside)) byChannel[event.channel] = (byChannel[event.channel] || 0) + 1;
    const customers = new Set(bought.map((event) => event.person));
    const repeat = new Set(bought.filter((event) => event.day > firstPurchase.get(event.person)).map((event) => event.person));
    const cents = bought.reduce((sum, event) => sum + event.purchase.cents, 0);
    return {
      events: seen.length,
      events_by_channel: byChannel,
      active_profiles: new Set(seen.map((event) => event.person)).size,
      new_profiles: [...firstEvent.values()].filter((day) => day >= start && day <= finish).length,
      merges: events.filter((event) => event.merge && inside(event)).length,
      orders: bought.length,
      cents,
      revenue: cents / 100,
      customers: customers.size,
      repeat_customers: repeat.size,
    };
  };

  const rows = periods.map((period) => ({ ...period, ...figures(period.start, period.end) }));
  const totals = figures(periods[0].start, periods.at(-1).end);
  totals.average_order_value = totals.orders ? totals.cents / 100 / totals.orders : null;
  totals.repeat_purchase_rate = totals.customers ? totals.repeat_customers / totals.customers : null;
  totals.sumActive = rows.reduce((sum, row) => sum + row.active_profiles, 0);
  totals.sumNew = rows.reduce((sum, row) => sum + row.new_profiles, 0);

  const orderEvents = new Map();
  for (const event of events.filter((e) => e.name === 'Order Completed')) orderEvents.set(event.person, (orderEvents.get(event.person) || 0) + 1);
  return {
    from: periods[0].start, to: periods.at(-1).end, granularity, channel,
    periods: rows,
    totals,
    audiences: {
      buyers: orderEvents.size,
      repeatBuyers: [...orderEvents.values()].filter((count) => count >= 2).length,
      customers: firstPurchase.size,
    },
  };
}

const COUNTS = ['events', 'active_profiles', 'new_profiles', 'merges', 'orders', 'customers', 'repeat_customers'];
const cents = (value) => Math.round(Number(value) * 100);

// The differences between an answer and what was expected, as readable lines (at most 20).
export function mismatches(answer, expected) {
  const out = [];
  const check = (where, got, want) => {
    if (got !== want) out.push(`${where}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  };
  for (const field of ['from', 'to', 'granularity', 'channel']) check(field, answer[field] ?? null, expected[field] ?? null);
  check('periods.length', answer.periods?.length, expected.periods.length);
  expected.periods.forEach((want, i) => {
    const got = answer.periods?.[i] || {};
    const where = `periods[${i}] (${want.start})`;
    check(`${where}.start`, got.start, want.start);
    check(`${where}.end`, got.end, want.end);
    for (const field of COUNTS) check(`${where}.${field}`, got[field], want[field]);
    check(`${where}.revenue (cents)`, cents(got.revenue), want.cents);
    const channels = new Set([...Object.keys(got.events_by_channel || {}), ...Object.keys(want.events_by_channel)]);
    for (const name of channels) {
      check(`${where}.events_by_channel.${name}`, got.events_by_channel?.[name] ?? 0, want.events_by_channel[name] ?? 0);
    }
  });
  const totals = answer.totals || {};
  for (const field of COUNTS) check(`totals.${field}`, totals[field], expected.totals[field]);
  check('totals.revenue (cents)', cents(totals.revenue), expected.totals.cents);
  check('totals.average_order_value (cents)', totals.average_order_value == null ? null : cents(totals.average_order_value),
    expected.totals.average_order_value == null ? null : cents(expected.totals.average_order_value));
  const rate = totals.repeat_purchase_rate;
  const wantRate = expected.totals.repeat_purchase_rate;
  if ((rate == null) !== (wantRate == null) || (rate != null && Math.abs(rate - wantRate) > 1e-9)) {
    out.push(`totals.repeat_purchase_rate: got ${rate}, expected ${wantRate}`);
  }
  return out.slice(0, 20);
}
