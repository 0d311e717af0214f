// The parsing of the server's answers and the members of the AudiencesE2eTest fixture
// (audiences_e2e_fixture.h).

#include "tests/e2e/audiences_e2e_fixture.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "simdjson.h"

namespace tessera::e2e {

using namespace std::chrono_literals;

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

// ----- The fixture -----

void AudiencesE2eTest::StartServer(const std::string& audiences_json) {
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

absl::StatusOr<HttpResponse> AudiencesE2eTest::Get(const std::string& target, std::string_view key) {
  return client_->Request("GET", target, {}, {{"Authorization", "Bearer " + std::string(key)}});
}

absl::StatusOr<HttpResponse> AudiencesE2eTest::Put(const std::string& target, const std::string& body,
                                                   std::string_view key) {
  return client_->Request(
      "PUT", target, body,
      {{"Authorization", "Bearer " + std::string(key)}, {"Content-Type", "application/json"}});
}

void AudiencesE2eTest::PostBatch(std::string_view key, const std::string& events) {
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

int AudiencesE2eTest::SendAll(const std::vector<OutgoingEvent>& events) {
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

void AudiencesE2eTest::WaitForEventCount(const Person& p) {
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

AudienceInfo AudiencesE2eTest::Info(const std::string& name) {
  auto response = Get("/v1/audiences/" + name);
  if (!response.ok()) return AudienceInfo{.body = std::string(response.status().message())};
  if (response->status != 200) {
    return AudienceInfo{.body = "HTTP " + std::to_string(response->status) + ": " + response->body};
  }
  return ParseAudienceInfo(response->body);
}

AudienceInfo AudiencesE2eTest::WaitForAudience(const std::string& name, size_t size,
                                               std::chrono::milliseconds timeout) {
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

std::set<std::string> AudiencesE2eTest::CsvMembers(const std::string& name) {
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

void AudiencesE2eTest::CheckAll(const std::map<std::string, std::set<std::string>>& expected,
                                const std::map<std::string, std::set<std::string>>* previous,
                                const std::map<std::string, AudienceInfo>* before,
                                std::map<std::string, AudienceInfo>* after) {
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

void AudiencesE2eTest::CheckProfiles(const std::vector<int>& sample,
                                     const std::map<std::string, std::set<std::string>>& expected) {
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

const AudienceCase& AudiencesE2eTest::Case(const std::string& name) const {
  for (const AudienceCase& audience : audiences_) {
    if (audience.name == name) return audience;
  }
  std::abort();
}

std::map<std::string, std::set<std::string>> AudiencesE2eTest::ExpectedSets() const {
  std::map<std::string, std::set<std::string>> sets;
  for (const AudienceCase& audience : audiences_) sets[audience.name] = Expected(model_, audience);
  return sets;
}
}  // namespace tessera::e2e
