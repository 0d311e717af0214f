// Search by any identifier. With "Any type", the value is tried as every type it could be (in
// parallel); each lookup is normalized by Tessera exactly as ingestion did, so a phone in local
// format ("010-1234-5678") finds the person whose events carried "+82 10 1234 5678".
import { api, refFor } from './api.js';
import { announce, errorBox, formatTime, h } from './dom.js';

const TYPES = [
  ['', 'Any type'],
  ['email', 'Email'],
  ['phone', 'Phone'],
  ['user_id', 'User id'],
  ['anonymous_id', 'Anonymous (web) id'],
  ['device_id', 'Device id'],
  ['loyalty_id', 'Loyalty card'],
  ['idfa', 'IDFA'],
  ['gaid', 'GAID'],
];

// The types a free-text value could be.
export function candidateTypes(value) {
  if (value.includes('@')) return ['email', 'user_id'];
  const digits = value.replace(/[^0-9]/g, '');
  const phoneLike = /^[+0-9 ()\-.]+$/.test(value) && digits.length >= 6;
  const types = ['user_id', 'anonymous_id', 'device_id', 'loyalty_id'];
  if (phoneLike) types.unshift('phone');
  return types;
}

export function renderSearch(main, initial = '') {
  const [initialType, ...initialValue] = initial.includes(':') ? initial.split(':') : ['', initial];
  const input = h('input', {
    id: 'q',
    name: 'q',
    type: 'search',
    required: true,
    autocomplete: 'off',
    placeholder: 'email, phone, user id, device id, loyalty card…',
    value: initialValue.join(':'),
  });
  const typeSelect = h(
    'select',
    { id: 'q-type', name: 'type' },
    TYPES.map(([value, label]) => h('option', { value, selected: value === initialType }, label)),
  );
  const results = h('section', { 'aria-labelledby': 'results-heading', id: 'results' });

  async function search(event) {
    if (event) event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    const types = typeSelect.value ? [typeSelect.value] : candidateTypes(value);
    results.replaceChildren(h('h2', { id: 'results-heading' }, 'Results'), h('p', {}, 'Searching…'));
    const settled = await Promise.allSettled(
      types.map((type) => api.profile(`${refFor(type, value)}?fields=profileId,identities,traits,lastSeen`)),
    );
    const found = new Map();
    const errors = [];
    settled.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') {
        const profile = outcome.value;
        if (!found.has(profile.profileId)) found.set(profile.profileId, { profile, types: [] });
        found.get(profile.profileId).types.push(types[index]);
      } else if (outcome.reason.status !== 404 && outcome.reason.status !== 400) {
        errors.push(outcome.reason);
      }
    });
    const items = [...found.values()];
    if (items.length === 1 && errors.length === 0) {
      // One person: open the profile straight away.
      location.hash = `#/profile/id:${items[0].profile.profileId}`;
      return;
    }
    results.replaceChildren(
      h('h2', { id: 'results-heading' }, 'Results'),
      errors.map(errorBox),
      items.length === 0
        ? h('p', { class: 'empty' }, `No profile has the identifier “${value}”.`)
        : h(
            'ul',
            { class: 'result-list' },
            items.map(({ profile, types: matched }) =>
              h(
                'li',
                {},
                h('a', { href: `#/profile/id:${profile.profileId}` }, profile.profileId),
                ` — matched as ${matched.join(', ')}; `,
                `${(profile.identities || []).length} identities, last seen ${formatTime(profile.lastSeen)}`,
              ),
            ),
          ),
    );
    announce(items.length === 0 ? 'No profile found' : `${items.length} profiles found`);
  }

  main.replaceChildren(
    h('h1', {}, 'Find a person'),
    h(
      'form',
      { class: 'card search-form', role: 'search', onsubmit: search },
      h('div', { class: 'field grow' }, h('label', { for: 'q' }, 'Identifier'), input),
      h('div', { class: 'field' }, h('label', { for: 'q-type' }, 'Type'), typeSelect),
      h('button', { type: 'submit' }, 'Search'),
    ),
    results,
  );
  if (input.value) search();
}
