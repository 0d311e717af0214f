// Live tail: events as Tessera accepts them (GET /v1/tail over a WebSocket to this same host) and
// the ingest rate as a small chart. The key travels as a WebSocket subprotocol, not in the URL.
import { currentKey } from './api.js';
import { formatTime, h, svg } from './dom.js';

const MAX_ROWS = 200;
const RATE_POINTS = 60;

export function tailUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/v1/tail`;
}

export function renderLive(main) {
  const state = h('p', { id: 'live-state', role: 'status' }, 'Connecting…');
  const rateText = h('p', { id: 'live-rate' }, '— events/s');
  const dropped = h('p', { id: 'live-dropped', class: 'help' }, 'Dropped: 0');
  const chart = svg('svg', { viewBox: `0 0 ${RATE_POINTS * 5} 60`, class: 'rate-chart', role: 'img', 'aria-labelledby': 'rate-title', id: 'rate-chart' },
    svg('title', { id: 'rate-title' }, 'Ingest rate over the last minute'));
  const body = h('tbody', { id: 'live-rows' });
  const pause = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', id: 'live-pause' }, 'Pause');
  let paused = false;
  let droppedTotal = 0;
  const rates = [];
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
  });

  main.replaceChildren(
    h('h1', {}, 'Live events'),
    h('div', { class: 'live-head card' },
      h('div', {}, state, rateText, dropped, pause),
      h('figure', { class: 'chart' }, chart, h('figcaption', {}, 'Accepted events per second, last 60 s'))),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'live' },
        h('caption', {}, `Newest first, the last ${MAX_ROWS}`),
        h('thead', {}, h('tr', {}, ['Time', 'Type', 'Event', 'Channel', 'Source', 'Person'].map((label) => h('th', { scope: 'col' }, label)))),
        body)),
  );

  function drawChart() {
    const max = Math.max(1, ...rates);
    const points = rates.map((rate, index) => `${(index + RATE_POINTS - rates.length) * 5},${58 - (rate / max) * 54}`).join(' ');
    chart.replaceChildren(
      svg('title', { id: 'rate-title' }, `Ingest rate over the last minute, peak ${max} events/s`),
      svg('line', { x1: 0, y1: 58, x2: RATE_POINTS * 5, y2: 58, class: 'rate-axis' }),
      svg('polyline', { points, class: 'rate-line' }),
      svg('text', { x: 2, y: 10, class: 'rate-max' }, `${max}/s`),
    );
  }

  function addEvents(events) {
    if (paused) return;
    for (const event of events) {
      const person = event.userId ? { type: 'user_id', value: event.userId } : event.anonymousId ? { type: 'anonymous_id', value: event.anonymousId } : null;
      const row = h('tr', {},
        h('td', {}, formatTime(event.receivedAt)),
        h('td', {}, event.type),
        h('td', {}, event.event),
        h('td', {}, event.channel),
        h('td', {}, event.source),
        h('td', {}, person ? h('a', { href: `#/profile/${person.type}:${encodeURIComponent(person.value)}` }, person.value) : ''));
      body.prepend(row);
    }
    while (body.children.length > MAX_ROWS) body.lastElementChild.remove();
  }

  let socket = null;
  let closed = false;
  let retry = null;
  function connect() {
    try {
      socket = new WebSocket(tailUrl(), ['tessera-tail', `tessera-key.${currentKey()}`]);
    } catch (error) {
      // A subprotocol must be an HTTP token: a key with other characters cannot travel this way.
      state.textContent = `Cannot open the live tail with this key (${error.message}).`;
      return;
    }
    socket.addEventListener('open', () => { state.textContent = 'Connected'; });
    socket.addEventListener('message', (message) => {
      const data = JSON.parse(message.data);
      if (data.type === 'events') {
        addEvents(data.events);
        if (data.dropped) {
          droppedTotal += data.dropped;
          dropped.textContent = `Dropped: ${droppedTotal} (the console fell behind)`;
        }
      } else if (data.type === 'rate') {
        rates.push(data.eventsPerSecond);
        if (rates.length > RATE_POINTS) rates.shift();
        rateText.textContent = `${data.eventsPerSecond} events/s · ${data.accepted} accepted since start`;
        drawChart();
      }
    });
    socket.addEventListener('close', () => {
      if (closed) return;
      state.textContent = 'Disconnected; reconnecting in 3 s…';
      retry = setTimeout(connect, 3000);
    });
  }
  connect();
  drawChart();
  return () => {
    closed = true;
    clearTimeout(retry);
    if (socket) socket.close(1000, 'view closed');
  };
}
