#pragma once

// Training a MatchModel without labels, the way Splink does:
// 1. u from random pairs (estimate_u_using_random_sampling): almost all random pairs are different
//    people, so each level's share among them is its u. Seeded, so runs repeat.
// 2. m by expectation-maximisation over the pairs of each blocking rule in turn, with the
//    comparisons the rule blocks on left out of that session (their levels are forced by the
//    block); each comparison's m is the mean over the sessions that estimated it. A session
//    estimates the u of the comparisons in play too, for itself only (different people in one
//    block are not random pairs); the model keeps the u of step 1. EM iterates over
//    the distinct comparison patterns weighted by their pair counts (ComparisonPatterns), so each
//    pair is compared once, not once per iteration or session.
// 3. lambda from the sessions of step 2: session r's EM also gives the share of matches among rule
//    r's pairs, so rule r's pairs hold about share x pairs true pairs. A rule proposes only the true
//    pairs that agree on its key, so that count is divided by the rule's recall, P(a true pair
//    agrees on the key), which the model itself gives: for each key part, the m of each level of
//    its column times the chance that a pair at that level agrees on the part (measured on the
//    random pairs of step 1), times the chance that both values are there, less the records in
//    blocks skipped as too large. Pooled over the rules (sum of true pairs found / sum of recalls)
//    and divided by all pairs, it is lambda. (An EM over the union of the candidates with the u of
//    random pairs, as before, overstates lambda: different people in one block agree on the
//    blocked columns far more often than random pairs, and look like matches; 30x on 100,000 rows.)

#include <cstdint>
#include <span>
#include <vector>

#include "matching/blocking.h"
#include "matching/comparison.h"
#include "matching/comparison_patterns.h"
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
  // Threads comparing the random pairs (0: all the machine has); the model does not depend on it.
  size_t threads = 0;
};

// The random pairs u was estimated on, with their levels (pairs x comparisons).
struct RandomPairSample {
  std::vector<RecordPair> pairs;
  std::vector<int8_t> levels;
};

// A model with u estimated and m at its starting values (for EstimateM), lambda unset. The random
// pairs and their levels go to `sample` when it is given (EstimateLambda uses them).
MatchModel EstimateU(const std::vector<Comparison>& comparisons, const PreparedRecords& records,
                     const TrainingOptions& options, RandomPairSample* sample = nullptr);

// One EM session of EstimateM: its rule, the rule's pairs and the share of matches among them.
struct RuleSession {
  size_t rule = 0;
  double pairs = 0;
  double match_share = 0;
};

// EM for m over each rule's pairs (step 2 above), in place. `candidates` are PairsOfRules(rules)
// and `patterns` their comparison patterns; a rule's pairs are those with its bit in
// `candidates.rules_of` (a rule past the 64th is blocked and compared again). Returns the sessions
// run, for EstimateLambda.
std::vector<RuleSession> EstimateM(MatchModel& model, const std::vector<Comparison>& comparisons, const PreparedRecords& records,
               const std::vector<BlockingRule>& rules, const BlockingOptions& blocking,
               const CandidatePairs& candidates, const ComparisonPatterns& patterns,
               const TrainingOptions& options);

// Step 3's figures, per rule and pooled.
struct LambdaEstimate {
  struct PerRule {
    size_t rule = 0;
    double pairs = 0;         // the rule's candidate pairs
    double true_pairs = 0;    // of those, matches by the session's EM
    double recall = 0;        // P(a true pair is proposed by the rule), from the model
    double estimate = 0;      // true pairs in all: true_pairs / recall
  };
  std::vector<PerRule> rules;
  double true_pairs = 0;  // pooled: sum of true_pairs / sum of recall
  double lambda = 0;
};

// Step 3: sets model.lambda (after EstimateM, with m final). `candidates` as for EstimateM (its
// rule_stats give the records in skipped blocks), `sessions` from EstimateM, `sample` from
// EstimateU; `all_pairs` is how many pairs the input has in all (n(n-1)/2, or n_a * n_b when
// linking). When no session has a recall (every rule blocks on every compared column) it falls back
// to the earlier estimate, EM over all candidate `patterns` with m and u fixed, which overstates
// lambda.
LambdaEstimate EstimateLambda(MatchModel& model, const PreparedRecords& records,
                              const std::vector<BlockingRule>& rules, const CandidatePairs& candidates,
                              const ComparisonPatterns& patterns, const std::vector<RuleSession>& sessions,
                              const RandomPairSample& sample, double all_pairs, const TrainingOptions& options);

}  // namespace tessera::matching
