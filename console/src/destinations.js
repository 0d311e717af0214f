// Destinations: how each one is delivering (GET /v1/destinations), refreshed while the view is
// open, with its last errors and dead letters, a pause/resume switch and a replay of the dead
// letters (both admin-key actions; a read key sees the server's refusal). Tessera keeps counters,
// not rates: throughput is the change in `delivered` between two polls over the time between them.
import { api, currentRole } from './api.js';
import { announce, errorBox, formatTime, h, table } from './dom.js';

const REFRESH_MS = 2000;
const DEAD_LETTER_PAGE = 100;

const count = (value) => Number(value || 0).toLocaleString('en-US');
const deadLetterCount = (value) => `${count(value)} dead letter${Number(value) === 1 ? '' : 's'}`;

// Deliveries and requests per second between two samples {at (ms), delivered, requests}; null
// until there are two, or when the counters went backwards (the server restarted).
export function throughput(previous, current) {
  if (!previous) return null;
  const seconds = (current.at - previous.at) / 1000;
  const delivered = current.delivered - previous.delivered;
  const requests = current.requests - previous.requests;
  if (seconds <= 0 || delivered < 0 || requests < 0) return null;
  return { delivered: delivered / seconds, requests: requests / seconds };
}

export function formatErrorRate(status) {
  const percent = `${(Number(status.errorRate || 0) * 100).toFixed(1)}%`;
  return `${percent} (${count(status.failures)} of ${count(status.requests)} requests failed)`;
}

function age(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

// What a dead letter held, in a few words: the event's name or the audience change.
function describeItem(item) {
  if (!item) return '';
  if (item.kind === 'event') {
    const event = item.event || {};
    return `${event.type || 'event'}${event.event ? ` "${event.event}"` : ''} (${item.messageId})`;
  }
  const verb = item.kind === 'audience_entered' ? 'entered' : 'exited';
  return `${item.profileId} ${verb} ${item.audience || ''}${item.reason ? ` (${item.reason})` : ''}`;
}

const FACTS = [
  ['type', 'Type'],
  ['state', 'State'],
  ['delivered', 'Delivered'],
  ['throughput', 'Throughput'],
  ['requests', 'Requests'],
  ['errorRate', 'Error rate'],
  ['retries', 'Retries'],
  ['lag', 'Lag (rows waiting)'],
  ['oldestPending', 'Oldest pending'],
  ['deadLetters', 'Dead letters waiting'],
  ['deadLettered', 'Dead-lettered (total)'],
  ['replayed', 'Replayed'],
  ['skipped', 'Skipped (erased, no consent)'],
];

// One destination's card; update(status) rewrites its values in place, so the switch and the
// replay button keep focus across refreshes.
function destinationCard(name) {
  const id = `destination-${name}`;
  const values = {};
  const facts = h('dl', { class: 'metrics' },
    FACTS.map(([field, label]) => {
      values[field] = h('dd', { 'data-field': field });
      return h('div', {}, h('dt', {}, label), values[field]);
    }));
  const stateBadge = h('span', { class: 'badge state' });
  const url = h('p', { class: 'help destination-url' });
  const actionStatus = h('div', { class: 'action-status', 'aria-live': 'polite' });
  const switchButton = h('button', {
    type: 'button',
    role: 'switch',
    class: 'switch',
    id: `${id}-switch`,
    'aria-checked': 'true',
    'aria-describedby': `${id}-switch-help`,
    onclick: () => act(switchButton.getAttribute('aria-checked') === 'true' ? 'pause' : 'resume'),
  }, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', {}, 'Sending'));
  const replayButton = h('button', {
    type: 'button', class: 'secondary replay', id: `${id}-replay`, onclick: () => act('replay'),
  }, 'Replay dead letters');
  const errorsBox = h('div', { class: 'last-errors' });
  const lettersBox = h('div', { class: 'dead-letters' });
  let current = null;
  let errorsKey = '';
  let lettersKey = '';

  async function act(action) {
    const button = action === 'replay' ? replayButton : switchButton;
    button.disabled = true;
    actionStatus.replaceChildren(h('p', {}, action === 'replay' ? 'Replaying…' : `${action === 'pause' ? 'Pausing' : 'Resuming'}…`));
    try {
      const answer = await api.destinationAction(name, action);
      // Shown as the server keeps it, not as the click implied.
      const status = await api.destination(name);
      await update(status);
      const message = action === 'replay'
        ? `${name}: ${deadLetterCount(answer.deadLetters)} to send again, before what waits.`
        : `${name} is ${status.paused ? 'paused: rows wait in its outbox' : 'sending'}.`;
      actionStatus.replaceChildren(h('p', { class: 'ok' }, message));
      announce(message);
    } catch (error) {
      const verb = action === 'replay' ? 'replay the dead letters of' : action;
      actionStatus.replaceChildren(errorBox(`Could not ${verb} ${name}: ${error.message} (HTTP ${error.status ?? '?'})`));
    } finally {
      // A refresh may have run meanwhile: enable the replay only if something is left to replay.
      button.disabled = action === 'replay' && Number(current?.deadLetters) === 0;
    }
  }

  async function refreshDeadLetters(status) {
    // Listing costs a store scan: only while some are waiting, or to clear the shown list.
    if (Number(status.deadLetters) === 0 && lettersKey === 'none') return;
    let letters = [];
    if (Number(status.deadLetters) > 0) {
      try {
        ({ deadLetters: letters } = await api.deadLetters(name, DEAD_LETTER_PAGE));
      } catch (error) {
        lettersBox.replaceChildren(errorBox(`Could not list the dead letters: ${error.message}`));
        lettersKey = '';
        return;
      }
    }
    const key = letters.length === 0 ? 'none' : JSON.stringify(letters.map((letter) => [letter.sequence, letter.attempts, letter.lastAttempt]));
    if (key === lettersKey) return;
    lettersKey = key;
    const caption = Number(status.deadLetters) > letters.length
      ? `Dead letters: the oldest ${letters.length} of ${count(status.deadLetters)}`
      : `Dead letters (${letters.length})`;
    lettersBox.replaceChildren(table(caption, ['Row', 'Reason', 'Last status', 'Attempts', 'Last attempt', 'Item', 'Last answer'],
      letters.map((letter) => [
        String(letter.sequence),
        letter.reason,
        letter.lastStatus ? String(letter.lastStatus) : 'no answer',
        String(letter.attempts),
        formatTime(letter.lastAttempt),
        describeItem(letter.item),
        h('code', {}, (letter.lastResponse || '').slice(0, 200)),
      ]), { className: 'dead-letter-list' }));
  }

  async function update(status, rate) {
    current = status;
    stateBadge.textContent = status.paused ? 'paused' : 'sending';
    stateBadge.classList.toggle('paused', status.paused);
    url.textContent = status.url || '';
    switchButton.setAttribute('aria-checked', String(!status.paused));
    switchButton.dataset.paused = String(status.paused);
    replayButton.disabled = Number(status.deadLetters) === 0;
    replayButton.textContent = `Replay ${deadLetterCount(status.deadLetters)}`;
    const text = {
      type: status.type,
      state: status.paused ? 'Paused: nothing is sent, rows wait in the outbox' : 'Sending',
      delivered: count(status.delivered),
      requests: count(status.requests),
      errorRate: formatErrorRate(status),
      retries: count(status.retries),
      lag: count(status.lag),
      oldestPending: status.oldestPending ? `${formatTime(status.oldestPending)} (${age(status.oldestPending)})` : 'none',
      deadLetters: count(status.deadLetters),
      deadLettered: count(status.deadLettered),
      replayed: count(status.replayed),
      skipped: count(status.skipped),
    };
    if (rate !== undefined) {
      text.throughput = rate === null ? 'measuring…'
        : `${rate.delivered.toFixed(1)} deliveries/s, ${rate.requests.toFixed(1)} requests/s`;
    }
    for (const [field, value] of Object.entries(text)) {
      values[field].textContent = value;
      if (field in status) values[field].dataset.value = String(status[field]);
    }
    const errors = status.lastErrors || [];
    const key = JSON.stringify(errors);
    if (key !== errorsKey) {
      errorsKey = key;
      errorsBox.replaceChildren(table('Last errors, newest first', ['Time', 'Error'],
        errors.map((error) => [formatTime(error.time), error.message]), { className: 'error-list' }));
    }
    await refreshDeadLetters(status);
  }

  const element = h('section', { class: 'card destination', id, 'data-destination': name, 'aria-labelledby': `${id}-heading` },
    h('h2', { id: `${id}-heading` }, name, ' ', stateBadge),
    url,
    h('div', { class: 'destination-controls' },
      switchButton,
      replayButton,
      h('p', { class: 'help', id: `${id}-switch-help` }, currentRole() === 'admin'
        ? 'Pausing is kept across restarts; rows keep accumulating and are sent after resuming.'
        : 'Pausing, resuming and replaying need an admin key.')),
    actionStatus,
    facts,
    errorsBox,
    lettersBox);
  return { element, update, status: () => current };
}

// Renders the view and starts refreshing it; returns the cleanup that stops the refresh.
export function renderDestinations(main) {
  const refreshed = h('p', { id: 'destinations-refreshed', class: 'help' }, 'Loading…');
  const problem = h('div', { id: 'destinations-problem' });
  const list = h('div', { id: 'destination-list' });
  main.replaceChildren(
    h('h1', {}, 'Destinations'),
    h('p', {}, 'Where Tessera sends events and audience changes, and how that is going. ',
      h('a', { href: '#/audiences' }, 'Audiences'), ' say who is sent; each audience\'s campaign lift is on its page.'),
    refreshed,
    problem,
    list,
  );
  const cards = new Map();
  const samples = new Map();
  let stopped = false;
  let timer = null;

  async function refresh() {
    timer = null;
    try {
      const { destinations } = await api.destinations();
      if (stopped) return;
      const at = performance.now();
      if (destinations.length === 0) {
        list.replaceChildren(h('p', { class: 'card' }, 'No destinations are configured: add them under "destinations" in the configuration (docs/activation.md).'));
      }
      for (const status of destinations) {
        let card = cards.get(status.name);
        if (!card) {
          card = destinationCard(status.name);
          cards.set(status.name, card);
          list.append(card.element);
        }
        const sample = { at, delivered: Number(status.delivered), requests: Number(status.requests) };
        const rate = throughput(samples.get(status.name), sample);
        samples.set(status.name, sample);
        await card.update(status, rate);
      }
      refreshed.textContent = `${destinations.length} destinations · refreshed ${formatTime(new Date().toISOString())}, every ${REFRESH_MS / 1000} s while this page is open`;
      problem.replaceChildren();
    } catch (error) {
      if (stopped) return;
      problem.replaceChildren(errorBox(error.status === 401
        ? 'The key was refused; sign out and sign in again.'
        : `Could not refresh the destinations: ${error.message}`));
    }
    if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
  }
  refresh();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
