#pragma once

// Reading the accepted-event log of a test server after it has exited (the store is then free).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "ingest/accepted_log.h"
#include "ingest/event.h"
#include "ingest/event_codec.h"
#include "profile_store/store.h"

namespace tessera::e2e {

// Every event of the "default" space in the accepted-event log under `data_dir` (encrypted with
// `keys` when given).
inline std::vector<ingest::CanonicalEvent> ReadLog(const std::string& data_dir,
                                                   std::shared_ptr<const profile_store::KeyRing> keys = nullptr) {
  std::vector<ingest::CanonicalEvent> events;
  auto store = profile_store::Store::Open({.path = data_dir + "/store", .encryption_keys = std::move(keys)});
  EXPECT_TRUE(store.ok()) << "opening the store of " << data_dir << ": " << store.status();
  if (!store.ok()) return events;
  ingest::AcceptedLog log(**store);
  const absl::Status scanned = log.Scan("default", 1, [&](uint64_t sequence, std::string_view record) {
    auto event = ingest::DecodeEvent(record);
    EXPECT_TRUE(event.ok()) << "log record " << sequence << " does not decode: " << event.status();
    if (event.ok()) events.push_back(std::move(*event));
    return true;
  });
  EXPECT_TRUE(scanned.ok()) << scanned;
  return events;
}

}  // namespace tessera::e2e
