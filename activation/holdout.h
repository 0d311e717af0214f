#pragma once

// The holdout of an audience (issue 23): a fixed share of its members that destinations never
// receive, so that a campaign's effect can be measured against people it did not reach. Who is held
// out is a pure function of the space, the audience and the profile id (XXH3-64 of the three), so it
// is the same on every replay, rebuild and cluster member, and independent between audiences.
//
// Thread-safety: pure functions.

#include <string_view>

namespace tessera::activation {

// Whether `profile_id` is in the holdout of `audience` in `space`, for a holdout of `fraction`
// (0 to 1) of the members. Changing this function moves people between groups: it is versioned by
// the hash it uses, and a test pins its answers.
bool InHoldout(std::string_view space, std::string_view audience, std::string_view profile_id, double fraction);

}  // namespace tessera::activation
