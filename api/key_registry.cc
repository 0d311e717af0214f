#include "api/key_registry.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "api/router.h"

namespace tessera::api {

KeyRegistry::KeyRegistry(const config::Config& config) {
  for (const config::Source& source : config.sources) {
    sources_.emplace(source.write_key, ingest::SourceRef{source.name, source.space, source.channel});
  }
  // The map is complete, so the addresses of its values are final.
  for (const config::Source& source : config.sources) {
    connectors_.emplace(&sources_.at(source.write_key), source.connectors);
  }
  read_keys_.insert(config.read_keys.begin(), config.read_keys.end());
  admin_keys_.insert(config.admin_keys.begin(), config.admin_keys.end());
}

const ingest::SourceRef* KeyRegistry::FindSource(std::string_view write_key) const {
  auto it = sources_.find(absl::string_view(write_key.data(), write_key.size()));
  return it == sources_.end() ? nullptr : &it->second;
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

const config::ConnectorSettings& KeyRegistry::ConnectorsOf(const ingest::SourceRef& source) const {
  static const config::ConnectorSettings kNone;
  auto it = connectors_.find(&source);
  return it == connectors_.end() ? kNone : it->second;
}

bool KeyRegistry::IsReadKey(std::string_view key) const { return read_keys_.contains(absl::string_view(key.data(), key.size())); }
bool KeyRegistry::IsAdminKey(std::string_view key) const { return admin_keys_.contains(absl::string_view(key.data(), key.size())); }

std::string KeyRegistry::KeyLabel(std::string_view presented_key) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(presented_key.data(), presented_key.size(), digest, &length, EVP_sha256(), nullptr);
  const std::string fingerprint = absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 6));
  if (IsAdminKey(presented_key)) return "admin:" + fingerprint;
  if (IsReadKey(presented_key)) return "read:" + fingerprint;
  if (const ingest::SourceRef* source = FindSource(presented_key)) return "write:" + source->name;
  return "unknown:" + fingerprint;
}

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
