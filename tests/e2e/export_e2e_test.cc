// End-to-end tests of `tessera export`: while the real server keeps running on the data directory,
// the binary opens the store read-only and writes an audience's members as CSV to a file (through
// FILE.tmp) and as NDJSON to stdout, with computed traits; usage errors exit with code 2.

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr int kUsers = 50;

constexpr std::string_view kDefinitions =
    R"("computed_traits":[{"name":"orders","kind":"count","event":"Order Completed"}],)"
    R"("audiences":[{"name":"buyers","description":"Bought something","condition":{"event":"Order Completed"}}])";

struct Finished {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs `tessera <arguments>` (shell words) to completion, killed after two minutes.
Finished RunTessera(const TempDir& temp, const std::string& arguments) {
  const std::string out = temp.path() + "/stdout.txt";
  const std::string err = temp.path() + "/stderr.txt";
  const int status = std::system(
      ("timeout -s KILL 120 " + std::string(TESSERA_BINARY) + " " + arguments + " > " + out + " 2> " + err)
          .c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadText(out), ReadText(err)};
}

std::string UserId(int i) { return "user-" + std::to_string(i); }
std::string Email(int i) { return "user-" + std::to_string(i) + "@example.com"; }
// Every third user buys: once, or twice when also a multiple of 2.
int Orders(int i) { return i % 3 != 0 ? 0 : (i % 2 == 0 ? 2 : 1); }

std::vector<std::string> Split(std::string_view text, std::string_view separator) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t at = text.find(separator, start);
    parts.emplace_back(
        text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + separator.size();
  }
}

class ExportE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = temp_.path() + "/data";
    auto started = ServerProcess::Start({.data_dir = data_dir_, .extra_json = std::string(kDefinitions)});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  // Identifies every user with an email; buyers complete their orders, the others view a product.
  void SendEvents() {
    for (int first = 0; first < kUsers; first += 10) {
      std::string batch = R"({"batch":[)";
      for (int i = first; i < first + 10; ++i) {
        if (i > first) batch += ",";
        batch +=
            R"({"type":"identify","userId":")" + UserId(i) + R"(","traits":{"email":")" + Email(i) + R"("}})";
        for (int order = 0; order < Orders(i); ++order) {
          // Distinct message ids: identical events without one would be deduplicated.
          batch += R"(,{"type":"track","userId":")" + UserId(i) + R"(","messageId":"order-)" +
                   std::to_string(i) + "-" + std::to_string(order) +
                   R"(","event":"Order Completed","properties":{"total":10}})";
        }
        if (Orders(i) == 0)
          batch += R"(,{"type":"track","userId":")" + UserId(i) + R"(","event":"Product Viewed"})";
      }
      batch += "]}";
      auto response = client_->PostJson("/v1/batch", batch, kWriteKey);
      ASSERT_TRUE(response.ok()) << response.status();
      ASSERT_EQ(response->status, 200) << response->body;
    }
  }

  // Waits until every user's profile has all its events, and buyers show the audience.
  void WaitForProfiles() {
    for (int i = 0; i < kUsers; ++i) {
      const int events = 1 + (Orders(i) > 0 ? Orders(i) : 1);
      std::string last;
      ASSERT_TRUE(WaitFor(
          [&] {
            auto response = client_->Request("GET", "/v1/profiles/user_id:" + UserId(i), {},
                                             {{"Authorization", "Bearer " + std::string(kReadKey)}});
            if (!response.ok() || response->status != 200) return false;
            last = response->body;
            return last.find("\"eventCount\":" + std::to_string(events)) != std::string::npos &&
                   (Orders(i) == 0 || last.find("\"buyers\"") != std::string::npos);
          },
          60s))
          << "profile of " << UserId(i) << " never showed " << events << " events"
          << (Orders(i) > 0 ? " and the audience buyers" : "") << "; last answer: " << last;
    }
  }

  // Email -> orders of every buyer, as sent.
  static std::map<std::string, std::string> ExpectedBuyers() {
    std::map<std::string, std::string> buyers;
    for (int i = 0; i < kUsers; ++i) {
      if (Orders(i) > 0) buyers[Email(i)] = std::to_string(Orders(i));
    }
    return buyers;
  }

  TempDir temp_;
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ExportE2eTest, ExportsExactlyTheBuyersWhileTheServerRuns) {
  SendEvents();
  WaitForProfiles();
  const std::map<std::string, std::string> expected = ExpectedBuyers();
  ASSERT_EQ(expected.size(), 17u);

  // CSV to a file, next to the running server.
  const std::string file = temp_.path() + "/buyers.csv";
  const Finished csv = RunTessera(temp_, "export buyers --data-dir " + data_dir_ +
                                             " --format csv --fields id,email,computed.orders --out " + file);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.err, HasSubstr("exported 17 members of buyers to " + file));
  EXPECT_FALSE(std::filesystem::exists(file + ".tmp")) << "the temporary file must be renamed";
  std::vector<std::string> lines = Split(ReadText(file), "\r\n");
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.front(), "id,email,computed.orders");
  EXPECT_EQ(lines.back(), "") << "the file ends with a complete row";
  std::map<std::string, std::string> exported;
  std::string previous_id;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    const std::vector<std::string> cells = Split(lines[i], ",");
    ASSERT_EQ(cells.size(), 3u) << lines[i];
    EXPECT_EQ(cells[0].size(), 17u) << "a profile id: " << lines[i];
    EXPECT_GT(cells[0], previous_id) << "rows come in profile id order, once each";
    previous_id = cells[0];
    exported[cells[1]] = cells[2];
  }
  EXPECT_EQ(exported, expected) << ReadText(file);

  // NDJSON to stdout.
  const Finished ndjson = RunTessera(
      temp_, "export buyers --data-dir " + data_dir_ + " --format ndjson --fields email,computed.orders");
  ASSERT_EQ(ndjson.exit_code, 0) << ndjson.err;
  EXPECT_THAT(ndjson.err, HasSubstr("exported 17 members of buyers to "));
  std::map<std::string, std::string> streamed;
  simdjson::dom::parser parser;
  for (const std::string& line : Split(ndjson.out, "\n")) {
    if (line.empty()) continue;
    simdjson::dom::element row;
    ASSERT_EQ(parser.parse(line).get(row), simdjson::SUCCESS) << line;
    simdjson::dom::array emails;
    int64_t orders = -1;
    ASSERT_EQ(row["email"].get_array().get(emails), simdjson::SUCCESS) << line;
    ASSERT_EQ(row["computed.orders"].get_int64().get(orders), simdjson::SUCCESS) << line;
    ASSERT_EQ(emails.size(), 1u) << line;
    std::string_view email;
    ASSERT_EQ(emails.at(0).get_string().get(email), simdjson::SUCCESS) << line;
    streamed[std::string(email)] = std::to_string(orders);
  }
  EXPECT_EQ(streamed, expected) << ndjson.out;

  // Default format and fields.
  const Finished defaults = RunTessera(temp_, "export buyers --data-dir " + data_dir_ + " --out -");
  ASSERT_EQ(defaults.exit_code, 0) << defaults.err;
  const std::vector<std::string> default_lines = Split(defaults.out, "\r\n");
  EXPECT_EQ(default_lines.front(), "id,enteredAt,user_id,email,phone");
  EXPECT_EQ(default_lines.size(), 1u + expected.size() + 1u) << defaults.out;

  // The server was never disturbed.
  auto health = client_->Request("GET", "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
}

TEST_F(ExportE2eTest, UsageErrorsExitWithCode2AndLeaveNoFile) {
  const std::string base = "export --data-dir " + data_dir_ + " ";
  const std::string file = temp_.path() + "/out.csv";
  struct Case {
    std::string arguments;
    std::string expected;  // Part of stderr.
  };
  for (const Case& c : {Case{base + "nobody --out " + file, "no audience nobody in space default"},
                        Case{base + "buyers --space eu --out " + file, "no audience buyers in space eu"},
                        Case{base + "buyers --fields id,computed.revenue --out " + file, "computed.revenue"},
                        Case{base + "buyers --fields id,E-mail --out " + file, "E-mail"},
                        Case{base + "buyers --format xml --out " + file, "--format"},
                        Case{base + "buyers --colour red --out " + file, "--colour"},
                        Case{base + "--out " + file, "missing AUDIENCE"},
                        Case{base + "buyers others --out " + file, "AUDIENCE"}}) {
    const Finished run = RunTessera(temp_, c.arguments);
    EXPECT_EQ(run.exit_code, 2) << "tessera " << c.arguments << "\n" << run.err;
    EXPECT_THAT(run.err, HasSubstr(c.expected)) << "tessera " << c.arguments;
    EXPECT_FALSE(std::filesystem::exists(file)) << "tessera " << c.arguments;
    EXPECT_FALSE(std::filesystem::exists(file + ".tmp")) << "tessera " << c.arguments;
  }

  const Finished unwritable =
      RunTessera(temp_, base + "buyers --out " + temp_.path() + "/missing/dir/out.csv");
  EXPECT_EQ(unwritable.exit_code, 1) << unwritable.err;
  EXPECT_THAT(unwritable.err, HasSubstr("missing/dir/out.csv.tmp"));

  const Finished no_store = RunTessera(temp_, "export buyers --data-dir " + temp_.path() + "/nowhere");
  EXPECT_EQ(no_store.exit_code, 1) << no_store.err;
  EXPECT_THAT(no_store.err, HasSubstr("no store at"));
}

TEST_F(ExportE2eTest, ABadDefinitionInTheConfigStopsServeNamingTheNode) {
  const std::string config = temp_.path() + "/bad-definitions.json";
  std::ofstream(config) << R"({"data_dir":")" << temp_.path() << R"(/bad-data","sources":[{"write_key":"k"}],)"
                        << R"("computed_traits":[{"name":"orders","kind":"count","event":"Order Completed"}],)"
                        << R"("audiences":[{"name":"buyers","condition":{"all":[{"computed":"orders","op":"bigger","value":1}]}}]})";
  const Finished serve = RunTessera(temp_, "serve --config " + config);
  EXPECT_EQ(serve.exit_code, 2) << serve.err;
  EXPECT_THAT(serve.err, HasSubstr("audiences[0] (buyers): condition.all[0].op"));
  const Finished rebuild = RunTessera(temp_, "rebuild --config " + config);
  EXPECT_EQ(rebuild.exit_code, 2) << rebuild.err;
}

}  // namespace
}  // namespace tessera::e2e
