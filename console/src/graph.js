// The identity graph as a picture (SVG, laid out here: a ring of identifiers around the profile)
// and, for keyboards and screen readers, the same links as a table. Edges are the events that
// carried two identifiers together (GET /v1/profiles/{ref}/graph); merges and refused merges are
// drawn and listed with their reasons.
import { formatTime, h, svg, table } from './dom.js';

const WIDTH = 720;
const HEIGHT = 460;
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

function microsToIso(micros) {
  return typeof micros === 'number' ? new Date(micros / 1000).toISOString() : micros;
}

export function renderGraph(graph) {
  const nodes = graph.nodes.map((node) => ({ ...node, refused: false }));
  const refusedRecords = graph.merges.filter((record) => record.kind === 'refused_merge');
  const mergeRecords = graph.merges.filter((record) => record.kind === 'merge');
  // Identifiers a refused merge kept out of this profile: drawn apart, dashed, with the reason.
  const refusedEdges = [];
  for (const record of refusedRecords) {
    for (const refused of record.refused || []) {
      if (!nodes.some((node) => node.id === refused.identifier)) {
        const [type, ...value] = refused.identifier.split(':');
        nodes.push({ id: refused.identifier, type, value: value.join(':'), refused: true, reason: refused.reason });
      }
      refusedEdges.push({ to: refused.identifier, reason: refused.reason || record.reason });
    }
  }

  const cx = WIDTH / 2;
  const cy = HEIGHT / 2;
  const radius = Math.min(WIDTH, HEIGHT) / 2 - 70;
  const position = new Map();
  nodes.forEach((node, index) => {
    const angle = (2 * Math.PI * index) / Math.max(nodes.length, 1) - Math.PI / 2;
    position.set(node.id, { x: cx + radius * 1.25 * Math.cos(angle), y: cy + radius * Math.sin(angle) });
  });

  const title = `Identity graph of profile ${graph.profileId}`;
  const description = `${graph.nodes.length} identifiers, ${graph.edges.length} links from events, ` +
    `${mergeRecords.length} merges, ${refusedRecords.length} refused merges.`;
  const picture = svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': 'graph-title graph-desc', class: 'graph', id: 'identity-graph' },
    svg('title', { id: 'graph-title' }, title),
    svg('desc', { id: 'graph-desc' }, description),
    // The profile in the middle, tied to each of its identifiers.
    nodes.filter((node) => !node.refused).map((node) => {
      const p = position.get(node.id);
      return svg('line', { x1: cx, y1: cy, x2: p.x, y2: p.y, class: 'spoke' });
    }),
    graph.edges.map((edge) => {
      const a = position.get(edge.from);
      const b = position.get(edge.to);
      if (!a || !b) return null;
      const label = `${edge.eventNames.slice(0, 2).join(', ')}${edge.eventNames.length > 2 ? '…' : ''} ×${edge.events}`;
      return svg(
        'g',
        { class: 'edge', 'data-from': edge.from, 'data-to': edge.to },
        svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y }),
        svg('text', { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 4, 'text-anchor': 'middle' }, shorten(label, 34)),
        svg('title', {}, `${edge.from} — ${edge.to}: ${edge.events} events (${edge.eventNames.join(', ')}) from ${edge.sources.join(', ')}, first ${edge.firstSeen}`),
      );
    }),
    refusedEdges.map((edge) => {
      const b = position.get(edge.to);
      return svg(
        'g',
        { class: 'edge refused' },
        svg('line', { x1: cx, y1: cy, x2: b.x, y2: b.y }),
        svg('text', { x: (cx + b.x) / 2, y: (cy + b.y) / 2 + 14, 'text-anchor': 'middle' }, 'refused'),
        svg('title', {}, `Merge refused: ${edge.reason}`),
      );
    }),
    svg('g', { class: 'node profile-node' },
      svg('circle', { cx, cy, r: 30 }),
      svg('text', { x: cx, y: cy + 4, 'text-anchor': 'middle' }, 'profile'),
      svg('title', {}, graph.profileId)),
    nodes.map((node) => {
      const p = position.get(node.id);
      const color = node.refused ? '#b00020' : TYPE_COLORS[node.type] || '#555';
      return svg(
        'g',
        { class: `node${node.refused ? ' refused' : ''}`, 'data-id': node.id },
        svg('circle', { cx: p.x, cy: p.y, r: 12, fill: node.refused ? '#fff' : color, stroke: color }),
        svg('text', { x: p.x, y: p.y + 28, 'text-anchor': 'middle', class: 'node-type' }, node.type),
        svg('text', { x: p.x, y: p.y + 42, 'text-anchor': 'middle', class: 'node-value' }, shorten(node.value)),
        svg('title', {}, `${node.id}${node.refused ? ` (refused: ${node.reason})` : ` first seen ${node.firstSeen}, sources ${(node.sources || []).join(', ')}`}`),
      );
    }),
  );

  return h(
    'div',
    { class: 'graph-wrap' },
    h('p', { class: 'help' }, description, graph.complete ? '' : ` Links from the newest ${graph.scannedEvents} events.`),
    h('div', { class: 'graph-scroll' }, picture),
    h('ul', { class: 'legend', 'aria-label': 'Legend' },
      Object.entries(TYPE_COLORS).map(([type, color]) => h('li', {}, h('span', { class: `swatch type-${type}`, 'data-color': color }), type)),
      h('li', {}, h('span', { class: 'swatch refused' }), 'refused merge')),
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
