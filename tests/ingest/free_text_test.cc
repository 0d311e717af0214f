#include "ingest/free_text.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::ingest {
namespace {

TEST(FreeTextTest, RemovesTheNamedTopLevelMembersAndKeepsTheRestByteForByte) {
  std::string properties =
      R"({"ticket_id":"7","transcript":"hello \"there\"","price":1.50,"notes":{"a":1},"tags":["x"],"comment":null})";
  absl::StatusOr<bool> removed = RemoveFreeText(properties);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(*removed);
  EXPECT_EQ(properties, R"({"ticket_id":"7","price":1.50,"tags":["x"]})")
      << "numbers must keep their text, and only the free-text members may go";
}

TEST(FreeTextTest, LeavesTextWithoutAFreeTextKeyAlone) {
  // "comment" in a value and inside a nested object is no top-level property.
  const std::string original = R"({"subject":"see \"comment\"","order":{"notes":"gift wrap"}})";
  std::string properties = original;
  absl::StatusOr<bool> removed = RemoveFreeText(properties);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_FALSE(*removed);
  EXPECT_EQ(properties, original);

  std::string empty;
  EXPECT_FALSE(*RemoveFreeText(empty));
  EXPECT_TRUE(empty.empty()) << "an event without properties must not gain an empty object";
}

TEST(FreeTextTest, KeepsTheNamesItIsTold) {
  std::string properties = R"({"transcript":"t","comment":"c","description":"d"})";
  const std::vector<std::string> keep = {"transcript"};
  ASSERT_TRUE(*RemoveFreeText(properties, keep));
  EXPECT_EQ(properties, R"({"transcript":"t"})");
}

TEST(FreeTextTest, RefusesTextThatIsNotAnObject) {
  std::string properties = R"(["transcript"])";
  absl::StatusOr<bool> removed = RemoveFreeText(properties);
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(properties, R"(["transcript"])");
}

TEST(FreeTextTest, RemovesFromServiceEventsOnly) {
  const std::string service =
      R"({"messageId":"m1","type":"track","channel":"service","event":"Call Transcription Completed",)"
      R"("properties":{"call_sid":"CA1","transcript":"my card number is"},"timestamp":"2024-05-01T10:00:00Z"})";
  absl::StatusOr<std::optional<std::string>> stripped = EventJsonWithoutFreeText(service);
  ASSERT_TRUE(stripped.ok()) << stripped.status();
  ASSERT_TRUE(stripped->has_value()) << "a service event's transcript must go";
  EXPECT_EQ(**stripped,
            R"({"messageId":"m1","type":"track","channel":"service","event":"Call Transcription Completed",)"
            R"("properties":{"call_sid":"CA1"},"timestamp":"2024-05-01T10:00:00Z"})");

  const std::vector<std::string> keep = {"transcript"};
  stripped = EventJsonWithoutFreeText(service, keep);
  ASSERT_TRUE(stripped.ok()) << stripped.status();
  EXPECT_FALSE(stripped->has_value()) << "a destination that names transcript gets it";

  const std::string web =
      R"({"messageId":"m2","type":"track","channel":"web","properties":{"comment":"great shoes"}})";
  stripped = EventJsonWithoutFreeText(web);
  ASSERT_TRUE(stripped.ok()) << stripped.status();
  EXPECT_FALSE(stripped->has_value()) << "events of other channels are not touched";

  EXPECT_FALSE(EventJsonWithoutFreeText(R"({"channel":"service","transcript":1)").ok())
      << "a damaged event is an error, not sent with its text";
}

TEST(FreeTextTest, NamesTheList) {
  EXPECT_TRUE(IsFreeTextProperty("transcript"));
  EXPECT_FALSE(IsFreeTextProperty("Transcript"));
  EXPECT_EQ(FreeTextPropertyList(), "transcript, notes, description, comment");
}

}  // namespace
}  // namespace tessera::ingest
