#include "config/dev_keys.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "config/internal/read_file.h"
#include "config/internal/secret_file.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace tessera::config {
namespace {

constexpr std::string_view kFileName = "dev_keys.json";
constexpr size_t kKeyRandomBytes = 16;  // 128 bits, printed as 32 hex digits.
constexpr size_t kKeyHexDigits = 2 * kKeyRandomBytes;

// The installed abseil has its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which
// does not convert from std::string_view.
absl::string_view ToAbsl(std::string_view text) { return absl::string_view(text.data(), text.size()); }

// The three keys of the file, with the prefix each key value carries. The prefix tells a human
// which key is which when one is pasted into the wrong place.
struct KeySlot {
  absl::string_view name;
  absl::string_view prefix;
  std::string DevKeys::*member;
};
constexpr KeySlot kSlots[] = {
    {"write_key", "wk_", &DevKeys::write_key},
    {"read_key", "rk_", &DevKeys::read_key},
    {"admin_key", "ak_", &DevKeys::admin_key},
};

absl::Status FromErrorCode(const std::error_code& error, absl::string_view message) {
  if (error.category() == std::generic_category() || error.category() == std::system_category()) {
    return absl::ErrnoToStatus(error.value(), message);
  }
  return absl::InternalError(absl::StrCat(message, ": ", error.message()));
}

absl::StatusOr<std::string> RandomKey(absl::string_view prefix) {
  unsigned char bytes[kKeyRandomBytes];
  size_t filled = 0;
  while (filled < sizeof(bytes)) {
    ssize_t n = ::getrandom(bytes + filled, sizeof(bytes) - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, "cannot read the operating system's random source");
    filled += static_cast<size_t>(n);
  }
  // BytesToHexString emits lowercase digits, which is the format the loader checks.
  return absl::StrCat(
      prefix, absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes))));
}

bool IsWellFormedKey(absl::string_view key, absl::string_view prefix) {
  if (key.size() != prefix.size() + kKeyHexDigits || key.substr(0, prefix.size()) != prefix) return false;
  for (char c : key.substr(prefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}


absl::StatusOr<DevKeys> ParseDevKeys(const std::string& path, const std::string& contents) {
  auto damaged = [&path](absl::string_view reason) {
    return absl::DataLossError(
        absl::StrCat(path, " is damaged (", reason, "); delete it to generate new development keys"));
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (simdjson::error_code error = parser.parse(contents).get(root); error != simdjson::SUCCESS) {
    return damaged(absl::StrCat("malformed JSON: ", simdjson::error_message(error)));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return damaged("expected a JSON object");
  DevKeys keys;
  for (simdjson::dom::key_value_pair member : object) {
    const KeySlot* slot = nullptr;
    for (const KeySlot& candidate : kSlots) {
      if (candidate.name == ToAbsl(member.key)) slot = &candidate;
    }
    if (slot == nullptr)
      return damaged(absl::StrCat("unknown key \"", absl::CHexEscape(ToAbsl(member.key)), "\""));
    std::string& out = keys.*(slot->member);
    if (!out.empty()) return damaged(absl::StrCat("duplicate key \"", slot->name, "\""));
    std::string_view value;
    // The value is a secret: the reason says what shape was expected, not what was found.
    if (member.value.get_string().get(value) != simdjson::SUCCESS ||
        !IsWellFormedKey(ToAbsl(value), slot->prefix)) {
      return damaged(absl::StrCat(slot->name, ": expected \"", slot->prefix, "\" followed by ", kKeyHexDigits,
                                  " lowercase hex digits"));
    }
    out.assign(value);
  }
  for (const KeySlot& slot : kSlots) {
    if ((keys.*(slot.member)).empty()) return damaged(absl::StrCat(slot.name, " is missing"));
  }
  return keys;
}

}  // namespace

absl::StatusOr<DevKeys> LoadOrCreateDevKeys(const std::string& data_dir) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) return FromErrorCode(error, absl::StrCat("cannot create data directory ", data_dir));

  const std::filesystem::path path = std::filesystem::path(data_dir) / kFileName;
  absl::StatusOr<std::string> contents = internal::ReadWholeFile(path.string(), "");
  if (contents.ok()) return ParseDevKeys(path.string(), *contents);
  if (!absl::IsNotFound(contents.status())) return contents.status();

  DevKeys keys;
  std::string json = "{\n";
  for (const KeySlot& slot : kSlots) {
    absl::StatusOr<std::string> key = RandomKey(slot.prefix);
    if (!key.ok()) return key.status();
    keys.*(slot.member) = *key;
    absl::StrAppend(&json, json.size() > 2 ? ",\n" : "", "  \"", slot.name, "\": \"", *key, "\"");
  }
  json += "\n}\n";
  if (absl::Status status = internal::WriteSecretFileAtomically(path, json); !status.ok()) return status;
  return keys;
}

void ApplyDevKeys(const DevKeys& keys, Config& config) {
  Source source;
  source.name = "dev";
  source.write_key = keys.write_key;
  source.space = "default";
  source.channel = "server";
  config.sources.push_back(std::move(source));
  config.read_keys.push_back(keys.read_key);
  config.admin_keys.push_back(keys.admin_key);
}

}  // namespace tessera::config
