// The "Campaign lift" panel of an audience (GET /v1/audiences/{name}/lift): the members the
// destinations reached (treated) against the held-out ones, their conversion rates, the absolute
// and relative lift with 95% intervals, and revenue per member. Numbers are shown as Tessera
// computed them; each cell also carries the raw value (data-value) for tests and copying.
import { api } from './api.js';
import { errorBox, formatTime, h } from './dom.js';

export const percent = (share, digits = 1) => `${(share * 100).toFixed(digits)}%`;
const signed = (text, value) => (value > 0 ? `+${text}` : text);
// The absolute lift is a difference of rates: percentage points, not percent.
export const points = (value) => signed(`${(value * 100).toFixed(1)} points`, value);
export const relative = (value) => signed(percent(value), value);
export const money = (value) => Number(value).toLocaleString('en-US', { maximumFractionDigits: 2 });
export const interval = (ci, format) => (ci ? `${format(ci[0])} to ${format(ci[1])}` : 'n/a');

function cell(field, value, text) {
  return h('td', { 'data-field': field, 'data-value': value === undefined ? undefined : String(value) }, text);
}

function groupRow(label, key, group) {
  return h('tr', { 'data-group': key },
    h('th', { scope: 'row' }, label),
    cell('members', group.members, group.members.toLocaleString('en-US')),
    cell('converted', group.converted, group.converted.toLocaleString('en-US')),
    cell('rate', group.rate, percent(group.rate)),
    cell('rateCi', group.rateCi ? group.rateCi.join(',') : undefined, interval(group.rateCi, (v) => percent(v))),
    cell('revenue', group.revenue, money(group.revenue)),
    cell('revenuePerMember', group.revenuePerMember, money(group.revenuePerMember)));
}

function fact(field, label, value, text) {
  return h('div', {}, h('dt', {}, label), h('dd', { 'data-field': field, 'data-value': value === undefined ? undefined : String(value) }, text));
}

// Why there is no lift to show, in the words a campaign manager needs.
function noLiftReason(report) {
  if (report.holdoutShare === 0) {
    return 'This audience keeps no holdout, so there is no one to compare the reached members with. ' +
      'Set a holdout share (up to 0.5) in the form above and save: from then on that share of new members is kept from every destination.';
  }
  if (report.entries === 0) return 'Nobody entered this audience in the period: nothing to measure yet.';
  return `No lift yet: both groups need members (treated ${report.treated.members}, holdout ${report.holdout.members}).`;
}

export function liftBody(report) {
  const conversion = report.conversion || {};
  const lift = report.lift;
  const parts = [
    h('p', { class: 'lift-setup' },
      `Holdout: ${Number((report.holdoutShare * 100).toFixed(2))}% of members are kept from every destination. `,
      `A member converts with "${conversion.event}" within ${conversion.withinDays} days of entering`,
      conversion.revenue ? `; revenue is read from ${conversion.revenue}.` : '.'),
    h('p', { class: 'help lift-period' },
      `${report.entries.toLocaleString('en-US')} members entered from ${formatTime(report.since)} to ${formatTime(report.until)}`,
      report.erased ? `; ${report.erased} erased since, left out` : '',
      report.windowNotOver ? `; ${report.windowNotOver} entered less than ${conversion.withinDays} days ago and may still convert` : '',
      '.'),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'lift-groups' },
        h('caption', {}, 'Treated (not held out: sent to destinations) vs holdout'),
        h('thead', {}, h('tr', {}, ['Group', 'Members', 'Conversions', 'Conversion rate', '95% interval', 'Revenue', 'Revenue per member']
          .map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, groupRow('Treated', 'treated', report.treated), groupRow('Holdout', 'holdout', report.holdout)))),
  ];
  if (!lift) {
    parts.push(h('p', { class: 'notice', id: 'lift-none' }, noLiftReason(report)));
    return parts;
  }
  const perMember = report.treated.revenuePerMember - report.holdout.revenuePerMember;
  parts.push(h('dl', { class: 'metrics lift-figures' },
    fact('absolute', 'Absolute lift', lift.absolute, points(lift.absolute)),
    fact('absoluteCi', '95% interval', lift.absoluteCi.join(','), interval(lift.absoluteCi, points)),
    fact('relative', 'Relative lift', lift.relative, lift.relative === undefined ? 'n/a: nobody in the holdout converted' : relative(lift.relative)),
    fact('relativeCi', '95% interval', lift.relativeCi ? lift.relativeCi.join(',') : undefined, interval(lift.relativeCi, relative)),
    fact('revenuePerMemberLift', 'Revenue per member, treated minus holdout', perMember, signed(money(perMember), perMember))));
  const excludesZero = lift.absoluteCi[0] > 0 || lift.absoluteCi[1] < 0;
  parts.push(h('p', { class: 'help', id: 'lift-verdict' }, excludesZero
    ? `The 95% interval of the absolute lift excludes zero: the campaign ${lift.absolute > 0 ? 'raised' : 'lowered'} conversion.`
    : 'The 95% interval of the absolute lift includes zero: no effect can be told from chance yet.'));
  return parts;
}

// The panel for a saved audience; `initial` is a lift answer already fetched (or null).
export function liftPanel(name, initial) {
  const since = h('input', { id: 'lift-since', name: 'since', type: 'date' });
  const until = h('input', { id: 'lift-until', name: 'until', type: 'date' });
  const body = h('div', { id: 'lift-body', 'aria-live': 'polite' });
  async function measure(event) {
    if (event) event.preventDefault();
    body.replaceChildren(h('p', {}, 'Measuring…'));
    try {
      body.replaceChildren(...liftBody(await api.lift(name, { since: since.value, until: until.value })));
    } catch (error) {
      body.replaceChildren(errorBox(`Could not measure the lift: ${error.message}`));
    }
  }
  if (initial) body.replaceChildren(...liftBody(initial));
  else measure();
  return h('section', { class: 'card', id: 'lift', 'aria-labelledby': 'lift-heading' },
    h('h2', { id: 'lift-heading' }, 'Campaign lift'),
    h('form', { class: 'filters', id: 'lift-form', onsubmit: measure },
      h('div', { class: 'field' }, h('label', { for: 'lift-since' }, 'Entered from (UTC)'), since),
      h('div', { class: 'field' }, h('label', { for: 'lift-until' }, 'Entered before (UTC)'), until),
      h('button', { type: 'submit', class: 'secondary' }, 'Measure')),
    body);
}
