#pragma once

// Erasure of one person from a space, as the resolver performs a privacy erasure request: the live
// profile and every profile merged into it (records and redirects), their timelines, merge records
// and audience member rows, every log record on those timelines with its dedup entry, dead letters
// that carry one of the person's identifiers, and the identifier index entries. Everything goes
// into two WriteBatches: the log records and dedup entries into one for the store's intake, the
// rest into one for the state (with the request's completion). The caller writes the intake's
// first, synced: a crash between the two leaves the request pending, and carrying it out again
// finds the log part already gone. Afterwards CompactErased rewrites the affected key ranges, so the
// deleted values leave the SST files instead of lingering under tombstones (see KEYS.md).
//
// Other people's data is not deleted: only keys under the erased profile ids, the log records of
// their timelines, and identifier entries the profile holds are (blocked values, such as a shared
// device id, never link and so are never among them). Another profile's refused-merge records that
// name the erased profile keep their place with the erased identifiers' values replaced by
// "<erased>".

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "identity/identifier.h"
#include "identity/normalizer.h"
#include "ingest/identifier_extractor.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"

namespace tessera::privacy {

struct CompactionRange {
  profile_store::ColumnFamily family;
  std::string begin;
  std::string end;  // Exclusive.
};

struct ErasedPerson {
  std::vector<identity::Identifier> identifiers;  // The person's identifiers, now unlinked.
  uint64_t profiles = 0;  // Profile records deleted; each id is retired (RetiredProfileKey).
  uint64_t events = 0;
  uint64_t dead_letters = 0;
  std::vector<CompactionRange> ranges;  // Where deletions went, for CompactErased.
};

// Adds the deletion of `profile` (a live profile of `space`, as stored) and all it stands for to
// `batch` (state families) and `intake_batch` (log and dedup). Reads the store; writes nothing.
absl::StatusOr<ErasedPerson> CollectErasure(profile_store::Store& store, std::string_view space,
                                            const profile_store::Profile& profile,
                                            const ingest::IdentifierExtractor& extractor,
                                            const identity::Normalizer& normalizer,
                                            rocksdb::WriteBatch& batch, rocksdb::WriteBatch& intake_batch);

// Dead letters of `space` carrying one of `identifiers` (normalized): deleted into `batch`.
absl::StatusOr<uint64_t> EraseDeadLetters(profile_store::Store& store, std::string_view space,
                                          const std::vector<identity::Identifier>& identifiers,
                                          const ingest::IdentifierExtractor& extractor,
                                          const identity::Normalizer& normalizer, rocksdb::WriteBatch& batch,
                                          std::vector<CompactionRange>& ranges);

// Flushes the memtables and compacts `ranges` down to the bottommost level, dropping the deleted
// values and their tombstones from every SST file (unless a snapshot still needs them).
absl::Status CompactErased(profile_store::Store& store, const std::vector<CompactionRange>& ranges);

}  // namespace tessera::privacy
