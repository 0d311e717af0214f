// The sources section (sources[]: name, write key, space, channel, phone region, allowed origins,
// keep_free_text)
// and the check that no key of any kind is configured twice.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/internal/json_reader.h"
#include "config/internal/sections.h"
#include "config/key_digest.h"

namespace tessera::config::internal {
namespace {

std::string ChannelList() {
  return absl::StrJoin(kChannels, ", ",
                       [](std::string* out, std::string_view channel) { out->append(channel); });
}

bool IsKnownChannel(std::string_view channel) {
  for (std::string_view known : kChannels) {
    if (known == channel) return true;
  }
  return false;
}

}  // namespace

absl::Status ReadSource(element value, const std::string& path, Source& source) {
  bool has_name = false;
  bool has_write_key = false;
  absl::Status status = ReadObject(
      value, path,
      {{"name",
        [&](element v, const std::string& p) {
          has_name = true;
          return ReadNonEmptyString(v, p, source.name);
        }},
       {"write_key",
        [&](element v, const std::string& p) {
          has_write_key = true;
          return ReadNonEmptyString(v, p, source.write_key);
        }},
       {"space",
        [&](element v, const std::string& p) -> absl::Status {
          if (absl::Status s = ReadString(v, p, source.space); !s.ok()) return s;
          if (!IsSlug(source.space, "_-")) {
            return Invalid(
                p, absl::StrCat(Quote(source.space), " must be 1 to 64 characters from a-z, 0-9, _ and -"));
          }
          return absl::OkStatus();
        }},
       {"channel",
        [&](element v, const std::string& p) -> absl::Status {
          if (absl::Status s = ReadString(v, p, source.channel); !s.ok()) return s;
          if (!IsKnownChannel(source.channel)) {
            return Invalid(p, absl::StrCat(Quote(source.channel), " is not one of ", ChannelList()));
          }
          return absl::OkStatus();
        }},
       {"phone_region", PhoneRegionReader(source.phone_region)},
       {"connectors",
        [&](element v, const std::string& p) { return ReadConnectorSettings(v, p, source.connectors); }},
       {"allowed_origins", AllowedOriginsReader(source.allowed_origins)},
       {"keep_free_text",
        [&](element v, const std::string& p) { return ReadBool(v, p, source.keep_free_text); }}});
  if (!status.ok()) return status;
  if (!has_write_key) return Invalid(ChildPath(path, "write_key"), "required");
  // Only service events have their free text removed, so on another channel the setting would
  // promise something it does not do.
  if (source.keep_free_text && source.channel != "service") {
    return Invalid(ChildPath(path, "keep_free_text"),
                   absl::StrCat("applies to sources of channel \"service\" only (this one is ", Quote(source.channel),
                                ")"));
  }
  if (!has_name) source.name = source.channel;
  return absl::OkStatus();
}

absl::Status ValidateKeys(const Config& config) {
  struct Key {
    std::string path;
    KeyDigest digest;
    std::string_view role;  // For the message: "a read key".
  };
  std::vector<Key> write_keys, other_keys;
  auto digest_of = [](const std::string& path, const std::string& configured, std::string_view role,
                      std::vector<Key>& into) -> absl::Status {
    absl::StatusOr<KeyDigest> digest = DigestOfConfiguredKey(configured);
    if (!digest.ok()) return Invalid(path, digest.status().message());
    into.push_back({path, *digest, role});
    return absl::OkStatus();
  };
  for (size_t i = 0; i < config.sources.size(); ++i) {
    const std::string& write_key = config.sources[i].write_key;
    std::string path = absl::StrCat(IndexPath("sources", i), ".write_key");
    if (!IsHashedKey(write_key) && write_key.find(':') != std::string::npos) {
      // HTTP Basic auth carries the key as "key:" and splits at the first colon.
      return Invalid(path, "must not contain ':' (clients send it as the HTTP Basic username)");
    }
    if (absl::Status status = digest_of(path, write_key, "a write key", write_keys); !status.ok())
      return status;
  }
  for (const auto* list : {&config.read_keys, &config.admin_keys}) {
    const bool read = list == &config.read_keys;
    for (size_t i = 0; i < list->size(); ++i) {
      if (absl::Status status = digest_of(IndexPath(read ? "read_keys" : "admin_keys", i), (*list)[i],
                                          read ? "a read key" : "an admin key", other_keys);
          !status.ok()) {
        return status;
      }
    }
  }
  for (size_t i = 0; i < write_keys.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (write_keys[j].digest == write_keys[i].digest) {
        return Invalid(write_keys[i].path, absl::StrCat("same key as ", write_keys[j].path,
                                                        "; each write key identifies one source"));
      }
    }
    for (const Key& other : other_keys) {
      if (other.digest == write_keys[i].digest) {
        return Invalid(
            write_keys[i].path,
            absl::StrCat("same key as ", other.path, "; a write key must not also be ", ToAbsl(other.role)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::config::internal
