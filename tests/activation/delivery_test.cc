// Delivery of one destination's outbox to a real local HTTP server: batches in order, signed;
// retries with back-off on 5xx, 429 (Retry-After) and timeouts, with the same idempotency key;
// dead letters with the answer; replay; pause; and the checks at the edge (erased, consent).

#include "activation/delivery.h"

#include <gtest/gtest.h>

#include <set>

#include "activation/outbox.h"
#include "activation/webhook_signature.h"
#include "ingest/accepted_log.h"
#include "ingest/event_codec.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "simdjson.h"
#include "tests/support/fake_http_server.h"
#include "tests/support/temp_dir.h"

namespace tessera::activation {
namespace {

using profile_store::ColumnFamily;
using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::RecordedRequest;
using namespace std::chrono_literals;

constexpr std::string_view kSpace = "default";

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  DestinationSpec Spec() {
    DestinationSpec spec;
    spec.name = "hook";
    spec.url = server_.Url("/hook?x=1");
    spec.secret = "s3cret";
    spec.event_types = {"track"};
    spec.batch_events = 100;
    spec.requests_per_second = 10'000;
    spec.timeout = 2s;
    spec.retry_initial = 20ms;
    spec.retry_max = 100ms;
    return spec;
  }

  void PutProfile(uint64_t id, std::string consent = {}, bool granted = true) {
    profile_store::Profile profile;
    profile.id = profile_store::ProfileId{id};
    if (!consent.empty()) {
      profile_store::ConsentRecord record;
      record.granted = granted;
      profile.consent[consent] = record;
    }
    std::string encoded;
    profile_store::EncodeProfile(profile, encoded);
    rocksdb::WriteBatch batch;
    batch.Put(store_->handle(ColumnFamily::kProfiles), profile_store::ProfileKey(kSpace, profile.id), encoded);
    ASSERT_TRUE(store_->Write(batch).ok());
  }

  // Writes rows first..last, each an event of profile `profile` with message id "m-<n>".
  void PutRows(uint64_t first, uint64_t last, uint64_t profile = 1, OutboxKind kind = OutboxKind::kEvent) {
    rocksdb::WriteBatch batch;
    for (uint64_t n = first; n <= last; ++n) {
      OutboxItem item;
      item.kind = kind;
      item.profile_id = profile;
      item.log_sequence = n;
      item.message_id = "m-" + std::to_string(n);
      item.audience = kind == OutboxKind::kEvent ? "" : "vip";
      item.event_json = kind == OutboxKind::kEvent
                            ? R"({"type":"track","event":"E","messageId":"m-)" + std::to_string(n) + R"("})"
                            : "";
      std::string encoded;
      EncodeOutboxItem(item, encoded);
      batch.Put(store_->handle(ColumnFamily::kOutbox), OutboxKey(kSpace, "hook", n), encoded);
    }
    ASSERT_TRUE(store_->Write(batch).ok());
  }

  std::unique_ptr<Delivery> Start(DestinationSpec spec, uint64_t written, bool pause_first = false) {
    auto delivery = Delivery::Create(*store_, std::move(spec), DeliveryOptions{});
    EXPECT_TRUE(delivery.ok()) << delivery.status();
    if (!delivery.ok()) return nullptr;
    EXPECT_TRUE((*delivery)->Recover().ok());
    if (pause_first) {
      EXPECT_TRUE((*delivery)->SetPaused(true).ok());
    }
    (*delivery)->Start();
    (*delivery)->NotifyWritten(written);
    return *std::move(delivery);
  }

  // The message ids of every batch a request carried, in order.
  static std::vector<std::string> MessageIds(const std::vector<RecordedRequest>& requests) {
    std::vector<std::string> ids;
    simdjson::dom::parser parser;
    for (const RecordedRequest& request : requests) {
      simdjson::dom::element body;
      EXPECT_EQ(parser.parse(request.body).get(body), simdjson::SUCCESS) << request.body;
      simdjson::dom::array batch;
      EXPECT_EQ(body["batch"].get(batch), simdjson::SUCCESS) << request.body;
      for (simdjson::dom::element event : batch) ids.emplace_back(std::string_view(event["messageId"]));
    }
    return ids;
  }

  static std::vector<std::string> Range(uint64_t first, uint64_t last) {
    std::vector<std::string> ids;
    for (uint64_t n = first; n <= last; ++n) ids.push_back("m-" + std::to_string(n));
    return ids;
  }

  size_t Count(ColumnFamily family) {
    size_t rows = 0;
    EXPECT_TRUE(store_->ScanPrefix(family, OutboxPrefix(kSpace, "hook"), [&](auto, auto) { ++rows; }).ok());
    return rows;
  }

  bool WaitForCursor(Delivery& delivery, uint64_t cursor) {
    for (int i = 0; i < 1000 && delivery.metrics().cursor.load() < cursor; ++i) std::this_thread::sleep_for(10ms);
    return delivery.metrics().cursor.load() >= cursor;
  }

  std::vector<DeliveryDeadLetter> DeadLetters() {
    std::vector<DeliveryDeadLetter> letters;
    EXPECT_TRUE(store_
                    ->ScanPrefix(ColumnFamily::kDeliveryDeadLetters, OutboxPrefix(kSpace, "hook"),
                                 [&](std::string_view, std::string_view value) {
                                   auto letter = DecodeDeliveryDeadLetter(value);
                                   EXPECT_TRUE(letter.ok());
                                   if (letter.ok()) letters.push_back(*std::move(letter));
                                 })
                    .ok());
    return letters;
  }

  testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
  FakeHttpServer server_;
};

TEST_F(DeliveryTest, DeliversEveryRowInOrderInSignedBatchesAndMovesTheCursor) {
  PutProfile(1);
  PutRows(1, 250);
  auto delivery = Start(Spec(), 250);
  ASSERT_TRUE(WaitForCursor(*delivery, 250));
  const std::vector<RecordedRequest> requests = server_.Accepted();
  ASSERT_EQ(requests.size(), 3u) << "batches of 100";
  EXPECT_EQ(MessageIds(requests), Range(1, 250));
  for (const RecordedRequest& request : requests) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.target, "/hook?x=1");
    EXPECT_EQ(request.Header("content-type"), "application/json");
    EXPECT_TRUE(VerifyWebhook("s3cret", request.Header("tessera-signature"), request.body,
                              std::chrono::system_clock::now(), 300s)
                    .ok())
        << request.Header("tessera-signature");
    EXPECT_FALSE(VerifyWebhook("other", request.Header("tessera-signature"), request.body,
                               std::chrono::system_clock::now(), 300s)
                     .ok());
  }
  EXPECT_EQ(requests[0].Header("idempotency-key"), "hook-1-100");
  EXPECT_EQ(requests[2].Header("idempotency-key"), "hook-201-250");
  EXPECT_EQ(Count(ColumnFamily::kOutbox), 0u) << "delivered rows leave the outbox";
  EXPECT_EQ(delivery->metrics().delivered.load(), 250u);
  auto cursor = store_->Get(ColumnFamily::kMeta, DeliveredCursorKey(kSpace, "hook"));
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(profile_store::ReadBigEndian64(*cursor), 250u);
}

TEST_F(DeliveryTest, RowsWaitingFromBeforeARestartAreAllDeliveredWithoutANewAnnouncement) {
  // After kill -9 the resolver has nothing new to announce: the outbox itself says how far it got
  // (this stalled after the first batch once, found by the kill -9 end-to-end test).
  PutProfile(1);
  PutRows(1, 12);
  DestinationSpec spec = Spec();
  spec.batch_events = 5;
  auto delivery = Start(spec, /*written=*/0);
  ASSERT_TRUE(WaitForCursor(*delivery, 12));
  EXPECT_EQ(MessageIds(server_.Accepted()), Range(1, 12));
  EXPECT_EQ(delivery->metrics().lag(), 0u);
}

TEST_F(DeliveryTest, RetriesTheSameBatchOn5xx429AndTimeoutsHonouringRetryAfter) {
  PutProfile(1);
  PutRows(1, 5);
  server_.SetResponder([](const RecordedRequest&, size_t index) {
    if (index == 0) return FakeResponse{.status = 503, .body = "down"};
    if (index == 1) return FakeResponse{.status = 429, .body = "slow down", .headers = {{"Retry-After", "1"}}};
    if (index == 2) return FakeResponse{.delay = 1500ms};  // past the 300 ms timeout
    if (index == 3) return FakeResponse{.close_without_answer = true};
    return FakeResponse{};
  });
  DestinationSpec spec = Spec();
  spec.timeout = 300ms;
  auto delivery = Start(spec, 5);
  ASSERT_TRUE(WaitForCursor(*delivery, 5));
  const std::vector<RecordedRequest> all = server_.All();
  ASSERT_EQ(all.size(), 5u);
  std::set<std::string> keys;
  for (const RecordedRequest& request : all) keys.insert(request.Header("idempotency-key"));
  EXPECT_EQ(keys, std::set<std::string>{"hook-1-5"}) << "every attempt of a batch carries its key";
  EXPECT_GE(all[2].received - all[1].received, 990ms) << "Retry-After: 1 was honoured";
  EXPECT_EQ(MessageIds(server_.Accepted()), Range(1, 5));
  EXPECT_EQ(delivery->metrics().failures.load(), 4u);
  EXPECT_EQ(delivery->metrics().retries.load(), 4u);
  EXPECT_TRUE(DeadLetters().empty());
  const auto errors = delivery->RecentErrors();
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[3].message, "HTTP 503: down");
  EXPECT_EQ(errors[2].message, "HTTP 429: slow down");
}

TEST_F(DeliveryTest, AClientErrorDeadLettersTheBatchWithTheAnswerAndDeliveryGoesOn) {
  PutProfile(1);
  PutRows(1, 4);
  server_.SetResponder([](const RecordedRequest& request, size_t) {
    if (request.body.find("\"m-1\"") != std::string::npos) return FakeResponse{.status = 400, .body = "bad field"};
    return FakeResponse{};
  });
  DestinationSpec spec = Spec();
  spec.batch_events = 2;
  auto delivery = Start(spec, 4);
  ASSERT_TRUE(WaitForCursor(*delivery, 4));
  EXPECT_EQ(server_.All().size(), 2u) << "a 400 is not retried";
  EXPECT_EQ(MessageIds(server_.Accepted()), Range(3, 4));
  const std::vector<DeliveryDeadLetter> letters = DeadLetters();
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].reason, "HTTP 400: bad field");
  EXPECT_EQ(letters[0].last_status, 400);
  EXPECT_EQ(letters[0].last_response, "bad field");
  EXPECT_EQ(letters[0].attempts, 1u);
  EXPECT_EQ(DecodeOutboxItem(letters[1].item)->message_id, "m-2");
  EXPECT_EQ(delivery->metrics().dead_letters.load(), 2u);

  // Fixed on the other side: a replay sends them again and they leave the dead letters.
  server_.SetResponder([](const RecordedRequest&, size_t) { return FakeResponse{}; });
  auto waiting = delivery->ReplayDeadLetters();
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(*waiting, 2u);
  ASSERT_TRUE(server_.WaitFor([](const auto& accepted) { return accepted.size() == 2; }, 10s));
  for (int i = 0; i < 500 && delivery->metrics().dead_letters.load() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(MessageIds({server_.Accepted()[1]}), Range(1, 2));
  EXPECT_EQ(server_.Accepted()[1].Header("idempotency-key"), "hook-r1-2");
  EXPECT_TRUE(DeadLetters().empty());
  EXPECT_EQ(delivery->metrics().replayed.load(), 2u);
}

TEST_F(DeliveryTest, FailuresPastDeadLetterAfterAreGivenUpWithTheLastAnswer) {
  PutProfile(1);
  PutRows(1, 3);
  server_.SetResponder([](const RecordedRequest&, size_t) { return FakeResponse{.status = 500, .body = "boom"}; });
  DestinationSpec spec = Spec();
  spec.dead_letter_after = 1s;
  auto delivery = Start(spec, 3);
  ASSERT_TRUE(WaitForCursor(*delivery, 3));
  const std::vector<DeliveryDeadLetter> letters = DeadLetters();
  ASSERT_EQ(letters.size(), 3u);
  EXPECT_EQ(letters[0].reason, "retried for 1 s: HTTP 500: boom");
  EXPECT_GE(letters[0].attempts, 3u);
  EXPECT_GE(letters[0].last_attempt - letters[0].first_attempt, 900ms);
  EXPECT_EQ(Count(ColumnFamily::kOutbox), 0u);
}

TEST_F(DeliveryTest, APausedDestinationSendsNothingUntilResumedEvenAfterARestart) {
  PutProfile(1);
  PutRows(1, 3);
  {
    auto delivery = Start(Spec(), 0, /*pause_first=*/true);
    delivery->NotifyWritten(3);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(server_.Count(), 0u);
  }
  auto delivery = Start(Spec(), 3);
  EXPECT_TRUE(delivery->paused()) << "the switch is kept in the store";
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(server_.Count(), 0u);
  ASSERT_TRUE(delivery->SetPaused(false).ok());
  ASSERT_TRUE(WaitForCursor(*delivery, 3));
  EXPECT_EQ(MessageIds(server_.Accepted()), Range(1, 3));
}

TEST_F(DeliveryTest, RowsOfErasedProfilesAndWithdrawnConsentAreNotSentButExitsAre) {
  PutProfile(1, "marketing", true);
  PutProfile(2, "marketing", false);  // withdrew since its rows were written
  // Profile 3 was erased: no record.
  PutRows(1, 2, 1);
  PutRows(3, 4, 2);
  PutRows(5, 6, 3);
  PutRows(7, 7, 3, OutboxKind::kAudienceExited);
  DestinationSpec spec = Spec();
  spec.consent = "marketing";
  auto delivery = Start(spec, 7);
  ASSERT_TRUE(WaitForCursor(*delivery, 7));
  const std::vector<RecordedRequest> requests = server_.Accepted();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_NE(requests[0].body.find("\"event\":\"Audience Exited\""), std::string::npos) << requests[0].body;
  EXPECT_EQ(MessageIds(requests), (std::vector<std::string>{"m-1", "m-2", "m-7"}));
  EXPECT_EQ(delivery->metrics().skipped.load(), 4u);
}

TEST_F(DeliveryTest, WithoutAConsentPurposeNoProfileIsReadBeforeSending) {
  // No profile records at all: a destination without a purpose sends what the outbox holds (an
  // erasure removes a person's rows from the outbox itself).
  PutRows(1, 3, /*profile=*/42);
  auto delivery = Start(Spec(), 3);
  ASSERT_TRUE(WaitForCursor(*delivery, 3));
  EXPECT_EQ(MessageIds(server_.Accepted()), Range(1, 3));
  EXPECT_EQ(delivery->metrics().skipped.load(), 0u);
}

TEST_F(DeliveryTest, EventRowsNamingALogPositionAreSentAsLoggedAndOnesGoneFromTheLogAreSkipped) {
  // What the resolver writes: the row names the log position, the event is in the log.
  rocksdb::WriteBatch log;
  rocksdb::WriteBatch rows;
  for (uint64_t n = 1; n <= 4; ++n) {
    ingest::CanonicalEvent event;
    event.message_id = "m-" + std::to_string(n);
    event.space = std::string(kSpace);
    event.event = "Order Completed";
    event.properties = R"({"revenue":)" + std::to_string(n * 10) + "}";
    event.timestamp = event.received_at = base::Timestamp{} + std::chrono::seconds(1'700'000'000 + n);
    std::string record;
    ingest::EncodeEvent(event, record);
    if (n != 3) log.Put(store_->handle(ColumnFamily::kLog), ingest::AcceptedLog::Key(kSpace, n), record);
    OutboxItem item;
    item.profile_id = 1;
    item.log_sequence = n;
    item.message_id = event.message_id;
    std::string encoded;
    EncodeOutboxItem(item, encoded);
    rows.Put(store_->handle(ColumnFamily::kOutbox), OutboxKey(kSpace, "hook", n), encoded);
  }
  ASSERT_TRUE(store_->WriteIntake(log).ok());
  ASSERT_TRUE(store_->Write(rows).ok());
  server_.SetResponder([](const RecordedRequest& request, size_t) {
    if (request.body.find("\"m-4\"") != std::string::npos) return FakeResponse{.status = 400, .body = "no"};
    return FakeResponse{};
  });
  DestinationSpec spec = Spec();
  spec.batch_events = 2;
  auto delivery = Start(spec, 4);
  ASSERT_TRUE(WaitForCursor(*delivery, 4));
  const std::vector<RecordedRequest> requests = server_.Accepted();
  EXPECT_EQ(MessageIds(requests), Range(1, 2));
  ASSERT_FALSE(requests.empty());
  EXPECT_NE(requests[0].body.find(R"("properties":{"revenue":20})"), std::string::npos) << requests[0].body;
  EXPECT_EQ(delivery->metrics().skipped.load(), 1u) << "m-3 left the log before it was sent";
  bool reported = false;
  for (const auto& error : delivery->RecentErrors()) reported |= error.message.find("left the log") != std::string::npos;
  EXPECT_TRUE(reported);
  // The letter keeps the event itself: it outlives the log's retention.
  const std::vector<DeliveryDeadLetter> letters = DeadLetters();
  ASSERT_EQ(letters.size(), 1u);
  absl::StatusOr<OutboxItem> kept = DecodeOutboxItem(letters[0].item);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_NE(kept->event_json.find(R"("messageId":"m-4")"), std::string::npos) << kept->event_json;
}

}  // namespace
}  // namespace tessera::activation
