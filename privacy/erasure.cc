#include "privacy/erasure.h"

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "ingest/accepted_log.h"
#include "ingest/dedup_window.h"
#include "ingest/event_codec.h"
#include "privacy/suppression.h"
#include "profile_store/audience_store.h"

namespace tessera::privacy {
namespace {

using profile_store::ColumnFamily;
using profile_store::ProfileId;
namespace od = simdjson::ondemand;

using profile_store::PrefixEnd;

}  // namespace

absl::StatusOr<ErasedPerson> CollectErasure(profile_store::Store& store, std::string_view space,
                                            const profile_store::Profile& profile,
                                            const ingest::IdentifierExtractor& extractor,
                                            const identity::Normalizer& normalizer,
                                            rocksdb::WriteBatch& batch, rocksdb::WriteBatch& intake_batch) {
  ErasedPerson erased;
  std::vector<ProfileId> ids = profile.merged_from;
  ids.push_back(profile.id);
  std::vector<uint64_t> sequences;
  for (ProfileId id : ids) {
    const std::string profile_key = profile_store::ProfileKey(space, id);
    batch.Delete(store.handle(ColumnFamily::kProfiles), profile_key);
    erased.ranges.push_back({ColumnFamily::kProfiles, profile_key, profile_key + '\0'});
    batch.Put(store.handle(ColumnFamily::kPrivacy), profile_store::RetiredProfileKey(space, id), "");
    ++erased.profiles;

    // Timeline keys end in ~event time and ~sequence (8 bytes each, big-endian).
    const std::string timeline = profile_store::TimelinePrefix(space, id);
    absl::Status scanned =
        store.ScanPrefix(ColumnFamily::kTimeline, timeline, [&](std::string_view key, std::string_view) {
          if (key.size() >= timeline.size() + 16)
            sequences.push_back(~profile_store::ReadBigEndian64(key.substr(key.size() - 8)));
        });
    if (!scanned.ok()) return scanned;
    batch.DeleteRange(store.handle(ColumnFamily::kTimeline), timeline, PrefixEnd(timeline));
    erased.ranges.push_back({ColumnFamily::kTimeline, timeline, PrefixEnd(timeline)});

    const std::string merges = profile_store::MergePrefix(space, id);
    batch.DeleteRange(store.handle(ColumnFamily::kMerges), merges, PrefixEnd(merges));
    erased.ranges.push_back({ColumnFamily::kMerges, merges, PrefixEnd(merges)});

    for (const auto& [audience, entered] : profile.audiences) {
      (void)entered;
      batch.Delete(store.handle(ColumnFamily::kMembers), profile_store::MemberKey(space, audience, id));
    }

    // The duplicate index (KEYS.md, `candidates`): the profile's own rows name the blocks it is
    // filed in, whose keys are made of the person's name, birth date, e-mail and phone.
    const std::string filed = profile_store::CandidateProfilePrefix(space, id.value);
    std::vector<std::string> blocks;
    scanned = store.ScanPrefix(ColumnFamily::kCandidates, filed, [&](std::string_view key, std::string_view) {
      if (key.size() > filed.size()) blocks.emplace_back(key.substr(filed.size()));
    });
    if (!scanned.ok()) return scanned;
    for (const std::string& block : blocks) {
      const std::string key = profile_store::CandidateKey(space, block, id.value);
      batch.Delete(store.handle(ColumnFamily::kCandidates), key);
      erased.ranges.push_back({ColumnFamily::kCandidates, key, key + '\0'});
    }
    if (store.handle(ColumnFamily::kCandidates) != nullptr) {
      batch.DeleteRange(store.handle(ColumnFamily::kCandidates), filed, PrefixEnd(filed));
      erased.ranges.push_back({ColumnFamily::kCandidates, filed, PrefixEnd(filed)});
    }
  }

  std::sort(sequences.begin(), sequences.end());
  sequences.erase(std::unique(sequences.begin(), sequences.end()), sequences.end());
  for (uint64_t sequence : sequences) {
    const std::string log_key = ingest::AcceptedLog::Key(space, sequence);
    ++erased.events;  // The person's events, whether or not their records are still in the log.
    absl::StatusOr<std::string> record = store.Get(ColumnFamily::kLog, log_key);
    // Already removed: by retention, or by an earlier run of this erasure that wrote its intake
    // part and not its state part.
    if (absl::IsNotFound(record.status())) continue;
    if (!record.ok()) return record.status();
    if (absl::StatusOr<ingest::CanonicalEvent> event = ingest::DecodeEvent(*record); event.ok()) {
      intake_batch.Delete(store.handle(ColumnFamily::kDedup), ingest::DedupWindow::Key(space, event->message_id));
    }
    intake_batch.Delete(store.handle(ColumnFamily::kLog), log_key);
  }
  if (!sequences.empty()) {
    erased.ranges.push_back({ColumnFamily::kLog, ingest::AcceptedLog::Key(space, sequences.front()),
                             ingest::AcceptedLog::Key(space, sequences.back() + 1)});
  }

  for (const profile_store::IdentityRecord& identity : profile.identities) {
    const std::string key = profile_store::IdentifierKey(space, identity.type, identity.value);
    batch.Delete(store.handle(ColumnFamily::kIdentifiers), key);
    erased.ranges.push_back({ColumnFamily::kIdentifiers, key, key + '\0'});
    erased.identifiers.push_back(identity::Identifier{identity.type, identity.value});
  }

  // Refused-merge records are filed on every profile involved, so other people's records can name
  // the erased person's identifiers (in `refused` and in the reason). Those records stay (they are
  // the other person's history) with the identifiers' values replaced by "<erased>".
  std::vector<std::string> erased_ids;
  for (ProfileId id : ids) erased_ids.push_back(profile_store::FormatProfileId(id));
  std::vector<std::pair<std::string, std::string>> replacements;  // JSON-escaped "type:value" -> redacted
  for (const identity::Identifier& identifier : erased.identifiers) {
    std::string quoted;
    base::AppendJsonString(quoted, identity::ToString(identifier));
    replacements.emplace_back(quoted.substr(1, quoted.size() - 2), identifier.type + ":<erased>");
  }
  std::string space_prefix(space);
  space_prefix.push_back('\0');
  absl::Status redacted = store.ScanPrefix(
      ColumnFamily::kMerges, space_prefix, [&](std::string_view key, std::string_view value) {
        bool involved = false;
        for (const std::string& id : erased_ids) involved |= value.find(id) != std::string_view::npos;
        if (!involved) return;
        for (ProfileId id : ids) {
          if (key.starts_with(profile_store::MergePrefix(space, id))) return;  // deleted above
        }
        std::string text(value);
        for (const auto& [needle, replacement] : replacements) {
          for (size_t at = text.find(needle); at != std::string::npos;
               at = text.find(needle, at + replacement.size())) {
            text.replace(at, needle.size(), replacement);
          }
        }
        if (text == value) return;
        batch.Put(store.handle(ColumnFamily::kMerges), key, text);
        erased.ranges.push_back({ColumnFamily::kMerges, std::string(key), std::string(key) + '\0'});
      });
  if (!redacted.ok()) return redacted;

  absl::StatusOr<uint64_t> dead_letters =
      EraseDeadLetters(store, space, erased.identifiers, extractor, normalizer, batch, erased.ranges);
  if (!dead_letters.ok()) return dead_letters.status();
  erased.dead_letters = *dead_letters;
  return erased;
}

absl::StatusOr<uint64_t> EraseDeadLetters(profile_store::Store& store, std::string_view space,
                                          const std::vector<identity::Identifier>& identifiers,
                                          const ingest::IdentifierExtractor& extractor,
                                          const identity::Normalizer& normalizer, rocksdb::WriteBatch& batch,
                                          std::vector<CompactionRange>& ranges) {
  if (identifiers.empty()) return 0;
  absl::flat_hash_set<std::string> wanted;
  for (const identity::Identifier& identifier : identifiers)
    wanted.insert(absl::StrCat(identifier.type, "\n", identifier.value));
  std::string prefix(space);
  prefix.push_back('\0');
  uint64_t erased = 0;
  thread_local base::ReusableJsonParser parser;
  absl::Status scanned =
      store.ScanPrefix(ColumnFamily::kDeadLetter, prefix, [&](std::string_view key, std::string_view value) {
        od::document doc;
        std::string_view record;
        if (parser.Iterate(value).get(doc) || doc["record"].get_string().get(record)) return;
        const std::string record_copy(record);  // The next Iterate would invalidate the view.
        absl::StatusOr<ingest::CanonicalEvent> event = ingest::DecodeEvent(record_copy);
        if (!event.ok()) return;
        const ingest::ExtractedIdentifiers extracted = extractor.Extract(*event);
        for (const identity::Identifier& identifier :
             NormalizedIdentifiers(extracted, ingest::PhoneContextOf(*event, extracted), normalizer)) {
          if (wanted.contains(absl::StrCat(identifier.type, "\n", identifier.value))) {
            batch.Delete(store.handle(ColumnFamily::kDeadLetter), key);
            ranges.push_back({ColumnFamily::kDeadLetter, std::string(key), std::string(key) + '\0'});
            ++erased;
            return;
          }
        }
      });
  if (!scanned.ok()) return scanned;
  return erased;
}

absl::Status CompactErased(profile_store::Store& store, const std::vector<CompactionRange>& ranges) {
  if (ranges.empty()) return absl::OkStatus();
  rocksdb::FlushOptions flush;
  flush.wait = true;
  for (rocksdb::DB* db : {store.db(), store.intake_db()}) {
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    for (int i = 0; i < static_cast<int>(ColumnFamily::kCount); ++i) {
      const auto family = static_cast<ColumnFamily>(i);
      if (store.db(family) == db) handles.push_back(store.handle(family));
    }
    if (rocksdb::Status status = db->Flush(flush, handles); !status.ok()) {
      return profile_store::ToAbslStatus(status, "flushing before erasure compaction");
    }
  }
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (const CompactionRange& range : ranges) {
    rocksdb::Slice begin(range.begin);
    rocksdb::Slice end(range.end);
    rocksdb::Status status = store.db(range.family)->CompactRange(options, store.handle(range.family), &begin, &end);
    if (!status.ok()) return profile_store::ToAbslStatus(status, "compacting erased data");
  }
  return absl::OkStatus();
}

}  // namespace tessera::privacy
