#pragma once

// ProfileHandler serves the profile query API (read or admin key, `Authorization: Bearer KEY`):
//   GET /v1/profiles/{type}:{value}             the unified profile (value URL-encoded, normalized
//                                               like ingestion: phone:010-1234-5678 finds +8210...
//                                               with the default region KR, or with ?region=KR)
//   GET /v1/profiles/id:{profile_id}            by profile id, also a merged-away one
//   GET /v1/profiles/{ref}/events               the timeline across merged profiles, newest first:
//                                               limit (1-1000, default 50), cursor, type, event,
//                                               channel, since, until (ISO-8601)
//   GET /v1/profiles/{ref}/identities | /merges | /traits
//   GET /v1/profiles/{ref}/graph                the identity graph: the identifiers as nodes, and as
//                                               edges which events (name, source, channel, times,
//                                               count) carried two of them together, from the newest
//                                               `limit` events (1-5000, default 1000; "complete"
//                                               says whether that was all), plus the merge records
//   GET /v1/profiles/{ref}/predictions          purchase predictions (api/model_handler.h): as_of,
//                                               horizon_days
//   GET /v1/profiles/{ref}/duplicates           profiles that may be the same person, with the match
//                                               probability and a per-field explanation
//                                               (api/duplicates_handler.h): limit (1-100, default
//                                               20), min_probability (0-1, default 0)
//   ?fields=a,b trims a profile response to those top-level members.
//   ?region=XX reads a phone without a country code in region XX first (then the default region).
// Phone identities (in the profile, /identities and the graph's nodes) carry "valid": false when
// libphonenumber's metadata does not know the number's range (the number is kept all the same).
// A profile carries "computedTraits" ({name: value} of the space's computed traits now; traits
// without a value are left out) and "audiences" ({name: {"enteredAt": ISO}} of the audiences it is
// in that are still defined), and "consent" ({purpose: {"granted","at","source","channel"}}, the
// newest report per purpose), and "service", the service history (api/service_history_json.h).
// `?space=NAME` picks the space (default "default").
// Profile responses carry an ETag (and honour If-None-Match); every response is no-store.
// It reads the store directly on the calling (I/O) thread: point lookups and short scans.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/key_registry.h"
#include "api/tracking_handler.h"
#include "audiences/space_audiences.h"
#include "identity/normalizer.h"
#include "ingest/identifier_extractor.h"
#include "profile_store/profile_reader.h"

namespace tessera::api {

struct ProfileRequest {
  std::string_view path;           // after "/v1/profiles/", still URL-encoded
  std::string_view query;          // after '?'
  std::string_view authorization;  // the Authorization header
  std::string_view if_none_match;  // the If-None-Match header
};

class ProfileHandler {
 public:
  // The computed traits and audiences of a space, or null (IngestPipeline::audiences).
  using SpaceLookup = std::function<audiences::SpaceAudiences*(std::string_view space)>;

  // `known_types`: identifier types a lookup may name (built-in and configured). Without
  // `audiences` (or for a space it returns null for) profiles have empty computedTraits/audiences.
  ProfileHandler(const KeyRegistry& keys, const profile_store::ProfileReader& reader,
                 const identity::Normalizer& normalizer, std::vector<std::string> known_types,
                 std::vector<std::string> spaces, SpaceLookup audiences = {});

  HttpReply Handle(const ProfileRequest& request) const;
  // The answer to a request whose key may not read, or whose space is not served (what Handle
  // answers first); nullopt when it may go on. Checked before a read waits for min_position.
  std::optional<HttpReply> Refusal(const ProfileRequest& request) const;

  // The extractor ingestion uses (IngestPipeline::extractor), for the graph's edges; without it
  // /graph answers 404. Call before serving.
  void SetIdentifierExtractor(const ingest::IdentifierExtractor* extractor) { extractor_ = extractor; }
  // Answers /predictions for a found profile (ModelHandler::Predictions); without it /predictions
  // answers 404. Call before serving.
  using Predictions = std::function<HttpReply(const std::string& space, const profile_store::Profile& profile,
                                              std::string_view query)>;
  void SetPredictions(Predictions predictions) { predictions_ = std::move(predictions); }
  // Answers /duplicates for a found profile (DuplicatesHandler::Duplicates); without it
  // /duplicates answers 404. Call before serving.
  using Duplicates = std::function<HttpReply(const std::string& space, const profile_store::Profile& profile,
                                             std::string_view query)>;
  void SetDuplicates(Duplicates duplicates) { duplicates_ = std::move(duplicates); }

 private:
  // The answer for a found profile: the profile itself or the named subresource.
  HttpReply Respond(const ProfileRequest& request, const std::string& space, const profile_store::Profile& profile,
                    std::string_view subresource) const;
  HttpReply Graph(const ProfileRequest& request, const std::string& space,
                  const profile_store::Profile& profile) const;

  const KeyRegistry& keys_;
  const profile_store::ProfileReader& reader_;
  const identity::Normalizer& normalizer_;
  Predictions predictions_;
  Duplicates duplicates_;
  std::vector<std::string> known_types_;
  std::vector<std::string> spaces_;  // `?space=` must name one of these; default "default".
  SpaceLookup audiences_;
  const ingest::IdentifierExtractor* extractor_ = nullptr;
};

}  // namespace tessera::api
