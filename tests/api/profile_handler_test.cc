// Profile lookups of phones (issue 18): phone identities say whether libphonenumber's metadata
// knows them, and a lookup may name the region its number without a country code is from.

#include "api/profile_handler.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "ingest/accepted_log.h"
#include "ingest/event_codec.h"
#include "profile_store/profile_reader.h"
#include "profile_store/store.h"
#include "resolve/resolver.h"
#include "tests/ingest/test_events.h"
#include "tests/support/temp_dir.h"

namespace tessera::api {
namespace {

constexpr std::string_view kRead = "Bearer rk";

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

class ProfileHandlerPhoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.read_keys = {"rk"};
    keys_ = std::make_unique<KeyRegistry>(config_);
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto normalizer = identity::Normalizer::Create({});  // Default region US.
    ASSERT_TRUE(normalizer.ok()) << normalizer.status();
    normalizer_ = *std::move(normalizer);

    // One person with two phones: one in a range Debian's metadata lacks, one it knows.
    ingest::CanonicalEvent event = ingest::testing::TrackEvent("m1");
    event.user_id = "u-min";
    event.context = R"({"traits":{"phone":"+82 10-5971-9030"}})";
    ingest::CanonicalEvent second = ingest::testing::TrackEvent("m2");
    second.user_id = "u-min";
    second.context = R"({"traits":{"phone":"+82 10-1234-5678","email":"min@example.kr"}})";
    ingest::AcceptedLog log(*store_);
    ASSERT_TRUE(log.Recover().ok());
    rocksdb::WriteBatch batch;
    for (const ingest::CanonicalEvent& logged : {event, second}) {
      std::string record;
      ingest::EncodeEvent(logged, record);
      log.AddToBatch("default", record, batch);
    }
    log.FinishBatch(batch);
    ASSERT_TRUE(store_->WriteIntake(batch).ok());
    resolve::Resolver resolver(*store_, "default", *normalizer_, extractor_, identity::IdentityRules(), {});
    ASSERT_TRUE(resolver.Recover().ok());
    absl::StatusOr<uint64_t> applied = resolver.CatchUp();
    ASSERT_TRUE(applied.ok()) << applied.status();
    ASSERT_EQ(*applied, 2u);

    reader_ = std::make_unique<profile_store::ProfileReader>(*store_);
    handler_ = std::make_unique<ProfileHandler>(*keys_, *reader_, *normalizer_,
                                                std::vector<std::string>{"user_id", "phone", "email"},
                                                std::vector<std::string>{"default"});
    handler_->SetIdentifierExtractor(&extractor_);
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
  std::unique_ptr<ProfileHandler> handler_;
};

TEST_F(ProfileHandlerPhoneTest, PhoneIdentitiesSayWhetherTheMetadataKnowsThem) {
  for (std::string_view subresource : {"", "/identities", "/graph"}) {
    HttpReply reply = Get("user_id:u-min" + std::string(subresource));
    ASSERT_EQ(reply.status, 200) << subresource << ": " << reply.body;
    EXPECT_TRUE(Contains(reply.body, R"("type":"phone","value":"+821059719030","valid":false)"))
        << subresource << ": a number the metadata lacks is kept and marked: " << reply.body;
    EXPECT_TRUE(Contains(reply.body, R"("type":"phone","value":"+821012345678","valid":true)"))
        << subresource << ": " << reply.body;
    EXPECT_FALSE(Contains(reply.body, R"("value":"min@example.kr","valid")"))
        << subresource << ": only phones carry the flag: " << reply.body;
  }
}

TEST_F(ProfileHandlerPhoneTest, LookupReadsANationalNumberInTheRegionAskedForThenTheDefault) {
  HttpReply by_default = Get("phone:010-5971-9030");
  EXPECT_EQ(by_default.status, 400) << by_default.body;
  EXPECT_TRUE(Contains(by_default.body, "not a possible phone number: too long (region US)"))
      << by_default.body;

  HttpReply korean = Get("phone:010-5971-9030", "region=KR");
  ASSERT_EQ(korean.status, 200) << korean.body;
  EXPECT_TRUE(Contains(korean.body, R"("value":"+821059719030")")) << korean.body;
  EXPECT_EQ(Get("phone:8210%205971%209030", "region=KR").status, 200) << "the country code without its plus";
  EXPECT_EQ(Get("phone:%2B82%2010-5971-9030").status, 200) << "with its country code, no region is needed";
  // A US number is found with region=KR too: possible in KR, but valid only in the default region.
  EXPECT_EQ(Get("phone:(650)%20253-0000", "region=KR").status, 404) << "read as +16502530000: nobody has it";

  for (std::string_view bad : {"region=kr", "region=XX", "region=KOR", "region=%ZZ"}) {
    HttpReply reply = Get("phone:010-5971-9030", bad);
    EXPECT_EQ(reply.status, 400) << bad << ": " << reply.body;
    EXPECT_TRUE(Contains(reply.body, R"("field":"region")")) << bad << ": " << reply.body;
  }
}

}  // namespace
}  // namespace tessera::api
