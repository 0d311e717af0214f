// The cluster section: NATS servers, this process's roles, and the JetStream settings of the
// event streams and leases (docs/cluster.md).

#include <algorithm>
#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/internal/json_reader.h"
#include "config/internal/sections.h"

namespace tessera::config::internal {
namespace {

constexpr std::string_view kRoles[] = {"gateway", "resolver", "replica"};

absl::Status ReadRole(element value, const std::string& path, std::vector<std::string>& roles) {
  std::string role;
  if (absl::Status s = ReadString(value, path, role); !s.ok()) return s;
  if (std::find(std::begin(kRoles), std::end(kRoles), role) == std::end(kRoles)) {
    return Invalid(path, absl::StrCat(Quote(role), " is not one of gateway, resolver, replica"));
  }
  if (std::find(roles.begin(), roles.end(), role) != roles.end()) {
    return Invalid(path, absl::StrCat(Quote(role), " is listed twice"));
  }
  roles.push_back(std::move(role));
  return absl::OkStatus();
}

absl::Status ReadNatsUrls(element value, const std::string& path, std::vector<std::string>& urls) {
  if (absl::Status s = StringListReader(urls)(value, path); !s.ok()) return s;
  if (urls.empty()) return Invalid(path, "must name at least one NATS server");
  for (size_t i = 0; i < urls.size(); ++i) {
    // TLS to NATS is not configured yet (no certificates in this section), so tls:// is refused
    // rather than connected in the clear.
    if (!absl::StartsWith(urls[i], "nats://")) {
      return Invalid(IndexPath(path, i), absl::StrCat(Quote(urls[i]), " must start with nats://"));
    }
  }
  return absl::OkStatus();
}

// "role": one role, or a list of them for a small deployment running several in one process.
absl::Status ReadRoles(element value, const std::string& path, std::vector<std::string>& roles) {
  roles.clear();
  if (value.is_string()) return ReadRole(value, path, roles);
  if (!value.is_array()) return Expected(path, "a role or a list of roles", value);
  if (absl::Status s = ReadArray(value, path, [&](element item, const std::string& item_path) {
        return ReadRole(item, item_path, roles);
      });
      !s.ok()) {
    return s;
  }
  if (roles.empty()) return Invalid(path, "must name at least one role");
  return absl::OkStatus();
}

absl::Status ReadReplicas(element value, const std::string& path, int& replicas) {
  absl::StatusOr<uint64_t> count = ReadUnsigned(value, path, 1, 5);
  if (!count.ok()) return count.status();
  // JetStream's replica groups are Raft groups: an even count adds a copy but no tolerance.
  if (*count % 2 == 0) return Invalid(path, absl::StrCat(*count, " is even; use 1, 3 or 5"));
  replicas = static_cast<int>(*count);
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadCluster(element value, const std::string& path, ClusterOptions& cluster) {
  bool has_urls = false;
  bool has_role = false;
  absl::Status read = ReadObject(
      value, path,
      {{"nats_urls",
        [&](element v, const std::string& p) {
          has_urls = true;
          return ReadNatsUrls(v, p, cluster.nats_urls);
        }},
       {"role",
        [&](element v, const std::string& p) {
          has_role = true;
          return ReadRoles(v, p, cluster.roles);
        }},
       {"name",
        [&](element v, const std::string& p) -> absl::Status {
          if (absl::Status s = ReadString(v, p, cluster.name); !s.ok()) return s;
          if (!IsSlug(cluster.name, "_-.:")) {
            return Invalid(p, absl::StrCat(Quote(cluster.name), " must be 1 to 64 characters from a-z, 0-9, _ - . :"));
          }
          return absl::OkStatus();
        }},
       {"stream_replicas", [&](element v, const std::string& p) { return ReadReplicas(v, p, cluster.stream_replicas); }},
       {"duplicate_window_seconds", DurationReader(cluster.duplicate_window, 1, 7 * 24 * 3600)},
       {"publish_timeout_ms", DurationReader(cluster.publish_timeout, 100, 60'000)},
       {"lease_ttl_seconds", DurationReader(cluster.lease_ttl, 1, 600)},
       {"shed_at_percent", SizeReader(cluster.shed_at_percent, 50, 100)},
       {"stream_max_bytes",
        [&](element v, const std::string& p) -> absl::Status {
          size_t bytes = 0;
          if (absl::Status s = SizeReader(bytes, 1 << 20, uint64_t{1} << 50)(v, p); !s.ok()) return s;
          cluster.stream_max_bytes = static_cast<int64_t>(bytes);
          return absl::OkStatus();
        }}});
  if (!read.ok()) return read;
  if (!has_urls) return Invalid(ChildPath(path, "nats_urls"), "is required in cluster mode");
  if (!has_role) return Invalid(ChildPath(path, "role"), "is required in cluster mode (gateway, resolver, replica)");
  return absl::OkStatus();
}

}  // namespace tessera::config::internal
