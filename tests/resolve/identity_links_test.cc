// The links of the identity graph (resolve/identity_links.h): which events tied a person's
// identifiers together, found again in the log exactly as the resolver saw them.

#include "resolve/identity_links.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "profile_store/profile_reader.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers
using ::testing::ElementsAre;

class IdentityLinksTest : public ResolverTest {
 protected:
  // A visitor browses, logs in on the web (with an email), then opens the app on a device.
  void Story() {
    ingest::CanonicalEvent landing = Event(ingest::EventType::kPage, "web", 10);
    landing.anonymous_id = "a-browser";
    ingest::CanonicalEvent login = Event(ingest::EventType::kIdentify, "web", 20);
    login.anonymous_id = "a-browser";
    login.user_id = "u-jane";
    login.traits = R"({"email":"Jane@Example.com"})";
    ingest::CanonicalEvent open = Event(ingest::EventType::kTrack, "app", 30);
    open.user_id = "u-jane";
    open.event = "App Opened";
    open.context = R"({"device":{"id":"DEV-9"}})";
    ingest::CanonicalEvent again = Event(ingest::EventType::kTrack, "app", 40);
    again.user_id = "u-jane";
    again.event = "App Opened";
    again.context = R"({"device":{"id":"DEV-9"}})";
    Append({landing, login, open, again});
    auto resolver = NewResolver();
    ASSERT_EQ(CatchUp(*resolver), 4u);
  }

  absl::StatusOr<IdentityLinks> Links(size_t max_events) {
    std::optional<Profile> jane = StoredProfile(P(1));
    EXPECT_TRUE(jane.has_value());
    profile_store::ProfileReader reader(*store_);
    return FindIdentityLinks(reader, kSpace, *jane, extractor_, *normalizer_, max_events);
  }
};

TEST_F(IdentityLinksTest, EachEventLinksItsFirstIdentifierToTheOthersNormalized) {
  ASSERT_NO_FATAL_FAILURE(Story());
  absl::StatusOr<IdentityLinks> links = Links(100);
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_EQ(links->scanned_events, 4u);
  EXPECT_TRUE(links->complete);
  ASSERT_EQ(links->links.size(), 3u) << "the landing page carried one identifier: it links nothing";

  const IdentityLink& browser = links->links[0];
  EXPECT_EQ(browser.from, "user_id:u-jane");
  EXPECT_EQ(browser.to, "anonymous_id:a-browser");
  EXPECT_EQ(browser.events, 1u);
  EXPECT_THAT(browser.event_names, ElementsAre("identify"));
  EXPECT_THAT(browser.sources, ElementsAre("web-source"));

  const IdentityLink& device = links->links[1];
  EXPECT_EQ(device.to, "device_id:dev-9") << "values are normalized as ingestion does";
  EXPECT_EQ(device.events, 2u);
  EXPECT_THAT(device.event_names, ElementsAre("App Opened"));
  EXPECT_THAT(device.channels, ElementsAre("app"));
  EXPECT_EQ(device.first, FixedTime(30));
  EXPECT_EQ(device.last, FixedTime(40));
  EXPECT_EQ(device.first_message_id, "m-3") << "the event that linked them first";

  EXPECT_EQ(links->links[2].to, "email:jane@example.com");
}

TEST_F(IdentityLinksTest, AScanCutShortSaysItIsIncomplete) {
  ASSERT_NO_FATAL_FAILURE(Story());
  absl::StatusOr<IdentityLinks> links = Links(2);
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_EQ(links->scanned_events, 2u);
  EXPECT_FALSE(links->complete);
  ASSERT_EQ(links->links.size(), 1u) << "only the two newest events (the app's) were read";
  EXPECT_EQ(links->links[0].to, "device_id:dev-9");
}

}  // namespace
}  // namespace tessera::resolve
