// The identity graph as a picture (SVG, laid out here with a small deterministic force layout)
// and, for keyboards and screen readers, the same links as a table. Edges are the events that
// carried two identifiers together (GET /v1/profiles/{ref}/graph); merges and refused merges are
// drawn and listed with their reasons.
import { formatTime, h, svg, table } from './dom.js';

const WIDTH = 760;
const HEIGHT = 480;
const TYPE_COLORS = {
  user_id: '#2458b3',
  anonymous_id: '#6b4fbb',
  email: '#b3411f',
  phone: '#1f7a4d',
  device_id: '#8a6100',
  loyalty_id: '#a0306a',
};

function shorten(text, max = 26) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// About the width of a character of the 11px edge labels, in the picture's units.
const LABEL_CHAR_WIDTH = 6.3;
const NODE_RADIUS = 12;

// An edge's label: the first event name (and how many other names), the count, the first source.
// On a mostly horizontal edge the label must fit between its two nodes, or it runs into the label
// of the next edge along the same line: the source goes first, then the event name is shortened
// (the hover title and the table below keep everything).
function edgeLabel(edge, merge, a, b) {
  const prefix = merge ? 'merge: ' : '';
  const others = edge.eventNames.length > 1 ? ` +${edge.eventNames.length - 1}` : '';
  const count = edge.events > 1 ? ` ×${edge.events}` : '';
  const name = edge.eventNames[0] || '';
  const dx = Math.abs(a.x - b.x);
  const room = dx >= Math.abs(a.y - b.y) ? Math.floor((dx - 2 * NODE_RADIUS) / LABEL_CHAR_WIDTH) : Infinity;
  const withoutSource = `${prefix}${shorten(name, 18)}${others}${count}`;
  const full = `${withoutSource} · ${shorten(edge.sources[0] || '', 14)}`;
  if (full.length <= room) return full;
  if (withoutSource.length <= room) return withoutSource;
  return `${prefix}${shorten(name, Math.max(4, room - prefix.length - others.length - count.length))}${others}${count}`;
}

function microsToIso(micros) {
  return typeof micros === 'number' ? new Date(micros / 1000).toISOString() : micros;
}

// A deterministic force layout (Fruchterman-Reingold, fixed start and iteration count): linked
// identifiers pull together, all push apart, so the picture is the same on every load.
export function layout(ids, links, width = WIDTH, height = HEIGHT) {
  const n = ids.length;
  const position = new Map();
  ids.forEach((id, index) => {
    const angle = (2 * Math.PI * index) / Math.max(n, 1) - Math.PI / 2;
    position.set(id, { x: width / 2 + (width / 3) * Math.cos(angle), y: height / 2 + (height / 3) * Math.sin(angle) });
  });
  if (n < 2) return position;
  const k = Math.sqrt(((width - 160) * (height - 120)) / n) * 0.9;
  let temperature = width / 8;
  for (let iteration = 0; iteration < 300; iteration += 1) {
    const shift = new Map(ids.map((id) => [id, { x: 0, y: 0 }]));
    for (let i = 0; i < n; i += 1) {
      for (let j = i + 1; j < n; j += 1) {
        const a = position.get(ids[i]);
        const b = position.get(ids[j]);
        const dx = a.x - b.x || 0.01;
        const dy = a.y - b.y || 0.01;
        const distance = Math.max(Math.hypot(dx, dy), 0.01);
        const force = (k * k) / distance;
        shift.get(ids[i]).x += (dx / distance) * force;
        shift.get(ids[i]).y += (dy / distance) * force;
        shift.get(ids[j]).x -= (dx / distance) * force;
        shift.get(ids[j]).y -= (dy / distance) * force;
      }
    }
    for (const [from, to] of links) {
      const a = position.get(from);
      const b = position.get(to);
      if (!a || !b) continue;
      const dx = a.x - b.x;
      const dy = a.y - b.y;
      const distance = Math.max(Math.hypot(dx, dy), 0.01);
      const force = (distance * distance) / k;
      shift.get(from).x -= (dx / distance) * force;
      shift.get(from).y -= (dy / distance) * force;
      shift.get(to).x += (dx / distance) * force;
      shift.get(to).y += (dy / distance) * force;
    }
    for (const id of ids) {
      const p = position.get(id);
      const d = shift.get(id);
      const length = Math.max(Math.hypot(d.x, d.y), 0.01);
      p.x = Math.min(width - 90, Math.max(90, p.x + (d.x / length) * Math.min(length, temperature)));
      p.y = Math.min(height - 50, Math.max(30, p.y + (d.y / length) * Math.min(length, temperature)));
    }
    temperature = Math.max(1, temperature * 0.97);
  }
  return position;
}

export function renderGraph(graph) {
  const nodes = graph.nodes.map((node) => ({ ...node, kind: 'identifier' }));
  const refusedRecords = graph.merges.filter((record) => record.kind === 'refused_merge');
  const mergeRecords = graph.merges.filter((record) => record.kind === 'merge');
  // A refused merge: another profile's event carried one of these identifiers (or this person's
  // event one of theirs), and the rules kept the two people apart. Drawn as the other profile,
  // dashed, tied to the identifiers in question with the reason.
  const refusedEdges = [];
  for (const record of refusedRecords) {
    const others = (record.profiles || []).filter((id) => id !== graph.profileId);
    for (const other of others) {
      const otherId = `profile:${other}`;
      if (!nodes.some((node) => node.id === otherId)) {
        nodes.push({ id: otherId, type: 'other profile', value: other, kind: 'refused', reason: record.reason });
      }
      for (const refused of record.refused || []) {
        if (!nodes.some((node) => node.id === refused.identifier)) {
          const [type, ...value] = refused.identifier.split(':');
          nodes.push({ id: refused.identifier, type, value: value.join(':'), kind: 'refused', reason: refused.reason });
        }
        refusedEdges.push({ from: otherId, to: refused.identifier, reason: record.reason, messageId: record.messageId });
      }
    }
  }
  // The event that merged two profiles is the first to have linked its identifiers: that edge is
  // marked as the merge, with its reason.
  const mergeByMessage = new Map(mergeRecords.map((record) => [record.messageId, record]));
  const position = layout(
    nodes.map((node) => node.id),
    [...graph.edges.map((edge) => [edge.from, edge.to]), ...refusedEdges.map((edge) => [edge.from, edge.to])],
  );

  const title = `Identity graph of profile ${graph.profileId}`;
  const description = `${graph.nodes.length} identifiers, ${graph.edges.length} links from events, ` +
    `${mergeRecords.length} merges, ${refusedRecords.length} refused merges.`;
  const picture = svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': 'graph-title graph-desc', class: 'graph', id: 'identity-graph' },
    svg('title', { id: 'graph-title' }, title),
    svg('desc', { id: 'graph-desc' }, description),
    graph.edges.map((edge) => {
      const a = position.get(edge.from);
      const b = position.get(edge.to);
      if (!a || !b) return null;
      const merge = mergeByMessage.get(edge.firstMessageId);
      const label = edgeLabel(edge, merge, a, b);
      return svg(
        'g',
        { class: `edge${merge ? ' merge' : ''}`, 'data-from': edge.from, 'data-to': edge.to },
        svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y }),
        svg('text', { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 5, 'text-anchor': 'middle' }, label),
        svg('title', {}, `${edge.from} — ${edge.to}: ${edge.events} event(s) (${edge.eventNames.join(', ')}) from ${edge.sources.join(', ')}, first ${edge.firstSeen}` +
          (merge ? `; this event merged ${merge.loser} into ${merge.winner}: ${merge.reason}` : '')),
      );
    }),
    refusedEdges.map((edge) => {
      const a = position.get(edge.from);
      const b = position.get(edge.to);
      return svg(
        'g',
        { class: 'edge refused', 'data-from': edge.from, 'data-to': edge.to },
        svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y }),
        svg('text', { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 + 14, 'text-anchor': 'middle' }, 'merge refused'),
        svg('title', {}, `Merge refused (event ${edge.messageId}): ${edge.reason}`),
      );
    }),
    nodes.map((node) => {
      const p = position.get(node.id);
      const refused = node.kind === 'refused';
      const color = refused ? '#b00020' : TYPE_COLORS[node.type] || '#555';
      return svg(
        'g',
        { class: `node${refused ? ' refused' : ''}`, 'data-id': node.id },
        svg('circle', { cx: p.x, cy: p.y, r: NODE_RADIUS, fill: refused ? '#fff' : color, stroke: color }),
        svg('text', { x: p.x, y: p.y + 28, 'text-anchor': 'middle', class: 'node-type' }, node.type),
        svg('text', { x: p.x, y: p.y + 42, 'text-anchor': 'middle', class: 'node-value' }, shorten(node.value)),
        svg('title', {}, refused ? `${node.id}: kept apart (${node.reason})` : `${node.id}, first seen ${node.firstSeen}, sources ${(node.sources || []).join(', ')}`),
      );
    }),
  );

  return h(
    'div',
    { class: 'graph-wrap' },
    h('p', { class: 'help' }, description, graph.complete ? '' : ` Links from the newest ${graph.scannedEvents} events.`),
    // Scrollable on narrow screens, so it takes focus: arrow keys scroll it.
    h('div', { class: 'graph-scroll', tabindex: '0', role: 'region', 'aria-label': 'Identity graph picture' }, picture),
    h('ul', { class: 'legend', 'aria-label': 'Legend' },
      Object.entries(TYPE_COLORS).map(([type, color]) => h('li', {}, h('span', { class: `swatch type-${type}`, 'data-color': color }), type)),
      h('li', {}, h('span', { class: 'swatch merge' }), 'link that merged two profiles'),
      h('li', {}, h('span', { class: 'swatch refused' }), 'another person, merge refused')),
    table(
      'Links between identifiers (events that carried both)',
      ['From', 'To', 'Events', 'Event names', 'Sources', 'First linked'],
      graph.edges.map((edge) => [edge.from, edge.to, String(edge.events), edge.eventNames.join(', '), edge.sources.join(', '), formatTime(edge.firstSeen)]),
      { className: 'graph-edges' },
    ),
    table(
      'Merges and refused merges',
      ['Kind', 'Profiles', 'Reason', 'When', 'Message id'],
      graph.merges.map((record) => [
        record.kind === 'merge' ? 'merged' : 'refused',
        record.kind === 'merge' ? `${record.loser} into ${record.winner}` : (record.profiles || []).join(', '),
        record.kind === 'merge' ? record.reason : `${record.reason}${(record.refused || []).map((r) => `; ${r.identifier}: ${r.reason}`).join('')}`,
        formatTime(microsToIso(record.time)),
        record.messageId,
      ]),
      { className: 'merges' },
    ),
  );
}
