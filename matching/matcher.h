#pragma once

// Match: the whole offline run on prepared records: blocking, training (or a given model),
// scoring every candidate pair, and clustering at a threshold. This is what `tessera match` calls;
// the steps are in their own headers for anyone who needs one alone.

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "matching/blocking.h"
#include "matching/clustering.h"
#include "matching/match_model.h"
#include "matching/prepared_records.h"
#include "matching/training.h"

namespace tessera::matching {

struct MatchOptions {
  // Pairs at or above this probability join their records' clusters.
  double threshold = 0.9;
  BlockingOptions blocking;
  TrainingOptions training;
  ClusterOptions clustering;
  // Use this model instead of training one (it must fit the schema: CheckModelFits).
  std::optional<MatchModel> model;
  // Threads for blocking, comparing and scoring (0: all the machine has). The result is the same,
  // byte for byte, whatever the number.
  size_t threads = 0;
  // Called as each stage starts and while scoring ("score", done, total); may be empty. Always
  // called from the thread that called Match.
  std::function<void(std::string_view stage, size_t done, size_t total)> progress;
};

struct MatchResult {
  MatchModel model;
  // How lambda was estimated (empty rules when the model was given).
  LambdaEstimate lambda_estimate;
  std::vector<BlockingRule> rules;
  CandidatePairs candidates;
  std::vector<PairScore> scores;      // one per candidate pair
  std::vector<double> probabilities;  // the same, for clustering and evaluation
  std::vector<uint32_t> cluster_of;   // per record, its cluster's first record
  ClusterStats cluster_stats;
};

absl::StatusOr<MatchResult> Match(const PreparedRecords& records, const MatchOptions& options);

}  // namespace tessera::matching
