#include "api/position_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace tessera::api {
namespace {

using std::chrono::milliseconds;

std::string Header(const HttpReply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return "(none)";
}

class PositionGateTest : public ::testing::Test {
 protected:
  // Runs the gate for `query` on an I/O context until it replies; counts calls of the answer.
  HttpReply Read(std::string_view query, milliseconds max_wait = milliseconds(2000),
                 std::function<void(boost::asio::io_context&)> meanwhile = {},
                 std::optional<HttpReply> refusal = std::nullopt) {
    PositionGate gate(
        [this](std::string_view space) {
          spaces_asked_.push_back(std::string(space));
          return applied_.load();
        },
        max_wait);
    boost::asio::io_context io;
    std::optional<HttpReply> replied;
    gate.Run(io.get_executor(), query, [&refusal] { return refusal; },
             [this] {
               ++answered_;
               return HttpReply{.status = 200, .body = "profile"};
             },
             [&](HttpReply reply) { replied = std::move(reply); });
    if (meanwhile) meanwhile(io);
    io.run();
    EXPECT_TRUE(replied.has_value());
    return replied.value_or(HttpReply{});
  }

  std::atomic<uint64_t> applied_{0};
  int answered_ = 0;
  std::vector<std::string> spaces_asked_;
};

TEST_F(PositionGateTest, AReadWithoutMinPositionIsAnsweredAtOnceWithThePositionItReflects) {
  applied_ = 42;
  HttpReply reply = Read("");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(Header(reply, "Tessera-Position"), "42");
  EXPECT_EQ(answered_, 1);
  EXPECT_EQ(spaces_asked_.front(), "default");
}

// Moves the applied position to `to` after `delay`, on the gate's own I/O context.
std::function<void(boost::asio::io_context&)> AdvanceLater(std::atomic<uint64_t>& applied, uint64_t to,
                                                           milliseconds delay) {
  return [&applied, to, delay](boost::asio::io_context& io) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io, delay);
    timer->async_wait([timer, &applied, to](const boost::system::error_code&) { applied = to; });
  };
}

TEST_F(PositionGateTest, AReadWaitsUntilItsSpaceReachesMinPosition) {
  applied_ = 5;
  HttpReply reply = Read("space=shop&min_position=9", milliseconds(5000), AdvanceLater(applied_, 12, milliseconds(100)));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "profile");
  EXPECT_EQ(Header(reply, "Tessera-Position"), "12");
  EXPECT_EQ(answered_, 1);
  EXPECT_GT(spaces_asked_.size(), 1u) << "polled while waiting";
  for (const std::string& space : spaces_asked_) EXPECT_EQ(space, "shop");
}

TEST_F(PositionGateTest, AReadNotReachedWithinTheWaitIs503WithRetryAfterAndNotAnswered) {
  applied_ = 5;
  HttpReply reply = Read("min_position=6", milliseconds(100));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(Header(reply, "Retry-After"), "1");
  EXPECT_EQ(Header(reply, "Tessera-Position"), "5");
  EXPECT_NE(reply.body.find(R"("code":"unavailable")"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("up to position 5, not yet min_position 6"), std::string::npos) << reply.body;
  EXPECT_EQ(answered_, 0);
}

TEST_F(PositionGateTest, AMinPositionThatIsNoNumberIs400) {
  for (std::string_view query : {"min_position=soon", "min_position=-1", "min_position="}) {
    HttpReply reply = Read(query);
    EXPECT_EQ(reply.status, 400) << query;
    EXPECT_NE(reply.body.find(R"("field":"min_position")"), std::string::npos) << reply.body;
  }
  EXPECT_EQ(answered_, 0);
}

// A read its key may not make is refused at once: it neither waits nor learns a position.
TEST_F(PositionGateTest, ARefusedReadIsAnsweredAtOnceWithoutAPosition) {
  applied_ = 5;
  HttpReply reply = Read("min_position=1000000", milliseconds(5000), {}, ErrorReply(401, "unauthorized", "unknown key"));
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(Header(reply, "Tessera-Position"), "(none)");
  EXPECT_EQ(answered_, 0);
  EXPECT_TRUE(spaces_asked_.empty());
}

}  // namespace
}  // namespace tessera::api
