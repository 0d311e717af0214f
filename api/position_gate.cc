#include "api/position_gate.h"

#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/router.h"

namespace tessera::api {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(10);

// One waiting read: polls the applied position until it is reached or the deadline passes.
struct Wait : std::enable_shared_from_this<Wait> {
  explicit Wait(const boost::asio::any_io_executor& executor) : timer(executor) {}
  boost::asio::steady_timer timer;
  std::function<uint64_t()> applied;
  uint64_t wanted = 0;
  std::string space;
  std::chrono::steady_clock::time_point deadline;
  std::function<HttpReply()> answer;
  std::function<void(HttpReply)> reply;

  void Poll() {
    const uint64_t now = applied();
    if (now >= wanted) {
      HttpReply answered = answer();
      answered.headers.emplace_back("Tessera-Position", std::to_string(now));
      return reply(std::move(answered));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      HttpReply refused = ErrorReply(
          503, "unavailable",
          absl::StrCat("this member has applied space \"", space, "\" up to position ", now, ", not yet min_position ",
                       wanted, "; retry, or read from another member"));
      refused.headers.emplace_back("Retry-After", "1");
      refused.headers.emplace_back("Tessera-Position", std::to_string(now));
      return reply(std::move(refused));
    }
    timer.expires_after(kPollInterval);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code&) { self->Poll(); });
  }
};

}  // namespace

void PositionGate::Run(const boost::asio::any_io_executor& executor, std::string_view query,
                       const std::function<std::optional<HttpReply>()>& refusal, std::function<HttpReply()> answer,
                       std::function<void(HttpReply)> reply) const {
  if (std::optional<HttpReply> refused = refusal()) return reply(*std::move(refused));
  std::string space = "default";
  if (std::string_view requested = QueryParam(query, "space"); !requested.empty()) space = std::string(requested);
  uint64_t wanted = 0;
  if (std::optional<std::string_view> text = FindQueryParam(query, "min_position"); text.has_value()) {
    if (!absl::SimpleAtoi(absl::string_view(text->data(), text->size()), &wanted)) {
      return reply(ErrorReply(400, "bad_request",
                              "min_position: a stream position (the \"position\" of a gateway's answer) is a "
                              "non-negative integer",
                              "min_position"));
    }
  }
  auto wait = std::make_shared<Wait>(executor);
  wait->applied = [this, space] { return applied_(space); };
  wait->wanted = wanted;
  wait->space = space;
  wait->deadline = std::chrono::steady_clock::now() + max_wait_;
  wait->answer = std::move(answer);
  wait->reply = std::move(reply);
  wait->Poll();
}

}  // namespace tessera::api
