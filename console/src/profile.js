// The 360-degree profile: traits, identities, channels, service history (service.js), consent,
// computed traits, audiences, the identity graph and the cross-channel timeline (infinite scroll on
// the events cursor).
import { api } from './api.js';
import { announce, errorBox, formatTime, h, table } from './dom.js';
import { renderGraph } from './graph.js';
import { stewardship } from './duplicates.js';
import { serviceSection } from './service.js';

function jsonText(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function section(id, title, ...content) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-heading` }, h('h2', { id: `${id}-heading` }, title), content);
}

// `notice`: what a stewardship decision that led here says (duplicates.js), shown under the heading.
export async function renderProfile(main, ref, notice = null) {
  main.replaceChildren(h('h1', {}, 'Profile'), h('p', {}, 'Loading…'));
  const profile = await api.profile(ref);
  const id = `id:${profile.profileId}`;

  const identities = profile.identities || [];
  const traits = Object.entries(profile.traits || {});
  const channels = Object.entries(profile.channels || {});
  const consent = Object.entries(profile.consent || {});
  const computed = Object.entries(profile.computedTraits || {});
  const audiences = Object.entries(profile.audiences || {});
  const headline = (profile.traits && (profile.traits.name || profile.traits.firstName || profile.traits.email)) || '';

  const graphSection = section('graph', 'Identity graph', h('p', {}, 'Loading the graph…'));
  const timeline = timelineSection(id);
  const steward = stewardship(profile, { notice, reload: (next, text) => renderProfile(main, next, text) });
  const picking = steward.separation !== null;

  main.replaceChildren(
    h('h1', {}, `Profile ${profile.profileId}`, headline ? ` — ${jsonText(headline)}` : ''),
    steward.notice,
    h(
      'dl',
      { class: 'facts card' },
      h('dt', {}, 'First seen'), h('dd', {}, formatTime(profile.firstSeen)),
      h('dt', {}, 'Last seen'), h('dd', {}, formatTime(profile.lastSeen)),
      h('dt', {}, 'Events'), h('dd', {}, String(profile.eventCount ?? '')),
      h('dt', {}, 'Merged from'), h('dd', {}, (profile.mergedFrom || []).join(', ') || 'none'),
    ),
    h(
      'nav',
      { class: 'jump', 'aria-label': 'Profile sections' },
      [['identities', 'Identities'], ['traits', 'Traits'], ['activity', 'Activity'], ['service', 'Service'],
        ['duplicates', 'Duplicates'], ['graph', 'Graph'], ['timeline', 'Timeline']].map(
        ([target, label]) => h('a', { href: `#${target}`, onclick: (event) => jump(event, target) }, label),
      ),
    ),
    h(
      'div',
      { class: 'grid' },
      section(
        'identities',
        'Identities',
        table(
          null,
          [...(picking ? ['Select'] : []), 'Type', 'Value', 'First seen', 'Last seen', 'Sources'],
          identities.map((identity) => [
            ...(picking ? [steward.pick(identity)] : []),
            identity.type,
            h(
              'span',
              {},
              h('span', { class: 'identity-value' }, identity.value),
              // Kept though libphonenumber's metadata does not know the range (the API's "valid").
              identity.valid === false
                ? h('span', { class: 'help', title: 'A possible number in a range the phone metadata does not know yet' },
                  ' (range not in the metadata)')
                : null,
            ),
            formatTime(identity.firstSeen),
            formatTime(identity.lastSeen),
            (identity.sources || []).join(', '),
          ]),
          { className: 'identities' },
        ),
        steward.separation,
      ),
      section('traits', 'Traits', table(null, ['Trait', 'Value'], traits.map(([name, value]) => [name, jsonText(value)]))),
      section(
        'activity',
        'Activity per channel',
        table(null, ['Channel', 'First seen', 'Last seen', 'Events'],
          channels.map(([name, channel]) => [name, formatTime(channel.firstSeen), formatTime(channel.lastSeen), String(channel.events)])),
      ),
      serviceSection(profile),
      section(
        'consent',
        'Consent',
        table(null, ['Purpose', 'Granted', 'When', 'Source'],
          consent.map(([purpose, entry]) => [purpose, entry.granted ? 'yes' : 'no', formatTime(entry.at), `${entry.source || ''} (${entry.channel || ''})`])),
      ),
      section(
        'computed',
        'Computed traits',
        table(null, ['Name', 'Value'], computed.map(([name, value]) => [name, jsonText(value)])),
      ),
      section(
        'profile-audiences',
        'Audiences',
        table(null, ['Audience', 'Entered'], audiences.map(([name, entry]) => [
          h('a', { href: `#/audiences/edit/${encodeURIComponent(name)}` }, name),
          formatTime(entry.enteredAt),
        ])),
      ),
    ),
    steward.duplicates,
    graphSection,
    timeline.element,
  );
  steward.load();

  api.graph(id)
    .then((graph) => graphSection.replaceChildren(h('h2', { id: 'graph-heading' }, 'Identity graph'), renderGraph(graph)))
    .catch((error) => graphSection.append(errorBox(error)));
  timeline.start();
}

function jump(event, target) {
  // Hash links would change the route: scroll and focus instead.
  event.preventDefault();
  const element = document.getElementById(target);
  if (!element) return;
  const heading = element.querySelector('h2') || element;
  heading.setAttribute('tabindex', '-1');
  heading.focus();
  element.scrollIntoView({ block: 'start' });
}

// The timeline: pages of 25, the next one asked for when the end of the list comes into view (or
// the "Load more" button is pressed, for keyboards and for browsers without IntersectionObserver).
function timelineSection(ref) {
  const channel = h('select', { id: 'timeline-channel', name: 'channel' },
    ['', 'web', 'app', 'pos', 'email', 'social', 'service', 'server'].map((value) => h('option', { value }, value || 'All channels')));
  const eventName = h('input', { id: 'timeline-event', name: 'event', type: 'text', placeholder: 'e.g. Order Completed' });
  const list = h('ol', { class: 'timeline', id: 'timeline-list', 'aria-live': 'off' });
  const status = h('p', { class: 'help', id: 'timeline-status' });
  const more = h('button', { type: 'button', id: 'timeline-more', class: 'secondary' }, 'Load more');
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  let cursor = null;
  let loading = false;
  let done = false;
  let generation = 0;

  async function load() {
    if (loading || done) return;
    loading = true;
    const mine = generation;
    status.textContent = 'Loading…';
    try {
      const page = await api.events(ref, { cursor, channel: channel.value, event: eventName.value.trim() });
      if (mine !== generation) return;
      for (const entry of page.events) list.append(timelineItem(entry));
      cursor = page.next;
      done = !cursor;
      more.hidden = done;
      const shown = list.children.length;
      status.textContent = `${shown} ${shown === 1 ? 'event' : 'events'} shown${done ? ' (all)' : ''}`;
    } catch (error) {
      status.replaceChildren(errorBox(error));
    } finally {
      if (mine === generation) loading = false;
    }
  }

  function reset(event) {
    if (event) event.preventDefault();
    generation += 1;
    loading = false;
    cursor = null;
    done = false;
    list.replaceChildren();
    load().then(() => announce(status.textContent));
  }

  more.addEventListener('click', load);
  const element = h(
    'section',
    { class: 'card', id: 'timeline', 'aria-labelledby': 'timeline-heading' },
    h('h2', { id: 'timeline-heading' }, 'Timeline'),
    h(
      'form',
      { class: 'filters', onsubmit: reset },
      h('div', { class: 'field' }, h('label', { for: 'timeline-channel' }, 'Channel'), channel),
      h('div', { class: 'field grow' }, h('label', { for: 'timeline-event' }, 'Event name'), eventName),
      h('button', { type: 'submit' }, 'Filter'),
    ),
    list,
    sentinel,
    status,
    more,
  );
  function start() {
    load();
    if ('IntersectionObserver' in window) {
      new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) load();
      }, { rootMargin: '200px' }).observe(sentinel);
    }
  }
  return { element, start };
}

function timelineItem(entry) {
  const summary = entry.summary || {};
  const event = entry.event || {};
  const name = summary.event || event.event || event.name || summary.type || event.type;
  const ids = [
    event.userId && `user ${event.userId}`,
    event.anonymousId && `anon ${event.anonymousId}`,
  ].filter(Boolean);
  return h(
    'li',
    { class: `timeline-item channel-${summary.channel || event.channel || 'other'}` },
    h('time', { datetime: event.timestamp || '' }, formatTime(event.timestamp)),
    h('span', { class: 'badge' }, summary.channel || event.channel || ''),
    h('strong', { class: 'event-name' }, name || ''),
    h('span', { class: 'meta' }, `${summary.type || event.type || ''} from ${event.source || 'unknown source'}`, ids.length ? ` · ${ids.join(' · ')}` : ''),
  );
}
