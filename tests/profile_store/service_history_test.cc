// A profile's service history (profile_store/service_history.h): tickets take their newest state,
// contacts and ratings count once per ticket or call, merges act as if the events had come to one
// profile, lists stay bounded, and the stored form round-trips and refuses damage.

#include "profile_store/service_history.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "profile_store/profile.h"

namespace tessera::profile_store {
namespace {

base::Timestamp At(int64_t seconds) { return base::Timestamp(std::chrono::seconds(1'700'000'000 + seconds)); }

ServiceContact Call(std::string id, int64_t seconds, uint64_t sequence, std::string outcome = "completed") {
  return ServiceContact{.time = At(seconds), .sequence = sequence, .key = "call:twilio:" + id, .kind = "call",
                        .provider = "twilio", .direction = "inbound", .outcome = std::move(outcome),
                        .reason = "billing"};
}

TEST(ServiceHistoryTest, ATicketTakesItsNewestStateAndIsOneContact) {
  ServiceHistory history;
  history.RecordTicket("zendesk", "35", "new", "Refund for order 7", "high", At(0), 1);
  history.RecordTicket("zendesk", "35", "open", "", "", At(60), 2);
  // An older event arriving late changes no state but moves the opening back.
  history.RecordTicket("zendesk", "35", "new", "Refund?", "low", At(-30), 3);
  ASSERT_EQ(history.tickets.size(), 1u);
  const ServiceTicket& ticket = history.tickets[0];
  EXPECT_EQ(ticket.status, "open");
  EXPECT_EQ(ticket.subject, "Refund for order 7") << "an update without a subject keeps the one known";
  EXPECT_EQ(ticket.priority, "high");
  EXPECT_EQ(ticket.opened_at, At(-30));
  EXPECT_EQ(ticket.updated_at, At(60));
  ASSERT_EQ(history.contacts.size(), 1u) << "one ticket is one contact however often it is updated";
  EXPECT_EQ(history.contacts[0].time, At(-30));
  EXPECT_EQ(history.contacts[0].kind, "ticket");
  EXPECT_EQ(history.contacts[0].reason, "Refund?");

  history.RecordTicket("zendesk", "35", "solved", "", "", At(120), 4);
  const ServiceSummary summary = history.Summarize(base::Timestamp::min(), base::Timestamp::min());
  EXPECT_EQ(summary.open_tickets, 0u);
  EXPECT_EQ(summary.solved_tickets, 1u);
}

TEST(ServiceHistoryTest, ACallReportedTwiceCountsOnceAtItsFirstReport) {
  ServiceHistory history;
  history.RecordContact(Call("CA1", 100, 5));
  history.RecordContact(Call("CA1", 50, 9, "missed"));  // Older, logged later: it wins.
  history.RecordContact(Call("CA1", 200, 10));
  history.RecordContact(Call("CA2", 80, 11));
  ASSERT_EQ(history.contacts.size(), 2u);
  EXPECT_EQ(history.contacts[0].key, "call:twilio:CA1");
  EXPECT_EQ(history.contacts[0].time, At(50));
  EXPECT_EQ(history.contacts[0].outcome, "missed");
  EXPECT_EQ(history.contacts[1].key, "call:twilio:CA2");
  const ServiceSummary summary = history.Summarize(At(60), base::Timestamp::min());
  EXPECT_EQ(summary.calls, 1u) << "only CA2 is at or after the window's start";
  ASSERT_NE(summary.last_contact, nullptr);
  EXPECT_EQ(summary.last_contact->key, "call:twilio:CA2");
}

TEST(ServiceHistoryTest, TheNewestRatingCountsAndARepeatKeepsItsFirstTime) {
  ServiceHistory history;
  history.RecordRating("ticket:zendesk:1", 0, At(0), 1);
  history.RecordRating("ticket:zendesk:1", 0, At(100), 2);  // The same score again.
  ASSERT_EQ(history.ratings.size(), 1u);
  EXPECT_EQ(history.ratings[0].time, At(0));
  history.RecordRating("ticket:zendesk:1", 1, At(200), 3);  // Changed its mind.
  history.RecordRating("ticket:zendesk:1", 0, At(150), 4);  // An older report: ignored.
  EXPECT_EQ(history.ratings[0].score, 1);
  EXPECT_EQ(history.ratings[0].time, At(200));
  history.RecordRating("call:twilio:CA9", 0, At(300), 5);
  ServiceSummary summary = history.Summarize(base::Timestamp::min(), base::Timestamp::min());
  EXPECT_EQ(summary.ratings, 2u);
  ASSERT_TRUE(summary.satisfaction.has_value());
  EXPECT_DOUBLE_EQ(*summary.satisfaction, 0.5);
  summary = history.Summarize(base::Timestamp::min(), At(250));
  EXPECT_EQ(summary.ratings, 1u);
  EXPECT_DOUBLE_EQ(summary.satisfaction.value_or(-1), 0.0);
  EXPECT_FALSE(history.Summarize(base::Timestamp::min(), At(301)).satisfaction.has_value());
}

TEST(ServiceHistoryTest, MergingGivesWhatOneProfileWouldHaveRecorded) {
  ServiceHistory web, phone, both;
  web.RecordTicket("zendesk", "1", "open", "Where is my parcel", "", At(0), 1);
  phone.RecordContact(Call("CA1", 30, 2));
  phone.RecordTicket("zendesk", "1", "solved", "", "", At(60), 3);
  web.RecordRating("ticket:zendesk:1", 1, At(10), 4);
  phone.RecordRating("ticket:zendesk:1", 1, At(70), 5);

  both.RecordTicket("zendesk", "1", "open", "Where is my parcel", "", At(0), 1);
  both.RecordContact(Call("CA1", 30, 2));
  both.RecordTicket("zendesk", "1", "solved", "", "", At(60), 3);
  both.RecordRating("ticket:zendesk:1", 1, At(10), 4);
  both.RecordRating("ticket:zendesk:1", 1, At(70), 5);

  ServiceHistory merged = web;
  merged.Merge(phone);
  EXPECT_EQ(merged, both);
  ServiceHistory other_way = phone;
  other_way.Merge(web);
  EXPECT_EQ(other_way, both) << "which profile wins does not matter";
}

TEST(ServiceHistoryTest, ListsStayBoundedDroppingSolvedTicketsAndTheOldestFirst) {
  ServiceHistory history;
  history.RecordTicket("zendesk", "open-old", "open", "", "", At(-1000), 1);
  for (size_t i = 0; i < ServiceHistory::kMaxEntries + 10; ++i) {
    history.RecordTicket("zendesk", "t" + std::to_string(i), "solved", "", "", At(static_cast<int64_t>(i)), i + 2);
    history.RecordRating("r" + std::to_string(1000 + i), 1, At(static_cast<int64_t>(i)), i + 2);
  }
  EXPECT_EQ(history.tickets.size(), ServiceHistory::kMaxEntries);
  EXPECT_EQ(history.contacts.size(), ServiceHistory::kMaxEntries);
  EXPECT_EQ(history.ratings.size(), ServiceHistory::kMaxEntries);
  EXPECT_EQ(history.Summarize(base::Timestamp::min(), base::Timestamp::min()).open_tickets, 1u)
      << "the open ticket outlives newer solved ones";
  EXPECT_EQ(history.ratings.front().key, "r1010") << "the ten oldest ratings went";
  EXPECT_EQ(history.contacts.front().time, At(10)) << "the oldest contacts went";
}

TEST(ServiceHistoryTest, TheProfileRecordKeepsItWithOrWithoutPurchases) {
  Profile profile;
  profile.id = ProfileId{7};
  profile.service.RecordTicket("freshdesk", "12", "pending", "로그인이 안 돼요", "urgent", At(0), 1);
  profile.service.RecordContact(Call("CA1", 5, 2));
  profile.service.RecordRating("ticket:freshdesk:12", 1, At(9), 3);
  for (bool with_purchases : {false, true}) {
    if (with_purchases) profile.purchases.Add(19'000, 10);
    std::string record;
    EncodeProfile(profile, record);
    absl::StatusOr<Profile> decoded = DecodeProfile(record);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->service, profile.service);
    EXPECT_EQ(decoded->purchases, profile.purchases);
    std::string again;
    EncodeProfile(*decoded, again);
    EXPECT_EQ(again, record);
  }
  Profile plain;
  plain.id = ProfileId{8};
  std::string record;
  EncodeProfile(plain, record);
  absl::StatusOr<Profile> decoded = DecodeProfile(record);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->service.empty());
}

TEST(ServiceHistoryTest, DamagedBytesAreRefused) {
  ServiceHistory history;
  history.RecordTicket("zendesk", "1", "open", "a", "", At(0), 1);
  history.RecordTicket("zendesk", "2", "open", "b", "", At(1), 2);
  history.RecordRating("ticket:zendesk:1", 1, At(2), 3);
  std::string bytes;
  history.Encode(bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    ServiceHistory decoded;
    base::ByteReader reader(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(decoded.Decode(reader) && reader.empty()) << "cut at " << cut;
  }
  std::string out_of_order;
  ServiceHistory swapped = history;
  std::swap(swapped.tickets[0], swapped.tickets[1]);
  swapped.Encode(out_of_order);
  ServiceHistory decoded;
  base::ByteReader reader(out_of_order);
  EXPECT_FALSE(decoded.Decode(reader)) << "tickets out of order";
  std::string bad_score = bytes;
  bad_score.back() = 2;
  base::ByteReader score_reader(bad_score);
  EXPECT_FALSE(decoded.Decode(score_reader)) << "a score of 2";
}

}  // namespace
}  // namespace tessera::profile_store
