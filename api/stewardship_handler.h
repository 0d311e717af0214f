#pragma once

// StewardshipHandler serves an admin's decisions about the identity graph (admin key,
// `Authorization: Bearer KEY`; docs/stewardship.md):
//   POST /v1/identity/merge      {"a":"email:kim@example.com","b":"phone:010-1234-5678","note":"..."}
//                                the profiles holding a and b are one person: they are merged (the
//                                smaller id wins) unless the identity rules forbid it (limits, or a
//                                separation of two of their identifiers), which the answer says.
//   POST /v1/identity/separate   {"a":"email:kim@example.com","b":"email:minjun@example.com"}
//                                a and b are not the same person: never again in one profile. When
//                                they are in one now, its component is recomputed from its logged
//                                events and decisions, as a rebuild would.
// a and b are "type:value" (normalized like ingestion; "region":"KR" reads a phone without a
// country code there first) or "id:<profile id>" (that profile's first identifier). Both must be
// held by a profile. Each decision is logged like an event (ingest/stewardship_command.h), so a
// rebuild carries it out again; the answer waits up to `apply_wait` for the resolver:
//   200 {"id","kind","state":"applied","sequence","a":{"identifier","profile"},"b":{...},
//        "together": bool, "reason"} (reason: why a merge was refused, when it was)
//   202 {"id","kind","state":"pending","sequence"} (or "position" at a cluster gateway)
// `?space=NAME` picks the space (default "default").
// Errors: 400 invalid_json / missing_field / invalid_value / unknown_identifier_type; 401; 403
// for read and write keys; 404 for an unknown space, profile or an identifier no profile holds;
// 405 for another method; 503/429 as for events when the log cannot take it now.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "api/key_registry.h"
#include "api/router.h"
#include "api/tracking_handler.h"
#include "pipeline/ingest_pipeline.h"
#include "profile_store/profile_reader.h"

namespace tessera::api {

struct StewardshipRequest {
  Method method = Method::kPost;
  std::string_view path = {};  // RouteMatch::rest: "merge" or "separate"
  std::string_view query = {};
  std::string_view authorization = {};
  std::string_view body = {};
};

class StewardshipHandler {
 public:
  static constexpr size_t kMaxBodyBytes = 16 * 1024;

  // `known_types`: identifier types a decision may name, as for profile lookups.
  StewardshipHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                     const profile_store::ProfileReader& reader, std::vector<std::string> known_types,
                     std::chrono::milliseconds apply_wait = std::chrono::seconds(2));

  // Blocks the calling thread while it waits for the resolver (at most apply_wait): decisions are
  // rare, admin-only requests.
  HttpReply Handle(const StewardshipRequest& request) const;

 private:
  const KeyRegistry& keys_;
  pipeline::IngestPipeline& pipeline_;
  const profile_store::ProfileReader& reader_;
  std::vector<std::string> known_types_;
  const std::chrono::milliseconds apply_wait_;
};

}  // namespace tessera::api
