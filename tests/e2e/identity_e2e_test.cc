// End-to-end identity resolution: events sent over HTTP from several channels end in one profile,
// the resolver keeps up (its position in /metrics reaches the log), and `tessera rebuild` on the
// stopped server's store reproduces the same graph.

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "identity/identity_graph.h"
#include "profile_store/store.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

// The value of a metric line such as `name{space="default"} 12`, or -1.
long MetricValue(const std::string& page, const std::string& series) {
  const size_t at = page.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::strtol(page.c_str() + at + series.size() + 1, nullptr, 10);
}

// Every key and value of the derived families, to compare two states of a store.
std::map<std::string, std::string> DumpDerived(profile_store::Store& store) {
  std::map<std::string, std::string> dump;
  using profile_store::ColumnFamily;
  for (ColumnFamily family : {ColumnFamily::kIdentifiers, ColumnFamily::kProfiles, ColumnFamily::kMerges,
                              ColumnFamily::kTimeline, ColumnFamily::kDeadLetter}) {
    std::unique_ptr<rocksdb::Iterator> it(store.db(family)->NewIterator(rocksdb::ReadOptions(), store.handle(family)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      dump[std::to_string(static_cast<int>(family)) + ":" + it->key().ToString()] = it->value().ToString();
    }
  }
  return dump;
}

TEST(IdentityE2eTest, OnePersonAcrossChannelsIsOneProfileAndRebuildAgrees) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  auto started = ServerProcess::Start({.data_dir = data_dir,
                                       .extra_json = R"("identity":{"default_phone_region":"KR"})"});
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<ServerProcess> server = std::move(*started);
  HttpClient client(server->port());

  // Web: anonymous browsing, then login. POS (another source): email and a local-format phone.
  // Someone else on the web shares nothing with her.
  const char* web_events[] = {
      R"({"type":"page","anonymousId":"anon-42","name":"Pricing"})",
      R"({"type":"identify","anonymousId":"anon-42","userId":"ada","traits":{"email":"Ada@Example.com","plan":"pro"}})",
      R"({"type":"track","anonymousId":"anon-99","event":"Viewed"})",
  };
  for (const char* event : web_events) {
    auto response = client.PostJson("/v1/batch", std::string(R"({"batch":[)") + event + "]}", kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
  }
  auto pos = client.PostJson(
      "/v1/track",
      R"({"anonymousId":"till-7-receipt-1","event":"Order Completed","context":{"traits":{"email":"ada@example.com","phone":"010-1234-5678"}}})",
      kPosWriteKey);
  ASSERT_TRUE(pos.ok()) << pos.status();
  ASSERT_EQ(pos->status, 200) << pos->body;

  // The resolver catches up with the four accepted events.
  std::string metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto page = client.Request("GET", "/metrics");
        if (!page.ok()) return false;
        metrics = page->body;
        return MetricValue(metrics, R"(tessera_resolver_position{space="default"})") == 4;
      },
      30s))
      << "the resolver did not reach the end of the log:\n"
      << metrics;
  EXPECT_EQ(MetricValue(metrics, R"(tessera_resolver_lag_events{space="default"})"), 0) << metrics;
  EXPECT_EQ(MetricValue(metrics, R"(tessera_resolver_dead_letters_total{space="default"})"), 0) << metrics;
  auto terminated = server->Terminate();
  ASSERT_TRUE(terminated.ok() && *terminated == 0) << server->Output();

  std::map<std::string, std::string> live;
  {
    auto store = profile_store::Store::Open({.path = data_dir + "/store"});
    ASSERT_TRUE(store.ok()) << store.status();
    identity::IdentityGraph graph(**store, "default", identity::IdentityRules());
    ASSERT_TRUE(graph.Recover().ok());
    auto lookup = [&](std::string type, std::string value) {
      auto found = graph.Lookup(identity::Identifier{std::move(type), std::move(value)});
      EXPECT_TRUE(found.ok()) << found.status();
      return found.ok() && found->has_value() ? (*found)->value : 0;
    };
    const uint64_t ada = lookup("user_id", "ada");
    ASSERT_NE(ada, 0u) << "user_id:ada is not in the graph";
    EXPECT_EQ(lookup("anonymous_id", "anon-42"), ada);
    EXPECT_EQ(lookup("email", "ada@example.com"), ada) << "the email must be normalized and linked";
    EXPECT_EQ(lookup("phone", "+821012345678"), ada) << "the POS phone must be E.164 with region KR";
    EXPECT_EQ(lookup("anonymous_id", "till-7-receipt-1"), ada);
    const uint64_t other = lookup("anonymous_id", "anon-99");
    EXPECT_NE(other, 0u);
    EXPECT_NE(other, ada) << "a stranger must not be merged into her profile";

    auto profile = graph.MutableProfile(profile_store::ProfileId{ada});
    ASSERT_TRUE(profile.ok()) << profile.status();
    EXPECT_EQ((*profile)->event_count, 3u);
    EXPECT_EQ((*profile)->channels.count("web"), 1u);
    EXPECT_EQ((*profile)->channels.count("pos"), 1u);
    ASSERT_EQ((*profile)->traits.count("plan"), 1u);
    EXPECT_EQ((*profile)->traits.at("plan").json, R"("pro")");
    live = DumpDerived(**store);
  }

  // `tessera rebuild` replays the log into the same graph.
  const std::string command = std::string(TESSERA_BINARY) + " rebuild --config " + data_dir + "/test-config.json";
  const int status = std::system((command + " > /dev/null").c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command;
  auto store = profile_store::Store::Open({.path = data_dir + "/store"});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(DumpDerived(**store), live) << "rebuild must give the same derived state as live ingestion";
  EXPECT_FALSE(live.empty());
}

}  // namespace
}  // namespace tessera::e2e
