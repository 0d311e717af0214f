// A website's own code around Segment's analytics.js (the npm package @segment/analytics-next,
// bundled unchanged by esbuild). The test drives it through window.site: each call is what a
// page of a shop would do, and answers with what the library sent, so the test can wait for it.
import { AnalyticsBrowser } from '@segment/analytics-next';

let analytics = null;

// The library resolves an event's promise once its Segment.io destination has delivered it (or
// given up and queued it for a retry): failedDelivery() then says which.
async function delivered(contextPromise) {
  const context = await contextPromise;
  const failure = context.failedDelivery();
  if (failure) throw new Error(`analytics.js did not deliver the ${context.event.type}: ${failure.reason}`);
  return { messageId: context.event.messageId, type: context.event.type };
}

window.site = {
  async load({ writeKey, cdnURL }) {
    // As a site loads it: the write key and where the settings come from; everything else
    // (where events go, which integrations run) comes from those settings.
    [analytics] = await AnalyticsBrowser.load({ writeKey, cdnURL });
    return { anonymousId: analytics.user().anonymousId(), library: 'analytics-next' };
  },
  page: (name, properties) => delivered(analytics.page(name, properties)),
  track: (event, properties) => delivered(analytics.track(event, properties)),
  identify: (userId, traits) => delivered(analytics.identify(userId, traits)),
  anonymousId: () => analytics.user().anonymousId(),
};
