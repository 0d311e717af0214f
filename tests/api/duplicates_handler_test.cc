// GET /v1/profiles/{ref}/duplicates (api/duplicates_handler.h): events give two profiles with the
// same name and birth date and different e-mails; the endpoint shows the pair with its
// explanation, leaves out what an admin separated, and refuses bad parameters.

#include "api/duplicates_handler.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/profile_handler.h"
#include "config/config.h"
#include "identity/identity_graph.h"
#include "ingest/accepted_log.h"
#include "ingest/event_codec.h"
#include "profile_store/profile_reader.h"
#include "profile_store/store.h"
#include "resolve/duplicate_index.h"
#include "resolve/resolver.h"
#include "simdjson.h"
#include "tests/ingest/test_events.h"
#include "tests/support/temp_dir.h"

namespace tessera::api {
namespace {

constexpr std::string_view kRead = "Bearer rk";

class DuplicatesHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.read_keys = {"rk"};
    keys_ = std::make_unique<KeyRegistry>(config_);
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto normalizer = identity::Normalizer::Create({});
    ASSERT_TRUE(normalizer.ok()) << normalizer.status();
    normalizer_ = *std::move(normalizer);

    Log("m1", "u-1", R"({"name":"Kim Min-jun","birthday":"1992-07-14","email":"minjun@example.com"})");
    Log("m2", "u-2", R"({"name":"KIM MINJUN","birthday":"1992-07-14","email":"mj.kim@work.example"})");
    Log("m3", "u-3", R"({"name":"Grace Hopper","birthday":"1906-12-09","email":"grace@example.com"})");
    resolve::Resolver resolver(*store_, "default", *normalizer_, extractor_, identity::IdentityRules(), {});
    ASSERT_TRUE(resolver.Recover().ok());
    absl::StatusOr<uint64_t> applied = resolver.CatchUp();
    ASSERT_TRUE(applied.ok()) << applied.status();
    ASSERT_EQ(*applied, 3u);
    IndexProfiles({1, 2, 3});

    reader_ = std::make_unique<profile_store::ProfileReader>(*store_);
    duplicates_ = std::make_unique<DuplicatesHandler>(*store_, *reader_,
                                                      std::map<std::string, resolve::DuplicateOptions>{});
    handler_ = std::make_unique<ProfileHandler>(*keys_, *reader_, *normalizer_,
                                                std::vector<std::string>{"user_id", "email"},
                                                std::vector<std::string>{"default"});
    handler_->SetDuplicates([this](const std::string& space, const profile_store::Profile& profile,
                                   std::string_view query) { return duplicates_->Duplicates(space, profile, query); });
  }

  void Log(std::string message_id, std::string user_id, std::string traits) {
    ingest::CanonicalEvent event = ingest::testing::TrackEvent(std::move(message_id));
    event.type = ingest::EventType::kIdentify;
    event.event.clear();
    event.user_id = std::move(user_id);
    event.traits = std::move(traits);
    ingest::AcceptedLog log(*store_);
    ASSERT_TRUE(log.Recover().ok());
    rocksdb::WriteBatch batch;
    std::string record;
    ingest::EncodeEvent(event, record);
    log.AddToBatch("default", record, batch);
    log.FinishBatch(batch);
    ASSERT_TRUE(store_->WriteIntake(batch).ok());
  }

  // Files the profiles in the duplicate index as the resolver does once it keeps the index.
  void IndexProfiles(std::vector<uint64_t> ids, std::function<void(identity::IdentityGraph&)> before = {}) {
    identity::IdentityGraph graph(*store_, "default", identity::IdentityRules());
    ASSERT_TRUE(graph.Recover().ok());
    if (before) before(graph);
    auto index = resolve::DuplicateIndex::Create(*store_, "default", resolve::DuplicateOptions());
    ASSERT_TRUE(index.ok()) << index.status();
    rocksdb::WriteBatch batch;
    for (uint64_t id : ids) ASSERT_TRUE((*index)->Refresh(profile_store::ProfileId{id}, graph, batch).ok());
    graph.Flush(batch);
    ASSERT_TRUE(store_->Write(batch).ok());
    graph.Commit();
  }

  HttpReply Get(std::string_view path, std::string_view query = "") const {
    return handler_->Handle({.path = path, .query = query, .authorization = kRead, .if_none_match = ""});
  }

  tessera::testing::ScopedTempDir dir_;
  config::Config config_;
  std::unique_ptr<KeyRegistry> keys_;
  std::unique_ptr<profile_store::Store> store_;
  std::unique_ptr<identity::Normalizer> normalizer_;
  ingest::IdentifierExtractor extractor_;
  std::unique_ptr<profile_store::ProfileReader> reader_;
  std::unique_ptr<DuplicatesHandler> duplicates_;
  std::unique_ptr<ProfileHandler> handler_;
};

TEST_F(DuplicatesHandlerTest, ShowsThePairWithItsExplanation) {
  const HttpReply reply = Get("email:minjun%40example.com/duplicates");
  ASSERT_EQ(reply.status, 200) << reply.body;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(reply.body).get(root), simdjson::SUCCESS) << reply.body;
  EXPECT_EQ(std::string_view(root["profile"].get_string().value()), "p0000000000000001");
  simdjson::dom::array candidates = root["candidates"].get_array().value();
  ASSERT_EQ(candidates.size(), 1u) << "Grace shares no block with Min-jun: " << reply.body;
  simdjson::dom::element candidate = candidates.at(0).value();
  EXPECT_EQ(std::string_view(candidate["profile"].get_string().value()), "p0000000000000002");
  const double probability = candidate["matchProbability"].get_double().value();
  EXPECT_GT(probability, 0.9) << reply.body;
  EXPECT_LT(probability, 1.0);
  double sum = candidate["priorWeight"].get_double().value();
  bool saw_name = false, saw_email = false;
  for (simdjson::dom::element field : candidate["fields"].get_array()) {
    sum += field["weight"].get_double().value();
    const std::string_view comparison = field["comparison"].get_string().value();
    if (comparison == "name") {
      saw_name = true;
      EXPECT_EQ(std::string_view(field["level"].get_string().value()), "exact");
      EXPECT_EQ(std::string_view(field["left"].get_string().value()), "Kim Min-jun");
      EXPECT_EQ(std::string_view(field["right"].get_string().value()), "KIM MINJUN");
    }
    if (comparison == "email") {
      saw_email = true;
      EXPECT_EQ(std::string_view(field["level"].get_string().value()), "else") << "different e-mails";
    }
  }
  EXPECT_TRUE(saw_name && saw_email) << reply.body;
  EXPECT_NEAR(sum, candidate["matchWeight"].get_double().value(), 1e-6) << "the weights add up to the total";
  EXPECT_EQ(std::string_view(candidate["traits"]["birthDate"].get_string().value()), "1992-07-14");

  const HttpReply strict = Get("email:minjun%40example.com/duplicates", "min_probability=0.999");
  ASSERT_EQ(strict.status, 200) << strict.body;
  EXPECT_NE(strict.body.find(R"("candidates":[])"), std::string::npos) << strict.body;
}

TEST_F(DuplicatesHandlerTest, LeavesOutWhatAnAdminSeparated) {
  IndexProfiles({}, [](identity::IdentityGraph& graph) {
    graph.Separate(identity::Identifier{"user_id", "u-1"}, identity::Identifier{"user_id", "u-2"});
  });
  const HttpReply reply = Get("user_id:u-2/duplicates");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find(R"("candidates":[])"), std::string::npos) << reply.body;
}

TEST_F(DuplicatesHandlerTest, RefusesBadParametersAndUnknownProfiles) {
  for (std::string_view query : {"limit=0", "limit=101", "limit=x", "min_probability=1.5", "min_probability=-0.1",
                                 "min_probability=high"}) {
    const HttpReply reply = Get("email:minjun%40example.com/duplicates", query);
    EXPECT_EQ(reply.status, 400) << query << ": " << reply.body;
  }
  EXPECT_EQ(Get("email:nobody%40example.com/duplicates").status, 404);
  EXPECT_EQ(Get("id:p00000000000000ff/duplicates").status, 404);
  EXPECT_EQ(handler_->Handle({.path = "email:minjun%40example.com/duplicates", .query = "", .authorization = "",
                              .if_none_match = ""})
                .status,
            401)
      << "a read key is needed";
  EXPECT_EQ(Get("email:minjun%40example.com/duplicates", "limit=1&min_probability=0.5").status, 200);
}

}  // namespace
}  // namespace tessera::api
