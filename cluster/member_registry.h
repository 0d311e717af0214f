#pragma once

// MemberRegistry: which Tessera processes a cluster has and how far each has got, for `tessera
// cluster status`. Every process announces itself every few seconds in a JetStream key-value
// bucket under its name; an entry not renewed within the bucket's TTL expires, so a dead process
// drops out of the list by itself. The value is the process's own JSON report (its roles and, per
// space, the stream positions it has copied and applied); this class does not read it.
//
// Thread-safety: any thread may call any method.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cluster/nats_connection.h"

namespace tessera::cluster {

struct MemberRegistryOptions {
  std::chrono::seconds ttl{15};  // An announcement counts this long.
  int replicas = 3;
  std::string bucket = "tessera_members";
};

class MemberRegistry {
 public:
  // The bucket, created first if it does not exist and `create` is set (NotFound otherwise).
  static absl::StatusOr<std::unique_ptr<MemberRegistry>> Open(NatsConnection& nats, MemberRegistryOptions options,
                                                              bool create = true);
  ~MemberRegistry();
  MemberRegistry(const MemberRegistry&) = delete;
  MemberRegistry& operator=(const MemberRegistry&) = delete;

  // Writes `report` under `member` (a name of [A-Za-z0-9_-]: config's cluster.name, with other
  // characters replaced).
  absl::Status Announce(std::string_view member, std::string_view report);

  // Every member's latest report, by name.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List();

  // `name` with every character a key may not hold replaced by '_'.
  static std::string KeyOf(std::string_view name);

 private:
  explicit MemberRegistry(kvStore* bucket) : bucket_(bucket) {}
  kvStore* bucket_;
};

}  // namespace tessera::cluster
