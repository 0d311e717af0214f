// Identity stewardship on the profile page (docs/stewardship.md, docs/duplicates.md): the possible
// duplicates with the model's explanation, "Merge" and "Not the same person" for each, and "Not the
// same person" for two of the profile's own identifiers (an unmerge). Every decision goes through
// a confirm step inside the page; an admin key is needed, a read key sees the buttons disabled.
// After a decision the profile is loaded again, at the profile the server says the first side is
// in now, with a notice of what happened.
import { api, currentRole } from './api.js';
import { announce, errorBox, h, table } from './dom.js';

const ADMIN_NOTE = 'Merging and separating need an admin key; this key may only look.';
const profileLink = (id) => h('a', { href: `#/profile/id:${encodeURIComponent(id)}` }, id);

// What renderProfile mounts: `notice` (an element or null) under the heading, `duplicates` (the
// "Possible duplicates" card, filled by `load`), and `pick`/`separation` for the identities table.
// `reload(ref, notice)` renders the profile `ref` again with `notice` above it.
export function stewardship(profile, { notice = null, reload }) {
  const admin = currentRole() === 'admin';
  const self = `id:${profile.profileId}`;

  // Shows the profile a decision left `a` in, keeping the URL in step without a second render.
  async function after(profileId, message) {
    const ref = `id:${profileId}`;
    history.replaceState(null, '', `#/profile/${ref}`);
    try {
      await reload(ref, message);
    } catch (error) {
      // The decision was made; only showing its result failed: say so where the profile was.
      document.getElementById('main').replaceChildren(h('h1', {}, 'Profile'), message, errorBox(error));
    }
    const heading = document.querySelector('main h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
    announce(message.textContent);
  }

  // A decision's confirm step, in place of `actions` until it is confirmed or cancelled.
  function confirmStep(holder, actions, { question, confirmLabel, send, done }) {
    const note = h('input', { type: 'text', name: 'note', maxlength: 1000, 'aria-label': 'Note (optional)', placeholder: 'Note (optional)' });
    const status = h('div', { class: 'decision-status', 'aria-live': 'polite' });
    const confirm = h('button', { type: 'submit', 'data-action': 'confirm' }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'secondary', 'data-action': 'cancel' }, 'Cancel');
    const form = h(
      'form',
      {
        class: 'confirm-step',
        onsubmit: async (event) => {
          event.preventDefault();
          confirm.disabled = true;
          cancel.disabled = true;
          status.replaceChildren(h('p', { class: 'help' }, 'Sending…'));
          try {
            const answer = await send(note.value.trim());
            if (answer && answer.state === 'applied' && answer.together === false && answer.reason) {
              // A merge the identity rules refused: nothing changed; say why, here.
              status.replaceChildren(errorBox(`Not merged: ${answer.reason}`));
              cancel.disabled = false;
              return;
            }
            await done(answer || {});
          } catch (error) {
            status.replaceChildren(errorBox(error));
            confirm.disabled = false;
            cancel.disabled = false;
          }
        },
      },
      h('p', { class: 'confirm-question' }, question),
      h('div', { class: 'confirm-row' }, note, confirm, cancel),
      status,
    );
    cancel.addEventListener('click', () => {
      form.remove();
      actions.hidden = false;
      actions.querySelector('button')?.focus();
    });
    actions.hidden = true;
    holder.append(form);
    note.focus();
  }

  function pendingNotice(answer) {
    return h('p', { class: 'notice', role: 'status' },
      `The decision is logged (sequence ${answer.sequence ?? answer.position ?? '?'}) and will be applied shortly; reload to see it.`);
  }

  // --- Possible duplicates.
  const list = h('div', { class: 'candidates' }, h('p', { class: 'help' }, 'Looking for possible duplicates…'));
  const duplicates = h(
    'section',
    { class: 'card', id: 'duplicates', 'aria-labelledby': 'duplicates-heading', 'data-state': 'loading' },
    h('h2', { id: 'duplicates-heading' }, 'Possible duplicates'),
    h('p', { class: 'help' }, 'Profiles that may be the same person, by their person traits (name, birth date, e-mail, phone, address).'),
    admin ? null : h('p', { class: 'help admin-note' }, ADMIN_NOTE),
    list,
  );

  function candidateCard(candidate) {
    const other = `id:${candidate.profile}`;
    const percent = formatPercent(candidate.matchProbability);
    const compared = (candidate.fields || []).filter((field) => field.level !== 'null');
    const missing = (candidate.fields || []).filter((field) => field.level === 'null').map((field) => field.comparison);
    const holder = h('div', { class: 'decision' });
    const actions = h('div', { class: 'decision-actions' });
    const button = (action, label, question, confirmLabel, send, done) => h(
      'button',
      {
        type: 'button',
        class: action === 'merge' ? '' : 'secondary',
        'data-action': action,
        disabled: !admin,
        title: admin ? null : ADMIN_NOTE,
        onclick: () => confirmStep(holder, actions, { question, confirmLabel, send, done }),
      },
      label,
    );
    actions.append(
      button('merge', 'Merge', `Merge ${candidate.profile} into one person with ${profile.profileId}?`, 'Confirm merge',
        (note) => api.mergeIdentities(self, other, note),
        (answer) => after(answer.a?.profile || profile.profileId, answer.state === 'pending' ? pendingNotice(answer)
          : h('p', { class: 'notice ok', role: 'status' }, `Merged ${profile.profileId} and ${candidate.profile} into this profile.`))),
      button('separate', 'Not the same person', `Record that ${candidate.profile} is not the same person as ${profile.profileId}? They will never be merged.`,
        'Confirm: not the same person',
        (note) => api.separateIdentities(self, other, note),
        (answer) => after(answer.a?.profile || profile.profileId, answer.state === 'pending' ? pendingNotice(answer)
          : h('p', { class: 'notice ok', role: 'status' }, 'Recorded: ', profileLink(candidate.profile), ' is not the same person.'))),
    );
    holder.append(actions);
    const traits = Object.entries(candidate.traits || {});
    return h(
      'article',
      { class: 'candidate', 'data-profile': candidate.profile, 'aria-label': `Possible duplicate ${candidate.profile}` },
      h(
        'div',
        { class: 'candidate-head' },
        h('span', { class: 'probability', 'data-probability': String(candidate.matchProbability) }, percent),
        h('span', {}, ' likely the same person: ', profileLink(candidate.profile)),
        traits.length ? h('span', { class: 'help' }, ` (${traits.map(([name, value]) => `${name} ${textOf(value)}`).join(', ')})`) : null,
      ),
      table(
        `Why: match weight ${signed(candidate.matchWeight)}`,
        ['Comparison', 'Level', 'Weight', 'This profile', 'Candidate'],
        compared.map((field) => [
          field.comparison,
          field.level,
          h('span', { class: field.weight > 0 ? 'weight plus' : field.weight < 0 ? 'weight minus' : 'weight' }, signed(field.weight)),
          textOf(field.left),
          textOf(field.right),
        ]),
        { className: 'explanation' },
      ),
      missing.length ? h('p', { class: 'help' }, `Not compared (missing on either side): ${missing.join(', ')}`) : null,
      holder,
    );
  }

  async function load() {
    try {
      const answer = await api.duplicates(self);
      const candidates = answer.candidates || [];
      list.replaceChildren(...(candidates.length
        ? candidates.map(candidateCard)
        : [h('p', { class: 'empty' }, 'No possible duplicates.')]));
      duplicates.dataset.state = 'ready';
    } catch (error) {
      list.replaceChildren(errorBox(error));
      duplicates.dataset.state = 'error';
    }
  }

  // --- Two of the profile's own identifiers are not the same person.
  const picked = new Map();
  const separateButton = h('button', { type: 'button', class: 'secondary', 'data-action': 'separate-identities', disabled: true }, 'Not the same person');
  const pickHelp = h('span', { class: 'help' }, admin ? 'Select two identities to separate them.' : ADMIN_NOTE);
  const separateActions = h('div', { class: 'decision-actions' }, separateButton, pickHelp);
  const separation = h('div', { class: 'decision identity-separation' }, separateActions);
  const identities = profile.identities || [];

  function refreshPick() {
    separateButton.disabled = !admin || picked.size !== 2;
    if (admin) pickHelp.textContent = picked.size === 2 ? [...picked.keys()].join(' and ') : `Select two identities to separate them (${picked.size} of 2).`;
  }

  separateButton.addEventListener('click', () => {
    const [a, b] = [...picked.keys()];
    confirmStep(separation, separateActions, {
      question: `Record that ${a} and ${b} are not the same person? This profile is then rebuilt from its events without joining them.`,
      confirmLabel: 'Confirm: not the same person',
      send: (note) => api.separateIdentities(a, b, note),
      done: (answer) => {
        if (answer.state === 'pending') return after(profile.profileId, pendingNotice(answer));
        const message = answer.a.profile === answer.b.profile
          ? h('p', { class: 'notice', role: 'status' }, `${a} and ${b} are still in one profile.`)
          : h('p', { class: 'notice ok', role: 'status', 'data-other-profile': answer.b.profile },
            `Separated: ${a} is in this profile; ${b} went to `, profileLink(answer.b.profile), '.');
        return after(answer.a.profile, message);
      },
    });
  });

  // A checkbox for an identity's row; none when the profile has a single identity.
  function pick(identity) {
    if (identities.length < 2) return '';
    const ref = `${identity.type}:${identity.value}`;
    return h('input', {
      type: 'checkbox',
      class: 'pick',
      'data-identity': ref,
      'aria-label': `Select ${ref}`,
      disabled: !admin,
      onchange: (event) => {
        if (event.target.checked) picked.set(ref, true);
        else picked.delete(ref);
        refreshPick();
      },
    });
  }

  // '' rather than null: replaceChildren would write a null as the text "null".
  return { notice: notice || '', duplicates, load, pick, separation: identities.length < 2 ? null : separation };
}

function formatPercent(probability) {
  const percent = Number(probability) * 100;
  if (!Number.isFinite(percent)) return '?';
  // 99.96% must not read as a certain 100%, nor 0.04% as 0%.
  return `${percent.toFixed(percent >= 99.5 || percent < 1 ? 2 : 1)}%`;
}

function signed(weight) {
  const value = Number(weight);
  if (!Number.isFinite(value)) return '';
  return value > 0 ? `+${value.toFixed(2)}` : value.toFixed(2);
}

function textOf(value) {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
