#include "resolve/verify.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "identity/identity_graph.h"
#include "profile_store/backup.h"
#include "profile_store/profile.h"
#include "resolve/rebuild.h"
#include "resolve/resolver.h"

namespace tessera::resolve {
namespace {

namespace fs = std::filesystem;
using profile_store::ColumnFamily;
using profile_store::Store;

std::string Printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

// Profile records compared without their audience memberships (evaluated at rebuild time).
bool SameProfile(std::string_view live, std::string_view rebuilt) {
  auto a = profile_store::DecodeProfile(live);
  auto b = profile_store::DecodeProfile(rebuilt);
  if (!a.ok() || !b.ok()) return false;
  a->audiences.clear();
  b->audiences.clear();
  std::string encoded_a;
  std::string encoded_b;
  profile_store::EncodeProfile(*a, encoded_a);
  profile_store::EncodeProfile(*b, encoded_b);
  return encoded_a == encoded_b;
}

// Walks the rows of one family (within [begin, end) when given) of both copies in key order.
absl::Status CompareFamily(Store& live, Store& rebuilt, ColumnFamily family, std::string_view name,
                           std::string_view begin, std::string_view end, const VerifyOptions& options,
                           VerifyReport& report) {
  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper(end.data(), end.size());
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> a(live.db(family)->NewIterator(read_options, live.handle(family)));
  std::unique_ptr<rocksdb::Iterator> b(rebuilt.db(family)->NewIterator(read_options, rebuilt.handle(family)));
  const rocksdb::Slice start(begin.data(), begin.size());
  a->Seek(start);
  b->Seek(start);
  auto differ = [&](std::string_view key, std::optional<std::string> live_value,
                    std::optional<std::string> rebuilt_value) {
    ++report.differing_rows;
    if (report.differences.size() < options.max_differences) {
      report.differences.push_back(
          {std::string(name), Printable(key), std::move(live_value), std::move(rebuilt_value)});
    }
  };
  while (a->Valid() || b->Valid()) {
    ++report.rows_compared;
    const int order = !a->Valid() ? 1 : !b->Valid() ? -1 : a->key().compare(b->key());
    if (order < 0) {
      differ(a->key().ToStringView(), a->value().ToString(), std::nullopt);
      a->Next();
    } else if (order > 0) {
      differ(b->key().ToStringView(), std::nullopt, b->value().ToString());
      b->Next();
    } else {
      const bool same =
          a->value() == b->value() || (family == ColumnFamily::kProfiles &&
                                       SameProfile(a->value().ToStringView(), b->value().ToStringView()));
      if (!same) differ(a->key().ToStringView(), a->value().ToString(), b->value().ToString());
      a->Next();
      b->Next();
    }
  }
  if (!a->status().ok())
    return profile_store::ToAbslStatus(a->status(), absl::StrCat("reading ", std::string(name)));
  return profile_store::ToAbslStatus(b->status(), absl::StrCat("reading rebuilt ", std::string(name)));
}

// What a server does at start for every space with events: apply the log after the recorded
// resolver position.
absl::StatusOr<uint64_t> CatchUp(Store& store, const std::vector<std::string>& spaces,
                                 const DerivedStateOptions& options) {
  auto normalizer = identity::Normalizer::Create(options.normalizer);
  if (!normalizer.ok()) return normalizer.status();
  ingest::IdentifierExtractor extractor(options.mappings);
  auto replay_privacy = OpenReplayPrivacy(store, spaces);
  if (!replay_privacy.ok()) return replay_privacy.status();
  uint64_t applied_total = 0;
  for (const std::string& space : spaces) {
    audiences::SpaceAudiences audiences(store, space);
    auto defined = options.definitions.find(space);
    const SpaceDefinitions none;
    const SpaceDefinitions& definitions = defined == options.definitions.end() ? none : defined->second;
    if (absl::Status status = audiences.Load(definitions.computed_traits, definitions.audiences);
        !status.ok()) {
      return status;
    }
    Resolver resolver(store, space, **normalizer, extractor, identity::IdentityRules(options.rules),
                      options.resolver, &audiences);
    resolver.SetSuppressionList(replay_privacy->list.get());
    if (absl::Status status = resolver.Recover(); !status.ok()) return status;
    auto applied = resolver.CatchUp();
    if (!applied.ok()) return applied.status();
    applied_total += *applied;
  }
  return applied_total;
}

absl::StatusOr<std::unique_ptr<Store>> OpenCopy(const std::string& path, std::shared_ptr<const profile_store::KeyRing> keys) {
  profile_store::StoreOptions copy_options;
  copy_options.path = path;
  copy_options.encryption_keys = std::move(keys);  // A copy of an encrypted store is encrypted too.
  // A throw-away copy: no fsync per batch, small caches.
  copy_options.sync_writes = false;
  copy_options.block_cache_bytes = 64 << 20;
  return Store::Open(copy_options);
}

absl::StatusOr<VerifyReport> VerifyIn(Store& store, const std::string& work_dir,
                                      const DerivedStateOptions& options, const VerifyOptions& verify) {
  VerifyReport report;
  const std::string live_path = work_dir + "/live";
  const std::string rebuilt_path = work_dir + "/rebuilt";
  if (absl::Status status = profile_store::CreateCheckpoint(store, live_path); !status.ok()) return status;
  auto live = OpenCopy(live_path, store.options().encryption_keys);
  if (!live.ok()) return live.status();
  auto spaces = LoggedSpaces(**live);
  if (!spaces.ok()) return spaces.status();
  report.spaces = *spaces;
  auto caught_up = CatchUp(**live, *spaces, options);
  if (!caught_up.ok()) return caught_up.status();
  report.caught_up_events = *caught_up;

  if (absl::Status status = profile_store::CreateCheckpoint(**live, rebuilt_path); !status.ok())
    return status;
  auto rebuilt = OpenCopy(rebuilt_path, store.options().encryption_keys);
  if (!rebuilt.ok()) return rebuilt.status();
  auto rebuild = Rebuild(**rebuilt, options);
  if (!rebuild.ok()) return rebuild.status();
  report.replayed_events = rebuild->events;

  const std::pair<ColumnFamily, std::string_view> families[] = {{ColumnFamily::kIdentifiers, "identifiers"},
                                                                {ColumnFamily::kProfiles, "profiles"},
                                                                {ColumnFamily::kMerges, "merges"},
                                                                {ColumnFamily::kTimeline, "timeline"},
                                                                {ColumnFamily::kDeadLetter, "dead_letter"},
                                                                {ColumnFamily::kCandidates, "candidates"}};
  for (const auto& [family, name] : families) {
    if (absl::Status status = CompareFamily(**live, **rebuilt, family, name, "", "", verify, report);
        !status.ok()) {
      return status;
    }
  }
  for (std::string_view prefix :
       {std::string_view("resolver/position/"), std::string_view("profiles/next_id/"),
        std::string_view("identity/separated/")}) {
    std::string end(prefix);
    end.back() = static_cast<char>(end.back() + 1);
    if (absl::Status status =
            CompareFamily(**live, **rebuilt, ColumnFamily::kMeta, "meta", prefix, end, verify, report);
        !status.ok()) {
      return status;
    }
  }
  return report;
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyDerivedState(Store& store, const DerivedStateOptions& options,
                                                const VerifyOptions& verify) {
  // Always a fresh directory of our own, since all of it is deleted at the end.
  std::string pattern;
  if (verify.work_dir.empty()) {
    pattern = fs::path(store.options().path).lexically_normal().string();
    while (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
    pattern += ".verify-XXXXXX";
  } else {
    std::error_code error;
    fs::create_directories(verify.work_dir, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot create work directory ", verify.work_dir, ": ", error.message()));
    }
    pattern = verify.work_dir + "/tessera-verify-XXXXXX";
  }
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create a work directory (", pattern, "): ", std::strerror(errno)));
  }
  const std::string work_dir = pattern;
  absl::StatusOr<VerifyReport> report = VerifyIn(store, work_dir, options, verify);
  std::error_code ignored;
  fs::remove_all(work_dir, ignored);
  return report;
}

}  // namespace tessera::resolve
