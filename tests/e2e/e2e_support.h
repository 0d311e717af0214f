#pragma once

// Support for end-to-end tests: start the real `tessera` binary on an ephemeral port with a config
// written to a temporary directory, talk to it over real sockets, and stop it gracefully (SIGTERM)
// or brutally (SIGKILL). No Beast here: a small blocking HTTP/1.1 client on POSIX sockets, with a
// deadline on every call, keeps these tests independent of the server's own HTTP code.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tessera::e2e {

// Keys every test server is configured with.
inline constexpr std::string_view kWriteKey = "test-write-key";
inline constexpr std::string_view kPosWriteKey = "test-pos-write-key";  // source "pos", channel pos
inline constexpr std::string_view kReadKey = "test-read-key";
inline constexpr std::string_view kAdminKey = "test-admin-key";

// A fresh temporary directory, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ServerConfig {
  std::string data_dir = {};  // Required.
  // Extra top-level JSON members appended to the generated config, e.g. R"("dedup": {...})".
  std::string extra_json = {};
  // Extra members of both built-in sources ("website" and "store"), e.g.
  // R"(,"allowed_origins":["https://a.b"])".
  std::string source_extra = {};
  // Extra source objects appended to "sources", e.g. R"({"name":"app","write_key":"k","channel":"app"})".
  std::string extra_sources = {};
  // Keys appended to "read_keys" and "admin_keys" after kReadKey and kAdminKey, as written (a
  // secret or "sha256:<hex>").
  std::vector<std::string> extra_read_keys = {};
  std::vector<std::string> extra_admin_keys = {};
};

// A running `tessera serve` child process.
class ServerProcess {
 public:
  // Writes `<data_dir>/test-config.json` (port 0, the keys above: kWriteKey -> space "default",
  // channel "web", source "website"; kPosWriteKey -> channel "pos", source "store"), starts
  // TESSERA_BINARY with `serve --config FILE`, and waits (up to 30 s) for the line
  // "listening on http://127.0.0.1:PORT" (https:// with TLS) on its stdout. Other output is kept
  // for diagnostics.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const ServerConfig& config);

  ~ServerProcess();  // SIGKILLs the child if still running.

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Sends SIGTERM and waits for exit (up to `timeout`); returns the exit status (0 = clean).
  absl::StatusOr<int> Terminate(std::chrono::seconds timeout = std::chrono::seconds(30));
  // Sends SIGKILL and reaps the child.
  void Kill();
  // Everything the child printed so far (stdout and stderr).
  std::string Output();

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  int output_fd_ = -1;
  std::string output_;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // Lower-cased names.
  std::string body;
};

// A blocking HTTP/1.1 client over one keep-alive TCP connection to 127.0.0.1:port. Reconnects
// when the server closed the connection. Every call fails with DeadlineExceeded after `timeout`.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();

  absl::StatusOr<HttpResponse> Request(std::string_view method, std::string_view target, std::string_view body = {},
                                       const std::map<std::string, std::string>& headers = {});
  // POST with JSON content type and `Authorization: Basic base64(write_key:)` (none if empty).
  absl::StatusOr<HttpResponse> PostJson(std::string_view target, std::string_view body, std::string_view write_key);
  // Sends raw bytes as they are and reads one response (for malformed-request tests).
  absl::StatusOr<HttpResponse> SendRaw(std::string_view bytes);

 private:
  absl::Status EnsureConnected();
  absl::StatusOr<HttpResponse> ReadResponse();

  uint16_t port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;
};

std::string Base64(std::string_view bytes);

// The string value of the first `"name":"..."` in `json`, unescaped as far as ids need (not at
// all); empty when absent. Enough for profile ids and similar plain values in responses.
std::string JsonStringMember(const std::string& json, const std::string& name);

struct CommandResult {
  int exit_code = -1;  // 137 when the timeout killed it; -1 when the shell did not exit normally.
  std::string output;  // stdout and stderr together.
};

// Runs `command` with /bin/sh to completion, killed after `timeout_seconds`; its output goes
// through a file in `scratch_dir`. `command` must not contain single quotes.
CommandResult RunCommand(const std::string& scratch_dir, const std::string& command, int timeout_seconds = 120);

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace tessera::e2e
