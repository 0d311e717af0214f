#pragma once

// KeyRegistry answers "who is this key?" for every request: a write key maps to its source (space
// and channel), read and admin keys to their scope. Built once from the configuration.
//
// Keys are held only as SHA-256 digests (config/key_digest.h), so the configuration may give a key
// either as the secret or as "sha256:<hex>". Each presented key is hashed once per Identify call
// and looked up by digest; the final comparison with a stored digest is constant-time.
//
// Thread-safety: immutable after construction.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "config/config.h"
#include "config/key_digest.h"
#include "pipeline/ingest_pipeline.h"

namespace tessera::api {

// What a key may do. Scopes are ordered: an admin key may do what a read key may.
enum class KeyScope { kUnknown, kWrite, kRead, kAdmin };

// Who a presented key is.
struct KeyIdentity {
  KeyScope scope = KeyScope::kUnknown;
  const ingest::SourceRef* source = nullptr;  // The source of a write key; null for the others.
};

class KeyRegistry {
 public:
  // `config` must have passed config::ParseConfig's checks, or be built in code with plain keys:
  // a malformed "sha256:" key matches nothing.
  explicit KeyRegistry(const config::Config& config);

  // Who `presented_key` is; scope kUnknown for a key that is not configured (or empty).
  KeyIdentity Identify(std::string_view presented_key) const;

  // Names a key without revealing it, for logs: "admin:3f9a1c0b2d4e", "read:...", "unknown:..."
  // (the scope and the first 12 hex digits of the key's SHA-256), or "write:<source name>". The
  // digest prefix of a key nobody configured still lets a log reader tell repeated attempts apart.
  std::string KeyLabel(std::string_view presented_key) const;

  // The source of a write key, or nullptr.
  const ingest::SourceRef* FindSource(std::string_view write_key) const;
  // The source named by an `Authorization` header carrying the write key as HTTP Basic username.
  // Unauthenticated, with a message for the client, when the header is not Basic or the key unknown.
  absl::StatusOr<const ingest::SourceRef*> SourceFromBasicAuth(std::string_view authorization) const;
  // For requests whose client cannot always set headers (WebSocket from browsers, webhooks): the
  // Basic `authorization` header when present (it decides alone), else the URL-decoded `writeKey`
  // query parameter. Unauthenticated with a message for the client otherwise.
  absl::StatusOr<const ingest::SourceRef*> SourceFromHeaderOrQuery(std::string_view authorization,
                                                                   std::string_view query) const;
  // The connector settings of a source returned by the functions above.
  const config::ConnectorSettings& ConnectorsOf(const ingest::SourceRef& source) const;
  // The web origins allowed to send with a source's key (config::Source::allowed_origins); empty
  // for a source this registry did not return.
  const std::vector<std::string>& AllowedOriginsOf(const ingest::SourceRef& source) const;
  // Every source with a usable key, in configuration order.
  const std::vector<ingest::SourceRef>& sources() const { return sources_; }
  bool IsReadKey(std::string_view key) const;
  bool IsAdminKey(std::string_view key) const;

 private:
  struct Entry {
    KeyScope scope = KeyScope::kUnknown;
    size_t source = 0;  // Index into sources_ for a write key.
  };
  // Digests are uniformly distributed and an attacker cannot choose one (that would take a
  // SHA-256 preimage), so a few of their bytes are a fine hash, and how long a lookup takes says
  // nothing about the stored keys. Equality, the last step of a successful lookup, is
  // CRYPTO_memcmp all the same.
  struct DigestHash {
    size_t operator()(const config::KeyDigest& digest) const;
  };
  struct DigestEq {
    bool operator()(const config::KeyDigest& a, const config::KeyDigest& b) const;
  };

  std::vector<ingest::SourceRef> sources_;             // Never resized after construction.
  // The index of one of sources_, or sources_.size() for any other SourceRef.
  size_t IndexOf(const ingest::SourceRef& source) const;

  std::vector<config::ConnectorSettings> connectors_;  // Parallel to sources_.
  std::vector<std::vector<std::string>> allowed_origins_;  // Parallel to sources_.
  absl::flat_hash_map<config::KeyDigest, Entry, DigestHash, DigestEq> keys_;
};

// Extracts the username of an `Authorization: Basic base64(user:password)` header (Segment sends
// the write key as the username with an empty password). nullopt when the header is not Basic or
// not valid base64.
std::optional<std::string> BasicAuthUser(std::string_view authorization);

// Extracts the token of an `Authorization: Bearer TOKEN` header.
std::optional<std::string_view> BearerToken(std::string_view authorization);

}  // namespace tessera::api
