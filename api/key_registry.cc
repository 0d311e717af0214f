#include "api/key_registry.h"

#include <openssl/crypto.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/router.h"

namespace tessera::api {
namespace {
// Hex digits of the key's digest in a KeyLabel: 48 bits, enough to tell keys apart in a log, far
// too few to help guess one.
constexpr size_t kLabelHexDigits = 12;
}  // namespace

KeyRegistry::KeyRegistry(const config::Config& config) {
  sources_.reserve(config.sources.size());
  for (const config::Source& source : config.sources) {
    absl::StatusOr<config::KeyDigest> digest = config::DigestOfConfiguredKey(source.write_key);
    if (!digest.ok()) continue;
    keys_.emplace(*digest, Entry{.scope = KeyScope::kWrite, .source = sources_.size()});
    sources_.push_back(ingest::SourceRef{.name = source.name,
                                         .space = source.space,
                                         .channel = source.channel,
                                         .keep_free_text = source.keep_free_text});
    connectors_.push_back(source.connectors);
    allowed_origins_.push_back(source.allowed_origins);
  }
  for (const auto* list : {&config.read_keys, &config.admin_keys}) {
    const KeyScope scope = list == &config.admin_keys ? KeyScope::kAdmin : KeyScope::kRead;
    for (const std::string& key : *list) {
      absl::StatusOr<config::KeyDigest> digest = config::DigestOfConfiguredKey(key);
      if (!digest.ok()) continue;
      // Admin keys come second, so a key in both lists ends up an admin key (config.h).
      keys_[*digest] = Entry{.scope = scope};
    }
  }
}

size_t KeyRegistry::DigestHash::operator()(const config::KeyDigest& digest) const {
  size_t hash = 0;
  std::memcpy(&hash, digest.data(), sizeof(hash));
  return hash;
}

bool KeyRegistry::DigestEq::operator()(const config::KeyDigest& a, const config::KeyDigest& b) const {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

KeyIdentity KeyRegistry::Identify(std::string_view presented_key) const {
  if (presented_key.empty()) return {};
  const auto it = keys_.find(config::DigestOfKey(presented_key));
  if (it == keys_.end()) return {};
  return KeyIdentity{.scope = it->second.scope,
                     .source = it->second.scope == KeyScope::kWrite ? &sources_[it->second.source] : nullptr};
}

std::string KeyRegistry::KeyLabel(std::string_view presented_key) const {
  const config::KeyDigest digest = config::DigestOfKey(presented_key);
  const auto it = keys_.find(digest);
  const KeyScope scope = it == keys_.end() ? KeyScope::kUnknown : it->second.scope;
  if (scope == KeyScope::kWrite) return absl::StrCat("write:", sources_[it->second.source].name);
  const std::string prefix = config::HexOfDigest(digest).substr(0, kLabelHexDigits);
  switch (scope) {
    case KeyScope::kAdmin:
      return absl::StrCat("admin:", prefix);
    case KeyScope::kRead:
      return absl::StrCat("read:", prefix);
    default:
      return absl::StrCat("unknown:", prefix);
  }
}

const ingest::SourceRef* KeyRegistry::FindSource(std::string_view write_key) const {
  return Identify(write_key).source;
}

absl::StatusOr<const ingest::SourceRef*> KeyRegistry::SourceFromBasicAuth(std::string_view authorization) const {
  std::optional<std::string> user = BasicAuthUser(authorization);
  if (!user) {
    return absl::UnauthenticatedError(
        "Authorization must be HTTP Basic with the write key as username and an empty password");
  }
  const ingest::SourceRef* source = FindSource(*user);
  if (source == nullptr) return absl::UnauthenticatedError("unknown write key");
  return source;
}

absl::StatusOr<const ingest::SourceRef*> KeyRegistry::SourceFromHeaderOrQuery(std::string_view authorization,
                                                                            std::string_view query) const {
  if (!authorization.empty()) return SourceFromBasicAuth(authorization);
  const std::string_view encoded = QueryParam(query, "writeKey");
  if (encoded.empty()) {
    return absl::UnauthenticatedError(
        "missing write key: send it as the HTTP Basic username or as the writeKey query parameter");
  }
  const std::optional<std::string> write_key = UrlDecode(encoded);
  if (!write_key) return absl::UnauthenticatedError("the writeKey query parameter is not validly percent-encoded");
  const ingest::SourceRef* source = FindSource(*write_key);
  if (source == nullptr) return absl::UnauthenticatedError("unknown write key");
  return source;
}

size_t KeyRegistry::IndexOf(const ingest::SourceRef& source) const {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (&sources_[i] == &source) return i;
  }
  return sources_.size();
}

const config::ConnectorSettings& KeyRegistry::ConnectorsOf(const ingest::SourceRef& source) const {
  static const config::ConnectorSettings kNone;
  const size_t index = IndexOf(source);
  return index < connectors_.size() ? connectors_[index] : kNone;
}

const std::vector<std::string>& KeyRegistry::AllowedOriginsOf(const ingest::SourceRef& source) const {
  static const std::vector<std::string> kNone;
  const size_t index = IndexOf(source);
  return index < allowed_origins_.size() ? allowed_origins_[index] : kNone;
}

bool KeyRegistry::IsReadKey(std::string_view key) const { return Identify(key).scope == KeyScope::kRead; }
bool KeyRegistry::IsAdminKey(std::string_view key) const { return Identify(key).scope == KeyScope::kAdmin; }

namespace {
std::string_view StripSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The credentials after an auth scheme name, compared case-insensitively as RFC 9110 says.
std::optional<std::string_view> Credentials(std::string_view authorization, std::string_view scheme) {
  authorization = StripSpaces(authorization);
  if (authorization.size() <= scheme.size() || authorization[scheme.size()] != ' ' ||
      !absl::EqualsIgnoreCase(absl::string_view(authorization.data(), scheme.size()),
                              absl::string_view(scheme.data(), scheme.size()))) {
    return std::nullopt;
  }
  return StripSpaces(authorization.substr(scheme.size() + 1));
}
}  // namespace

std::optional<std::string> BasicAuthUser(std::string_view authorization) {
  std::optional<std::string_view> encoded = Credentials(authorization, "Basic");
  if (!encoded) return std::nullopt;
  std::string decoded;
  if (!absl::Base64Unescape(absl::string_view(encoded->data(), encoded->size()), &decoded)) return std::nullopt;
  const size_t colon = decoded.find(':');
  if (colon != std::string::npos) decoded.resize(colon);
  return decoded;
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  return Credentials(authorization, "Bearer");
}

}  // namespace tessera::api
