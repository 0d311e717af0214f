#pragma once

// Audiences' storage: definitions, memberships, the history of entries and exits, and each
// audience's counters. Key layouts are in KEYS.md. The resolver is the only writer of memberships
// (in the same WriteBatch as the profile change that caused them); the API writes definitions.
//
// MemberScan streams one audience's members from a RocksDB snapshot: constant memory however
// large the audience, a consistent view while the resolver keeps writing, and no lock on anything
// ingestion uses.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "rocksdb/db.h"

namespace tessera::profile_store {

enum class DefinitionKind : char { kComputedTrait = 'c', kAudience = 'a' };

std::string DefinitionKey(std::string_view space, DefinitionKind kind, std::string_view name);
std::string DefinitionPrefix(std::string_view space, DefinitionKind kind);
std::string MemberKey(std::string_view space, std::string_view audience, ProfileId profile);
std::string MemberPrefix(std::string_view space, std::string_view audience);
std::string AudienceChangeKey(std::string_view space, std::string_view audience, Timestamp time, ProfileId profile);
std::string AudienceChangePrefix(std::string_view space, std::string_view audience);
// kMeta key of an audience's counters (AudienceCounters).
std::string AudienceCountersKey(std::string_view space, std::string_view audience);

// One stored definition (the JSON as given, minified) and whether config owns it.
struct StoredDefinition {
  std::string name;
  std::string json;
  bool from_config = false;
};

// Stores definitions of one kind: {"json":...,"fromConfig":bool}.
void PutDefinition(const Store& store, rocksdb::WriteBatch& batch, std::string_view space, DefinitionKind kind,
                   const StoredDefinition& definition);
absl::StatusOr<std::vector<StoredDefinition>> ReadDefinitions(const Store& store, std::string_view space,
                                                              DefinitionKind kind);

// An audience's running figures, kept in kMeta and rewritten with each batch that changes them.
struct AudienceCounters {
  int64_t size = 0;                 // Current members.
  uint64_t entered = 0;             // Entries ever recorded.
  uint64_t left = 0;                // Exits ever recorded.
  Timestamp last_evaluated{};       // When the last full evaluation (sweep) finished; epoch if never.
  Timestamp last_change{};          // Time of the newest entry or exit.
  friend bool operator==(const AudienceCounters&, const AudienceCounters&) = default;
};
std::string EncodeAudienceCounters(const AudienceCounters& counters);
std::optional<AudienceCounters> DecodeAudienceCounters(std::string_view json);

// One audience change record (kAudienceChanges): {"profile","change":"enter"|"leave","time","reason"}.
std::string EncodeAudienceChange(ProfileId profile, bool entered, Timestamp time, std::string_view reason);

struct Member {
  ProfileId id;
  Timestamp entered{};
  Profile profile;  // As of the scan's snapshot.
};

class MemberScan {
 public:
  // Starts a scan of `audience`'s members in `space`, in profile id order.
  MemberScan(const Store& store, std::string space, std::string audience);
  ~MemberScan();
  MemberScan(const MemberScan&) = delete;
  MemberScan& operator=(const MemberScan&) = delete;

  // The next member, nullopt at the end. Rows whose profile was merged away since (a redirect) are
  // skipped: the resolver removes them, and the winner has its own row.
  absl::StatusOr<std::optional<Member>> Next();

 private:
  const Store& store_;
  const std::string space_;
  const std::string prefix_;
  const rocksdb::Snapshot* snapshot_ = nullptr;
  std::unique_ptr<rocksdb::Iterator> iterator_;
  bool started_ = false;
};

}  // namespace tessera::profile_store
