#include "matching/model_json.h"

#include <simdjson.h>

#include <cmath>

#include "base/json_writer.h"

namespace tessera::matching {

std::string ModelToJson(const MatchModel& model) {
  std::string out;
  base::JsonWriter json(out);
  json.BeginObject().Key("lambda").Double(model.lambda).Key("comparisons").BeginArray();
  for (const ComparisonParameters& p : model.comparisons) {
    json.BeginObject()
        .Key("column")
        .String(p.column)
        .Key("kind")
        .String(ColumnKindName(p.kind))
        .Key("term_frequency_on_exact")
        .Bool(p.term_frequency_on_exact)
        .Key("levels")
        .BeginArray();
    for (size_t k = 0; k < p.levels.size(); ++k) {
      json.BeginObject()
          .Key("label")
          .String(p.levels[k])
          .Key("m")
          .Double(p.m[k])
          .Key("u")
          .Double(p.u[k])
          .Key("match_weight")
          .Double(std::log2(p.m[k] / p.u[k]))
          .EndObject();
    }
    json.EndArray().EndObject();
  }
  json.EndArray().EndObject();
  out += '\n';
  return out;
}

absl::StatusOr<MatchModel> ModelFromJson(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("model: not valid JSON");
  }
  MatchModel model;
  if (root["lambda"].get_double().get(model.lambda) != simdjson::SUCCESS ||
      !(model.lambda > 0 && model.lambda < 1)) {
    return absl::InvalidArgumentError("model: lambda must be a number between 0 and 1");
  }
  simdjson::dom::array comparisons;
  if (root["comparisons"].get_array().get(comparisons) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("model: comparisons must be an array");
  }
  size_t index = 0;
  for (simdjson::dom::element c : comparisons) {
    const std::string where = "model: comparisons[" + std::to_string(index++) + "]";
    ComparisonParameters p;
    std::string_view column, kind;
    simdjson::dom::array levels;
    if (c["column"].get_string().get(column) != simdjson::SUCCESS ||
        c["kind"].get_string().get(kind) != simdjson::SUCCESS ||
        c["term_frequency_on_exact"].get_bool().get(p.term_frequency_on_exact) != simdjson::SUCCESS ||
        c["levels"].get_array().get(levels) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(where + ": needs column, kind, term_frequency_on_exact and levels");
    }
    const std::optional<ColumnKind> column_kind = ColumnKindFromName(kind);
    if (!column_kind)
      return absl::InvalidArgumentError(where + ".kind: unknown kind \"" + std::string(kind) + "\"");
    p.column = std::string(column);
    p.kind = *column_kind;
    for (simdjson::dom::element level : levels) {
      std::string_view label;
      double m = 0, u = 0;
      if (level["label"].get_string().get(label) != simdjson::SUCCESS ||
          level["m"].get_double().get(m) != simdjson::SUCCESS ||
          level["u"].get_double().get(u) != simdjson::SUCCESS || !(m > 0 && m <= 1 && u > 0 && u <= 1)) {
        return absl::InvalidArgumentError(where + ".levels: each needs a label and m, u in (0, 1]");
      }
      p.levels.emplace_back(label);
      p.m.push_back(m);
      p.u.push_back(u);
    }
    model.comparisons.push_back(std::move(p));
  }
  return model;
}

absl::Status CheckModelFits(const MatchModel& model, const std::vector<Comparison>& comparisons) {
  if (model.comparisons.size() != comparisons.size()) {
    return absl::InvalidArgumentError("model compares " + std::to_string(model.comparisons.size()) +
                                      " columns, the input's schema " + std::to_string(comparisons.size()));
  }
  for (size_t c = 0; c < comparisons.size(); ++c) {
    const ComparisonParameters& p = model.comparisons[c];
    if (p.column != comparisons[c].column_name || p.kind != comparisons[c].kind ||
        p.levels != comparisons[c].levels) {
      return absl::InvalidArgumentError("model comparison " + std::to_string(c) + " (" + p.column + ", " +
                                        std::string(ColumnKindName(p.kind)) +
                                        ") does not fit the input's column " + comparisons[c].column_name +
                                        " (" + std::string(ColumnKindName(comparisons[c].kind)) + ")");
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::matching
