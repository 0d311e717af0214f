#pragma once

// The model behind the audiences end-to-end test (audiences_e2e_test.cc): ten thousand synthetic
// people generated with a fixed seed, their orders and email opens, the audiences under test with
// the model's verdict on each person, and the Segment events that tell the server the same story.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::e2e {

inline constexpr std::string_view kAppWriteKey = "aud-e2e-app-key";      // channel app
inline constexpr std::string_view kEmailWriteKey = "aud-e2e-email-key";  // channel email

inline constexpr int kPeople = 10'000;
inline constexpr uint32_t kSeed = 20240607;
inline constexpr int64_t kSecond = 1'000'000;  // microseconds
inline constexpr int64_t kMinute = 60 * kSecond;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kDay = 24 * kHour;

// ----- The model: people and their events, as the test generated them -----

enum class Channel { kWeb, kApp, kEmail };

struct Order {
  int64_t time = 0;  // microseconds since the epoch
  double total = 0;  // a multiple of 0.25, so that sums are exact in binary floating point
  Channel channel = Channel::kWeb;
};

struct Person {
  int index = 0;
  std::string user_id;
  std::string email;
  std::string phone;  // empty: none
  std::string plan;   // free, pro, team
  bool consent_sms = false;
  int64_t identify_time = 0;
  std::vector<Order> orders;
  std::vector<int64_t> email_opens;
  int events = 0;  // events sent for this person so far
};

struct Model {
  int64_t now = 0;
  std::vector<Person> people;

  int Orders(const Person& p, int64_t window, std::optional<Channel> channel = std::nullopt) const {
    int count = 0;
    for (const Order& order : p.orders) {
      if ((window == 0 || order.time >= now - window) && (!channel || order.channel == *channel)) ++count;
    }
    return count;
  }
  int EmailOpens(const Person& p, int64_t window) const {
    return static_cast<int>(std::count_if(p.email_opens.begin(), p.email_opens.end(),
                                          [&](int64_t t) { return t >= now - window; }));
  }
  static std::optional<double> Revenue(const Person& p) {
    if (p.orders.empty()) return std::nullopt;
    double sum = 0;
    for (const Order& order : p.orders) sum += order.total;
    return sum;
  }
};

// One audience: its definition as the server gets it and the model's verdict.
struct AudienceCase {
  std::string name;
  std::string condition;  // JSON
  bool in_config = false;
  std::function<bool(const Model&, const Person&)> member;
};

std::vector<AudienceCase> Audiences();

inline constexpr std::string_view kComputedTraits =
    R"([{"name":"orders_90d","kind":"count","event":"Order Completed","window":"90d"},)"
    R"({"name":"revenue","kind":"sum","event":"Order Completed","property":"properties.total"}])";

// The user ids of the people the model puts in `audience`.
std::set<std::string> Expected(const Model& model, const AudienceCase& audience);

// ----- Generation -----

// kPeople people, drawn with the seed kSeed; their events lie up to 210 days before `now`, never
// within two hours of a window boundary.
Model Generate(int64_t now);

struct OutgoingEvent {
  std::string_view key;
  std::string json;
  int person = 0;
};

std::string IdentifyJson(const Person& p, const std::string& message_id, int64_t time,
                         const std::string& traits);

std::string OrderJson(const Person& p, const std::string& message_id, const Order& order);

std::string EmailOpenedJson(const Person& p, const std::string& message_id, int64_t time);

// The write key of the source of `channel`.
std::string_view KeyOf(Channel channel);

// Every person's identify, orders and email opens, shuffled with `rng`; counts them in
// Person::events.
std::vector<OutgoingEvent> InitialEvents(Model& model, std::mt19937& rng);

}  // namespace tessera::e2e
