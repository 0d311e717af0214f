// Timeline entries' summaries: version 1 round trips with pinned bytes, truncations are refused,
// version 0 (JSON) still reads, and the API's JSON form is what version 0 stored.

#include "profile_store/timeline_summary.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::profile_store {
namespace {

TEST(TimelineSummaryTest, Version1RoundTripsWithPinnedBytes) {
  const TimelineSummary summary{.sequence = 300,
                                .type = "track",
                                .event = "Order Completed",
                                .channel = "pos",
                                .warnings = {"traits.phone: not a possible number"}};
  std::string bytes;
  EncodeTimelineSummary(summary, bytes);
  absl::StatusOr<TimelineSummary> decoded = DecodeTimelineSummary(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, summary);

  std::string small;
  EncodeTimelineSummary(
      TimelineSummary{.sequence = 1, .type = "page", .event = "", .channel = "web", .warnings = {}}, small);
  EXPECT_EQ(small, std::string("\x01\x01\x04page\x00\x03web\x00", 13)) << "a new layout needs a new version";
}

TEST(TimelineSummaryTest, TruncationsTrailingBytesAndUnknownVersionsAreDataLoss) {
  std::string bytes;
  EncodeTimelineSummary(
      TimelineSummary{
          .sequence = 9, .type = "identify", .event = "", .channel = "app", .warnings = {"a", "b"}},
      bytes);
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_TRUE(absl::IsDataLoss(DecodeTimelineSummary(bytes.substr(0, size)).status())) << size;
  }
  EXPECT_TRUE(absl::IsDataLoss(DecodeTimelineSummary(bytes + "x").status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeTimelineSummary("\x02").status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeTimelineSummary("{not json").status()));
}

TEST(TimelineSummaryTest, Version0ReadsAndTheApiJsonIsWhatItStored) {
  const std::string version0 =
      R"({"sequence":12,"type":"track","event":"Clicked","channel":"web","warnings":["traits: not a JSON object; ignored"]})";
  absl::StatusOr<TimelineSummary> decoded = DecodeTimelineSummary(version0);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->sequence, 12u);
  EXPECT_EQ(decoded->event, "Clicked");
  ASSERT_EQ(decoded->warnings.size(), 1u);
  std::string json;
  AppendTimelineSummaryJson(*decoded, json);
  EXPECT_EQ(json, version0);

  const std::string without_event = R"({"sequence":3,"type":"page","channel":"app"})";
  decoded = DecodeTimelineSummary(without_event);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  json.clear();
  AppendTimelineSummaryJson(*decoded, json);
  EXPECT_EQ(json, without_event) << "no event name and no warnings are left out, as before";
}

}  // namespace
}  // namespace tessera::profile_store
