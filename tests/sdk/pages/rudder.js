// A website's own code around RudderStack's JavaScript SDK v3 (the npm package
// @rudderstack/analytics-js, its "bundled" entry, bundled unchanged by esbuild). The bundled
// entry carries its plugins (the XHR queue that delivers events, storage, consent) inside the
// package; the default entry would fetch them at run time from RudderStack's CDN, which a site
// may not want and which this test's machine cannot reach.
//
// The SDK gives no promise of delivery (an API call's callback runs once the event is queued),
// so the test waits for the requests' responses in the browser's network log.
import { RudderAnalytics } from '@rudderstack/analytics-js/bundled';

const analytics = new RudderAnalytics();

window.site = {
  load({ writeKey, dataPlaneUrl, configUrl }) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the RudderStack SDK did not load in 20 s (see the network log)')), 20_000);
      analytics.load(writeKey, dataPlaneUrl, {
        configUrl,
        logLevel: 'WARN',
        onLoaded: () => {
          clearTimeout(timer);
          resolve({ anonymousId: analytics.getAnonymousId(), library: 'rudder-analytics-js' });
        },
      });
    });
  },
  page: (name, properties) => new Promise((resolve) => analytics.page(name, properties, () => resolve({ type: 'page' }))),
  track: (event, properties) => new Promise((resolve) => analytics.track(event, properties, () => resolve({ type: 'track' }))),
  identify: (userId, traits) => new Promise((resolve) => analytics.identify(userId, traits, () => resolve({ type: 'identify' }))),
  anonymousId: () => analytics.getAnonymousId(),
};
