// End-to-end tests of what operators rely on: health and readiness, /metrics, graceful SIGTERM,
// refusing a bad configuration, and closing idle connections.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/accepted_log.h"
#include "ingest/event.h"
#include "ingest/event_codec.h"
#include "profile_store/store.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/log_reader.h"

namespace tessera::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string WithoutWhitespace(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') out.push_back(c);
  }
  return out;
}


// One Prometheus sample: `name{label="value",...} value`.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> ParsePrometheus(std::string_view text) {
  std::vector<Sample> samples;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    size_t position = line.find_first_of("{ ");
    if (position == std::string::npos) continue;
    sample.name = line.substr(0, position);
    if (line[position] == '{') {
      const size_t close = line.find('}', position);
      if (close == std::string::npos) continue;
      std::string_view labels(line.data() + position + 1, close - position - 1);
      while (!labels.empty()) {
        const size_t equals = labels.find("=\"");
        if (equals == std::string_view::npos) break;
        const size_t end = labels.find('"', equals + 2);
        if (end == std::string_view::npos) break;
        sample.labels[std::string(labels.substr(0, equals))] = std::string(labels.substr(equals + 2, end - equals - 2));
        labels.remove_prefix(end + 1);
        if (!labels.empty() && labels[0] == ',') labels.remove_prefix(1);
      }
      position = close + 1;
    }
    std::istringstream value(line.substr(position));
    std::string number;
    value >> number;
    if (number == "+Inf") {
      sample.value = std::numeric_limits<double>::infinity();
    } else {
      try {
        sample.value = std::stod(number);
      } catch (...) {
        continue;
      }
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

// The value of the sample named `name` whose labels include `labels`; nullopt when there is none.
std::optional<double> Find(const std::vector<Sample>& samples, std::string_view name,
                           const std::map<std::string, std::string>& labels = {}) {
  for (const Sample& sample : samples) {
    if (sample.name != name) continue;
    bool match = true;
    for (const auto& [key, value] : labels) {
      const auto it = sample.labels.find(key);
      if (it == sample.labels.end() || it->second != value) match = false;
    }
    if (match) return sample.value;
  }
  return std::nullopt;
}

std::string TrackBatch(int client, int request, int events) {
  std::string body = R"({"batch":[)";
  for (int e = 0; e < events; ++e) {
    if (e > 0) body += ',';
    body += R"({"type":"track","userId":"user-)" + std::to_string(client) + R"(","event":"Product Viewed",)"
            R"("properties":{"sku":"sku-)" + std::to_string(e) + R"("},"messageId":"term-)" + std::to_string(client) +
            "-" + std::to_string(request) + "-" + std::to_string(e) + R"("})";
  }
  return body + "]}";
}

TEST(OperationsE2eTest, HealthAndReadiness) {
  TempDir temp;
  auto server = ServerProcess::Start({.data_dir = temp.path() + "/data", .extra_json = ""});
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClient client((*server)->port(), 10s);

  auto health = client.Request("GET", "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(WithoutWhitespace(health->body), R"({"status":"ok"})");

  auto ready = client.Request("GET", "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(WithoutWhitespace(ready->body), R"({"status":"ready"})");
}

TEST(OperationsE2eTest, MetricsCountRequestsAndEvents) {
  TempDir temp;
  auto server = ServerProcess::Start({.data_dir = temp.path() + "/data", .extra_json = ""});
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClient client((*server)->port(), 10s);

  for (int i = 0; i < 3; ++i) {
    auto accepted = client.PostJson(
        "/v1/track", R"({"userId":"u-1","event":"Viewed","messageId":"metrics-)" + std::to_string(i) + R"("})",
        kWriteKey);
    ASSERT_TRUE(accepted.ok()) << accepted.status();
    ASSERT_EQ(accepted->status, 200) << accepted->body;
  }
  auto duplicate = client.PostJson("/v1/track", R"({"userId":"u-1","event":"Viewed","messageId":"metrics-0"})",
                                   kWriteKey);
  ASSERT_TRUE(duplicate.ok()) << duplicate.status();
  ASSERT_EQ(duplicate->status, 200) << duplicate->body;
  auto rejected = client.PostJson("/v1/track", R"({"event":"Viewed","messageId":"metrics-bad"})", kWriteKey);
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  ASSERT_EQ(rejected->status, 400) << rejected->body;

  // Counters may be bumped just after a response is written, so poll until they settle.
  std::string page;
  std::string content_type;
  std::vector<Sample> samples;
  auto settled = [&] {
    auto metrics = client.Request("GET", "/metrics");
    if (!metrics.ok() || metrics->status != 200) return false;
    page = metrics->body;
    content_type = metrics->headers.contains("content-type") ? metrics->headers.at("content-type") : "";
    samples = ParsePrometheus(page);
    return Find(samples, "tessera_http_requests_total", {{"route", "/v1/track"}, {"status", "200"}}) == 4.0 &&
           Find(samples, "tessera_http_requests_total", {{"route", "/v1/track"}, {"status", "400"}}) == 1.0 &&
           Find(samples, "tessera_events_total", {{"result", "accepted"}}) == 3.0 &&
           Find(samples, "tessera_events_total", {{"result", "duplicate"}}) == 1.0 &&
           Find(samples, "tessera_events_total", {{"result", "rejected"}}) == 1.0;
  };
  const bool ok = WaitFor(settled, 5s);
  EXPECT_TRUE(ok) << "/metrics did not reflect 4x200 + 1x400 on /v1/track, 3 accepted, 1 duplicate, 1 rejected:\n"
                  << page;
  EXPECT_THAT(content_type, StartsWith("text/plain"));
  EXPECT_EQ(Find(samples, "tessera_http_requests_total", {{"route", "/v1/track"}, {"status", "200"}}), 4.0);
  EXPECT_EQ(Find(samples, "tessera_http_requests_total", {{"route", "/v1/track"}, {"status", "400"}}), 1.0);
  EXPECT_EQ(Find(samples, "tessera_events_total", {{"result", "accepted"}}), 3.0);
  EXPECT_EQ(Find(samples, "tessera_events_total", {{"result", "duplicate"}}), 1.0);
  EXPECT_EQ(Find(samples, "tessera_events_total", {{"result", "rejected"}}), 1.0);
  EXPECT_EQ(Find(samples, "tessera_events_total", {{"result", "overloaded"}}), 0.0);
  const std::optional<double> writes = Find(samples, "tessera_log_write_seconds_count");
  ASSERT_TRUE(writes.has_value()) << page;
  EXPECT_GE(*writes, 1.0) << "three accepted events need at least one log write";
  EXPECT_TRUE(Find(samples, "tessera_log_write_seconds_sum").has_value()) << page;
  EXPECT_EQ(Find(samples, "tessera_log_write_seconds_bucket", {{"le", "+Inf"}}), writes)
      << "the +Inf bucket must equal the count";
  EXPECT_TRUE(Find(samples, "tessera_ingest_queue_depth_events").has_value()) << page;
}

TEST(OperationsE2eTest, SigtermWithRequestsInFlightKeepsEveryAcknowledgedEventAndExitsZero) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  auto started = ServerProcess::Start({.data_dir = data_dir, .extra_json = ""});
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<ServerProcess> server = std::move(*started);

  constexpr int kClients = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged_requests{0};
  std::mutex mutex;
  std::vector<std::string> acknowledged;  // Guarded by mutex.
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(server->port(), 30s);
      for (int request = 0; !stop.load(); ++request) {
        auto response = client.PostJson("/v1/batch", TrackBatch(c, request, 20), kWriteKey);
        if (!response.ok()) return;  // The server has gone away.
        if (response->status != 200) continue;
        std::lock_guard lock(mutex);
        for (int e = 0; e < 20; ++e) {
          acknowledged.push_back("term-" + std::to_string(c) + "-" + std::to_string(request) + "-" +
                                 std::to_string(e));
        }
        acknowledged_requests.fetch_add(1);
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return acknowledged_requests.load() >= 40; }, 60s))
      << "clients got too few acknowledgements";
  // SIGTERM while the clients keep sending.
  auto exit_code = server->Terminate();
  stop.store(true);
  for (std::thread& client : clients) client.join();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\noutput:\n" << server->Output();
  EXPECT_EQ(*exit_code, 0) << "output:\n" << server->Output();

  std::map<std::string, int> counts;
  for (const auto& event : ReadLog(data_dir)) ++counts[event.message_id];
  std::lock_guard lock(mutex);
  size_t missing = 0;
  for (const std::string& id : acknowledged) {
    if (!counts.contains(id) && ++missing <= 10) ADD_FAILURE() << "acknowledged " << id << " is not in the log";
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged events";
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << id;
}

// Runs `tessera serve --config path`; returns its exit code and what it wrote to stderr.
struct Finished {
  int exit_code = -1;
  std::string stderr_text;
};

std::optional<Finished> RunServe(const std::string& config_path, std::chrono::seconds timeout) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;
  std::string binary = TESSERA_BINARY;
  std::vector<std::string> args = {binary, "serve", "--config", config_path};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, STDIN_FILENO);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);

  Finished finished;
  const auto deadline = Clock::now() + timeout;
  bool eof = false;
  while (!eof) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd pfd{pipe_fds[0], POLLIN, 0};
    if (left <= 0 || ::poll(&pfd, 1, static_cast<int>(left)) <= 0) break;
    char chunk[4096];
    const ssize_t n = ::read(pipe_fds[0], chunk, sizeof(chunk));
    if (n <= 0) {
      eof = true;
    } else {
      finished.stderr_text.append(chunk, static_cast<size_t>(n));
    }
  }
  ::close(pipe_fds[0]);
  int status = 0;
  const bool exited = WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; },
                              std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) + 100ms);
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ADD_FAILURE() << "tessera serve with a bad config was still running after " << timeout.count()
                  << " s; stderr:\n" << finished.stderr_text;
    return std::nullopt;
  }
  finished.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return finished;
}

TEST(OperationsE2eTest, InvalidConfigExitsWithCode2AndNamesTheKey) {
  TempDir temp;
  const std::string base = R"("listen":{"address":"127.0.0.1","port":0},"data_dir":")" + temp.path() + R"(/data",)"
                           R"("read_keys":["test-read-key"],"admin_keys":["test-admin-key"])";
  const std::string good_source = R"("sources":[{"name":"website","write_key":"test-write-key","space":"default",)"
                                  R"("channel":"web"}])";
  struct Case {
    std::string config;
    std::string key;  // What stderr must name.
  };
  const std::vector<Case> cases = {
      {"{" + base + "," + good_source + R"(,"bogus_setting":1})", "bogus_setting"},
      {"{" + base + R"(,"sources":[{"name":"tv","write_key":"k","space":"default","channel":"tv"}]})",
       "sources[0].channel"},
      {"{" + base + "," + good_source + R"(,"limits":{"idle_timeout_ms":"soon"}})", "limits.idle_timeout_ms"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string path = temp.path() + "/bad-config-" + std::to_string(i) + ".json";
    std::ofstream(path) << cases[i].config;
    const std::optional<Finished> finished = RunServe(path, 30s);
    ASSERT_TRUE(finished.has_value()) << cases[i].config;
    EXPECT_EQ(finished->exit_code, 2) << cases[i].config << "\nstderr:\n" << finished->stderr_text;
    EXPECT_THAT(finished->stderr_text, HasSubstr(cases[i].key)) << cases[i].config;
  }
}

TEST(OperationsE2eTest, IdleConnectionIsClosedAfterIdleTimeout) {
  TempDir temp;
  auto server = ServerProcess::Start({.data_dir = temp.path() + "/data", .extra_json = R"("limits":{"idle_timeout_ms":300})"});
  ASSERT_TRUE(server.ok()) << server.status();

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons((*server)->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);

  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));

  // Read the response and then wait for EOF; the time from the end of the response to EOF is the
  // idle period the server allowed.
  std::string received;
  std::optional<Clock::time_point> response_complete;
  bool closed = false;
  const auto deadline = Clock::now() + 10s;
  while (!closed && Clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(left, 0))) <= 0) break;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      closed = true;
    } else {
      received.append(chunk, static_cast<size_t>(n));
      if (!response_complete && received.find(R"("ok")") != std::string::npos) response_complete = Clock::now();
    }
  }
  const auto closed_at = Clock::now();
  ::close(fd);

  ASSERT_TRUE(response_complete.has_value()) << "no /healthz response on the connection: " << received;
  EXPECT_THAT(received, StartsWith("HTTP/1.1 200"));
  ASSERT_TRUE(closed) << "an idle connection was still open 10 s after its last response (idle_timeout_ms 300)";
  const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(closed_at - *response_complete);
  EXPECT_GE(idle.count(), 200) << "closed long before the idle timeout";
  EXPECT_LE(idle.count(), 5000) << "closed long after the idle timeout";
}

}  // namespace
}  // namespace tessera::e2e

namespace tessera::e2e {
namespace {

// Runs the tessera binary with `arguments` (shell words), returning its exit code and stderr.
std::pair<int, std::string> RunTessera(const std::string& arguments) {
  TempDir temp;
  const std::string err = temp.path() + "/stderr.txt";
  const int status = std::system((std::string(TESSERA_BINARY) + " " + arguments + " > /dev/null 2> " + err).c_str());
  std::ifstream in(err);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

// Runs the tessera binary with `arguments`, returning its exit code and stdout.
std::pair<int, std::string> RunTesseraStdout(const std::string& arguments) {
  TempDir temp;
  const std::string out = temp.path() + "/stdout.txt";
  const int status = std::system((std::string(TESSERA_BINARY) + " " + arguments + " > " + out + " 2>&1").c_str());
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

TEST(OperationsE2eTest, HelpListsCommandsAndEachCommandsFlags) {
  for (const char* arguments : {"--help", "-h", "help"}) {
    auto [code, text] = RunTesseraStdout(arguments);
    EXPECT_EQ(code, 0) << "tessera " << arguments << "\n" << text;
    for (const char* command : {"serve", "import", "export", "backup", "restore", "verify", "rebuild", "log"}) {
      EXPECT_NE(text.find(std::string("  ") + command + " "), std::string::npos) << command << " missing from:\n" << text;
    }
  }
  for (const char* arguments : {"serve --help", "help serve", "serve --port 1 -h"}) {
    auto [code, text] = RunTesseraStdout(arguments);
    EXPECT_EQ(code, 0) << "tessera " << arguments << "\n" << text;
    EXPECT_NE(text.find("usage: tessera serve [--config FILE]"), std::string::npos) << text;
    EXPECT_EQ(text.find("needs a value"), std::string::npos) << text;
  }
  auto [import_code, import_text] = RunTesseraStdout("import --help");
  EXPECT_EQ(import_code, 0);
  EXPECT_NE(import_text.find("--server URL"), std::string::npos) << import_text;
  auto [unknown_code, unknown_text] = RunTesseraStdout("help frobnicate");
  EXPECT_EQ(unknown_code, 2);
  EXPECT_NE(unknown_text.find("unknown command"), std::string::npos) << unknown_text;
}

TEST(OperationsE2eTest, BadCommandLinesExitWithCode2AndSayWhy) {
  struct Case {
    const char* arguments;
    const char* expected;  // part of stderr
  };
  for (const Case& c : {Case{"frobnicate", "unknown command"}, Case{"serve --bogus 1", "unknown option --bogus"},
                        Case{"serve --port 70000", "--port"}, Case{"log --from abc --data-dir /nonexistent", "--from"},
                        Case{"rebuild --data-dir", "needs a value"},
                        Case{"bench resolve --events abc", "--events"}}) {
    auto [code, text] = RunTessera(c.arguments);
    EXPECT_EQ(code, 2) << "tessera " << c.arguments << "\n" << text;
    EXPECT_NE(text.find(c.expected), std::string::npos) << "tessera " << c.arguments << " said: " << text;
  }
}

// The benchmark commands that write their own synthetic logs run through on small inputs (they
// are measurements, but a command that fails is a defect all the same).
TEST(OperationsE2eTest, BenchCommandsThatWriteTheirOwnLogRunOnSmallInputs) {
  TempDir temp;
  auto [resolve_code, resolve_text] =
      RunTesseraStdout("bench resolve --events 2000 --people 1000 --cache-ratio 0 --dir " + temp.path() + "/resolve");
  EXPECT_EQ(resolve_code, 0) << resolve_text;
  auto [audiences_code, audiences_text] = RunTesseraStdout("bench audiences --people 300 --dir " + temp.path() + "/audiences");
  EXPECT_EQ(audiences_code, 0) << audiences_text;
}

}  // namespace
}  // namespace tessera::e2e
