// `tessera match`: offline probabilistic matching of a CSV file (matching/, docs/matching.md), and
// `tessera bench match`: the same run on the labelled datasets, with precision, recall and F1.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "matching/csv_table.h"
#include "matching/matcher.h"
#include "matching/model_json.h"
#include "matching/normalizer.h"
#include "matching/pair_evaluation.h"
#include "matching/prepared_records.h"
#include "matching/schema.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kMatchUsage =
    "usage: tessera match INPUT.csv --id COLUMN --pairs PAIRS.csv --clusters CLUSTERS.csv [--schema "
    "SCHEMA.json]\n"
    "         [--threshold P] [--model MODEL.json] [--model-in MODEL.json] [--max-block-size N] [--seed N]\n";

std::string Message(const absl::Status& status) { return std::string(status.message()); }

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// CSV field: quoted when it holds a comma, a quote or a line break.
std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Writes `text` to PATH.tmp, then renames it to PATH, so a reader never sees half a file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return absl::UnavailableError(temporary + ": cannot open for writing");
    out << text;
    out.flush();
    if (!out) return absl::UnavailableError(temporary + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) return absl::UnavailableError(path + ": " + ec.message());
  return absl::OkStatus();
}

// Progress on stderr: each stage with the time since the start; scoring as a percentage.
class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet), start_(Clock::now()) {}
  void operator()(std::string_view stage, size_t done, size_t total) {
    if (quiet_) return;
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    if (stage == "score" && total > 0) {
      std::fprintf(stderr, "\rmatch: [%6.2fs] scoring %zu/%zu pairs (%3.0f%%)%s", seconds, done, total,
                   100.0 * static_cast<double>(done) / static_cast<double>(total), done == total ? "\n" : "");
      return;
    }
    if (stage == "score") return;
    std::fprintf(stderr, "match: [%6.2fs] %.*s%s\n", seconds, static_cast<int>(stage.size()), stage.data(),
                 total > 0 ? (" (" + std::to_string(total) + " candidate pairs)").c_str() : "");
  }
  double Seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  bool quiet_;
  Clock::time_point start_;
};

struct LoadedInput {
  std::vector<matching::CsvTable> tables;
  matching::PreparedRecords records;
};

// Reads the tables (one source each), finds or reads the schema, normalizes. InvalidArgument or
// NotFound with the file and the column in the message.
absl::StatusOr<LoadedInput> LoadInput(const std::vector<std::string>& paths, const std::string& id_column,
                                      const std::string& schema_path) {
  LoadedInput input;
  for (const std::string& path : paths) {
    absl::StatusOr<matching::CsvTable> table = matching::ReadCsvFile(path);
    if (!table.ok()) return table.status();
    if (table->ColumnIndex(id_column) < 0) {
      return absl::InvalidArgumentError(path + ": no id column \"" + id_column + "\" (the header has: " +
                                        [&] {
                                          std::string names;
                                          for (const std::string& h : table->header)
                                            names += (names.empty() ? "" : ", ") + h;
                                          return names;
                                        }() +
                                        ")");
    }
    input.tables.push_back(*std::move(table));
  }
  absl::StatusOr<matching::Schema> schema;
  if (schema_path.empty()) {
    schema = matching::InferSchema(input.tables[0].header, id_column);
  } else {
    absl::StatusOr<std::string> text = ReadWholeFile(schema_path);
    if (!text.ok()) return text.status();
    schema = matching::ParseSchemaJson(*text, input.tables[0].header);
    if (!schema.ok()) return absl::InvalidArgumentError(schema_path + ": " + Message(schema.status()));
  }
  if (!schema.ok()) return schema.status();
  absl::StatusOr<std::unique_ptr<matching::Normalizer>> normalizer = matching::Normalizer::Create();
  if (!normalizer.ok()) return normalizer.status();
  std::vector<const matching::CsvTable*> tables;
  for (const matching::CsvTable& table : input.tables) tables.push_back(&table);
  absl::StatusOr<matching::PreparedRecords> records =
      matching::PrepareRecords(tables, id_column, *schema, **normalizer);
  if (!records.ok()) return absl::InvalidArgumentError(paths[0] + ": " + Message(records.status()));
  input.records = *std::move(records);
  return input;
}

template <typename Number>
bool ParseNumber(const std::map<std::string, std::string>& flags, const std::string& name, Number& out) {
  const auto it = flags.find(name);
  if (it == flags.end()) return true;
  std::istringstream in(it->second);
  in >> out;
  return !in.fail() && in.eof();
}

}  // namespace

int MatchCommand(std::span<const std::string_view> args) {
  if (args.empty() || args[0].starts_with("--")) {
    std::fprintf(stderr, "tessera match: expected INPUT.csv first\n%s", kMatchUsage.data());
    return 2;
  }
  const std::string input_path(args[0]);
  static constexpr std::string_view kKnown[] = {
      "id", "schema", "pairs", "clusters", "threshold", "model", "model-in", "max-block-size", "seed"};
  absl::StatusOr<std::map<std::string, std::string>> flags = ParseFlags(args.subspan(1), kKnown);
  if (!flags.ok()) {
    std::fprintf(stderr, "tessera match: %s\n%s", Message(flags.status()).c_str(), kMatchUsage.data());
    return 2;
  }
  for (const char* required : {"id", "pairs", "clusters"}) {
    if (!flags->contains(required)) {
      std::fprintf(stderr, "tessera match: --%s is required\n%s", required, kMatchUsage.data());
      return 2;
    }
  }
  matching::MatchOptions options;
  if (!ParseNumber(*flags, "threshold", options.threshold) || options.threshold < 0 ||
      options.threshold > 1) {
    std::fprintf(stderr, "tessera match: --threshold must be a probability between 0 and 1\n");
    return 2;
  }
  if (!ParseNumber(*flags, "max-block-size", options.blocking.max_block_size) ||
      !ParseNumber(*flags, "seed", options.training.seed)) {
    std::fprintf(stderr, "tessera match: --max-block-size and --seed take non-negative integers\n");
    return 2;
  }
  if (auto it = flags->find("model-in"); it != flags->end()) {
    absl::StatusOr<std::string> text = ReadWholeFile(it->second);
    if (!text.ok()) {
      std::fprintf(stderr, "tessera match: --model-in %s\n", Message(text.status()).c_str());
      return 2;
    }
    absl::StatusOr<matching::MatchModel> model = matching::ModelFromJson(*text);
    if (!model.ok()) {
      std::fprintf(stderr, "tessera match: %s: %s\n", it->second.c_str(), Message(model.status()).c_str());
      return 2;
    }
    options.model = *std::move(model);
  }
  Progress progress(/*quiet=*/false);
  const std::string schema_path = flags->contains("schema") ? flags->at("schema") : "";
  absl::StatusOr<LoadedInput> input = LoadInput({input_path}, flags->at("id"), schema_path);
  if (!input.ok()) {
    std::fprintf(stderr, "tessera match: %s\n", Message(input.status()).c_str());
    return 2;
  }
  const matching::PreparedRecords& records = input->records;
  progress("read " + std::to_string(records.size()) + " records; comparing " +
               std::to_string(records.schema.columns.size()) + " columns",
           0, 0);
  for (const matching::SchemaColumn& column : records.schema.columns) {
    std::fprintf(stderr, "match:   %s as %s\n", column.name.c_str(),
                 std::string(ColumnKindName(column.kind)).c_str());
  }
  options.progress = [&](std::string_view stage, size_t done, size_t total) { progress(stage, done, total); };
  absl::StatusOr<matching::MatchResult> result = matching::Match(records, options);
  if (!result.ok()) {
    std::fprintf(stderr, "tessera match: %s\n", Message(result.status()).c_str());
    return 2;
  }
  if (result->candidates.blocks_skipped > 0) {
    std::fprintf(stderr, "match: %zu blocks larger than --max-block-size %zu were skipped\n",
                 result->candidates.blocks_skipped, options.blocking.max_block_size);
  }
  std::fputs(result->model.Summary().c_str(), stdout);

  std::string pairs_csv = "id_l,id_r,match_probability,match_weight\n";
  char numbers[64];
  for (size_t p = 0; p < result->candidates.pairs.size(); ++p) {
    const matching::RecordPair& pair = result->candidates.pairs[p];
    std::snprintf(numbers, sizeof numbers, ",%.6f,%.4f\n", result->scores[p].match_probability,
                  result->scores[p].match_weight);
    pairs_csv += CsvField(records.ids[pair.l]) + "," + CsvField(records.ids[pair.r]) + numbers;
  }
  std::string clusters_csv = "id,cluster_id\n";
  size_t clusters = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (result->cluster_of[i] == i) ++clusters;
    clusters_csv += CsvField(records.ids[i]) + "," + CsvField(records.ids[result->cluster_of[i]]) + "\n";
  }
  std::vector<std::pair<std::string, const std::string*>> outputs = {{flags->at("pairs"), &pairs_csv},
                                                                     {flags->at("clusters"), &clusters_csv}};
  std::string model_json;
  if (auto it = flags->find("model"); it != flags->end()) {
    model_json = matching::ModelToJson(result->model);
    outputs.emplace_back(it->second, &model_json);
  }
  for (const auto& [path, text] : outputs) {
    if (absl::Status written = WriteFileAtomically(path, *text); !written.ok()) {
      std::fprintf(stderr, "tessera match: %s\n", Message(written).c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "match: [%6.2fs] %zu records, %zu pairs scored, %zu clusters at threshold %g\n",
               progress.Seconds(), records.size(), result->candidates.pairs.size(), clusters,
               options.threshold);
  return 0;
}

namespace {

struct BenchDataset {
  std::string name;
  std::vector<std::string> files;  // relative to --datasets; two files: linkage
  std::string id_column;
  std::string truth;  // a column with the entity, or "febrl" (rec-N-org / rec-N-dup-k in the id)
};

// The entity of each record: the truth column, or Febrl's N of rec-N-...
std::vector<std::string> EntitiesOf(const BenchDataset& dataset, const LoadedInput& input) {
  std::vector<std::string> entity;
  for (const matching::CsvTable& table : input.tables) {
    const int column = table.ColumnIndex(dataset.truth == "febrl" ? dataset.id_column : dataset.truth);
    for (const auto& row : table.rows) {
      std::string value = column < 0 ? "" : row[column];
      if (dataset.truth == "febrl") {
        const size_t first = value.find('-'), second = value.find('-', first + 1);
        value = value.substr(first + 1, second - first - 1);
      }
      entity.push_back(value);
    }
  }
  return entity;
}

}  // namespace

int BenchMatch(std::span<const std::string_view> args) {
  static constexpr std::string_view kKnown[] = {"datasets", "only", "threshold"};
  absl::StatusOr<std::map<std::string, std::string>> flags = ParseFlags(args, kKnown);
  if (!flags.ok()) {
    std::fprintf(stderr,
                 "tessera bench match: %s\nusage: tessera bench match [--datasets DIR] [--only NAME] "
                 "[--threshold P]\n",
                 Message(flags.status()).c_str());
    return 2;
  }
  const std::string root = flags->contains("datasets") ? flags->at("datasets") : "../shared/datasets";
  double threshold = 0.9;
  if (!ParseNumber(*flags, "threshold", threshold)) {
    std::fprintf(stderr, "tessera bench match: --threshold must be a number\n");
    return 2;
  }
  const std::vector<BenchDataset> datasets = {
      {"fake_1000", {"splink/fake_1000.csv"}, "unique_id", "cluster"},
      {"febrl1", {"febrl/dataset1.csv"}, "rec_id", "febrl"},
      {"febrl2", {"febrl/dataset2.csv"}, "rec_id", "febrl"},
      {"febrl3", {"febrl/dataset3.csv"}, "rec_id", "febrl"},
      {"febrl4", {"febrl/dataset4a.csv", "febrl/dataset4b.csv"}, "rec_id", "febrl"},
  };
  std::printf(
      "| Dataset | Records | Candidate pairs | Blocking recall | Best threshold | Precision | Recall | F1 "
      "| Clusters at %g: precision | recall | F1 | Seconds |\n",
      threshold);
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  int code = 0;
  for (const BenchDataset& dataset : datasets) {
    if (flags->contains("only") && flags->at("only") != dataset.name) continue;
    Progress progress(/*quiet=*/true);
    std::vector<std::string> paths;
    for (const std::string& file : dataset.files) paths.push_back(root + "/" + file);
    absl::StatusOr<LoadedInput> input = LoadInput(paths, dataset.id_column, "");
    if (!input.ok()) {
      std::fprintf(stderr, "tessera bench match: %s\n", Message(input.status()).c_str());
      code = 2;
      continue;
    }
    const bool link_only = dataset.files.size() > 1;
    matching::MatchOptions options;
    options.threshold = threshold;
    options.blocking.link_only = link_only;
    absl::StatusOr<matching::MatchResult> result = matching::Match(input->records, options);
    if (!result.ok()) {
      std::fprintf(stderr, "tessera bench match: %s: %s\n", dataset.name.c_str(),
                   Message(result.status()).c_str());
      code = 1;
      continue;
    }
    const double seconds = progress.Seconds();
    const std::vector<std::string> entity = EntitiesOf(dataset, *input);
    const auto& source = input->records.source;
    const auto& pairs = result->candidates.pairs;
    const matching::PairQuality best =
        matching::BestThreshold(pairs, result->probabilities, entity, source, link_only);
    const matching::PairQuality clusters =
        matching::OfClusters(result->cluster_of, entity, source, link_only);
    std::printf("| %s | %zu | %zu | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.2f |\n",
                dataset.name.c_str(), input->records.size(), pairs.size(),
                matching::BlockingRecall(pairs, entity, source, link_only), best.threshold, best.precision,
                best.recall, best.f1, clusters.precision, clusters.recall, clusters.f1, seconds);
    std::fflush(stdout);
  }
  return code;
}

}  // namespace tessera::tools
