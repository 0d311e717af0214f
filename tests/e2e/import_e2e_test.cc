// End-to-end tests of `tessera import`: the real binary loads a POS CSV export into a store, with
// the server stopped or through the running server, reports bad rows by line number, and adds
// nothing when the file comes again.

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/log_reader.h"

namespace tessera::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kTillKey = "e2e-import-till";

// The till source with a CSV mapping, as ServerProcess appends it to its generated config.
constexpr std::string_view kTillSource =
    R"({"name":"till","write_key":"e2e-import-till","channel":"pos","connectors":{"csv":{)"
    R"("columns":{"receipt_id":"Receipt","loyalty_card":"Card","phone":"Phone","email":"Email","amount":"Total",)"
    R"("store":"Store","timestamp":"Date"},"default_currency":"EUR","timestamp_format":"%d/%m/%Y %H:%M",)"
    R"("timezone":"+01:00","decimal_separator":","}}})";

// Line 1 is the header; line 4 has no identity at all, line 6 a date in the wrong format.
constexpr std::string_view kExport =
    "\xEF\xBB\xBFReceipt,Card,Phone,Email,Total,Store,Date\r\n"
    "1001,L-1,,lea@example.com,\"12,50\",S1,01/03/2024 10:15\r\n"
    "1002,,+4915112345678,,\"3,00\",S1,01/03/2024 10:20\r\n"
    "1003,,,,\"1,00\",S2,01/03/2024 10:25\r\n"
    "1004,L-2,,\"max@example.com\",\"7,25\",S2,01/03/2024 11:00\r\n"
    "1005,L-3,,,\"2,00\",S2,2024-03-01 11:05\r\n";

struct Finished {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs `tessera <arguments>` (shell words) to completion; killed after two minutes so that a command
// that wrongly keeps running (a `serve` that should have refused its config) fails the test.
Finished RunTessera(const TempDir& temp, const std::string& arguments) {
  const std::string out = temp.path() + "/stdout.txt";
  const std::string err = temp.path() + "/stderr.txt";
  const int status = std::system(
      ("timeout -s KILL 120 " + std::string(TESSERA_BINARY) + " " + arguments + " > " + out + " 2> " + err)
          .c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadText(out), ReadText(err)};
}

TEST(ImportE2eTest, ImportsOnceThroughTheRunningServerAndThenAlone) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  // The server writes the config file the import then uses: same store, same sources.
  auto server = ServerProcess::Start({.data_dir = data_dir, .extra_sources = std::string(kTillSource)});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string config = data_dir + "/test-config.json";
  const std::string csv = temp.path() + "/export.csv";
  std::ofstream(csv, std::ios::binary) << kExport;
  const std::string import =
      "import --config " + config + " --source " + std::string(kTillKey) + " --format csv " + csv;

  // The test config listens on port 0: the command cannot know where, and says so.
  const Finished unknown_port = RunTessera(temp, import);
  EXPECT_EQ(unknown_port.exit_code, 2) << unknown_port.err;
  EXPECT_THAT(unknown_port.err, HasSubstr("pass --server"));

  const std::string through = import + " --server http://127.0.0.1:" + std::to_string((*server)->port());
  const Finished first = RunTessera(temp, through);
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_THAT(first.out, HasSubstr("5 rows, 3 accepted, 0 duplicates, 2 rejected")) << first.err;
  EXPECT_THAT(first.out, HasSubstr("through the server at http://127.0.0.1:"));
  EXPECT_THAT(first.err, HasSubstr("line 4: missing_identity: "));
  EXPECT_THAT(first.err, HasSubstr("line 6: invalid_timestamp: "));
  EXPECT_THAT(first.err, HasSubstr("(Date)"));

  const Finished again = RunTessera(temp, through);
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("5 rows, 0 accepted, 3 duplicates, 2 rejected")) << again.err;

  auto stopped = (*server)->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  const Finished alone = RunTessera(temp, import);
  EXPECT_EQ(alone.exit_code, 0) << alone.out << alone.err;
  EXPECT_THAT(alone.out, HasSubstr("5 rows, 0 accepted, 3 duplicates, 2 rejected")) << alone.err;
  EXPECT_THAT(alone.out, Not(HasSubstr("through the server")));

  std::map<std::string, int> counts;
  for (const auto& event : ReadLog(data_dir)) {
    ++counts[event.message_id];
    EXPECT_EQ(event.source, "till");
    EXPECT_EQ(event.channel, "pos");
  }
  EXPECT_EQ(counts, (std::map<std::string, int>{
                        {"pos-receipt-1001", 1}, {"pos-receipt-1002", 1}, {"pos-receipt-1004", 1}}));
}

TEST(ImportE2eTest, ALargeFileGoesThroughTheServerInRowAlignedPiecesWithTheFilesLineNumbers) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  // A 64 KiB connector limit makes the import cut the file into pieces of at most 32 KiB.
  auto server = ServerProcess::Start({.data_dir = data_dir,
                                      .extra_json = R"("limits":{"max_webhook_bytes":65536})",
                                      .extra_sources = std::string(kTillSource)});
  ASSERT_TRUE(server.ok()) << server.status();
  std::string file = "Receipt,Card,Phone,Email,Total,Store,Date\n";
  constexpr int kRows = 3000;
  int bad_line = 0;
  for (int i = 1; i <= kRows; ++i) {
    const int line = i + 1;
    if (i >= 1000 && i < 2000) {
      // A thousand rows with a date in the wrong format: whole pieces of bad rows are reported
      // and skipped, as in-process, not the end of the import.
      file += std::to_string(100000 + i) + ",L-" + std::to_string(i) + ",,,\"1,00\",S1,2024-03-01 10:15\n";
    } else if (i == 777) {
      file +=
          std::to_string(100000 + i) + ",L-" + std::to_string(i) + ",,,\"1,00\",5\" shelf,01/03/2024 10:15\n";
    } else if (i == 2500) {
      bad_line = line;
      file += std::to_string(100000 + i) + ",,,,\"1,00\",S1,01/03/2024 10:15\n";  // no identity
    } else if (i == 500) {
      // A quoted field holding a line break: the row takes two lines of the file.
      file += std::to_string(100000 + i) + ",L-" + std::to_string(i) +
              ",,,\"1,00\",\"Store\nAnnex\",01/03/2024 10:15\n";
    } else {
      file += std::to_string(100000 + i) + ",L-" + std::to_string(i) + ",,,\"1,00\",S1,01/03/2024 10:15\n";
    }
  }
  bad_line += 1;  // The row with the line break pushed every later row down one line.
  const std::string csv = temp.path() + "/big.csv";
  std::ofstream(csv, std::ios::binary) << file;
  ASSERT_GT(file.size(), 3u * 32 * 1024) << "the file must need several pieces";
  const Finished run = RunTessera(
      temp, "import --config " + data_dir + "/test-config.json --source " + std::string(kTillKey) +
                " --format csv --server http://127.0.0.1:" + std::to_string((*server)->port()) + " " + csv);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr(std::to_string(kRows) + " rows, " + std::to_string(kRows - 1001) +
                                 " accepted, 0 duplicates, 1001 rejected"))
      << run.err.substr(0, 2000);
  EXPECT_THAT(run.err, HasSubstr("line 1002: invalid_timestamp")) << run.err.substr(0, 2000);
  EXPECT_THAT(run.err, HasSubstr("line 2001: invalid_timestamp"))
      << "the last bad row, one line down for the multi-line row";
  EXPECT_THAT(run.err, HasSubstr("line " + std::to_string(bad_line) + ": missing_identity"))
      << run.err.substr(0, 2000);
  auto stopped = (*server)->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  std::map<std::string, int> counts;
  for (const auto& event : ReadLog(data_dir)) ++counts[event.message_id];
  EXPECT_EQ(counts.size(), static_cast<size_t>(kRows - 1001));
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << id;
}

TEST(ImportE2eTest, UsageAndConfigurationErrorsExitWithCode2) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  const std::string config = temp.path() + "/config.json";
  std::ofstream(config) << R"({"data_dir":")" << data_dir << R"(","sources":[)" << kTillSource
                        << R"(,{"name":"web","write_key":"e2e-web","channel":"web"}]})";
  const std::string csv = temp.path() + "/export.csv";
  std::ofstream(csv, std::ios::binary) << kExport;
  struct Case {
    std::string arguments;
    std::string expected;  // Part of stderr.
  };
  const std::string base = "import --config " + config + " ";
  for (const Case& c :
       {Case{base + "--source nobody --format csv " + csv, "no source"},
        Case{base + "--source e2e-web --format csv " + csv, "has no CSV mapping"},
        Case{base + "--source e2e-import-till --format json " + csv, "--format csv"},
        Case{base + "--source e2e-import-till --format csv", "one file"},
        Case{"import --source e2e-import-till --format csv " + csv, "--config is required"}}) {
    const Finished run = RunTessera(temp, c.arguments);
    EXPECT_EQ(run.exit_code, 2) << "tessera " << c.arguments << "\n" << run.err;
    EXPECT_THAT(run.err, HasSubstr(c.expected)) << "tessera " << c.arguments;
  }

  // A mapping the importer refuses stops the command (and `serve`) before anything opens.
  const std::string bad_config = temp.path() + "/bad.json";
  std::ofstream(bad_config) << R"({"data_dir":")" << data_dir
                            << R"(","sources":[{"name":"till","write_key":"k","connectors":{"csv":{)"
                            << R"("columns":{"email":"Email"},"timezone":"Europe/Atlantis"}}}]})";
  const Finished bad = RunTessera(temp, "import --config " + bad_config + " --source k --format csv " + csv);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("sources[0].connectors.csv (source \"till\")"));
  const Finished serve = RunTessera(temp, "serve --config " + bad_config);
  EXPECT_EQ(serve.exit_code, 2) << serve.err;
  EXPECT_THAT(serve.err, HasSubstr("sources[0].connectors.csv"));

  const Finished missing =
      RunTessera(temp, base + "--source e2e-import-till --format csv " + temp.path() + "/none.csv");
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("none.csv"));
}

}  // namespace
}  // namespace tessera::e2e
