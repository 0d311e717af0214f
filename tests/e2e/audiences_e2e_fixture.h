#pragma once

// The fixture of the audiences end-to-end test (audiences_e2e_test.cc): a server configured with
// the model's computed traits and audiences and two more sources (app and email), the batches that
// send the model's events, and the checks of audiences, member exports and profiles against the
// model; with the parsing of the server's answers.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tests/e2e/audiences_e2e_model.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {

inline constexpr size_t kMaxBatchBytes = 400 * 1024;

// ----- Parsing answers -----

// RFC 4180 rows (quoted fields, doubled quotes, CRLF or LF line ends).
std::vector<std::vector<std::string>> ParseCsv(std::string_view text);

// What differs between the members `got` and those the model wants, for failure messages.
std::string Describe(const std::set<std::string>& got, const std::set<std::string>& want);

struct AudienceInfo {
  bool ok = false;
  int64_t size = -1;
  int64_t entered = -1;
  int64_t left = -1;
  bool evaluated = false;
  std::string body;
};

// The counters of a GET /v1/audiences/NAME answer; ok is false when one is missing.
AudienceInfo ParseAudienceInfo(const std::string& body);

// The contents of the file at `path` (empty when it cannot be read).
std::string ReadText(const std::string& path);

// ----- The fixture -----

// The fixture of the audiences test: the server, an HTTP client to it, the model and the
// audiences under test.
class AudiencesE2eTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& audiences_json);

  absl::StatusOr<HttpResponse> Get(const std::string& target, std::string_view key = kReadKey);

  absl::StatusOr<HttpResponse> Put(const std::string& target, const std::string& body,
                                   std::string_view key = kAdminKey);

  // Posts one batch; a 503 (overloaded, Retry-After) is retried the way a client would.
  void PostBatch(std::string_view key, const std::string& events);

  // Sends events in per-key batches of at most kMaxBatchBytes, in order within each key. Returns
  // the person of the very last event sent.
  int SendAll(const std::vector<OutgoingEvent>& events);

  // The server applies the log in order: once the person of the last event has all its events,
  // everything sent before has been applied to profiles too.
  void WaitForEventCount(const Person& p);

  AudienceInfo Info(const std::string& name);

  // Waits until the audience is evaluated and has `size` members (memberships are applied
  // asynchronously); gives up after `timeout` and returns the last answer either way.
  AudienceInfo WaitForAudience(const std::string& name, size_t size, std::chrono::milliseconds timeout);

  // Downloads the members as CSV (fields id,user_id,email) and checks every row against the model.
  std::set<std::string> CsvMembers(const std::string& name);

  // Checks every audience: size from GET, CSV members, and (optionally) counters moved by exactly
  // the people who entered and left since `before`.
  void CheckAll(const std::map<std::string, std::set<std::string>>& expected,
                const std::map<std::string, std::set<std::string>>* previous,
                const std::map<std::string, AudienceInfo>* before,
                std::map<std::string, AudienceInfo>* after);

  // Profiles show computedTraits and audiences; checks a sample of people against the model.
  void CheckProfiles(const std::vector<int>& sample,
                     const std::map<std::string, std::set<std::string>>& expected);

  const AudienceCase& Case(const std::string& name) const;

  std::map<std::string, std::set<std::string>> ExpectedSets() const;
  TempDir temp_;
  std::string data_dir_ = temp_.path() + "/data";
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
  Model model_;
  std::vector<AudienceCase> audiences_ = Audiences();
  int batches_sent_ = 0;
};

}  // namespace tessera::e2e
