// What the resolver writes into the destinations' outbox (activation/outbox_writer.h): the events
// each destination asks for, in log order, audience entries and exits, nothing for a profile that
// has not granted the destination's purpose, exits when it withdraws it, numbering that goes on
// after a restart, nothing from a rebuild, and an erasure that takes the person's rows with it.

#include <gtest/gtest.h>

#include <set>

#include "activation/holdout.h"
#include "activation/outbox.h"
#include "activation/outbox_writer.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers
using activation::OutboxItem;
using activation::OutboxKind;

activation::DestinationSpec Destination(std::string name) {
  activation::DestinationSpec spec;
  spec.name = std::move(name);
  spec.url = "http://127.0.0.1:9/hook";
  return spec;
}

class OutboxResolverTest : public ResolverTest {
 protected:
  // The rows waiting for `destination`, by sequence.
  std::vector<std::pair<uint64_t, OutboxItem>> Outbox(const std::string& destination) {
    std::vector<std::pair<uint64_t, OutboxItem>> rows;
    for (const auto& [key, value] :
         Rows(*store_, ColumnFamily::kOutbox, activation::OutboxPrefix(kSpace, destination))) {
      absl::StatusOr<OutboxItem> item = activation::DecodeOutboxItem(value);
      EXPECT_TRUE(item.ok()) << item.status();
      if (item.ok()) rows.emplace_back(activation::OutboxKeySequence(key), *std::move(item));
    }
    return rows;
  }

  static std::string Describe(const OutboxItem& item) {
    switch (item.kind) {
      case OutboxKind::kEvent:
        return "event " + item.message_id + " p" + std::to_string(item.profile_id);
      case OutboxKind::kAudienceEntered:
        return "enter " + item.audience + " p" + std::to_string(item.profile_id) + " " + item.reason;
      case OutboxKind::kAudienceExited:
        return "exit " + item.audience + " p" + std::to_string(item.profile_id) + " " + item.reason;
    }
    return "?";
  }

  std::vector<std::string> Described(const std::string& destination) {
    std::vector<std::string> out;
    for (const auto& [sequence, item] : Outbox(destination)) out.push_back(Describe(item));
    return out;
  }

  ingest::CanonicalEvent Track(std::string user, std::string name, int64_t seconds) {
    ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, "web", seconds);
    event.user_id = std::move(user);
    event.event = std::move(name);
    return event;
  }
};

TEST_F(OutboxResolverTest, EachDestinationGetsTheEventsItAsksForInLogOrder) {
  activation::DestinationSpec orders = Destination("orders");
  orders.event_types = {"track"};
  orders.event_names = {"Order Completed"};
  activation::DestinationSpec everything = Destination("everything");
  everything.event_types = {"track", "identify", "page"};
  activation::OutboxWriter writer(*store_, std::string(kSpace), {orders, everything});
  ASSERT_TRUE(writer.Recover().ok());
  std::vector<std::pair<std::string, uint64_t>> notified;
  writer.SetCommitListener([&](const std::string& name, uint64_t last) { notified.emplace_back(name, last); });

  ingest::CanonicalEvent identify = Event(ingest::EventType::kIdentify, "web", 1);
  identify.user_id = "u-1";
  identify.traits = R"({"email":"one@example.com"})";
  Append({identify, Track("u-1", "Viewed", 2), Track("u-1", "Order Completed", 3), Track("u-2", "Order Completed", 4),
          Event(ingest::EventType::kScreen, "app", 5)});
  auto resolver = NewResolver();
  resolver->SetOutbox(&writer);
  CatchUp(*resolver);

  EXPECT_EQ(Described("orders"), (std::vector<std::string>{"event m-3 p1", "event m-4 p2"}));
  EXPECT_EQ(Described("everything"),
            (std::vector<std::string>{"event m-1 p1", "event m-2 p1", "event m-3 p1", "event m-4 p2"}))
      << "screen is not asked for";
  const auto rows = Outbox("everything");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].first, 1u);
  EXPECT_EQ(rows[3].first, 4u);
  EXPECT_EQ(rows[1].second.log_sequence, 2u);
  EXPECT_EQ(rows[0].second.log_sequence, 1u);
  EXPECT_TRUE(rows[0].second.event_json.empty()) << "a row names the log position; delivery reads the event";
  EXPECT_EQ(notified, (std::vector<std::pair<std::string, uint64_t>>{{"orders", 2}, {"everything", 4}}));
}

TEST_F(OutboxResolverTest, NumberingGoesOnAfterARestartAndARebuildWritesNothing) {
  activation::DestinationSpec hook = Destination("hook");
  hook.event_types = {"track"};
  {
    activation::OutboxWriter writer(*store_, std::string(kSpace), {hook});
    ASSERT_TRUE(writer.Recover().ok());
    Append({Track("u-1", "A", 1), Track("u-1", "B", 2)});
    auto resolver = NewResolver();
    resolver->SetOutbox(&writer);
    CatchUp(*resolver);
  }
  // Delivery took the first row away and moved its cursor; the second still waits.
  rocksdb::WriteBatch delivered;
  delivered.Delete(store_->handle(ColumnFamily::kOutbox), activation::OutboxKey(kSpace, "hook", 1));
  std::string cursor;
  profile_store::AppendBigEndian64(cursor, 1);
  delivered.Put(store_->handle(ColumnFamily::kMeta), activation::DeliveredCursorKey(kSpace, "hook"), cursor);
  ASSERT_TRUE(store_->Write(delivered).ok());

  activation::OutboxWriter writer(*store_, std::string(kSpace), {hook});
  ASSERT_TRUE(writer.Recover().ok());
  Append({Track("u-1", "C", 3)});
  auto resolver = NewResolver();
  resolver->SetOutbox(&writer);
  CatchUp(*resolver);
  const auto rows = Outbox("hook");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].first, 2u);
  EXPECT_EQ(rows[1].first, 3u) << "after the newest row, not after the cursor";
  EXPECT_EQ(rows[1].second.message_id, "m-3");

  auto rebuilt = Rebuild(*store_, DerivedStateOptions{});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(Outbox("hook").size(), 2u) << "a replay sends nothing again and keeps what waits";
}

TEST_F(OutboxResolverTest, AProfileWithoutTheDestinationsPurposeIsNeverWritten) {
  activation::DestinationSpec ads = Destination("ads");
  ads.event_types = {"track", "identify"};
  ads.consent = "advertising";
  activation::OutboxWriter writer(*store_, std::string(kSpace), {ads});
  ASSERT_TRUE(writer.Recover().ok());

  ingest::CanonicalEvent grant = Event(ingest::EventType::kIdentify, "web", 1);
  grant.user_id = "u-yes";
  grant.context = R"({"consent":{"categoryPreferences":{"Advertising":true}}})";
  ingest::CanonicalEvent deny = Event(ingest::EventType::kIdentify, "web", 2);
  deny.user_id = "u-no";
  deny.context = R"({"consent":{"categoryPreferences":{"Advertising":false}}})";
  ingest::CanonicalEvent withdraw = Event(ingest::EventType::kIdentify, "web", 5);
  withdraw.user_id = "u-yes";
  withdraw.context = R"({"consent":{"categoryPreferences":{"Advertising":false}}})";
  Append({grant, deny, Track("u-yes", "A", 3), Track("u-no", "B", 3), Track("u-silent", "C", 3), withdraw,
          Track("u-yes", "D", 6)});
  auto resolver = NewResolver();
  resolver->SetOutbox(&writer);
  CatchUp(*resolver);
  // Message ids follow the order the events were made in: the withdrawal is m-3, "A" m-4.
  EXPECT_EQ(Described("ads"), (std::vector<std::string>{"event m-1 p1", "event m-4 p1"}))
      << "only what u-yes did while it granted advertising";
}

TEST_F(OutboxResolverTest, AudienceChangesAreWrittenAndConsentWithdrawalLeavesTheAudience) {
  auto space_audiences = std::make_unique<audiences::SpaceAudiences>(*store_, std::string(kSpace));
  ASSERT_TRUE(space_audiences
                  ->Load({}, {{"buyers", R"({"condition":{"event":"Order Completed"}})"},
                              {"other", R"({"condition":{"event":"Viewed"}})"}})
                  .ok());
  activation::DestinationSpec crm = Destination("crm");
  crm.audiences = {"buyers"};
  crm.consent = "marketing";
  activation::OutboxWriter writer(*store_, std::string(kSpace), {crm});
  ASSERT_TRUE(writer.Recover().ok());

  ingest::CanonicalEvent grant = Event(ingest::EventType::kIdentify, "web", 1);
  grant.user_id = "u-1";
  grant.traits = R"({"email":"one@example.com"})";
  grant.context = R"({"consent":{"categoryPreferences":{"Marketing":true}}})";
  ingest::CanonicalEvent withdraw = Event(ingest::EventType::kIdentify, "web", 9);
  withdraw.user_id = "u-1";
  withdraw.context = R"({"consent":{"categoryPreferences":{"Marketing":false}}})";
  Append({grant, Track("u-1", "Viewed", 2), Track("u-1", "Order Completed", 3)});
  auto resolver = NewResolver(identity::IdentityRules(), {}, space_audiences.get());
  resolver->SetOutbox(&writer);
  CatchUp(*resolver);
  Append({withdraw});
  CatchUp(*resolver);

  const auto rows = Outbox("crm");
  ASSERT_EQ(rows.size(), 2u) << ::testing::PrintToString(Described("crm"));
  EXPECT_EQ(Describe(rows[0].second), "enter buyers p1 ");
  EXPECT_EQ(Describe(rows[1].second), "exit buyers p1 consent withdrawn");
  EXPECT_EQ(rows[0].second.user_id, "u-1");
  EXPECT_EQ(rows[0].second.traits_json, R"({"email":"one@example.com"})");
  EXPECT_NE(std::find(rows[1].second.identifiers.begin(), rows[1].second.identifiers.end(),
                      std::pair<std::string, std::string>("email", "one@example.com")),
            rows[1].second.identifiers.end())
      << "an exit names whom to remove";
  EXPECT_EQ(rows[0].second.message_id,
            activation::AudienceChangeId(kSpace, "buyers", 1, true, rows[0].second.time));
}

TEST_F(OutboxResolverTest, AnAudiencesHoldoutIsNeverWrittenForAnyDestination) {
  auto space_audiences = std::make_unique<audiences::SpaceAudiences>(*store_, std::string(kSpace));
  ASSERT_TRUE(
      space_audiences->Load({}, {{"buyers", R"({"condition":{"event":"Order Completed"},"holdout":0.5})"}}).ok());
  activation::DestinationSpec crm = Destination("crm");
  crm.audiences = {"buyers"};
  activation::OutboxWriter writer(*store_, std::string(kSpace), {crm});
  ASSERT_TRUE(writer.Recover().ok());
  std::vector<ingest::CanonicalEvent> orders;
  for (int i = 0; i < 40; ++i) orders.push_back(Track("u-" + std::to_string(i), "Order Completed", i));
  Append(orders);
  auto resolver = NewResolver(identity::IdentityRules(), {}, space_audiences.get());
  resolver->SetOutbox(&writer);
  CatchUp(*resolver);

  std::set<uint64_t> written;
  for (const auto& [sequence, item] : Outbox("crm")) written.insert(item.profile_id);
  std::set<uint64_t> treated;
  for (uint64_t id = 1; id <= 40; ++id) {
    if (!activation::InHoldout(kSpace, "buyers", FormatProfileId(P(id)), 0.5)) treated.insert(id);
  }
  EXPECT_EQ(written, treated) << "every member but the holdout, and no one else";
  EXPECT_GT(treated.size(), 10u);
  EXPECT_LT(treated.size(), 30u);
}

}  // namespace
}  // namespace tessera::resolve
