#pragma once

// A real store and ingest pipeline (in a temporary directory) behind a KeyRegistry, for the tests of
// the handlers that feed the pipeline.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "api/key_registry.h"
#include "config/config.h"
#include "ingest/accepted_log.h"
#include "pipeline/ingest_pipeline.h"
#include "profile_store/store.h"
#include "tests/support/temp_dir.h"

namespace tessera::api::testing {

class PipelineFixture : public ::testing::Test {
 protected:
  // `sources` are the configured write keys; config_'s read and admin keys may be set before.
  void StartPipeline(std::vector<config::Source> sources, pipeline::PipelineOptions options = {}) {
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    config_.sources = std::move(sources);
    keys_ = std::make_unique<KeyRegistry>(config_);
    pipeline_ = std::make_unique<pipeline::IngestPipeline>(*store_, std::move(options), metrics_);
    ASSERT_TRUE(pipeline_->Start().ok());
  }
  void TearDown() override {
    if (pipeline_) pipeline_->Stop();
  }

  static std::string BasicFor(std::string_view key) {
    return "Basic " + absl::Base64Escape(absl::string_view(std::string(key) + ":"));
  }

  // Events in the accepted-event log of space "default".
  size_t LoggedCount() {
    size_t count = 0;
    ingest::AcceptedLog log(*store_);
    EXPECT_TRUE(log.Scan("default", 1, [&](uint64_t, std::string_view) { return ++count > 0; }).ok());
    return count;
  }

  tessera::testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
  config::Config config_;
  std::unique_ptr<KeyRegistry> keys_;
  ingest::IngestMetrics metrics_;
  std::unique_ptr<pipeline::IngestPipeline> pipeline_;
};

}  // namespace tessera::api::testing
