// `tessera export`: write an audience's members to a file (or stdout) as CSV or NDJSON. It opens
// the store read-only, so it runs next to a serving process on the same data directory, and
// reads one snapshot of the members through audiences::MemberExport, a chunk at a time: memory
// stays flat for any audience size.
//
// A file is written as FILE.tmp and renamed to FILE once complete, so a failed export never leaves
// a partial file under the final name. Progress goes to stderr about once a second, and a summary
// at the end.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audiences/member_export.h"
#include "audiences/space_audiences.h"
#include "profile_store/store.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

constexpr auto kProgressInterval = std::chrono::seconds(1);
constexpr std::string_view kUsageLine =
    "usage: tessera export AUDIENCE [--config FILE | --data-dir DIR] [--space NAME] [--format csv|ndjson] "
    "[--fields LIST] [--consent PURPOSES] [--out FILE]";

int Fail(int code, absl::string_view message) {
  std::fprintf(stderr, "tessera export: %s\n", std::string(message).c_str());
  return code;
}

// `--name value` flags and the positional arguments (the audience), in any order.
struct ExportArguments {
  std::vector<std::string_view> flag_args;
  std::vector<std::string_view> positional;
};

ExportArguments SplitArguments(std::span<const std::string_view> args) {
  ExportArguments split;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].starts_with("--")) {
      split.flag_args.push_back(args[i]);
      if (args[i].find('=') == std::string_view::npos && i + 1 < args.size())
        split.flag_args.push_back(args[++i]);
    } else {
      split.positional.push_back(args[i]);
    }
  }
  return split;
}

// Where the rows go: stdout, or FILE.tmp renamed to FILE by Commit.
class Output {
 public:
  // nullopt path = stdout.
  static absl::StatusOr<Output> Open(std::optional<std::string> path) {
    Output output;
    if (!path) {
      output.file_ = stdout;
      return output;
    }
    output.path_ = *std::move(path);
    output.temp_path_ = output.path_ + ".tmp";
    // Exports are plain by design (they go to data teams), so they are readable by their owner
    // only, whatever the umask. O_TRUNC replaces a FILE.tmp a failed run left.
    const int fd = ::open(output.temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0 && ::fchmod(fd, 0600) == 0) output.file_ = ::fdopen(fd, "wb");
    if (output.file_ == nullptr && fd >= 0) ::close(fd);
    if (output.file_ == nullptr)
      return absl::InternalError(absl::StrCat(output.temp_path_, ": ", std::strerror(errno)));
    return output;
  }

  Output(Output&& other) noexcept
      : file_(std::exchange(other.file_, nullptr)),
        path_(std::move(other.path_)),
        temp_path_(std::move(other.temp_path_)) {}
  Output& operator=(Output&&) = delete;
  // An uncommitted file is removed: only complete exports get the final name.
  ~Output() {
    if (file_ != nullptr && file_ != stdout) {
      std::fclose(file_);
      std::remove(temp_path_.c_str());
    }
  }

  absl::Status Write(std::string_view bytes) {
    if (bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), file_) == bytes.size())
      return absl::OkStatus();
    return absl::InternalError(absl::StrCat(Name(), ": ", std::strerror(errno)));
  }

  // Flushes the data to disk and gives the file its final name.
  absl::Status Commit() {
    if (file_ == stdout) {
      if (std::fflush(stdout) != 0)
        return absl::InternalError(absl::StrCat("stdout: ", std::strerror(errno)));
      return absl::OkStatus();
    }
    std::FILE* file = std::exchange(file_, nullptr);
    const bool written = std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
    const int write_errno = errno;
    if (std::fclose(file) != 0 || !written) {
      const int error = written ? errno : write_errno;
      std::remove(temp_path_.c_str());
      return absl::InternalError(absl::StrCat(temp_path_, ": ", std::strerror(error)));
    }
    if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      const int error = errno;
      std::remove(temp_path_.c_str());
      return absl::InternalError(
          absl::StrCat("renaming ", temp_path_, " to ", path_, ": ", std::strerror(error)));
    }
    return absl::OkStatus();
  }

  std::string Name() const { return path_.empty() ? "standard output" : path_; }

 private:
  Output() = default;

  std::FILE* file_ = nullptr;
  std::string path_;       // Empty for stdout.
  std::string temp_path_;  // path_ + ".tmp".
};

}  // namespace

int ExportCommand(std::span<const std::string_view> args) {
  const ExportArguments split = SplitArguments(args);
  constexpr std::string_view kKnown[] = {"config", "data-dir", "space", "format", "fields", "consent", "out"};
  auto flags = ParseFlags(split.flag_args, kKnown);
  if (!flags.ok()) return Fail(2, absl::StrCat(flags.status().message(), "\n", std::string(kUsageLine)));
  if (split.positional.size() != 1) {
    return Fail(2, absl::StrCat(split.positional.empty() ? "missing AUDIENCE" : "more than one AUDIENCE",
                                "\n", std::string(kUsageLine)));
  }
  const std::string audience(split.positional[0]);
  const std::string space = flags->contains("space") ? flags->at("space") : "default";
  const std::string format_text = flags->contains("format") ? flags->at("format") : "csv";
  const std::optional<audiences::ExportFormat> format = audiences::ParseExportFormat(format_text);
  if (!format) return Fail(2, absl::StrCat("--format must be csv or ndjson, not \"", format_text, "\""));
  std::optional<std::string> out_path;
  if (auto it = flags->find("out"); it != flags->end() && it->second != "-") out_path = it->second;
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok()) return Fail(2, absl::StrCat("invalid configuration: ", config.status().message()));

  absl::StatusOr<std::unique_ptr<profile_store::Store>> store = OpenStore(*config, /*read_only=*/true);
  if (!store.ok()) return Fail(StoreOpenExitCode(store.status()), store.status().message());
  audiences::SpaceAudiences space_audiences(**store, space);
  if (absl::Status loaded = space_audiences.LoadStored(); !loaded.ok()) {
    return Fail(1, absl::StrCat("reading the definitions of space ", space, ": ", loaded.message()));
  }
  std::shared_ptr<const audiences::DefinitionSet> definitions = space_audiences.definitions();
  if (definitions->FindAudience(audience) == nullptr) {
    return Fail(2, absl::StrCat("no audience ", audience, " in space ", space));
  }
  const std::string field_list =
      flags->contains("fields") ? flags->at("fields") : std::string(audiences::kDefaultFields);
  auto fields = audiences::ParseExportFields(field_list, *definitions);
  if (!fields.ok()) return Fail(2, absl::StrCat("--fields: ", fields.status().message()));
  std::vector<std::string> consent;
  if (auto it = flags->find("consent"); it != flags->end()) {
    auto purposes = audiences::ParseConsentPurposes(it->second);
    if (!purposes.ok()) return Fail(2, absl::StrCat("--consent: ", purposes.status().message()));
    consent = *std::move(purposes);
  }

  absl::StatusOr<Output> output = Output::Open(out_path);
  if (!output.ok()) return Fail(1, output.status().message());
  const base::Timestamp now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  audiences::MemberExport member_export(**store, space, audience, *std::move(fields), *format, definitions,
                                        space_audiences.figures(), now, std::move(consent));

  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;
  std::string chunk;
  for (bool more = true; more;) {
    chunk.clear();
    absl::StatusOr<bool> next = member_export.Next(chunk);
    if (!next.ok()) return Fail(1, absl::StrCat("reading members: ", next.status().message()));
    more = *next;
    if (absl::Status written = output->Write(chunk); !written.ok()) return Fail(1, written.message());
    if (const auto now_steady = std::chrono::steady_clock::now();
        now_steady - last_progress >= kProgressInterval) {
      std::fprintf(stderr, "exported %llu members...\n",
                   static_cast<unsigned long long>(member_export.rows()));
      last_progress = now_steady;
    }
  }
  if (absl::Status committed = output->Commit(); !committed.ok()) return Fail(1, committed.message());

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t rows = member_export.rows();
  std::fprintf(stderr, "exported %llu members of %s to %s in %.2f s (%.0f rows/s)\n",
               static_cast<unsigned long long>(rows), audience.c_str(), output->Name().c_str(), seconds,
               seconds > 0 ? static_cast<double>(rows) / seconds : 0.0);
  if (member_export.skipped() > 0) {
    std::fprintf(stderr, "left out %llu members without the consent asked for\n",
                 static_cast<unsigned long long>(member_export.skipped()));
  }
  return 0;
}

}  // namespace tessera::tools
