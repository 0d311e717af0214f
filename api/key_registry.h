#pragma once

// KeyRegistry answers "who is this key?" for every request: a write key maps to its source (space
// and channel), read and admin keys to their scope. Built once from the configuration.
//
// Thread-safety: immutable after construction.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "config/config.h"
#include "ingest/ingest_pipeline.h"

namespace tessera::api {

class KeyRegistry {
 public:
  explicit KeyRegistry(const config::Config& config);

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
  // Names a presented key without revealing it, for the audit log: "admin:<12 hex>",
  // "read:<12 hex>", "write:<source name>" or "unknown:<12 hex>" (the first 12 hex digits of the
  // key's SHA-256).
  std::string KeyLabel(std::string_view presented_key) const;
  bool IsReadKey(std::string_view key) const;
  bool IsAdminKey(std::string_view key) const;

 private:
  absl::flat_hash_map<std::string, ingest::SourceRef> sources_;
  absl::flat_hash_map<const ingest::SourceRef*, config::ConnectorSettings> connectors_;
  absl::flat_hash_set<std::string> read_keys_;
  absl::flat_hash_set<std::string> admin_keys_;
};

// Extracts the username of an `Authorization: Basic base64(user:password)` header (Segment sends
// the write key as the username with an empty password). nullopt when the header is not Basic or
// not valid base64.
std::optional<std::string> BasicAuthUser(std::string_view authorization);

// Extracts the token of an `Authorization: Bearer TOKEN` header.
std::optional<std::string_view> BearerToken(std::string_view authorization);

}  // namespace tessera::api
