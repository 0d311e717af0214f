#pragma once

// A MatchModel as JSON, written by `tessera match --model` and read back by `--model-in`:
// {"lambda": L, "comparisons": [{"column": "...", "kind": "...", "term_frequency_on_exact": B,
//   "levels": [{"label": "exact", "m": M, "u": U, "match_weight": W}, ...]}, ...]}
// (match_weight is written for readers and ignored when read).

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "matching/comparison.h"
#include "matching/match_model.h"

namespace tessera::matching {

std::string ModelToJson(const MatchModel& model);
// InvalidArgument naming the field that is wrong.
absl::StatusOr<MatchModel> ModelFromJson(std::string_view json);
// OK when `model` compares the same columns with the same levels as `comparisons` (in order);
// InvalidArgument naming the first difference otherwise.
absl::Status CheckModelFits(const MatchModel& model, const std::vector<Comparison>& comparisons);

}  // namespace tessera::matching
