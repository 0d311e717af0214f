// The console's shell: sign-in, navigation by URL hash (#/dashboard, the first page, also at #/;
// #/search, #/profile/{ref}, #/audiences, #/audiences/edit/{name}, #/destinations, #/live), and
// focus management so keyboard and screen-reader users land on each new view's heading.
import './style.css';
import { currentKey, currentRole, forgetKey, signIn } from './api.js';
import { announce, errorBox, h } from './dom.js';
import { renderSearch } from './search.js';
import { renderProfile } from './profile.js';
import { renderAudiences, renderAudienceEditor } from './audiences.js';
import { renderLive } from './live.js';
import { renderDestinations } from './destinations.js';
import { renderDashboard } from './dashboard.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const signOut = document.getElementById('sign-out');

// Views may hold resources (the live tail's WebSocket, the destinations' refresh timer); each
// returns a cleanup.
let cleanup = null;

function renderSignIn(message) {
  const keyInput = h('input', {
    id: 'key',
    name: 'key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'key-help',
  });
  const status = h('div', { id: 'sign-in-status' }, message ? errorBox(message) : null);
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (event) => {
        event.preventDefault();
        status.replaceChildren(h('p', {}, 'Checking the key…'));
        try {
          const role = await signIn(keyInput.value.trim());
          announce(`Signed in with a ${role} key`);
          if (!location.hash || location.hash === '#/' || location.hash === '#/sign-in') {
            location.hash = '#/dashboard';
          }
          route();
        } catch (error) {
          status.replaceChildren(errorBox(error.status === 401 || error.status === 403
            ? 'This key is not a read or admin key of this Tessera.'
            : error));
          keyInput.focus();
        }
      },
    },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'key' }, 'Read or admin key'),
    keyInput,
    h('p', { id: 'key-help', class: 'help' },
      'The key stays in this browser tab only (session storage) and is sent to this Tessera alone.'),
    h('button', { type: 'submit' }, 'Sign in'),
    status,
  );
  main.replaceChildren(form);
  keyInput.focus();
}

function setChrome(view) {
  const signedIn = Boolean(currentKey());
  nav.hidden = !signedIn;
  signOut.hidden = !signedIn;
  who.textContent = signedIn ? `${currentRole()} key` : '';
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.nav === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function focusHeading() {
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
    document.title = `${heading.textContent} · Tessera console`;
  }
}

function keyRefused() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  forgetKey();
  setChrome('');
  renderSignIn('The key was refused; sign in again.');
}

async function route() {
  // "#main" and other in-page anchors are not views.
  if (location.hash && !location.hash.startsWith('#/')) return;
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const hash = location.hash.replace(/^#\/?/, '');
  const [view, ...rest] = hash.split('/');
  if (!currentKey()) {
    setChrome('');
    renderSignIn();
    return;
  }
  setChrome(view || 'dashboard');
  try {
    switch (view) {
      case 'profile':
        await renderProfile(main, rest.join('/'));
        break;
      case 'audiences':
        if (rest[0] === 'edit') await renderAudienceEditor(main, decodeURIComponent(rest.slice(1).join('/')));
        else if (rest[0] === 'new') await renderAudienceEditor(main, '');
        else await renderAudiences(main);
        break;
      case 'live':
        cleanup = renderLive(main);
        break;
      case 'destinations':
        cleanup = renderDestinations(main);
        break;
      case 'search':
        renderSearch(main, decodeURIComponent(rest.join('/')));
        break;
      default:
        // The dashboard loads after its heading is shown; a refused key comes back here.
        cleanup = renderDashboard(main, { onUnauthorized: keyRefused });
        break;
    }
  } catch (error) {
    if (error.status === 401) {
      keyRefused();
      return;
    }
    main.replaceChildren(h('h1', {}, 'Something went wrong'), errorBox(error));
  }
  focusHeading();
}

// The skip link moves focus to the content without touching the route in the hash.
document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

signOut.addEventListener('click', () => {
  forgetKey();
  location.hash = '#/';
  route();
  announce('Signed out');
});

window.addEventListener('hashchange', route);
route();
