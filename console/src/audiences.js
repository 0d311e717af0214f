// Audiences: the list with sizes and CSV export, and a form to build or edit one. Saving defines
// it (PUT, admin key); Tessera then evaluates every profile, and the preview shows the size and the
// first members once that evaluation is done. A saved audience also shows its campaign lift.
import { api, currentRole } from './api.js';
import { announce, errorBox, formatTime, h, table } from './dom.js';
import { liftPanel } from './lift.js';

const KINDS = {
  event: { label: 'Did event', field: 'Event name', ops: ['gte', 'eq', 'lte', 'gt', 'lt'], value: 'Count', window: true },
  trait: { label: 'Trait', field: 'Trait', ops: ['eq', 'ne', 'exists', 'missing', 'contains', 'starts_with', 'gt', 'gte', 'lt', 'lte'], value: 'Value' },
  computed: { label: 'Computed trait', field: 'Computed trait', ops: ['gte', 'gt', 'eq', 'lte', 'lt', 'exists', 'missing'], value: 'Value' },
  identifier: { label: 'Has identifier', field: 'Identifier type', ops: ['exists', 'missing'] },
  channel: { label: 'Seen on channel', field: 'Channel', ops: [], window: true },
  consent: { label: 'Consented to', field: 'Purpose', ops: [] },
};

// A form row as a condition node (docs/audiences.md).
export function conditionOf(row) {
  const { kind, field, op, value, window } = row;
  const node = { [kind]: field };
  const typed = value === '' ? undefined : (Number.isFinite(Number(value)) && value.trim() !== '' ? Number(value) : value === 'true' ? true : value === 'false' ? false : value);
  if (kind === 'identifier') {
    if (op === 'missing') node.op = 'missing';
  } else if (kind === 'event') {
    if (op && op !== 'gte') node.op = op;
    if (typed !== undefined && !(op === 'gte' && typed === 1)) { node.op = op || 'gte'; node.value = typed; }
  } else if (kind === 'trait' || kind === 'computed') {
    if (op) node.op = op;
    if (typed !== undefined && op !== 'exists' && op !== 'missing') node.value = typed;
  }
  if (KINDS[kind].window && window) node.window = window;
  return node;
}

export function buildCondition(rows, combine) {
  const nodes = rows.filter((row) => row.field).map(conditionOf);
  if (nodes.length === 1) return nodes[0];
  return { [combine]: nodes };
}

function csvDownloadButton(name) {
  return h('button', {
    type: 'button',
    class: 'secondary',
    'data-audience': name,
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        const response = await api.members(name, 'csv', 'id,enteredAt,user_id,email,phone,loyalty_id');
        const blob = await response.blob();
        const url = URL.createObjectURL(blob);
        const link = h('a', { href: url, download: `${name}.csv`, class: 'visually-hidden' }, 'download');
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        announce(`Exported ${name}.csv`);
      } catch (error) {
        button.after(errorBox(error));
      } finally {
        button.disabled = false;
      }
    },
  }, `Export ${name} as CSV`);
}

export async function renderAudiences(main) {
  main.replaceChildren(h('h1', {}, 'Audiences'), h('p', {}, 'Loading…'));
  const { audiences } = await api.audiences();
  const admin = currentRole() === 'admin';
  main.replaceChildren(
    h('h1', {}, 'Audiences'),
    admin ? h('p', {}, h('a', { href: '#/audiences/new', class: 'button' }, 'New audience'))
      : h('p', { class: 'help' }, 'Building audiences needs an admin key; a read key may look and export.'),
    h('p', {}, 'Where members are sent, and how delivery is going: ', h('a', { href: '#/destinations', id: 'destinations-link' }, 'Destinations'), '.'),
    table(
      null,
      ['Audience', 'Size', 'Description', 'Last change', 'Export'],
      audiences.map((audience) => [
        h('a', { href: `#/audiences/edit/${encodeURIComponent(audience.name)}` }, audience.name),
        h('span', { class: 'size', 'data-audience': audience.name }, audience.evaluated ? String(audience.size) : `${audience.size} (evaluating)`),
        audience.description || '',
        formatTime(audience.lastChange),
        csvDownloadButton(audience.name),
      ]),
      { className: 'audiences' },
    ),
  );
}

function ruleRow(row, onRemove) {
  const index = ruleRow.counter = (ruleRow.counter || 0) + 1;
  const kind = h('select', { id: `kind-${index}`, name: 'kind' },
    Object.entries(KINDS).map(([value, spec]) => h('option', { value, selected: value === row.kind }, spec.label)));
  const field = h('input', { id: `field-${index}`, name: 'field', type: 'text', value: row.field || '', required: true });
  const op = h('select', { id: `op-${index}`, name: 'op' });
  const value = h('input', { id: `value-${index}`, name: 'value', type: 'text', value: row.value ?? '' });
  const window = h('input', { id: `window-${index}`, name: 'window', type: 'text', value: row.window || '', placeholder: 'e.g. 30d' });
  const fieldLabel = h('label', { for: `field-${index}` });
  const parts = {
    op: h('div', { class: 'field' }, h('label', { for: `op-${index}` }, 'Operator'), op),
    value: h('div', { class: 'field' }, h('label', { for: `value-${index}` }, 'Value'), value),
    window: h('div', { class: 'field' }, h('label', { for: `window-${index}` }, 'Within'), window),
  };
  function sync() {
    const spec = KINDS[kind.value];
    fieldLabel.textContent = spec.field;
    const current = op.value || row.op;
    op.replaceChildren(...spec.ops.map((name) => h('option', { value: name, selected: name === current }, name)));
    parts.op.hidden = spec.ops.length === 0;
    parts.value.hidden = !spec.value;
    parts.window.hidden = !spec.window;
  }
  kind.addEventListener('change', sync);
  sync();
  const element = h(
    'fieldset',
    { class: 'rule' },
    h('legend', {}, `Rule ${index}`),
    h('div', { class: 'field' }, h('label', { for: `kind-${index}` }, 'Kind'), kind),
    h('div', { class: 'field grow' }, fieldLabel, field),
    parts.op, parts.value, parts.window,
    h('button', { type: 'button', class: 'secondary', onclick: () => onRemove(element) }, `Remove rule ${index}`),
  );
  element.read = () => ({
    kind: kind.value,
    field: field.value.trim(),
    op: parts.op.hidden ? '' : op.value,
    value: parts.value.hidden ? '' : value.value.trim(),
    window: parts.window.hidden ? '' : window.value.trim(),
  });
  return element;
}

function rowsOf(condition) {
  // Only flat all/any lists of leaves can be shown as rows; anything else is edited as JSON.
  const leaves = condition.all || condition.any || [condition];
  const rows = [];
  for (const leaf of leaves) {
    const kind = Object.keys(KINDS).find((name) => typeof leaf[name] === 'string');
    if (!kind) return null;
    rows.push({ kind, field: leaf[kind], op: leaf.op || '', value: leaf.value === undefined ? '' : String(leaf.value), window: leaf.window || '' });
  }
  return { rows, combine: condition.any ? 'any' : 'all' };
}

const CONVERSION_DEFAULTS = { event: 'Order Completed', withinDays: 30, revenue: 'properties.revenue' };

// The campaign settings of a definition (docs/audiences.md): the holdout share and the conversion.
// GET /v1/audiences/{name} does not return them but the lift answer does; they are sent back with
// every save, because a definition saved without a holdout has none, and the campaign would lose
// its comparison group.
function campaignFields(report, readError) {
  const conversion = report?.conversion || CONVERSION_DEFAULTS;
  const holdout = h('input', { id: 'audience-holdout', name: 'holdout', type: 'number', min: 0, max: 0.5, step: 'any', value: String(report?.holdoutShare ?? 0) });
  const event = h('input', { id: 'conversion-event', name: 'conversion-event', value: conversion.event });
  const days = h('input', { id: 'conversion-days', name: 'conversion-days', type: 'number', min: 1, max: 365, step: 1, value: String(conversion.withinDays) });
  const revenue = h('input', { id: 'conversion-revenue', name: 'conversion-revenue', value: conversion.revenue, spellcheck: 'false' });
  const field = (input, label) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  const element = h('fieldset', { class: 'campaign' },
    h('legend', {}, 'Campaign measurement'),
    field(holdout, 'Holdout share (0 to 0.5, kept from every destination)'),
    field(event, 'Conversion event'),
    field(days, 'Converts within (days)'),
    field(revenue, 'Revenue at (path)'),
    readError ? errorBox(`The saved campaign settings could not be read (${readError.message}); saving sets them as shown.`) : null);
  element.read = () => {
    const settings = { holdout: holdout.value.trim() === '' ? 0 : Number(holdout.value) };
    const within = days.value.trim() === '' ? undefined : Number(days.value);
    settings.conversion = {
      event: event.value.trim() || undefined,
      within_days: within,
      revenue: revenue.value.trim() || undefined,
    };
    return settings;
  };
  return element;
}

export async function renderAudienceEditor(main, name) {
  let existing = null;
  let report = null;
  let reportError = null;
  if (name) {
    [existing, report] = await Promise.all([
      api.audience(name),
      api.lift(name).catch((error) => {
        reportError = error;
        return null;
      }),
    ]);
  }
  const admin = currentRole() === 'admin';
  const parsed = existing ? rowsOf(existing.condition) : { rows: [{ kind: 'event', field: '', op: 'gte', value: '', window: '' }], combine: 'all' };
  const nameInput = h('input', { id: 'audience-name', name: 'name', required: true, pattern: '[A-Za-z0-9_\\-]{1,64}', value: name, readonly: Boolean(name) });
  const description = h('input', { id: 'audience-description', name: 'description', value: existing?.description || '' });
  const combine = h('select', { id: 'audience-combine', name: 'combine' },
    h('option', { value: 'all', selected: parsed?.combine !== 'any' }, 'all rules hold'),
    h('option', { value: 'any', selected: parsed?.combine === 'any' }, 'any rule holds'));
  const rules = h('div', { class: 'rules' });
  const json = h('textarea', { id: 'audience-json', name: 'condition', rows: 6, spellcheck: 'false' });
  const advanced = h('input', { id: 'audience-advanced', type: 'checkbox', checked: !parsed });
  const status = h('div', { id: 'audience-status', 'aria-live': 'polite' });
  const campaign = campaignFields(report, reportError);
  let lift = existing ? liftPanel(name, report)
    : h('section', { class: 'card', id: 'lift' }, h('h2', {}, 'Campaign lift'), h('p', { class: 'help' }, 'Save the audience to measure a campaign on it.'));
  const preview = h('section', { class: 'card', id: 'preview', 'aria-labelledby': 'preview-heading' },
    h('h2', { id: 'preview-heading' }, 'Preview'),
    existing ? previewBody(existing) : h('p', { class: 'help' }, 'Save the audience to see its size and first members.'));

  const removeRule = (element) => {
    element.remove();
    refreshJson();
  };
  for (const row of parsed ? parsed.rows : []) rules.append(ruleRow(row, removeRule));
  if (!parsed) json.value = JSON.stringify(existing.condition, null, 2);

  function currentCondition() {
    if (advanced.checked) return JSON.parse(json.value);
    return buildCondition([...rules.children].map((element) => element.read()), combine.value);
  }
  function refreshJson() {
    if (advanced.checked) return;
    try {
      json.value = JSON.stringify(currentCondition(), null, 2);
    } catch {
      // Half-typed rules: the JSON catches up on the next change.
    }
  }
  rules.addEventListener('input', refreshJson);
  rules.addEventListener('change', refreshJson);
  combine.addEventListener('change', refreshJson);
  advanced.addEventListener('change', () => {
    json.readOnly = !advanced.checked;
    rules.hidden = advanced.checked;
  });
  json.readOnly = !advanced.checked;
  rules.hidden = advanced.checked;
  refreshJson();

  async function save(event) {
    event.preventDefault();
    status.replaceChildren(h('p', {}, 'Saving…'));
    let condition;
    try {
      condition = currentCondition();
    } catch (error) {
      status.replaceChildren(errorBox(`The condition is not valid JSON: ${error.message}`));
      return;
    }
    const audienceName = nameInput.value.trim();
    try {
      await api.defineAudience(audienceName, { description: description.value, condition, ...campaign.read() });
      status.replaceChildren(h('p', {}, `Saved ${audienceName}; evaluating every profile…`));
      const evaluated = await waitEvaluated(audienceName);
      preview.replaceChildren(h('h2', { id: 'preview-heading' }, 'Preview'), previewBody(evaluated));
      status.replaceChildren(h('p', { class: 'ok' }, `Saved ${audienceName}: ${evaluated.size} members.`));
      const measured = liftPanel(audienceName, null);
      lift.replaceWith(measured);
      lift = measured;
      announce(`Audience ${audienceName} has ${evaluated.size} members`);
      if (!name) history.replaceState(null, '', `#/audiences/edit/${encodeURIComponent(audienceName)}`);
    } catch (error) {
      status.replaceChildren(errorBox(error.field ? `${error.field}: ${error.message}` : error));
    }
  }

  main.replaceChildren(
    h('h1', {}, name ? `Audience ${name}` : 'New audience'),
    h('p', {}, h('a', { href: '#/audiences' }, 'All audiences')),
    h(
      'form',
      { class: 'card', id: 'audience-form', onsubmit: save },
      h('div', { class: 'field' }, h('label', { for: 'audience-name' }, 'Name (letters, digits, _ and -)'), nameInput),
      h('div', { class: 'field' }, h('label', { for: 'audience-description' }, 'Description'), description),
      h('div', { class: 'field' }, h('label', { for: 'audience-combine' }, 'Members are profiles where'), combine),
      rules,
      h('p', {}, h('button', { type: 'button', class: 'secondary', id: 'add-rule', onclick: () => {
        const element = ruleRow({ kind: 'trait', field: '', op: 'eq', value: '' }, removeRule);
        rules.append(element);
        element.querySelector('select').focus();
        refreshJson();
      } }, 'Add rule')),
      h('div', { class: 'field checkbox' }, advanced, h('label', { for: 'audience-advanced' }, 'Edit the condition as JSON')),
      h('div', { class: 'field' }, h('label', { for: 'audience-json' }, 'Condition (JSON, see docs/audiences.md)'), json),
      campaign,
      admin ? h('button', { type: 'submit' }, 'Save and preview') : h('p', { class: 'help' }, 'Saving needs an admin key.'),
      status,
    ),
    preview,
    lift,
  );
}

async function waitEvaluated(name) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const audience = await api.audience(name);
    if (audience.evaluated || Date.now() > deadline) return audience;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function previewBody(audience) {
  const members = h('div', {}, h('p', {}, 'Loading the first members…'));
  api.members(audience.name, 'ndjson', 'id,user_id,email,phone')
    .then(async (response) => {
      // Only the first rows are needed: read until ten lines are in, then stop the download.
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (value) text += decoder.decode(value, { stream: true });
        if (done || text.split('\n').length > 10) break;
      }
      reader.cancel().catch(() => {});
      const rows = text.split('\n').filter(Boolean).slice(0, 10).map((line) => JSON.parse(line));
      members.replaceChildren(table(`First ${rows.length} of ${audience.size} members`, ['Profile', 'User id', 'Email', 'Phone'],
        rows.map((row) => [
          h('a', { href: `#/profile/id:${row.id}` }, row.id),
          (row.user_id || []).join(', '),
          (row.email || []).join(', '),
          (row.phone || []).join(', '),
        ]), { className: 'preview-members' }));
    })
    .catch((error) => members.replaceChildren(errorBox(error)));
  return h(
    'div',
    {},
    h('p', { class: 'audience-size' }, h('strong', { id: 'audience-size' }, String(audience.size)), ' members',
      audience.evaluated ? '' : ' (still evaluating)', ` · last evaluated ${formatTime(audience.lastEvaluated)}`),
    csvDownloadButton(audience.name),
    members,
  );
}
