// `tessera keys`: the master keys of encryption at rest (docs/encryption.md).
//   generate FILE   a new key file (mode 0600) holding one random key
//   rotate          a new current key first in the configured key file; the old keys stay after it
//   rewrap          every file of the store (and of --backup-dir) rewrapped with the current key
//   reencrypt       every file of the store rewritten with a new data key under the current key
//   status          the loaded keys, and which of them the store's files need
// Keys are shown by id only; a key itself is never printed.

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "config/master_keys.h"
#include "openssl/crypto.h"
#include "profile_store/backup.h"
#include "profile_store/key_ring.h"
#include "profile_store/store_encryption.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

int Fail(int code, absl::string_view message) {
  std::fprintf(stderr, "tessera keys: %.*s\n", static_cast<int>(message.size()), message.data());
  return code;
}

std::string IdOf(std::string& key) {
  std::string id = profile_store::KeyIdHex(profile_store::MasterKeyId(key));
  OPENSSL_cleanse(key.data(), key.size());
  return id;
}

// The configuration (--config) with its encryption section, and its keys.
struct Configured {
  config::Config config;
  std::shared_ptr<const profile_store::KeyRing> keys;
};

absl::StatusOr<Configured> LoadConfigured(const std::map<std::string, std::string>& flags) {
  if (!flags.contains("config")) return absl::InvalidArgumentError("--config FILE is required (its encryption section)");
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(flags, uses_dev_keys);
  if (!config.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid configuration: ", config.status().message()));
  if (!config->encryption) return absl::InvalidArgumentError("the configuration has no encryption section");
  absl::StatusOr<std::shared_ptr<const profile_store::KeyRing>> keys = EncryptionKeysFrom(*config);
  if (!keys.ok()) return keys.status();
  return Configured{*std::move(config), *std::move(keys)};
}

int Generate(std::span<const std::string_view> args) {
  if (args.size() != 1 || args[0].starts_with("--")) return Fail(2, "usage: tessera keys generate FILE");
  absl::StatusOr<std::string> key = config::GenerateKeyFile(std::string(args[0]));
  if (!key.ok()) return Fail(1, key.status().message());
  std::printf("wrote a new master key (id %s) to %.*s, mode 0600\n", IdOf(*key).c_str(), static_cast<int>(args[0].size()),
              args[0].data());
  return 0;
}

int Rotate(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"config", "key-file"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) return Fail(2, flags.status().message());
  std::string key_file;
  if (auto it = flags->find("key-file"); it != flags->end()) {
    key_file = it->second;
  } else {
    absl::StatusOr<Configured> configured = LoadConfigured(*flags);
    if (!configured.ok()) return Fail(2, configured.status().message());
    key_file = configured->config.encryption->key_file;
    if (key_file.empty()) {
      return Fail(2, "the keys come from key_env or key_command: put a new key first in that source, the old "
                     "ones after it, then run `tessera keys rewrap`");
    }
  }
  absl::StatusOr<std::string> key = config::RotateKeyFile(key_file);
  if (!key.ok()) return Fail(absl::IsInvalidArgument(key.status()) ? 2 : 1, key.status().message());
  std::printf("new current master key %s first in %s; restart the server to use it. The older keys stay in the "
              "file: files wrapped with them need them until `tessera keys rewrap`\n",
              IdOf(*key).c_str(), key_file.c_str());
  return 0;
}

int Rewrap(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"config", "data-dir", "backup-dir"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) return Fail(2, flags.status().message());
  absl::StatusOr<Configured> configured = LoadConfigured(*flags);
  if (!configured.ok()) return Fail(2, configured.status().message());
  std::vector<std::string> dirs = {StorePath(configured->config)};
  if (auto it = flags->find("backup-dir"); it != flags->end()) dirs.push_back(it->second);
  for (const std::string& dir : dirs) {
    absl::StatusOr<profile_store::RewrapSummary> summary = profile_store::RewrapFiles(dir, *configured->keys);
    if (!summary.ok()) return Fail(StoreOpenExitCode(summary.status()), summary.status().message());
    std::printf("%s: %llu files rewrapped with master key %s, %llu already were\n", dir.c_str(),
                static_cast<unsigned long long>(summary->rewrapped),
                profile_store::KeyIdHex(configured->keys->current().id).c_str(),
                static_cast<unsigned long long>(summary->current));
  }
  if (configured->keys->keys().size() > 1) {
    std::printf("the older keys are no longer needed by these files; remove them from the key source (and "
                "rewrap every other backup directory first)\n");
  }
  return 0;
}

int Reencrypt(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"config", "data-dir"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) return Fail(2, flags.status().message());
  absl::StatusOr<Configured> configured = LoadConfigured(*flags);
  if (!configured.ok()) return Fail(2, configured.status().message());
  const std::string store_path = StorePath(configured->config);
  absl::StatusOr<profile_store::ConversionSummary> summary =
      profile_store::ReencryptStore(store_path, configured->keys);
  if (!summary.ok()) return Fail(StoreOpenExitCode(summary.status()), summary.status().message());
  std::printf("%s: %llu files rewritten with new data keys under master key %s; take new backups (the old ones "
              "still open with the old keys)\n",
              store_path.c_str(), static_cast<unsigned long long>(summary->files),
              profile_store::KeyIdHex(configured->keys->current().id).c_str());
  return 0;
}

int Status(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"config", "data-dir"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) return Fail(2, flags.status().message());
  absl::StatusOr<Configured> configured = LoadConfigured(*flags);
  if (!configured.ok()) return Fail(2, configured.status().message());
  std::printf("master keys loaded: %s\n", configured->keys->Describe().c_str());
  const std::string store_path = StorePath(configured->config);
  if (!profile_store::StoreExists(store_path)) {
    std::printf("no store at %s yet\n", store_path.c_str());
    return 0;
  }
  std::string summary;
  absl::Status checked = profile_store::CheckStoreEncryption(store_path, configured->keys.get(), &summary);
  if (!checked.ok()) return Fail(StoreOpenExitCode(checked), checked.message());
  std::printf("the store's files need: %s\n", summary.c_str());
  return 0;
}

}  // namespace

int KeysCommand(std::span<const std::string_view> args) {
  if (args.empty()) return Fail(2, "usage: tessera keys generate|rotate|rewrap|reencrypt|status ... (tessera help keys)");
  const std::string_view action = args[0];
  const std::span<const std::string_view> rest = args.subspan(1);
  if (action == "generate") return Generate(rest);
  if (action == "rotate") return Rotate(rest);
  if (action == "rewrap") return Rewrap(rest);
  if (action == "status") return Status(rest);
  if (action == "reencrypt") return Reencrypt(rest);
  return Fail(2, absl::StrCat("unknown action \"", std::string(action),
                              "\" (generate, rotate, rewrap, reencrypt, status)"));
}

}  // namespace tessera::tools
