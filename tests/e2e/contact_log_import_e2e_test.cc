// End-to-end tests of the contact-log import (`tessera import --format contact-log` and POST
// /v1/connectors/service/contact-log): the real binary loads a contact-centre export offline,
// reports the bad rows by line number, the good rows show on the profiles of their email and
// phone once the server runs, and the same file through the running server adds nothing.

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/log_reader.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kCallCentreKey = "e2e-contact-log";

// The contact-centre source, as ServerProcess appends it to its generated config (and as the
// offline run's own config lists it).
constexpr std::string_view kCallCentreSource =
    R"({"name":"callcentre","write_key":"e2e-contact-log","channel":"service","phone_region":"KR",)"
    R"("connectors":{"contact_log":{"columns":{"contact_id":"Call ID","started_at":"Start","type":"Media",)"
    R"("direction":"Direction","duration":"Talk Time","phone":"ANI","email":"Email","customer_name":"Caller",)"
    R"("agent":"Agent","outcome":"Disposition","satisfaction":"CSAT","transcript":"Transcript"},)"
    R"("timestamp_format":"%Y-%m-%d %H:%M:%S","timezone":"Asia/Seoul","system":"acme-cti"}}})";

// Line 1 is the header. Line 3's transcript spans lines 3 and 4; line 5 has no identity, line 6 a
// date in another format, line 7 an unknown contact type, line 8 too few columns.
constexpr std::string_view kExport =
    "\xEF\xBB\xBF"
    "Call ID,Start,Media,Direction,Talk Time,ANI,Email,Caller,Agent,Disposition,CSAT,Transcript\r\n"
    "C-1001,2026-12-01 09:00:00,call,inbound,00:01:35,,minji@example.com,김민지,agent-3,answered,5,\r\n"
    "C-1002,2026-12-01 09:10:00,chat,inbound,240,,minji@example.com,김민지,agent-4,completed,good,"
    "\"고객: 배송 문의\r\n상담원: 확인하겠습니다\"\r\n"
    "C-1003,2026-12-01 09:20:00,call,inbound,0,,,,agent-3,missed,,\r\n"
    "C-1004,01/12/2026 09:30,call,inbound,10,,jun@example.com,,agent-3,answered,,\r\n"
    "C-1005,2026-12-01 09:40:00,fax,inbound,10,,jun@example.com,,agent-3,answered,,\r\n"
    "C-1006,2026-12-01 09:50:00\r\n"
    "C-1007,2026-12-01 10:00:00,call,outbound,0,010-9876-5432,,Park Jun,agent-5,no-answer,,\r\n";

struct Finished {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs `tessera <arguments>` (shell words) to completion; killed after two minutes.
Finished RunTessera(const TempDir& temp, const std::string& arguments) {
  const std::string out = temp.path() + "/stdout.txt";
  const std::string err = temp.path() + "/stderr.txt";
  const int status = std::system(
      ("timeout -s KILL 120 " + std::string(TESSERA_BINARY) + " " + arguments + " > " + out + " 2> " + err)
          .c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadText(out), ReadText(err)};
}

// The timeline of profile `ref` once it holds `count` events (the last answer otherwise).
std::string WaitForEvents(HttpClient& client, const std::string& ref, size_t count) {
  std::string last;
  const bool found = WaitFor(
      [&] {
        auto events = client.Request("GET", "/v1/profiles/" + ref + "/events", {},
                                     {{"Authorization", "Bearer " + std::string(kReadKey)}});
        if (!events.ok() || events->status != 200) return false;
        last = events->body;
        size_t seen = 0;
        for (size_t at = last.find("\"messageId\""); at != std::string::npos;
             at = last.find("\"messageId\"", at + 1)) {
          ++seen;
        }
        return seen >= count;
      },
      30s);
  EXPECT_TRUE(found) << ref << " never showed " << count << " events; last answer: " << last;
  return last;
}

TEST(ContactLogImportE2eTest, ImportsOfflineThenAddsNothingThroughTheServer) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  const std::string csv = temp.path() + "/calls.csv";
  std::ofstream(csv, std::ios::binary) << kExport;

  // Offline: no server has ever run on this store.
  const std::string offline_config = temp.path() + "/config.json";
  std::ofstream(offline_config) << R"({"data_dir":")" << data_dir << R"(","sources":[)" << kCallCentreSource
                                << "]}";
  const Finished offline = RunTessera(temp, "import --config " + offline_config + " --source " +
                                                std::string(kCallCentreKey) + " --format contact-log " + csv);
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  EXPECT_THAT(offline.out, HasSubstr("7 rows, 3 accepted, 0 duplicates, 4 rejected")) << offline.err;
  EXPECT_THAT(offline.out, Not(HasSubstr("through the server")));
  EXPECT_THAT(offline.err, HasSubstr("line 5: missing_identity: "));
  EXPECT_THAT(offline.err, HasSubstr("line 6: invalid_timestamp: "));
  EXPECT_THAT(offline.err, HasSubstr("(Start)"));
  EXPECT_THAT(offline.err, HasSubstr("line 7: invalid_value: "));
  EXPECT_THAT(offline.err, HasSubstr("\"fax\" (Media)"));
  EXPECT_THAT(offline.err, HasSubstr("line 8: invalid_csv: "));

  // The server, on the same store: the good rows are on the profiles of their email and phone.
  auto server = ServerProcess::Start({.data_dir = data_dir, .extra_sources = std::string(kCallCentreSource)});
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClient client((*server)->port());
  const std::string minji = WaitForEvents(client, "email:minji%40example.com", 2);
  EXPECT_THAT(minji, HasSubstr("\"Call Completed\""));
  EXPECT_THAT(minji, HasSubstr("\"Chat Completed\""));
  EXPECT_THAT(minji, HasSubstr("contact-log-acme-cti-C-1001"));
  EXPECT_THAT(minji, HasSubstr("\"duration_seconds\":95"));
  EXPECT_THAT(minji, HasSubstr("\"satisfaction\":\"good\""));
  EXPECT_THAT(minji, HasSubstr("\"provider\":\"acme-cti\""));
  // 010-9876-5432 is read in the source's region (KR).
  const std::string jun = WaitForEvents(client, "phone:%2B821098765432", 1);
  EXPECT_THAT(jun, HasSubstr("\"Call Not Connected\"")) << "an outbound call nobody answered";
  EXPECT_THAT(jun, HasSubstr("\"direction\":\"outbound\""));

  // Through the running server: the same file adds nothing, and reports the same lines.
  const std::string import =
      "import --config " + data_dir + "/test-config.json --source " + std::string(kCallCentreKey) +
      " --format contact-log --server http://127.0.0.1:" + std::to_string((*server)->port()) + " " + csv;
  const Finished again = RunTessera(temp, import);
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("7 rows, 0 accepted, 3 duplicates, 4 rejected")) << again.err;
  EXPECT_THAT(again.out, HasSubstr("through the server at http://127.0.0.1:"));
  EXPECT_THAT(again.err, HasSubstr("line 5: missing_identity: "));
  EXPECT_THAT(again.err, HasSubstr("line 8: invalid_csv: "));

  // The connector itself: the write key alone; a source without the mapping is refused.
  const std::string auth = "Basic " + Base64(std::string(kCallCentreKey) + ":");
  auto posted = client.Request("POST", "/v1/connectors/service/contact-log", kExport,
                               {{"Authorization", auth}, {"Content-Type", "text/csv"}});
  ASSERT_TRUE(posted.ok()) << posted.status();
  EXPECT_EQ(posted->status, 200) << posted->body;
  EXPECT_THAT(posted->body, HasSubstr("\"duplicates\":3")) << posted->body;
  auto unconfigured = client.Request(
      "POST", "/v1/connectors/service/contact-log", kExport,
      {{"Authorization", "Basic " + Base64(std::string(kWriteKey) + ":")}, {"Content-Type", "text/csv"}});
  ASSERT_TRUE(unconfigured.ok()) << unconfigured.status();
  EXPECT_EQ(unconfigured->status, 400) << unconfigured->body;
  EXPECT_THAT(unconfigured->body, HasSubstr("connector_not_configured"));

  auto stopped = (*server)->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  std::map<std::string, int> counts;
  for (const auto& event : ReadLog(data_dir)) {
    ++counts[event.message_id];
    EXPECT_EQ(event.source, "callcentre");
    EXPECT_EQ(event.channel, "service");
  }
  EXPECT_EQ(counts, (std::map<std::string, int>{{"contact-log-acme-cti-C-1001", 1},
                                                {"contact-log-acme-cti-C-1002", 1},
                                                {"contact-log-acme-cti-C-1007", 1}}));
}

TEST(ContactLogImportE2eTest, MissingOrUnusableMappingsExitWithCode2) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  const std::string config = temp.path() + "/config.json";
  std::ofstream(config) << R"({"data_dir":")" << data_dir << R"(","sources":[)" << kCallCentreSource
                        << R"(,{"name":"web","write_key":"e2e-web","channel":"web"}]})";
  const std::string csv = temp.path() + "/calls.csv";
  std::ofstream(csv, std::ios::binary) << kExport;
  const std::string base = "import --config " + config + " ";
  for (const auto& [arguments, expected] : std::map<std::string, std::string>{
           {base + "--source e2e-web --format contact-log " + csv, "has no contact-log mapping"},
           {base + "--source e2e-contact-log --format csv " + csv, "has no CSV mapping"},
           {base + "--source e2e-contact-log --format calls " + csv, "--format contact-log"}}) {
    const Finished run = RunTessera(temp, arguments);
    EXPECT_EQ(run.exit_code, 2) << "tessera " << arguments << "\n" << run.err;
    EXPECT_THAT(run.err, HasSubstr(expected)) << "tessera " << arguments;
  }

  // A mapping the importer refuses stops the command (and `serve`) before anything opens.
  const std::string bad_config = temp.path() + "/bad.json";
  std::ofstream(bad_config)
      << R"({"data_dir":")" << data_dir
      << R"(","sources":[{"name":"cti","write_key":"k","channel":"service","connectors":{)"
      << R"("contact_log":{"columns":{"email":"Email"},"default_type":"fax"}}}]})";
  const Finished bad =
      RunTessera(temp, "import --config " + bad_config + " --source k --format contact-log " + csv);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("sources[0].connectors.contact_log (source \"cti\"): mapping.default_type"));
  const Finished serve = RunTessera(temp, "serve --config " + bad_config);
  EXPECT_EQ(serve.exit_code, 2) << serve.err;
  EXPECT_THAT(serve.err, HasSubstr("sources[0].connectors.contact_log"));
}

}  // namespace
}  // namespace tessera::e2e
