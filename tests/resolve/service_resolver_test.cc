// What the resolver records of the service channel (resolve/service_recorder.h): tickets, calls and
// logged contacts on the person's profile, ratings, only from service sources, carried over by
// merges, the built-in service computed traits read from it, and a rebuild giving the same bytes.

#include <gtest/gtest.h>

#include "audiences/definitions.h"
#include "audiences/evaluation.h"
#include "resolve/rebuild.h"
#include "resolve/service_recorder.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers

constexpr int64_t kDay = 86'400;

class ServiceResolverTest : public ResolverTest {
 protected:
  ingest::CanonicalEvent Service(std::string name, int64_t seconds, std::string properties, std::string traits_json,
                                 std::string channel = "service") {
    ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, std::move(channel), seconds);
    event.event = std::move(name);
    event.properties = std::move(properties);
    event.context = R"({"traits":)" + traits_json + "}";
    return event;
  }

  Profile ProfileOf(Resolver& resolver, std::string_view type, std::string value) {
    std::optional<ProfileId> id = Lookup(resolver, type, std::move(value));
    EXPECT_TRUE(id.has_value());
    if (id) id = Canonical(resolver, *id);
    std::optional<Profile> profile = id ? StoredProfile(*id) : std::nullopt;
    EXPECT_TRUE(profile.has_value());
    return profile ? *profile : Profile();
  }

  static std::string Computed(std::string_view name, const Profile& profile, base::Timestamp now) {
    for (const auto& trait : audiences::DefinitionSet::BuiltInTraits()) {
      if (trait->name != name) continue;
      std::optional<std::string> value = audiences::ComputedValue(*trait, profile, now, audiences::SpaceFigures());
      return value ? *value : "<absent>";
    }
    return "<no such trait>";
  }
};

TEST_F(ServiceResolverTest, TicketsCallsAndRatingsLandOnThePersonsProfile) {
  const std::string ann = R"({"email":"ann@example.com"})";
  Append({Service("Ticket Created", 0,
                  R"({"provider":"zendesk","ticket_id":35,"status":"new","subject":"Refund","priority":"High"})", ann),
          Service("Ticket Updated", 100, R"({"provider":"zendesk","ticket_id":"35","status":"open","csat":0})", ann),
          Service("Call Completed", 200,
                  R"({"provider":"twilio","call_sid":"CA1","direction":"outbound-api","queue":"billing","csat":1})",
                  ann),
          Service("Call Completed", 250, R"({"provider":"twilio","call_sid":"CA1"})", ann),
          Service("Chat Completed", 300, R"({"provider":"contact_log","contact_id":"c9","reason":"Delivery"})", ann),
          Service("Ticket Solved", 400, R"({"provider":"freshdesk","ticket_id":"7"})", ann),
          Service("Ticket Created", 500, R"({"provider":"zendesk","ticket_id":"36"})", ann, "web"),
          Service("Call Status Changed", 600, R"({"provider":"twilio","call_sid":"CA2"})", ann)});
  auto resolver = NewResolver();
  CatchUp(*resolver);
  const Profile profile = ProfileOf(*resolver, "email", "ann@example.com");
  const profile_store::ServiceHistory& service = profile.service;
  ASSERT_EQ(service.tickets.size(), 2u) << "a web event named like a ticket is no ticket";
  EXPECT_EQ(service.tickets[0].provider, "freshdesk");
  EXPECT_EQ(service.tickets[0].status, "solved") << "Ticket Solved without a status";
  EXPECT_EQ(service.tickets[1].id, "35") << "a numeric id and a string id are the same ticket";
  EXPECT_EQ(service.tickets[1].status, "open");
  EXPECT_EQ(service.tickets[1].priority, "high");
  ASSERT_EQ(service.contacts.size(), 4u) << "ticket 35, call CA1 once, chat c9, ticket 7; not the ringing CA2";
  EXPECT_EQ(service.contacts[1].kind, "call");
  EXPECT_EQ(service.contacts[1].direction, "outbound");
  EXPECT_EQ(service.contacts[1].reason, "billing") << "the queue when no reason is given";
  EXPECT_EQ(service.contacts[2].kind, "chat");
  EXPECT_EQ(service.contacts[2].reason, "Delivery");
  EXPECT_EQ(service.ratings.size(), 2u);

  const base::Timestamp now = FixedTime(1000);
  EXPECT_EQ(Computed("open_tickets", profile, now), "1");
  EXPECT_EQ(Computed("last_contact_at", profile, now), "\"2024-01-01T00:06:40.000Z\"");
  EXPECT_EQ(Computed("csat_avg_90d", profile, now), "0.5");
  EXPECT_EQ(Computed("csat_avg_90d", profile, FixedTime(200 + 91 * kDay)), "<absent>") << "ratings age out";
  EXPECT_EQ(Computed("open_tickets", Profile(), now), "0") << "a count is never missing";
  EXPECT_EQ(Computed("last_contact_at", Profile(), now), "<absent>");
}

TEST_F(ServiceResolverTest, AMergeJoinsTheCallersAndTheTicketsHistoriesAndARebuildAgrees) {
  // A call from a phone, a ticket from an email, then a login that ties them together.
  Append({Service("Call Missed", 0, R"({"provider":"twilio","call_sid":"CA7","direction":"inbound"})",
                  R"({"phone":"+821012345678"})"),
          Service("Ticket Created", 60, R"({"provider":"zendesk","ticket_id":"9","subject":"Call me back"})",
                  R"({"email":"kim@example.kr"})")});
  auto resolver = NewResolver();
  CatchUp(*resolver);
  ingest::CanonicalEvent login = Event(ingest::EventType::kIdentify, "web", 120);
  login.user_id = "kim";
  login.traits = R"({"email":"kim@example.kr","phone":"+821012345678"})";
  Append({login});
  CatchUp(*resolver);
  const Profile profile = ProfileOf(*resolver, "user_id", "kim");
  EXPECT_EQ(profile.service.contacts.size(), 2u);
  EXPECT_EQ(profile.service.tickets.size(), 1u);
  EXPECT_EQ(Computed("open_tickets", profile, FixedTime(200)), "1");
  EXPECT_EQ(profile.channels.count("service"), 1u);

  const std::map<std::string, std::string> live = DerivedState();
  resolver.reset();
  pipeline::PipelineOptions options;
  ASSERT_TRUE(Rebuild(*store_, options).ok());
  ExpectSameState(live, DerivedState());
}

}  // namespace
}  // namespace tessera::resolve
