#pragma once

// Helpers of the cluster end-to-end tests: members as real `tessera serve` processes with a cluster
// section, their gauges, and batches of identify events.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {

// One process of a test cluster: its role and name in the generated configuration.
inline absl::StatusOr<std::unique_ptr<ServerProcess>> StartMember(const TempDir& dir, const testing::NatsTestCluster& nats,
                                                          const std::string& name, const std::string& role) {
  return ServerProcess::Start(
      {.data_dir = dir.path() + "/" + name,
       .extra_json = absl::StrCat(R"("cluster": {"nats_urls": [")", absl::StrJoin(nats.urls(), "\", \""),
                                  R"("], "role": ")", role, R"(", "name": ")", name,
                                  R"(", "lease_ttl_seconds": 3, "publish_timeout_ms": 5000})")});
}

// The value of a gauge with labels `{space="default"}` in /metrics; -1 when absent.
inline int64_t Gauge(HttpClient& client, const std::string& name) {
  auto metrics = client.Request("GET", "/metrics");
  if (!metrics.ok() || metrics->status != 200) return -1;
  const std::string prefix = name + "{space=\"default\"} ";
  const size_t at = metrics->body.find(prefix);
  if (at == std::string::npos) return -1;
  return std::stoll(metrics->body.substr(at + prefix.size()));
}

// Identify events tying user ids to emails, some of which link two users' emails into one person.
inline std::string IdentifyBatch(int first, int count) {
  std::string body = R"({"batch":[)";
  for (int i = first; i < first + count; ++i) {
    if (i > first) body += ",";
    absl::StrAppend(&body, R"({"type":"identify","userId":"user-)", i, R"(","messageId":"id-)", i,
                    R"(","traits":{"email":"person-)", i / 3, R"(@example.com","plan":"p)", i % 4, R"("}})");
  }
  return body + "]}";
}

}  // namespace tessera::e2e
