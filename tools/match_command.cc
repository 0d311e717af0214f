// `tessera match`: offline probabilistic matching of a CSV file (matching/, docs/matching.md), and
// `tessera bench match`: the same run on the labelled datasets, with precision, recall and F1.

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "matching/csv_table.h"
#include "matching/matcher.h"
#include "matching/model_json.h"
#include "matching/normalizer.h"
#include "matching/pair_evaluation.h"
#include "matching/parallel_chunks.h"
#include "matching/prepared_records.h"
#include "matching/schema.h"
#include "matching/synthetic_people.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kMatchUsage =
    "usage: tessera match INPUT.csv --id COLUMN --pairs PAIRS.csv --clusters CLUSTERS.csv [--schema "
    "SCHEMA.json]\n"
    "         [--threshold P] [--model MODEL.json] [--model-in MODEL.json] [--max-block-size N] [--seed N]\n"
    "         [--threads N]   (0, the default: all hardware threads; the outputs do not depend on it)\n"
    "         [--cannot-link 1|0]   (0: clusters are plain connected components of the pairs >= P)\n";

std::string Message(const absl::Status& status) { return std::string(status.message()); }

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// CSV field: quoted when it holds a comma, a quote or a line break.
void AppendCsvField(std::string& out, const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
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

// Writes `header` and then lines 0..count-1 (each made by format(i, out), which appends to out) to
// PATH.tmp, then renames it to PATH. Lines are formatted in fixed chunks on `threads` threads a
// round at a time and written in order, so the file is the same whatever the thread count and only
// a round's text is in memory.
template <typename Format>
absl::Status WriteLinesAtomically(const std::string& path, std::string_view header, size_t count,
                                  size_t threads, const Format& format) {
  constexpr size_t kLinesPerChunk = 32768;
  const size_t chunks_per_round = 4 * matching::ThreadCount(threads);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return absl::UnavailableError(temporary + ": cannot open for writing");
    out << header;
    std::vector<std::string> texts(chunks_per_round);
    for (size_t begin = 0; begin < count && out; begin += kLinesPerChunk * chunks_per_round) {
      const size_t end = std::min(count, begin + kLinesPerChunk * chunks_per_round);
      matching::ForEachChunk(end - begin, kLinesPerChunk, threads, [&](size_t k, size_t from, size_t to) {
        texts[k].clear();
        for (size_t i = begin + from; i < begin + to; ++i) format(i, texts[k]);
      });
      for (size_t k = 0; k * kLinesPerChunk < end - begin; ++k) out << texts[k];
    }
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
  static constexpr std::string_view kKnown[] = {"id",        "schema", "pairs",    "clusters",
                                                "threshold", "model",  "model-in", "max-block-size",
                                                "seed",      "threads", "cannot-link"};
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
      !ParseNumber(*flags, "seed", options.training.seed) ||
      !ParseNumber(*flags, "threads", options.threads)) {
    std::fprintf(stderr,
                 "tessera match: --max-block-size, --seed and --threads take non-negative integers\n");
    return 2;
  }
  if (auto it = flags->find("cannot-link"); it != flags->end()) {
    if (it->second != "0" && it->second != "1") {
      std::fprintf(stderr, "tessera match: --cannot-link takes 1 or 0\n");
      return 2;
    }
    options.clustering.cannot_link = it->second == "1";
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
  if (!result->lambda_estimate.rules.empty()) {
    std::fprintf(stderr, "match: lambda %.6g from %.0f true pairs estimated (per rule: pairs, true pairs "
                 "by EM, recall, true pairs in all):\n", result->lambda_estimate.lambda,
                 result->lambda_estimate.true_pairs);
    for (const matching::LambdaEstimate::PerRule& one : result->lambda_estimate.rules) {
      std::fprintf(stderr, "match:   %-44s %10.0f %10.1f %8.4f %10.0f\n", result->rules[one.rule].name.c_str(),
                   one.pairs, one.true_pairs, one.recall, one.estimate);
    }
  }
  std::fputs(result->model.Summary().c_str(), stdout);

  const std::vector<matching::RecordPair>& pairs = result->candidates.pairs;
  absl::Status written = WriteLinesAtomically(
      flags->at("pairs"), "id_l,id_r,match_probability,match_weight\n", pairs.size(), options.threads,
      [&](size_t p, std::string& out) {
        AppendCsvField(out, records.ids[pairs[p].l]);
        out += ',';
        AppendCsvField(out, records.ids[pairs[p].r]);
        // std::to_chars with a precision writes what printf's %.6f and %.4f would, faster.
        char numbers[128];
        char* end = numbers;
        *end++ = ',';
        end =
            std::to_chars(end, numbers + 60, result->scores[p].match_probability, std::chars_format::fixed, 6)
                .ptr;
        *end++ = ',';
        end = std::to_chars(end, numbers + 126, result->scores[p].match_weight, std::chars_format::fixed, 4)
                  .ptr;
        *end++ = '\n';
        out.append(numbers, end);
      });
  size_t clusters = 0;
  for (size_t i = 0; i < records.size(); ++i) clusters += result->cluster_of[i] == i ? 1 : 0;
  if (written.ok()) {
    written = WriteLinesAtomically(flags->at("clusters"), "id,cluster_id\n", records.size(), options.threads,
                                   [&](size_t i, std::string& out) {
                                     AppendCsvField(out, records.ids[i]);
                                     out += ',';
                                     AppendCsvField(out, records.ids[result->cluster_of[i]]);
                                     out += '\n';
                                   });
  }
  if (auto it = flags->find("model"); it != flags->end() && written.ok()) {
    written = WriteFileAtomically(it->second, matching::ModelToJson(result->model));
  }
  if (!written.ok()) {
    std::fprintf(stderr, "tessera match: %s\n", Message(written).c_str());
    return 1;
  }
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  std::fprintf(stderr,
               "match: [%6.2fs] %zu records, %zu pairs scored, %zu clusters at threshold %g (largest %zu records; "
               "%zu joins refused by a confident non-match across); %zu threads, peak RSS %ld MiB\n",
               progress.Seconds(), records.size(), pairs.size(), clusters, options.threshold,
               result->cluster_stats.largest_cluster, result->cluster_stats.joins_refused,
               matching::ThreadCount(options.threads), usage.ru_maxrss / 1024);
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

constexpr std::string_view kBenchMatchUsage =
    "usage: tessera bench match [--datasets DIR] [--only NAME] [--threshold P]\n"
    "       tessera bench match --generate N --out PEOPLE.csv [--seed S]\n"
    "       tessera bench match --evaluate PEOPLE.csv --pairs PAIRS.csv --clusters CLUSTERS.csv [--id "
    "COLUMN]\n"
    "                           [--truth COLUMN] [--threshold P]\n";

// `--generate N --out FILE`: the synthetic people of row M1 (matching/synthetic_people.h).
int GeneratePeople(const std::map<std::string, std::string>& flags) {
  matching::SyntheticPeopleOptions options;
  if (!ParseNumber(flags, "generate", options.records) || !ParseNumber(flags, "seed", options.seed) ||
      !flags.contains("out")) {
    std::fprintf(stderr, "tessera bench match: --generate takes a number of rows and --out a file\n%s",
                 kBenchMatchUsage.data());
    return 2;
  }
  const Clock::time_point start = Clock::now();
  const matching::SyntheticPeople people = matching::GenerateSyntheticPeople(options);
  if (absl::Status written = WriteFileAtomically(flags.at("out"), people.csv); !written.ok()) {
    std::fprintf(stderr, "tessera bench match: %s\n", Message(written).c_str());
    return 1;
  }
  std::printf("RESULT records=%zu people=%zu true_pairs=%zu seed=%llu bytes=%zu seconds=%.3f\n",
              options.records, people.people, people.true_pairs,
              static_cast<unsigned long long>(options.seed), people.csv.size(),
              std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

// The ids of a `tessera match` output file (pairs.csv or clusters.csv), line by line: the first two
// fields and, for pairs, the probability. The ids are mapped to their row in the input.
absl::Status ReadOutputLines(const std::string& path, const std::unordered_map<std::string, uint32_t>& row_of,
                             const std::function<void(uint32_t, uint32_t, double)>& each) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open for reading");
  std::string line;
  std::getline(in, line);  // header
  size_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    const size_t first = line.find(','), second = line.find(',', first + 1);
    if (first == std::string::npos || line.find('"') != std::string::npos) {
      return absl::InvalidArgumentError(path + ":" + std::to_string(number) + ": expected two unquoted ids");
    }
    const auto a = row_of.find(line.substr(0, first));
    const auto b = row_of.find(
        line.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1));
    if (a == row_of.end() || b == row_of.end()) {
      return absl::InvalidArgumentError(path + ":" + std::to_string(number) + ": an id not in the input");
    }
    each(a->second, b->second,
         second == std::string::npos ? 0.0 : std::strtod(line.c_str() + second + 1, nullptr));
  }
  return absl::OkStatus();
}

// `--evaluate INPUT --pairs P --clusters C`: blocking recall and pairwise quality of `tessera
// match`'s outputs against the input's truth column, as one RESULT line.
int EvaluateOutputs(const std::map<std::string, std::string>& flags) {
  const std::string id_column = flags.contains("id") ? flags.at("id") : "id";
  const std::string truth_column = flags.contains("truth") ? flags.at("truth") : "cluster";
  double threshold = 0.9;
  if (!flags.contains("pairs") || !flags.contains("clusters") ||
      !ParseNumber(flags, "threshold", threshold)) {
    std::fprintf(stderr, "tessera bench match: --evaluate needs --pairs and --clusters\n%s",
                 kBenchMatchUsage.data());
    return 2;
  }
  absl::StatusOr<matching::CsvTable> table = matching::ReadCsvFile(flags.at("evaluate"));
  if (!table.ok()) {
    std::fprintf(stderr, "tessera bench match: %s\n", Message(table.status()).c_str());
    return 2;
  }
  const int id_index = table->ColumnIndex(id_column), truth_index = table->ColumnIndex(truth_column);
  if (id_index < 0 || truth_index < 0) {
    std::fprintf(stderr, "tessera bench match: %s: no column \"%s\" or \"%s\"\n",
                 flags.at("evaluate").c_str(), id_column.c_str(), truth_column.c_str());
    return 2;
  }
  std::unordered_map<std::string, uint32_t> row_of;
  std::vector<std::string> entity;
  for (const auto& row : table->rows) {
    row_of.emplace(row[id_index], static_cast<uint32_t>(entity.size()));
    entity.push_back(row[truth_index]);
  }
  const std::vector<int> source(entity.size(), 0);
  std::vector<matching::RecordPair> pairs;
  std::vector<double> probabilities;
  absl::Status read = ReadOutputLines(flags.at("pairs"), row_of, [&](uint32_t a, uint32_t b, double p) {
    pairs.push_back({std::min(a, b), std::max(a, b)});
    probabilities.push_back(p);
  });
  std::vector<uint32_t> cluster_of(entity.size());
  std::iota(cluster_of.begin(), cluster_of.end(), 0u);
  if (read.ok()) {
    read = ReadOutputLines(flags.at("clusters"), row_of,
                           [&](uint32_t record, uint32_t cluster, double) { cluster_of[record] = cluster; });
  }
  if (!read.ok()) {
    std::fprintf(stderr, "tessera bench match: %s\n", Message(read).c_str());
    return 2;
  }
  const matching::PairQuality at =
      matching::AtThreshold(pairs, probabilities, threshold, entity, source, false);
  const matching::PairQuality clusters = matching::OfClusters(cluster_of, entity, source, false);
  std::printf(
      "RESULT records=%zu true_pairs=%zu pairs_scored=%zu blocking_recall=%.4f threshold=%g predicted=%zu "
      "precision=%.4f recall=%.4f f1=%.4f cluster_precision=%.4f cluster_recall=%.4f cluster_f1=%.4f\n",
      entity.size(), at.actual, pairs.size(), matching::BlockingRecall(pairs, entity, source, false),
      threshold, at.predicted, at.precision, at.recall, at.f1, clusters.precision, clusters.recall,
      clusters.f1);
  return 0;
}

}  // namespace

int BenchMatch(std::span<const std::string_view> args) {
  static constexpr std::string_view kKnown[] = {"datasets", "only",  "threshold", "generate", "out",  "seed",
                                                "evaluate", "pairs", "clusters",  "id",       "truth"};
  absl::StatusOr<std::map<std::string, std::string>> flags = ParseFlags(args, kKnown);
  if (!flags.ok()) {
    std::fprintf(stderr, "tessera bench match: %s\n%s", Message(flags.status()).c_str(),
                 kBenchMatchUsage.data());
    return 2;
  }
  if (flags->contains("generate")) return GeneratePeople(*flags);
  if (flags->contains("evaluate")) return EvaluateOutputs(*flags);
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
