#pragma once

// DuplicatesHandler answers GET /v1/profiles/{ref}/duplicates for ProfileHandler (which has found
// the profile and checked the key and the space): the profiles that may be the same person, from
// the duplicate index (resolve/duplicate_index.h, docs/duplicates.md).
//   ?limit=N            1-100, default 20
//   ?min_probability=P  0-1, default 0
// {"profile":"p…","candidates":[{"profile":"p…","matchProbability":0.97,"matchWeight":5.1,
//   "fields":[{"comparison":"name","level":"exact","weight":10.6,"left":"Kim Min-jun",
//   "right":"Kim Minjun"}, ...],"traits":{"name":"Kim Minjun", ...}}, ...]}
// Candidates are sorted by probability, highest first; those an admin separated from the profile
// are left out; "traits" holds the candidate's person fields that have a value.
//
// Thread-safety: const methods read the store; any number of threads may call them (each uses its
// own thread-local normalizer).

#include <map>
#include <string>
#include <string_view>

#include "api/http_reply.h"
#include "profile_store/profile.h"
#include "profile_store/profile_reader.h"
#include "profile_store/store.h"
#include "resolve/duplicate_index.h"

namespace tessera::api {

class DuplicatesHandler {
 public:
  // `options`: by space, as the resolvers use them (ResolverOptions); other spaces get the defaults.
  DuplicatesHandler(const profile_store::Store& store, const profile_store::ProfileReader& reader,
                    std::map<std::string, resolve::DuplicateOptions> options);

  HttpReply Duplicates(const std::string& space, const profile_store::Profile& profile, std::string_view query) const;

 private:
  const profile_store::Store& store_;
  const profile_store::ProfileReader& reader_;
  const std::map<std::string, resolve::DuplicateOptions> options_;
  const resolve::DuplicateOptions defaults_;
};

}  // namespace tessera::api
