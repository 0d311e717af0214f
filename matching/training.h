#pragma once

// Training a MatchModel without labels, the way Splink does:
// 1. u from random pairs (estimate_u_using_random_sampling): almost all random pairs are different
//    people, so each level's share among them is its u. Seeded, so runs repeat.
// 2. m by expectation-maximisation over the pairs of each blocking rule in turn, with u fixed and
//    the comparisons the rule blocks on left out of that session (their levels are forced by the
//    block); each comparison's m is the mean over the sessions that estimated it.
// 3. lambda: EM over all candidate pairs with m and u fixed gives the share of matches among them;
//    scaled by candidates / all pairs it becomes the chance for two random records.

#include <cstdint>
#include <span>
#include <vector>

#include "matching/blocking.h"
#include "matching/comparison.h"
#include "matching/match_model.h"
#include "matching/prepared_records.h"

namespace tessera::matching {

struct TrainingOptions {
  // Random pairs sampled for u (all pairs when there are fewer).
  size_t u_sample_pairs = 1'000'000;
  // Seed of the random pairs.
  uint64_t seed = 42;
  // EM stops after this many iterations or when no parameter moves more than `tolerance`.
  int max_iterations = 50;
  double tolerance = 1e-5;
  // Random pairs only across sources (linking two inputs).
  bool link_only = false;
};

// A model with u estimated and m at its starting values (for EstimateM), lambda unset.
MatchModel EstimateU(const std::vector<Comparison>& comparisons, const PreparedRecords& records,
                     const TrainingOptions& options);

// EM for m over each rule's pairs (step 2 above), in place.
void EstimateM(MatchModel& model, const std::vector<Comparison>& comparisons, const PreparedRecords& records,
               const std::vector<BlockingRule>& rules, const BlockingOptions& blocking,
               const TrainingOptions& options);

// Step 3: `levels` are CompareAll's rows for the candidate pairs; `all_pairs` is how many pairs
// the input has in all (n(n-1)/2, or n_a * n_b when linking).
void EstimateLambda(MatchModel& model, std::span<const int8_t> levels, size_t candidate_pairs,
                    double all_pairs, const TrainingOptions& options);

}  // namespace tessera::matching
