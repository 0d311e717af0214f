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
//
// The model and its generation are in audiences_e2e_model.h, the fixture in audiences_e2e_fixture.h.

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/e2e/audiences_e2e_fixture.h"
#include "tests/e2e/audiences_e2e_model.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

TEST_F(AudiencesE2eTest, TenThousandPeopleLandInExactlyTheRightAudiencesAndMoveWithNewEvents) {
  const auto test_start = std::chrono::steady_clock::now();
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
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
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                     test_start)
                   .count()
            << " ms\n";
  ASSERT_NO_FATAL_FAILURE(WaitForEventCount(model_.people[static_cast<size_t>(last_person)]));
  std::cout << "[          ] applied after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                     test_start)
                   .count()
            << " ms\n";

  // A phone the model counts as an identifier must be one for the server too.
  {
    const auto with_phone = std::find_if(model_.people.begin(), model_.people.end(),
                                         [](const Person& p) { return !p.phone.empty(); });
    ASSERT_NE(with_phone, model_.people.end());
    auto response = Get("/v1/profiles/phone:%2B" + with_phone->phone.substr(1) + "?fields=eventCount");
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << "phone " << with_phone->phone
                                     << " is not an identifier: " << response->body;
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
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                     test_start)
                   .count()
            << " ms\n";

  // NDJSON with traits and computed values.
  {
    auto response =
        Get("/v1/audiences/pro_frequent/"
            "members?format=ndjson&fields=id,user_id,email,traits.plan,computed.orders_90d");
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
    EXPECT_TRUE(got == expected.at("pro_frequent"))
        << "pro_frequent (NDJSON export): " << Describe(got, expected.at("pro_frequent"));
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
  const int64_t move_time = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
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
  pick(
      60, [&](const Person& p) { return p.orders.empty(); },
      [&](Person& p) { add_order(p, 30.0, first_orders++ % 2 == 0 ? Channel::kApp : Channel::kWeb); });
  // A second order in 90 days: out of low_frequency; big spenders, some into pro_frequent.
  pick(
      40, [&](const Person& p) { return m.Orders(p, 90 * kDay) == 1; },
      [&](Person& p) { add_order(p, 250.0, Channel::kWeb); });
  // Lapsed people buy again: out of lapsed, into recent_buyers.
  const AudienceCase& lapsed = Case("lapsed");
  pick(
      10, [&](const Person& p) { return lapsed.member(m, p); },
      [&](Person& p) { add_order(p, 5.0, Channel::kWeb); });
  // Old buyers who had not opened an email this week open one: into lapsed.
  pick(
      10,
      [&](const Person& p) {
        return m.Orders(p, 0) >= 1 && m.Orders(p, 90 * kDay) == 0 && m.EmailOpens(p, 7 * kDay) == 0;
      },
      [&](Person& p) {
        p.email_opens.push_back(move_time);
        moves.push_back(
            {kEmailWriteKey, EmailOpenedJson(p, "move-e-" + std::to_string(p.index), move_time), p.index});
      });
  // SMS consent withdrawn: out of sms_reachable.
  pick(
      30, [&](const Person& p) { return !p.phone.empty() && p.consent_sms; },
      [&](Person& p) {
        p.consent_sms = false;
        moves.push_back(
            {kWriteKey,
             IdentifyJson(p, "move-i-" + std::to_string(p.index), move_time, R"({"consent":{"sms":false}})"),
             p.index});
      });
  // A phone and consent for people without a phone: into sms_reachable, out of no_phone_free.
  pick(
      20, [&](const Person& p) { return p.phone.empty(); },
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
    const std::string command =
        "timeout -s KILL 120 " + std::string(TESSERA_BINARY) + " export sms_reachable --data-dir " +
        data_dir_ + " --format csv --fields id,user_id --out " + out + " 2> " + err + " > /dev/null";
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
      EXPECT_TRUE(got == moved.at("sms_reachable"))
          << "tessera export sms_reachable: " << Describe(got, moved.at("sms_reachable"));
    }
  }

  auto stopped = server_->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0) << server_->Output();
  std::cout << "[          ] total "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                     test_start)
                   .count()
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
