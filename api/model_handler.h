#pragma once

// ModelHandler serves the purchase models of each space (docs/prediction.md), read or admin key
// (`Authorization: Bearer KEY`), `?space=NAME` (default "default"):
//   GET /v1/models/purchase?as_of=DATE      BG/NBD and Gamma-Gamma fitted on every customer's
//                                           calibration summary at the end of that local day
//                                           (YYYY-MM-DD, or a full ISO-8601 time: its local day)
//   GET /v1/models/purchase                 the model the resolver's sweep keeps (and the computed
//                                           traits read): refitted every refit interval, and sooner
//                                           after 10% more purchases (a bulk import); fitted now,
//                                           as of today, before the sweep's first
// and, through ProfileHandler, GET /v1/profiles/{ref}/predictions?as_of=DATE&horizon_days=N:
// P(alive), expected purchases in the horizon (1 to 3650 days, default 365), expected order value
// and CLV over the horizon with the space's monthly discount rate, and the model they come from.
//
// A fit at a given day is a pure function of the space's profiles, so it is kept per (space, day)
// for as long as the resolver's position has not moved. Such a fit reads every profile of the
// space on the calling thread, one fit at a time.
//
// Errors: 401/403 for keys; 404 unknown space or model; 400 invalid_value naming as_of or
// horizon_days; 409 not_fittable when the space has no customer or no repeat customer by as_of.
//
// Thread-safety: Handle and Predictions may be called from any number of threads at once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "api/http_reply.h"
#include "api/key_registry.h"
#include "base/time.h"
#include "base/time_zone.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "audiences/purchase_traits.h"
#include "prediction/purchase_model.h"
#include "resolve/purchase_models.h"

namespace tessera::api {

// A space's settings for its models (config::PurchaseConfig).
struct PurchaseModelSettings {
  std::optional<base::TimeZone> time_zone;  // Whose days; UTC when unset.
  std::string currency;                     // Shown with amounts; empty when the space names none.
  double monthly_discount_rate = 0.01;
};

struct ModelRequest {
  std::string_view path;           // after "/v1/models/"
  std::string_view query;          // after '?'
  std::string_view authorization;  // the Authorization header
};

class ModelHandler {
 public:
  // `position(space)`: the resolver's applied position of the space. `settings` by space; spaces
  // without an entry use the defaults. The store must outlive the handler.
  // `latest(space)`: the sweep's model of the space (null before its first fit).
  using LatestModel = std::function<std::shared_ptr<const audiences::PurchaseModelState>(std::string_view space)>;
  ModelHandler(const KeyRegistry& keys, const profile_store::Store& store, std::vector<std::string> spaces,
               std::map<std::string, PurchaseModelSettings> settings,
               std::function<uint64_t(std::string_view space)> position, LatestModel latest = {});

  HttpReply Handle(const ModelRequest& request) const;
  // The predictions of `profile` (found by ProfileHandler, which checked the key and the space).
  HttpReply Predictions(const std::string& space, const profile_store::Profile& profile,
                        std::string_view query) const;

 private:
  struct Fit {
    prediction::PurchaseModel model;
    int32_t summary_day = 0;  // The day people's summaries are taken at.
    std::string json;         // The fit as the API answers it.
    uint64_t position = 0;    // The resolver's, when fitted here.
    base::Timestamp made{};
  };
  const PurchaseModelSettings& SettingsOf(const std::string& space) const;
  // The as_of day the query names (nullopt: none named), or a 400 reply.
  absl::StatusOr<std::optional<int32_t>> AsOfDay(const std::string& space, std::string_view query) const;
  // The fit of `space` at `as_of_day`, or the latest one when unset.
  absl::StatusOr<std::shared_ptr<const Fit>> FitOf(const std::string& space, std::optional<int32_t> as_of_day) const;

  const KeyRegistry& keys_;
  const profile_store::Store& store_;
  const std::vector<std::string> spaces_;
  const std::map<std::string, PurchaseModelSettings> settings_;
  const std::function<uint64_t(std::string_view)> position_;
  const LatestModel latest_;
  mutable std::mutex mutex_;  // One fit at a time; guards fits_.
  mutable std::map<std::pair<std::string, int32_t>, std::shared_ptr<const Fit>> fits_;
};

}  // namespace tessera::api
