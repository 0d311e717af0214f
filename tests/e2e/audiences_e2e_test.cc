// End-to-end test of computed traits and audiences (issue 7's acceptance test). Ten thousand
// synthetic people, generated with a fixed seed, are sent through /v1/batch; audiences defined in
// the config and through the admin API must then hold exactly the people a plain C++ model of the
// same data says they should (sizes, CSV and NDJSON member exports, profiles' computedTraits and
// audiences). New events then move people in and out, and the exports, sizes and entered/left
// counters must follow exactly; `tessera export` next to the running server must agree.
//
// Determinism: `now` is taken once; no event lies within two hours of a window boundary the
// audiences test (now-7d, now-30d, now-90d), and the test takes minutes, so the server's clock
// (the real one) cannot disagree with the model about any window.

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <charconv>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAppWriteKey = "aud-e2e-app-key";      // channel app
constexpr std::string_view kEmailWriteKey = "aud-e2e-email-key";  // channel email

constexpr int kPeople = 10'000;
constexpr uint32_t kSeed = 20240607;
constexpr int64_t kSecond = 1'000'000;  // microseconds
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr size_t kMaxBatchBytes = 400 * 1024;

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
    return static_cast<int>(
        std::count_if(p.email_opens.begin(), p.email_opens.end(), [&](int64_t t) { return t >= now - window; }));
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
      {"sms_reachable", R"({"all":[{"identifier":"phone"},{"trait":"consent.sms","op":"eq","value":true}]})", true,
       [](const Model&, const Person& p) { return !p.phone.empty() && p.consent_sms; }},
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
      {"no_phone_free", R"({"all":[{"identifier":"phone","op":"missing"},{"trait":"plan","op":"eq","value":"free"}]})",
       false, [](const Model&, const Person& p) { return p.phone.empty() && p.plan == "free"; }},
  };
}

constexpr std::string_view kComputedTraits =
    R"([{"name":"orders_90d","kind":"count","event":"Order Completed","window":"90d"},)"
    R"({"name":"revenue","kind":"sum","event":"Order Completed","property":"properties.total"}])";

std::set<std::string> Expected(const Model& model, const AudienceCase& audience) {
  std::set<std::string> members;
  for (const Person& p : model.people) {
    if (audience.member(model, p)) members.insert(p.user_id);
  }
  return members;
}

// ----- Generation -----

std::string Iso(int64_t micros) {
  const time_t seconds = static_cast<time_t>(micros / kSecond);
  const int millis = static_cast<int>((micros / 1000) % 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
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

Model Generate(int64_t now) {
  std::mt19937 rng(kSeed);
  Model model;
  model.now = now;
  std::uniform_real_distribution<double> unit(0, 1);
  std::discrete_distribution<int> order_count({35, 25, 15, 10, 7, 5, 3});  // 0..6, power-law-ish
  std::discrete_distribution<int> open_count({50, 25, 15, 10});            // 0..3
  std::uniform_int_distribution<int> quarters(20, 800);                     // 5.00 .. 200.00
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

struct OutgoingEvent {
  std::string_view key;
  std::string json;
  int person = 0;
};

std::string IdentifyJson(const Person& p, const std::string& message_id, int64_t time, const std::string& traits) {
  return R"({"type":"identify","userId":")" + p.user_id + R"(","messageId":")" + message_id +
         R"(","timestamp":")" + Iso(time) + R"(","traits":)" + traits + "}";
}

std::string OrderJson(const Person& p, const std::string& message_id, const Order& order) {
  return R"({"type":"track","event":"Order Completed","userId":")" + p.user_id + R"(","messageId":")" + message_id +
         R"(","timestamp":")" + Iso(order.time) + R"(","properties":{"total":)" + Number(order.total) +
         R"(,"currency":"EUR"}})";
}

std::string EmailOpenedJson(const Person& p, const std::string& message_id, int64_t time) {
  return R"({"type":"track","event":"Email Opened","userId":")" + p.user_id + R"(","messageId":")" + message_id +
         R"(","timestamp":")" + Iso(time) + R"(","properties":{"campaign":"weekly"}})";
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
    events.push_back({kWriteKey, IdentifyJson(p, "id-" + std::to_string(p.index), p.identify_time, traits), p.index});
    for (size_t k = 0; k < p.orders.size(); ++k) {
      events.push_back({KeyOf(p.orders[k].channel),
                        OrderJson(p, "o-" + std::to_string(p.index) + "-" + std::to_string(k), p.orders[k]), p.index});
    }
    for (size_t k = 0; k < p.email_opens.size(); ++k) {
      events.push_back({kEmailWriteKey,
                        EmailOpenedJson(p, "e-" + std::to_string(p.index) + "-" + std::to_string(k), p.email_opens[k]),
                        p.index});
    }
    p.events += static_cast<int>(1 + p.orders.size() + p.email_opens.size());
  }
  // Events arrive in no particular order, as they do from many devices.
  std::shuffle(events.begin(), events.end(), rng);
  return events;
}

// ----- Parsing answers -----

// RFC 4180 rows (quoted fields, doubled quotes, CRLF or LF line ends).
std::vector<std::vector<std::string>> ParseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = true;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      field_started = false;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (field_started || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string Describe(const std::set<std::string>& got, const std::set<std::string>& want) {
  std::vector<std::string> missing;
  std::vector<std::string> extra;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
  std::ostringstream out;
  out << "got " << got.size() << " members, expected " << want.size() << "; " << missing.size()
      << " missing, " << extra.size() << " unexpected.";
  if (!missing.empty()) {
    out << " First missing:";
    for (size_t i = 0; i < std::min<size_t>(8, missing.size()); ++i) out << " " << missing[i];
  }
  if (!extra.empty()) {
    out << " First unexpected:";
    for (size_t i = 0; i < std::min<size_t>(8, extra.size()); ++i) out << " " << extra[i];
  }
  return out.str();
}

struct AudienceInfo {
  bool ok = false;
  int64_t size = -1;
  int64_t entered = -1;
  int64_t left = -1;
  bool evaluated = false;
  std::string body;
};

AudienceInfo ParseAudienceInfo(const std::string& body) {
  AudienceInfo info;
  info.body = body;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) return info;
  const auto integer = [&](const char* key, int64_t& out) {
    simdjson::dom::element value;
    if (root[key].get(value) != simdjson::SUCCESS) return false;
    if (value.get_int64().get(out) == simdjson::SUCCESS) return true;
    uint64_t unsigned_value = 0;
    if (value.get_uint64().get(unsigned_value) == simdjson::SUCCESS) {
      out = static_cast<int64_t>(unsigned_value);
      return true;
    }
    return false;
  };
  bool evaluated = false;
  info.ok = integer("size", info.size) && integer("entered", info.entered) && integer("left", info.left) &&
            root["evaluated"].get_bool().get(evaluated) == simdjson::SUCCESS;
  info.evaluated = evaluated;
  return info;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// ----- The test -----

class AudiencesE2eTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& audiences_json) {
    std::string extra = std::string(R"("computed_traits":)") + std::string(kComputedTraits) +
                        R"(,"audiences":)" + audiences_json +
                        R"(,"audience_sweep":{"interval_ms":2000,"chunk_profiles":1000})";
    auto started = ServerProcess::Start(
        {.data_dir = data_dir_,
         .extra_json = extra,
         .extra_sources = std::string(R"({"name":"app","write_key":")") + std::string(kAppWriteKey) +
                          R"(","channel":"app"},{"name":"esp","write_key":")" + std::string(kEmailWriteKey) +
                          R"(","channel":"email"})"});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port(), 60s);
  }

  absl::StatusOr<HttpResponse> Get(const std::string& target, std::string_view key = kReadKey) {
    return client_->Request("GET", target, {}, {{"Authorization", "Bearer " + std::string(key)}});
  }

  absl::StatusOr<HttpResponse> Put(const std::string& target, const std::string& body,
                                   std::string_view key = kAdminKey) {
    return client_->Request("PUT", target, body,
                            {{"Authorization", "Bearer " + std::string(key)}, {"Content-Type", "application/json"}});
  }

  // Posts one batch; a 503 (overloaded, Retry-After) is retried the way a client would.
  void PostBatch(std::string_view key, const std::string& events) {
    const std::string body = R"({"batch":[)" + events + "]}";
    for (int attempt = 0;; ++attempt) {
      auto response = client_->PostJson("/v1/batch", body, key);
      ASSERT_TRUE(response.ok()) << response.status();
      if (response->status == 503 && attempt < 30) {
        std::this_thread::sleep_for(1s);
        continue;
      }
      ASSERT_EQ(response->status, 200) << response->body.substr(0, 2000);
      ASSERT_EQ(response->body.find("\"rejected\""), std::string::npos) << response->body.substr(0, 2000);
      ++batches_sent_;
      return;
    }
  }

  // Sends events in per-key batches of at most kMaxBatchBytes, in order within each key. Returns
  // the person of the very last event sent.
  int SendAll(const std::vector<OutgoingEvent>& events) {
    std::map<std::string_view, std::string> pending;
    std::map<std::string_view, int> pending_last;
    int last_person = -1;
    const auto flush = [&](std::string_view key) {
      std::string& batch = pending[key];
      if (batch.empty()) return;
      PostBatch(key, batch);
      batch.clear();
      last_person = pending_last[key];
    };
    for (const OutgoingEvent& event : events) {
      std::string& batch = pending[event.key];
      if (!batch.empty() && batch.size() + event.json.size() + 64 > kMaxBatchBytes) {
        flush(event.key);
        if (HasFatalFailure()) return -1;
      }
      if (!batch.empty()) batch += ",";
      batch += event.json;
      pending_last[event.key] = event.person;
    }
    for (std::string_view key : {kWriteKey, kAppWriteKey, kEmailWriteKey}) {
      flush(key);
      if (HasFatalFailure()) return -1;
    }
    return last_person;
  }

  // The server applies the log in order: once the person of the last event has all its events,
  // everything sent before has been applied to profiles too.
  void WaitForEventCount(const Person& p) {
    std::string last;
    const bool reached = WaitFor(
        [&] {
          auto response = Get("/v1/profiles/user_id:" + p.user_id + "?fields=eventCount");
          if (!response.ok()) return false;
          last = response->body;
          return response->status == 200 &&
                 last.find("\"eventCount\":" + std::to_string(p.events)) != std::string::npos;
        },
        120s);
    ASSERT_TRUE(reached) << p.user_id << " never reached " << p.events << " events; last answer: " << last;
  }

  AudienceInfo Info(const std::string& name) {
    auto response = Get("/v1/audiences/" + name);
    if (!response.ok()) return AudienceInfo{.body = std::string(response.status().message())};
    if (response->status != 200) {
      return AudienceInfo{.body = "HTTP " + std::to_string(response->status) + ": " + response->body};
    }
    return ParseAudienceInfo(response->body);
  }

  // Waits until the audience is evaluated and has `size` members (memberships are applied
  // asynchronously); gives up after `timeout` and returns the last answer either way.
  AudienceInfo WaitForAudience(const std::string& name, size_t size, std::chrono::milliseconds timeout) {
    AudienceInfo info;
    WaitFor(
        [&] {
          info = Info(name);
          if (info.ok && info.evaluated && info.size == static_cast<int64_t>(size)) return true;
          std::this_thread::sleep_for(50ms);
          return false;
        },
        timeout);
    return info;
  }

  // Downloads the members as CSV (fields id,user_id,email) and checks every row against the model.
  std::set<std::string> CsvMembers(const std::string& name) {
    std::set<std::string> user_ids;
    auto response = Get("/v1/audiences/" + name + "/members?format=csv&fields=id,user_id,email");
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return user_ids;
    EXPECT_EQ(response->status, 200) << name << ": " << response->body.substr(0, 2000);
    if (response->status != 200) return user_ids;
    if (response->body.size() > (64 << 10)) {
      // Exports larger than one chunk of the exporter stream.
      EXPECT_NE(response->headers["transfer-encoding"].find("chunked"), std::string::npos)
          << name << ": a " << response->body.size() << "-byte member export must be a chunked stream";
    }
    const auto rows = ParseCsv(response->body);
    EXPECT_FALSE(rows.empty()) << name << ": no header row";
    if (rows.empty()) return user_ids;
    EXPECT_EQ(rows[0], (std::vector<std::string>{"id", "user_id", "email"})) << name;
    std::set<std::string> profile_ids;
    for (size_t i = 1; i < rows.size(); ++i) {
      const auto& row = rows[i];
      if (row.size() != 3) {
        ADD_FAILURE() << name << ": row " << i << " has " << row.size() << " fields";
        continue;
      }
      EXPECT_TRUE(row[0].size() == 17 && row[0][0] == 'p') << name << ": bad profile id " << row[0];
      EXPECT_TRUE(profile_ids.insert(row[0]).second) << name << ": profile " << row[0] << " listed twice";
      EXPECT_TRUE(user_ids.insert(row[1]).second) << name << ": user " << row[1] << " listed twice";
      const int index = row[1].starts_with("u-") ? std::atoi(row[1].c_str() + 2) : -1;
      if (index >= 0 && index < kPeople) {
        EXPECT_EQ(row[2], model_.people[static_cast<size_t>(index)].email) << name << ": row " << i;
      } else {
        ADD_FAILURE() << name << ": unknown user_id " << row[1];
      }
    }
    return user_ids;
  }

  // Checks every audience: size from GET, CSV members, and (optionally) counters moved by exactly
  // the people who entered and left since `before`.
  void CheckAll(const std::map<std::string, std::set<std::string>>& expected,
                const std::map<std::string, std::set<std::string>>* previous,
                const std::map<std::string, AudienceInfo>* before, std::map<std::string, AudienceInfo>* after) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (const AudienceCase& audience : audiences_) {
      const std::set<std::string>& want = expected.at(audience.name);
      const auto left_time = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::max<std::chrono::steady_clock::duration>(deadline - std::chrono::steady_clock::now(), 1s));
      const AudienceInfo info = WaitForAudience(audience.name, want.size(), left_time);
      EXPECT_TRUE(info.ok) << audience.name << ": GET /v1/audiences answered " << info.body;
      EXPECT_TRUE(info.evaluated) << audience.name << ": " << info.body;
      EXPECT_EQ(info.size, static_cast<int64_t>(want.size())) << audience.name << ": " << info.body;
      EXPECT_EQ(info.size, info.entered - info.left)
          << audience.name << ": size must be entries minus exits: " << info.body;
      if (after) (*after)[audience.name] = info;
      if (previous && before) {
        const std::set<std::string>& was = previous->at(audience.name);
        std::vector<std::string> entered;
        std::vector<std::string> left;
        std::set_difference(want.begin(), want.end(), was.begin(), was.end(), std::back_inserter(entered));
        std::set_difference(was.begin(), was.end(), want.begin(), want.end(), std::back_inserter(left));
        const AudienceInfo& earlier = before->at(audience.name);
        EXPECT_EQ(info.entered - earlier.entered, static_cast<int64_t>(entered.size()))
            << audience.name << ": entered counter; before " << earlier.body << " after " << info.body;
        EXPECT_EQ(info.left - earlier.left, static_cast<int64_t>(left.size()))
            << audience.name << ": left counter; before " << earlier.body << " after " << info.body;
      }
      const std::set<std::string> got = CsvMembers(audience.name);
      EXPECT_TRUE(got == want) << audience.name << " (CSV export): " << Describe(got, want);
    }
  }

  // Profiles show computedTraits and audiences; checks a sample of people against the model.
  void CheckProfiles(const std::vector<int>& sample, const std::map<std::string, std::set<std::string>>& expected) {
    simdjson::dom::parser parser;
    for (int index : sample) {
      const Person& p = model_.people[static_cast<size_t>(index)];
      auto response = Get("/v1/profiles/user_id:" + p.user_id);
      ASSERT_TRUE(response.ok()) << response.status();
      ASSERT_EQ(response->status, 200) << response->body;
      simdjson::dom::element root;
      ASSERT_EQ(parser.parse(response->body).get(root), simdjson::SUCCESS) << response->body;
      simdjson::dom::object computed;
      ASSERT_EQ(root["computedTraits"].get_object().get(computed), simdjson::SUCCESS)
          << p.user_id << ": no computedTraits object: " << response->body;
      int64_t orders_90d = -1;
      EXPECT_EQ(computed["orders_90d"].get_int64().get(orders_90d), simdjson::SUCCESS) << response->body;
      EXPECT_EQ(orders_90d, model_.Orders(p, 90 * kDay)) << p.user_id << ": " << response->body;
      const auto revenue = Model::Revenue(p);
      simdjson::dom::element revenue_value;
      const bool has_revenue =
          computed["revenue"].get(revenue_value) == simdjson::SUCCESS && !revenue_value.is_null();
      EXPECT_EQ(has_revenue, revenue.has_value()) << p.user_id << ": " << response->body;
      if (has_revenue && revenue) {
        double value = -1;
        EXPECT_EQ(revenue_value.get_double().get(value), simdjson::SUCCESS) << response->body;
        EXPECT_EQ(value, *revenue) << p.user_id << ": " << response->body;
      }
      std::set<std::string> want;
      for (const auto& [name, members] : expected) {
        if (members.contains(p.user_id)) want.insert(name);
      }
      std::set<std::string> got;
      simdjson::dom::object audiences;
      ASSERT_EQ(root["audiences"].get_object().get(audiences), simdjson::SUCCESS)
          << p.user_id << ": no audiences object: " << response->body;
      for (auto member : audiences) {
        got.insert(std::string(member.key));
        std::string_view entered_at;
        EXPECT_EQ(member.value["enteredAt"].get_string().get(entered_at), simdjson::SUCCESS)
            << p.user_id << ": " << response->body;
        EXPECT_TRUE(entered_at.size() >= 20 && entered_at[10] == 'T' && entered_at.back() == 'Z')
            << p.user_id << ": enteredAt " << entered_at;
      }
      EXPECT_EQ(got, want) << p.user_id << ": " << response->body;
    }
  }

  const AudienceCase& Case(const std::string& name) const {
    for (const AudienceCase& audience : audiences_) {
      if (audience.name == name) return audience;
    }
    std::abort();
  }

  std::map<std::string, std::set<std::string>> ExpectedSets() const {
    std::map<std::string, std::set<std::string>> sets;
    for (const AudienceCase& audience : audiences_) sets[audience.name] = Expected(model_, audience);
    return sets;
  }

  TempDir temp_;
  std::string data_dir_ = temp_.path() + "/data";
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
  Model model_;
  std::vector<AudienceCase> audiences_ = Audiences();
  int batches_sent_ = 0;
};

TEST_F(AudiencesE2eTest, TenThousandPeopleLandInExactlyTheRightAudiencesAndMoveWithNewEvents) {
  const auto test_start = std::chrono::steady_clock::now();
  const int64_t now =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() /
      1000 * 1000;
  model_ = Generate(now);
  std::mt19937 rng(kSeed + 1);

  // Config audiences exist before any event; the others are PUT after ingestion.
  std::string config_audiences = "[";
  for (const AudienceCase& audience : audiences_) {
    if (!audience.in_config) continue;
    if (config_audiences.size() > 1) config_audiences += ",";
    config_audiences += R"({"name":")" + audience.name + R"(","description":"from the config","condition":)" +
                        audience.condition + "}";
  }
  config_audiences += "]";
  ASSERT_NO_FATAL_FAILURE(StartServer(config_audiences));

  // 1. Ingest everyone.
  const std::vector<OutgoingEvent> events = InitialEvents(model_, rng);
  const int last_person = SendAll(events);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_GE(last_person, 0);
  std::cout << "[          ] sent " << events.size() << " events in " << batches_sent_ << " batches after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - test_start).count()
            << " ms\n";
  ASSERT_NO_FATAL_FAILURE(WaitForEventCount(model_.people[static_cast<size_t>(last_person)]));
  std::cout << "[          ] applied after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - test_start).count()
            << " ms\n";

  // A phone the model counts as an identifier must be one for the server too.
  {
    const auto with_phone = std::find_if(model_.people.begin(), model_.people.end(),
                                         [](const Person& p) { return !p.phone.empty(); });
    ASSERT_NE(with_phone, model_.people.end());
    auto response = Get("/v1/profiles/phone:%2B" + with_phone->phone.substr(1) + "?fields=eventCount");
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << "phone " << with_phone->phone << " is not an identifier: " << response->body;
  }

  // 2. The rest of the audiences through the admin API.
  for (const AudienceCase& audience : audiences_) {
    if (audience.in_config) continue;
    auto response = Put("/v1/audiences/" + audience.name,
                        R"({"description":"from the API","condition":)" + audience.condition + "}");
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << audience.name << ": " << response->body;
  }

  // 3. Everything matches the model.
  const std::map<std::string, std::set<std::string>> expected = ExpectedSets();
  for (const auto& [name, members] : expected) {
    std::cout << "[          ] " << name << ": " << members.size() << " expected members\n";
  }
  std::map<std::string, AudienceInfo> counters_before;
  CheckAll(expected, nullptr, nullptr, &counters_before);
  std::cout << "[          ] phase 1 checked after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - test_start).count()
            << " ms\n";

  // NDJSON with traits and computed values.
  {
    auto response =
        Get("/v1/audiences/pro_frequent/members?format=ndjson&fields=id,user_id,email,traits.plan,computed.orders_90d");
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body.substr(0, 2000);
    std::set<std::string> got;
    simdjson::dom::parser parser;
    std::istringstream lines(response->body);
    std::string line;
    int bad = 0;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      simdjson::dom::element row;
      if (parser.parse(line).get(row) != simdjson::SUCCESS) {
        ADD_FAILURE() << "NDJSON line is not JSON: " << line;
        continue;
      }
      simdjson::dom::array user_ids;
      std::string_view user_id;
      if (row["user_id"].get_array().get(user_ids) != simdjson::SUCCESS || user_ids.size() != 1 ||
          user_ids.at(0).get_string().get(user_id) != simdjson::SUCCESS) {
        ADD_FAILURE() << "user_id must be an array of one string: " << line;
        continue;
      }
      got.insert(std::string(user_id));
      const Person& p = model_.people[static_cast<size_t>(std::atoi(std::string(user_id).c_str() + 2))];
      std::string_view plan;
      int64_t orders = -1;
      simdjson::dom::array emails;
      std::string_view email;
      const bool ok = row["traits.plan"].get_string().get(plan) == simdjson::SUCCESS && plan == p.plan &&
                      row["computed.orders_90d"].get_int64().get(orders) == simdjson::SUCCESS &&
                      orders == model_.Orders(p, 90 * kDay) &&
                      row["email"].get_array().get(emails) == simdjson::SUCCESS && emails.size() == 1 &&
                      emails.at(0).get_string().get(email) == simdjson::SUCCESS && email == p.email;
      if (!ok && ++bad <= 5) {
        ADD_FAILURE() << "NDJSON row disagrees with the model (plan " << p.plan << ", orders_90d "
                      << model_.Orders(p, 90 * kDay) << ", email " << p.email << "): " << line;
      }
    }
    EXPECT_EQ(bad, 0) << "NDJSON rows that disagree with the model";
    EXPECT_TRUE(got == expected.at("pro_frequent")) << "pro_frequent (NDJSON export): "
                                                     << Describe(got, expected.at("pro_frequent"));
  }

  // Profiles: a sample with members of every audience, and people in none.
  std::vector<int> sample;
  for (const auto& [name, members] : expected) {
    int taken = 0;
    for (const std::string& user_id : members) {
      if (taken++ == 3) break;
      sample.push_back(std::atoi(user_id.c_str() + 2));
    }
  }
  for (int i = 0; i < 10; ++i) sample.push_back(i * 997 % kPeople);
  ASSERT_NO_FATAL_FAILURE(CheckProfiles(sample, expected));

  // 4. Move people, each by exactly one event (so each changes each audience at most once).
  const int64_t move_time =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() /
          1000 * 1000 -
      2 * kSecond;
  std::vector<int> order(kPeople);
  for (int i = 0; i < kPeople; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<bool> used(kPeople, false);
  std::vector<OutgoingEvent> moves;
  int next_phone = 0;
  bool enough_people = true;
  const auto pick = [&](int count, const std::function<bool(const Person&)>& eligible,
                        const std::function<void(Person&)>& move) {
    int picked = 0;
    for (int index : order) {
      if (picked == count) break;
      Person& p = model_.people[static_cast<size_t>(index)];
      if (used[static_cast<size_t>(index)] || !eligible(p)) continue;
      used[static_cast<size_t>(index)] = true;
      move(p);
      ++p.events;
      ++picked;
    }
    EXPECT_EQ(picked, count) << "not enough eligible people for a move";
    if (picked != count) enough_people = false;
  };
  const auto add_order = [&](Person& p, double total, Channel channel) {
    Order new_order{move_time, total, channel};
    p.orders.push_back(new_order);
    moves.push_back({KeyOf(channel), OrderJson(p, "move-o-" + std::to_string(p.index), new_order), p.index});
  };
  const Model& m = model_;
  // First orders for people who never bought (half in the app).
  int first_orders = 0;
  pick(60, [&](const Person& p) { return p.orders.empty(); },
       [&](Person& p) { add_order(p, 30.0, first_orders++ % 2 == 0 ? Channel::kApp : Channel::kWeb); });
  // A second order in 90 days: out of low_frequency; big spenders, some into pro_frequent.
  pick(40, [&](const Person& p) { return m.Orders(p, 90 * kDay) == 1; },
       [&](Person& p) { add_order(p, 250.0, Channel::kWeb); });
  // Lapsed people buy again: out of lapsed, into recent_buyers.
  const AudienceCase& lapsed = Case("lapsed");
  pick(10, [&](const Person& p) { return lapsed.member(m, p); },
       [&](Person& p) { add_order(p, 5.0, Channel::kWeb); });
  // Old buyers who had not opened an email this week open one: into lapsed.
  pick(10,
       [&](const Person& p) {
         return m.Orders(p, 0) >= 1 && m.Orders(p, 90 * kDay) == 0 && m.EmailOpens(p, 7 * kDay) == 0;
       },
       [&](Person& p) {
         p.email_opens.push_back(move_time);
         moves.push_back({kEmailWriteKey, EmailOpenedJson(p, "move-e-" + std::to_string(p.index), move_time), p.index});
       });
  // SMS consent withdrawn: out of sms_reachable.
  pick(30, [&](const Person& p) { return !p.phone.empty() && p.consent_sms; },
       [&](Person& p) {
         p.consent_sms = false;
         moves.push_back({kWriteKey,
                          IdentifyJson(p, "move-i-" + std::to_string(p.index), move_time, R"({"consent":{"sms":false}})"),
                          p.index});
       });
  // A phone and consent for people without a phone: into sms_reachable, out of no_phone_free.
  pick(20, [&](const Person& p) { return p.phone.empty(); },
       [&](Person& p) {
         char phone[32];
         std::snprintf(phone, sizeof(phone), "+82103%07d", next_phone++);
         p.phone = phone;
         p.consent_sms = true;
         moves.push_back({kWriteKey,
                          IdentifyJson(p, "move-i-" + std::to_string(p.index), move_time,
                                       R"({"phone":")" + p.phone + R"(","consent":{"sms":true}})"),
                          p.index});
       });
  ASSERT_TRUE(enough_people);
  std::shuffle(moves.begin(), moves.end(), rng);
  const int last_moved = SendAll(moves);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_GE(last_moved, 0);
  ASSERT_NO_FATAL_FAILURE(WaitForEventCount(model_.people[static_cast<size_t>(last_moved)]));

  const std::map<std::string, std::set<std::string>> moved = ExpectedSets();
  for (const auto& [name, members] : moved) {
    std::vector<std::string> in;
    std::vector<std::string> out;
    const auto& was = expected.at(name);
    std::set_difference(members.begin(), members.end(), was.begin(), was.end(), std::back_inserter(in));
    std::set_difference(was.begin(), was.end(), members.begin(), members.end(), std::back_inserter(out));
    std::cout << "[          ] " << name << ": " << in.size() << " enter, " << out.size() << " leave\n";
  }
  CheckAll(moved, &expected, &counters_before, nullptr);

  // The moved people's profiles.
  std::vector<int> moved_sample;
  for (int i = 0; i < kPeople && moved_sample.size() < 40; ++i) {
    if (used[static_cast<size_t>(i)]) moved_sample.push_back(i);
  }
  ASSERT_NO_FATAL_FAILURE(CheckProfiles(moved_sample, moved));

  // `tessera export` reads the store next to the running server.
  {
    const std::string out = temp_.path() + "/sms_reachable.csv";
    const std::string err = temp_.path() + "/export-stderr.txt";
    const std::string command = "timeout -s KILL 120 " + std::string(TESSERA_BINARY) + " export sms_reachable --data-dir " +
                                data_dir_ + " --format csv --fields id,user_id --out " + out + " 2> " + err +
                                " > /dev/null";
    const int status = std::system(command.c_str());
    const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    EXPECT_EQ(exit_code, 0) << command << "\nstderr: " << ReadText(err);
    if (exit_code == 0) {
      const auto rows = ParseCsv(ReadText(out));
      ASSERT_FALSE(rows.empty()) << "tessera export wrote nothing";
      EXPECT_EQ(rows[0], (std::vector<std::string>{"id", "user_id"}));
      std::set<std::string> got;
      for (size_t i = 1; i < rows.size(); ++i) {
        if (rows[i].size() == 2) got.insert(rows[i][1]);
      }
      EXPECT_EQ(rows.size() - 1, got.size()) << "rows with the wrong field count or repeated users";
      EXPECT_TRUE(got == moved.at("sms_reachable")) << "tessera export sms_reachable: "
                                                    << Describe(got, moved.at("sms_reachable"));
    }
  }

  auto stopped = server_->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0) << server_->Output();
  std::cout << "[          ] total "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - test_start).count()
            << " ms\n";
}

TEST_F(AudiencesE2eTest, AnInvalidDefinitionIsRefusedWithTheNodePath) {
  ASSERT_NO_FATAL_FAILURE(StartServer("[]"));
  const std::string bad =
      R"({"description":"typo deep in the tree","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},)"
      R"({"any":[{"identifier":"phone"},{"not":{"computed":"orders_90d","op":"bigger","value":1}}]}]}})";
  auto response = Put("/v1/audiences/typo", bad);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 400) << response->body;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(response->body).get(root), simdjson::SUCCESS) << response->body;
  std::string_view field;
  EXPECT_EQ(root["error"]["field"].get_string().get(field), simdjson::SUCCESS) << response->body;
  EXPECT_EQ(field, "condition.all[1].any[1].not.op") << response->body;
  std::string_view message;
  EXPECT_EQ(root["error"]["message"].get_string().get(message), simdjson::SUCCESS) << response->body;
  EXPECT_NE(message.find("bigger"), std::string_view::npos) << response->body;

  // Nothing was defined.
  auto missing = Get("/v1/audiences/typo");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 404) << missing->body;

  // Only admin keys define audiences.
  auto read_key = Put("/v1/audiences/fine", R"({"condition":{"identifier":"email"}})", kReadKey);
  ASSERT_TRUE(read_key.ok()) << read_key.status();
  EXPECT_EQ(read_key->status, 403) << read_key->body;
  auto admin = Put("/v1/audiences/fine", R"({"condition":{"identifier":"email"}})");
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->status, 200) << admin->body;
}

}  // namespace
}  // namespace tessera::e2e
