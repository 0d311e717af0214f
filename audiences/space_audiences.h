#pragma once

// SpaceAudiences: one space's computed traits and audiences as the running server knows them.
// It owns the definitions (kept in the store, so admin-API changes survive restarts; definitions
// from the config file are written there too, marked as config's, and only config changes them),
// each audience's counters and the RFM cut points. The resolver of the space reads the current
// DefinitionSet at each batch, keeps memberships fresh and reports counter changes here; the API
// reads and changes definitions.
//
// Thread-safety: every method is safe to call from any thread. Definitions are immutable
// snapshots (shared_ptr), swapped under a mutex.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audiences/definitions.h"
#include "audiences/evaluation.h"
#include "profile_store/audience_store.h"
#include "profile_store/store.h"

namespace tessera::audiences {

// A definition from the config file: {"name":..., ...} for a computed trait, or
// {"name":..., "description":..., "condition":...} for an audience.
struct ConfiguredDefinition {
  std::string name;
  std::string json;
};

struct AudienceStatus {
  std::shared_ptr<const Audience> audience;
  bool from_config = false;
  profile_store::AudienceCounters counters;
  bool evaluated = false;  // A full evaluation finished since the definition last changed.
};

class SpaceAudiences {
 public:
  SpaceAudiences(profile_store::Store& store, std::string space);

  // Reads the stored definitions, then applies the config's (added or replaced, and config
  // definitions no longer in the config removed). Errors name the definition and the node.
  absl::Status Load(const std::vector<ConfiguredDefinition>& computed_traits,
                    const std::vector<ConfiguredDefinition>& audiences);
  // Reads the stored definitions, counters and RFM cut points as they are, writing nothing (for a
  // store opened read-only, e.g. `tessera export` next to a running server).
  absl::Status LoadStored();

  std::shared_ptr<const DefinitionSet> definitions() const;
  // Increases with every change of the definitions.
  uint64_t generation() const;

  // Admin API. InvalidArgument names the bad node; FailedPrecondition when config owns the name
  // or (delete) an audience still uses the computed trait; NotFound for deleting an unknown name.
  // On success the change is durable and the resolver is woken.
  absl::StatusOr<std::shared_ptr<const ComputedTrait>> PutComputedTrait(std::string_view name, std::string_view json);
  absl::Status DeleteComputedTrait(std::string_view name);
  absl::StatusOr<std::shared_ptr<const Audience>> PutAudience(std::string_view name, std::string_view json);
  absl::Status DeleteAudience(std::string_view name);

  bool IsFromConfig(std::string_view name, profile_store::DefinitionKind kind) const;
  std::optional<AudienceStatus> Status(std::string_view name) const;
  std::vector<AudienceStatus> AllStatuses() const;

  // Called by the resolver after a write: the counters as they now stand in the store.
  void SetCounters(const std::string& audience, const profile_store::AudienceCounters& counters);
  profile_store::AudienceCounters Counters(const std::string& audience) const;
  // The resolver finished evaluating every profile against the definitions of `generation`.
  void MarkEvaluated(uint64_t generation, base::Timestamp finished);

  RfmTable rfm() const;
  void SetRfm(RfmTable rfm);
  // The purchase model the sweep fitted last (null before the first), read by the predictive
  // computed traits (audiences/purchase_traits.h).
  std::shared_ptr<const PurchaseModelState> purchase_model() const;
  void SetPurchaseModel(std::shared_ptr<const PurchaseModelState> model);
  // The RFM cut points and the purchase model together, as evaluation reads them.
  SpaceFigures figures() const;

  // Called (on the changing thread) after every definition change; the resolver wakes on it.
  void SetChangeListener(std::function<void()> listener);

  const std::string& space() const { return space_; }

 private:
  absl::Status Load(const std::vector<ConfiguredDefinition>& computed_traits,
                    const std::vector<ConfiguredDefinition>& audiences, bool read_only);
  absl::Status Persist(profile_store::DefinitionKind kind, const profile_store::StoredDefinition* put,
                       std::string_view erase);
  void Publish(std::unique_lock<std::mutex>& lock);

  profile_store::Store& store_;
  const std::string space_;
  mutable std::mutex mutex_;
  std::shared_ptr<const DefinitionSet> definitions_;
  std::map<std::string, bool, std::less<>> computed_from_config_;
  std::map<std::string, bool, std::less<>> audience_from_config_;
  std::map<std::string, profile_store::AudienceCounters, std::less<>> counters_;
  uint64_t generation_ = 1;
  uint64_t evaluated_generation_ = 0;
  RfmTable rfm_;
  std::shared_ptr<const PurchaseModelState> purchase_model_;
  std::function<void()> listener_;
};

// Whether `name` is one of DefinitionSet::BuiltInTraits (no definition may take it).
bool IsBuiltInComputedTrait(std::string_view name);

// kMeta key of a space's RFM cut points, and their stored form (written by the resolver's sweep).
std::string RfmKey(std::string_view space);
std::string EncodeRfmTable(const RfmTable& table);

}  // namespace tessera::audiences
