#pragma once

// A store as Tessera wrote it before the intake database: every family, log and dedup included, in
// one RocksDB database. For the tests of moving such a store (and its backups) over.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "profile_store/store.h"
#include "rocksdb/db.h"

namespace tessera::profile_store {

// The column families of such a store, in the order they were created.
inline std::vector<rocksdb::ColumnFamilyDescriptor> FamiliesBeforeTheIntake() {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", "meta", "log", "dedup", "dead_letter", "identifiers", "profiles", "merges",
                           "timeline", "definitions", "members", "audience_changes", "privacy", "audit"}) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  return families;
}

// Log records "event 1" .. "event 1000" at sequences 1..1000 of space "default", dedup entries
// "dedup N", the log counter (1001), a resolver position and one profile row.
inline void WriteStoreFromBeforeTheIntake(const std::string& path) {
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = FamiliesBeforeTheIntake();
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path, families, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteBatch batch;
  for (int i = 1; i <= 1000; ++i) {
    std::string key("default");
    key.push_back('\0');
    AppendBigEndian64(key, i);
    batch.Put(handles[2], key, "event " + std::to_string(i));
    batch.Put(handles[3], "dedup " + std::to_string(i), "seen");
  }
  std::string next;
  AppendBigEndian64(next, 1001);
  batch.Put(handles[1], std::string(kLogNextSequenceKey), next);
  batch.Put(handles[1], "resolver/position/default", "position");
  batch.Put(handles[6], "default-profile", "profile");
  ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &batch).ok());
  for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace tessera::profile_store
