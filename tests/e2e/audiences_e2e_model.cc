// The audiences under test and the generation of the model's people and their events
// (audiences_e2e_model.h).

#include "tests/e2e/audiences_e2e_model.h"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {

std::vector<AudienceCase> Audiences() {
  return {
      {"recent_buyers", R"({"event":"Order Completed","window":"30d"})", true,
       [](const Model& m, const Person& p) { return m.Orders(p, 30 * kDay) >= 1; }},
      {"lapsed",
       R"({"all":[{"event":"Order Completed"},{"not":{"event":"Order Completed","window":"90d"}},)"
       R"({"event":"Email Opened","window":"7d"}]})",
       true,
       [](const Model& m, const Person& p) {
         return m.Orders(p, 0) >= 1 && m.Orders(p, 90 * kDay) == 0 && m.EmailOpens(p, 7 * kDay) >= 1;
       }},
      {"sms_reachable", R"({"all":[{"identifier":"phone"},{"trait":"consent.sms","op":"eq","value":true}]})",
       true, [](const Model&, const Person& p) { return !p.phone.empty() && p.consent_sms; }},
      {"app_recent",
       R"({"any":[{"channel":"app","window":"30d"},{"event":"Email Opened","window":"7d","op":"gte","value":2}]})",
       true,
       [](const Model& m, const Person& p) {
         return m.Orders(p, 30 * kDay, Channel::kApp) >= 1 || m.EmailOpens(p, 7 * kDay) >= 2;
       }},
      {"big_spenders", R"({"computed":"revenue","op":"gte","value":200})", false,
       [](const Model&, const Person& p) {
         const auto revenue = Model::Revenue(p);
         return revenue && *revenue >= 200;
       }},
      {"pro_frequent",
       R"({"all":[{"trait":"plan","op":"in","value":["pro","team"]},{"computed":"orders_90d","op":"gte","value":2}]})",
       false,
       [](const Model& m, const Person& p) {
         return (p.plan == "pro" || p.plan == "team") && m.Orders(p, 90 * kDay) >= 2;
       }},
      {"low_frequency", R"({"computed":"orders_90d","op":"lte","value":1})", false,
       [](const Model& m, const Person& p) { return m.Orders(p, 90 * kDay) <= 1; }},
      {"app_buyers_30d", R"({"event":"Order Completed","channel":"app","window":"30d"})", false,
       [](const Model& m, const Person& p) { return m.Orders(p, 30 * kDay, Channel::kApp) >= 1; }},
      {"no_phone_free",
       R"({"all":[{"identifier":"phone","op":"missing"},{"trait":"plan","op":"eq","value":"free"}]})", false,
       [](const Model&, const Person& p) { return p.phone.empty() && p.plan == "free"; }},
  };
}

std::set<std::string> Expected(const Model& model, const AudienceCase& audience) {
  std::set<std::string> members;
  for (const Person& p : model.people) {
    if (audience.member(model, p)) members.insert(p.user_id);
  }
  return members;
}

namespace {

std::string Iso(int64_t micros) {
  const time_t seconds = static_cast<time_t>(micros / kSecond);
  const int millis = static_cast<int>((micros / 1000) % 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return buffer;
}

std::string Number(double value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

// A time `[min_ago, max_ago]` before `now`, in whole milliseconds, never within two hours of a
// window boundary that an audience tests.
int64_t SafeTimeAgo(std::mt19937& rng, int64_t now, int64_t min_ago, int64_t max_ago) {
  std::uniform_int_distribution<int64_t> ago_ms(min_ago / 1000, max_ago / 1000);
  while (true) {
    const int64_t ago = ago_ms(rng) * 1000;
    bool near_boundary = false;
    for (int64_t boundary : {7 * kDay, 30 * kDay, 90 * kDay}) {
      if (ago > boundary - 2 * kHour && ago < boundary + 2 * kHour) near_boundary = true;
    }
    if (!near_boundary) return now - ago;
  }
}

}  // namespace

Model Generate(int64_t now) {
  std::mt19937 rng(kSeed);
  Model model;
  model.now = now;
  std::uniform_real_distribution<double> unit(0, 1);
  std::discrete_distribution<int> order_count({35, 25, 15, 10, 7, 5, 3});  // 0..6, power-law-ish
  std::discrete_distribution<int> open_count({50, 25, 15, 10});            // 0..3
  std::uniform_int_distribution<int> quarters(20, 800);                    // 5.00 .. 200.00
  for (int i = 0; i < kPeople; ++i) {
    Person p;
    p.index = i;
    p.user_id = "u-" + std::to_string(i);
    p.email = "person" + std::to_string(i) + "@example.com";
    if (unit(rng) < 0.6) {
      char phone[32];
      std::snprintf(phone, sizeof(phone), "+82102%07d", i);  // Korean mobile numbers, all valid
      p.phone = phone;
    }
    const double plan = unit(rng);
    p.plan = plan < 0.5 ? "free" : (plan < 0.8 ? "pro" : "team");
    p.consent_sms = unit(rng) < 0.5;
    p.identify_time = SafeTimeAgo(rng, now, 201 * kDay, 210 * kDay);
    const int orders = order_count(rng);
    for (int k = 0; k < orders; ++k) {
      Order order;
      order.time = SafeTimeAgo(rng, now, 5 * kMinute, 200 * kDay);
      order.total = quarters(rng) * 0.25;
      order.channel = unit(rng) < 0.5 ? Channel::kWeb : Channel::kApp;
      p.orders.push_back(order);
    }
    const int opens = open_count(rng);
    for (int k = 0; k < opens; ++k) p.email_opens.push_back(SafeTimeAgo(rng, now, 5 * kMinute, 20 * kDay));
    model.people.push_back(std::move(p));
  }
  return model;
}

std::string IdentifyJson(const Person& p, const std::string& message_id, int64_t time,
                         const std::string& traits) {
  return R"({"type":"identify","userId":")" + p.user_id + R"(","messageId":")" + message_id +
         R"(","timestamp":")" + Iso(time) + R"(","traits":)" + traits + "}";
}

std::string OrderJson(const Person& p, const std::string& message_id, const Order& order) {
  return R"({"type":"track","event":"Order Completed","userId":")" + p.user_id + R"(","messageId":")" +
         message_id + R"(","timestamp":")" + Iso(order.time) + R"(","properties":{"total":)" +
         Number(order.total) + R"(,"currency":"EUR"}})";
}

std::string EmailOpenedJson(const Person& p, const std::string& message_id, int64_t time) {
  return R"({"type":"track","event":"Email Opened","userId":")" + p.user_id + R"(","messageId":")" +
         message_id + R"(","timestamp":")" + Iso(time) + R"(","properties":{"campaign":"weekly"}})";
}

std::string_view KeyOf(Channel channel) {
  switch (channel) {
    case Channel::kWeb:
      return kWriteKey;
    case Channel::kApp:
      return kAppWriteKey;
    case Channel::kEmail:
      return kEmailWriteKey;
  }
  return kWriteKey;
}

std::vector<OutgoingEvent> InitialEvents(Model& model, std::mt19937& rng) {
  std::vector<OutgoingEvent> events;
  for (Person& p : model.people) {
    std::string traits = R"({"email":")" + p.email + "\"";
    if (!p.phone.empty()) traits += R"(,"phone":")" + p.phone + "\"";
    traits += R"(,"plan":")" + p.plan + R"(","consent":{"sms":)" + (p.consent_sms ? "true" : "false") + "}}";
    events.push_back(
        {kWriteKey, IdentifyJson(p, "id-" + std::to_string(p.index), p.identify_time, traits), p.index});
    for (size_t k = 0; k < p.orders.size(); ++k) {
      events.push_back({KeyOf(p.orders[k].channel),
                        OrderJson(p, "o-" + std::to_string(p.index) + "-" + std::to_string(k), p.orders[k]),
                        p.index});
    }
    for (size_t k = 0; k < p.email_opens.size(); ++k) {
      events.push_back(
          {kEmailWriteKey,
           EmailOpenedJson(p, "e-" + std::to_string(p.index) + "-" + std::to_string(k), p.email_opens[k]),
           p.index});
    }
    p.events += static_cast<int>(1 + p.orders.size() + p.email_opens.size());
  }
  // Events arrive in no particular order, as they do from many devices.
  std::shuffle(events.begin(), events.end(), rng);
  return events;
}

}  // namespace tessera::e2e
