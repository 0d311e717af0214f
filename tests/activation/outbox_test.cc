// The outbox's rows and keys, a destination's filters, and the URLs delivery accepts.

#include "activation/outbox.h"

#include <gtest/gtest.h>

#include "activation/destination.h"
#include "activation/http_sender.h"

namespace tessera::activation {
namespace {

OutboxItem Sample() {
  OutboxItem item;
  item.kind = OutboxKind::kAudienceExited;
  item.profile_id = 42;
  item.log_sequence = 0;
  item.time = base::Timestamp(std::chrono::microseconds(1'700'000'000'123'456));
  item.message_id = "aud-1";
  item.audience = "vip";
  item.reason = "erased";
  item.user_id = "u-1";
  item.identifiers = {{"email", "a@example.com"}, {"phone", "+821012345678"}};
  item.traits_json = R"({"name":"Kim"})";
  return item;
}

TEST(OutboxRowTest, RoundTripsEveryField) {
  std::string encoded;
  EncodeOutboxItem(Sample(), encoded);
  absl::StatusOr<OutboxItem> decoded = DecodeOutboxItem(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->kind, OutboxKind::kAudienceExited);
  EXPECT_EQ(decoded->profile_id, 42u);
  EXPECT_EQ(decoded->time, Sample().time);
  EXPECT_EQ(decoded->message_id, "aud-1");
  EXPECT_EQ(decoded->audience, "vip");
  EXPECT_EQ(decoded->reason, "erased");
  EXPECT_EQ(decoded->user_id, "u-1");
  EXPECT_EQ(decoded->identifiers, Sample().identifiers);
  EXPECT_EQ(decoded->traits_json, R"({"name":"Kim"})");
}

TEST(OutboxRowTest, DamagedAndUnknownRowsAreRefused) {
  std::string encoded;
  EncodeOutboxItem(Sample(), encoded);
  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    EXPECT_TRUE(absl::IsDataLoss(DecodeOutboxItem(encoded.substr(0, cut)).status())) << "cut at " << cut;
  }
  EXPECT_TRUE(absl::IsDataLoss(DecodeOutboxItem(encoded + "x").status()));
  std::string future = encoded;
  future[0] = 9;
  EXPECT_EQ(DecodeOutboxItem(future).status().message(), "outbox row of unknown version 9");
  std::string bad_kind = encoded;
  bad_kind[1] = 7;
  EXPECT_TRUE(absl::IsDataLoss(DecodeOutboxItem(bad_kind).status()));

  DeliveryDeadLetter letter{.reason = "HTTP 400", .last_status = 400, .last_response = "no", .attempts = 3,
                            .first_attempt = {}, .last_attempt = {}, .item = encoded};
  std::string row;
  EncodeDeliveryDeadLetter(letter, row);
  absl::StatusOr<DeliveryDeadLetter> read = DecodeDeliveryDeadLetter(row);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->reason, "HTTP 400");
  EXPECT_EQ(read->attempts, 3u);
  EXPECT_EQ(read->item, encoded);
  EXPECT_TRUE(absl::IsDataLoss(DecodeDeliveryDeadLetter(row.substr(0, row.size() - 1)).status()));
}

TEST(OutboxRowTest, KeysSortBySequenceWithinADestination) {
  EXPECT_LT(OutboxKey("s", "d", 255), OutboxKey("s", "d", 256));
  EXPECT_EQ(OutboxKeySequence(OutboxKey("s", "d", 1234567)), 1234567u);
  EXPECT_TRUE(OutboxKey("s", "d", 1).starts_with(OutboxPrefix("s", "d")));
  EXPECT_FALSE(OutboxKey("s", "d2", 1).starts_with(OutboxPrefix("s", "d")));
}

TEST(OutboxRowTest, AnAudienceChangeHasTheSameIdEveryTime) {
  const base::Timestamp time(std::chrono::microseconds(5));
  EXPECT_EQ(AudienceChangeId("s", "vip", 1, true, time), AudienceChangeId("s", "vip", 1, true, time));
  EXPECT_NE(AudienceChangeId("s", "vip", 1, true, time), AudienceChangeId("s", "vip", 1, false, time));
  EXPECT_NE(AudienceChangeId("s", "vip", 1, true, time), AudienceChangeId("s", "vip", 2, true, time));
  EXPECT_NE(AudienceChangeId("s", "vip", 1, true, time),
            AudienceChangeId("s", "vip", 1, true, time + std::chrono::microseconds(1)));
  EXPECT_EQ(AudienceChangeId("s", "vip", 1, true, time).size(), 4u + 32u);
}

TEST(DestinationSpecTest, FiltersByTypeAndTrackName) {
  DestinationSpec spec;
  spec.event_types = {"track", "identify"};
  spec.event_names = {"Order Completed"};
  spec.audiences = {"vip"};
  EXPECT_TRUE(spec.WantsEvent("track", "Order Completed"));
  EXPECT_FALSE(spec.WantsEvent("track", "Viewed"));
  EXPECT_TRUE(spec.WantsEvent("identify", ""));
  EXPECT_FALSE(spec.WantsEvent("page", ""));
  EXPECT_TRUE(spec.WantsAudience("vip"));
  EXPECT_FALSE(spec.WantsAudience("other"));
  DestinationType type;
  ASSERT_TRUE(ParseDestinationType("google_customer_match", type));
  EXPECT_EQ(DestinationTypeName(type), "google_customer_match");
  EXPECT_FALSE(ParseDestinationType("fax", type));
}

TEST(HttpUrlTest, ReadsSchemeHostPortAndTarget) {
  absl::StatusOr<HttpUrl> url = ParseHttpUrl("https://crm.example/hook?a=1");
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "crm.example");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/hook?a=1");
  url = ParseHttpUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(url.ok());
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/");
  url = ParseHttpUrl("http://[::1]:9000/x");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);
  for (std::string_view bad : {"ftp://x/", "http://", "http://h:0/", "http://h:70000/", "http://h:12a/",
                               "https://user:pw@h/", "http://[::1/"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseHttpUrl(bad).status())) << bad;
  }
}

}  // namespace
}  // namespace tessera::activation
