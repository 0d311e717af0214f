// `tessera encrypt` and `tessera decrypt`: convert a store between plain and encrypted files in
// place, offline (profile_store/store_encryption.h). Both take the keys from the configuration's
// encryption section; decrypt is for leaving encryption (remove the section afterwards).

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "profile_store/key_ring.h"
#include "profile_store/store_encryption.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

int Convert(std::span<const std::string_view> args, bool to_plain) {
  const char* name = to_plain ? "decrypt" : "encrypt";
  auto fail = [name](int code, absl::string_view message) {
    std::fprintf(stderr, "tessera %s: %.*s\n", name, static_cast<int>(message.size()), message.data());
    return code;
  };
  constexpr std::string_view kKnown[] = {"config", "data-dir"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) return fail(2, flags.status().message());
  if (!flags->contains("config")) return fail(2, "--config FILE is required (its encryption section names the keys)");
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok()) return fail(2, absl::StrCat("invalid configuration: ", config.status().message()));
  if (!config->encryption) return fail(2, "the configuration has no encryption section");
  absl::StatusOr<std::shared_ptr<const profile_store::KeyRing>> keys = EncryptionKeysFrom(*config);
  if (!keys.ok()) return fail(2, keys.status().message());
  const std::string store_path = StorePath(*config);
  absl::StatusOr<profile_store::ConversionSummary> summary = to_plain
                                                                 ? profile_store::DecryptStore(store_path, *keys)
                                                                 : profile_store::EncryptStore(store_path, *keys);
  if (!summary.ok()) return fail(StoreOpenExitCode(summary.status()), summary.status().message());
  if (to_plain) {
    std::printf("decrypted the store at %s (%llu files, %llu bytes); remove the encryption section before "
                "starting the server\n",
                store_path.c_str(), static_cast<unsigned long long>(summary->files),
                static_cast<unsigned long long>(summary->bytes));
  } else {
    std::printf("encrypted the store at %s with master key %s (%llu files, %llu bytes)\n", store_path.c_str(),
                profile_store::KeyIdHex((*keys)->current().id).c_str(), static_cast<unsigned long long>(summary->files),
                static_cast<unsigned long long>(summary->bytes));
  }
  return 0;
}

}  // namespace

int EncryptCommand(std::span<const std::string_view> args) { return Convert(args, false); }
int DecryptCommand(std::span<const std::string_view> args) { return Convert(args, true); }

}  // namespace tessera::tools
