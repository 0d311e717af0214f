#include "identity/separations.h"

#include "absl/strings/str_cat.h"
#include "base/coding.h"

namespace tessera::identity {
namespace {

std::string TypeAndValue(const Identifier& identifier) {
  std::string text = identifier.type;
  text.push_back('\0');
  text.append(identifier.value);
  return text;
}

absl::StatusOr<Identifier> ParseTypeAndValue(std::string_view text) {
  const size_t zero = text.find('\0');
  if (zero == std::string_view::npos || zero == 0) {
    return absl::InvalidArgumentError("separation key: an identifier without its type");
  }
  return Identifier{std::string(text.substr(0, zero)), std::string(text.substr(zero + 1))};
}

}  // namespace

std::string SeparationPrefix(std::string_view space) {
  std::string prefix = "identity/separated/";
  prefix.append(space);
  prefix.push_back('\0');
  return prefix;
}

std::string SeparationKey(std::string_view space, const Identifier& a, const Identifier& b) {
  std::string key = SeparationPrefix(space);
  base::PutLengthPrefixed(key, TypeAndValue(a));
  key.append(TypeAndValue(b));
  return key;
}

absl::StatusOr<std::pair<Identifier, Identifier>> ParseSeparationKey(std::string_view space, std::string_view key) {
  const std::string prefix = SeparationPrefix(space);
  if (!key.starts_with(prefix)) return absl::InvalidArgumentError("separation key: another space's");
  base::ByteReader reader(key.substr(prefix.size()));
  std::string_view first;
  if (!reader.ReadLengthPrefixed(first)) return absl::InvalidArgumentError("separation key: damaged");
  absl::StatusOr<Identifier> a = ParseTypeAndValue(first);
  if (!a.ok()) return a.status();
  absl::StatusOr<Identifier> b = ParseTypeAndValue(reader.rest());
  if (!b.ok()) return b.status();
  return std::pair<Identifier, Identifier>{*std::move(a), *std::move(b)};
}

absl::StatusOr<std::vector<Identifier>> SeparatedPartners(const profile_store::Store& store, std::string_view space,
                                                          const Identifier& identifier) {
  std::string prefix = SeparationPrefix(space);
  base::PutLengthPrefixed(prefix, TypeAndValue(identifier));
  std::vector<Identifier> partners;
  absl::Status damaged = absl::OkStatus();
  absl::Status scanned =
      store.ScanPrefix(profile_store::ColumnFamily::kMeta, prefix, [&](std::string_view key, std::string_view) {
        absl::StatusOr<Identifier> partner = ParseTypeAndValue(key.substr(prefix.size()));
        if (partner.ok()) {
          partners.push_back(*std::move(partner));
        } else if (damaged.ok()) {
          damaged = partner.status();
        }
      });
  if (!scanned.ok()) return scanned;
  if (!damaged.ok()) return damaged;
  return partners;
}

}  // namespace tessera::identity
