// The "Service history" card of the profile page: `profile.service` of GET /v1/profiles/{ref}
// (api/service_history_json.h, docs/audiences.md "Service history"): the ticket counts, the last
// contact, contacts and calls in the last 30 days, the satisfaction average of the last 90 days, and
// the person's tickets, newest update first. Values are set as text (dom.js), never as markup.
import { formatTime, h, table } from './dom.js';

const EMPTY_TEXT = 'No contact with customer service yet.';

// The card, a section#service with data-state "empty" or "history" for tests and styles.
export function serviceSection(profile) {
  const service = profile.service || {};
  const tickets = service.tickets || [];
  const last = service.lastContact || null;
  const empty = tickets.length === 0 && !last && !service.contacts30d && !service.ratings90d;
  return h(
    'section',
    { class: 'card service', id: 'service', 'aria-labelledby': 'service-heading', 'data-state': empty ? 'empty' : 'history' },
    h('h2', { id: 'service-heading' }, 'Service history'),
    empty
      ? h('p', { class: 'empty' }, EMPTY_TEXT)
      : [
        h(
          'dl',
          { class: 'facts service-facts' },
          fact('open-tickets', 'Open tickets', count(service.openTickets)),
          fact('solved-tickets', 'Solved tickets', count(service.solvedTickets)),
          fact('last-contact', 'Last contact', lastContact(last)),
          fact('calls-30d', 'Calls, last 30 days', count(service.calls30d)),
          fact('contacts-30d', 'Contacts, last 30 days', count(service.contacts30d)),
          fact('csat-90d', 'Satisfaction, last 90 days', satisfaction(service.csatAvg90d, service.ratings90d)),
        ),
        table(
          'Tickets',
          ['Provider', 'Ticket', 'Status', 'Subject', 'Priority', 'Opened', 'Updated', 'Satisfaction'],
          tickets.map((ticket) => [
            ticket.provider || '',
            ticket.id || '',
            h(
              'span',
              { class: `ticket-status ${ticket.open ? 'open' : 'solved'}`, 'data-open': ticket.open ? 'true' : 'false' },
              h('span', { class: 'badge' }, ticket.open ? 'open' : 'solved'),
              ticket.status && ticket.status !== (ticket.open ? 'open' : 'solved') ? ` ${ticket.status}` : '',
            ),
            ticket.subject || '',
            ticket.priority || '',
            formatTime(ticket.openedAt),
            formatTime(ticket.updatedAt),
            satisfactionMark(ticket.satisfaction),
          ]),
          { className: 'service-tickets' },
        ),
      ],
  );
}

function fact(name, label, value) {
  return [h('dt', {}, label), h('dd', { 'data-fact': name }, value)];
}

function count(value) {
  return String(Number.isFinite(Number(value)) ? Number(value) : 0);
}

// "2026-12-07 10:15:00Z · call (twilio), inbound, completed: billing"
function lastContact(last) {
  if (!last) return 'none';
  const kind = last.provider ? `${last.kind} (${last.provider})` : last.kind;
  const details = [kind, last.direction, last.outcome].filter(Boolean).join(', ');
  return [
    h('time', { datetime: last.at || '' }, formatTime(last.at)),
    ` · ${details}`,
    last.reason ? h('span', { class: 'contact-reason' }, `: ${last.reason}`) : '',
  ];
}

function satisfaction(average, ratings) {
  const n = Number(ratings) || 0;
  if (average === null || average === undefined || n === 0) return 'no ratings';
  const percent = Math.round(Number(average) * 100);
  return `${percent}% of ${n} ${n === 1 ? 'rating' : 'ratings'}`;
}

function satisfactionMark(value) {
  if (value === 'good') return h('span', { class: 'csat good' }, 'good');
  if (value === 'bad') return h('span', { class: 'csat bad' }, 'bad');
  return h('span', { class: 'help' }, 'not rated');
}
