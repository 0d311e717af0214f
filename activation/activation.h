#pragma once

// Activation holds every configured destination of the server: one OutboxWriter per space with
// destinations (the resolver of that space writes through it) and one Delivery per destination,
// each told by the writer when new rows are written. A space's deliveries share one reader of its
// logged events (activation/logged_events.h). docs/activation.md tells the whole story.
//
// Thread-safety: Recover, Start and Stop from one thread; the rest from any.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "activation/delivery.h"
#include "activation/destination.h"
#include "activation/logged_events.h"
#include "activation/outbox_writer.h"
#include "profile_store/store.h"

namespace tessera::activation {

class Activation {
 public:
  // InvalidArgument for a destination that cannot be used (its URL, its trusted certificates, a
  // name given twice).
  static absl::StatusOr<std::unique_ptr<Activation>> Create(profile_store::Store& store,
                                                            std::vector<DestinationSpec> destinations,
                                                            const DeliveryOptions& options);
  ~Activation();

  // Reads every writer's and delivery's position. Before the resolvers start.
  absl::Status Recover();
  void Start();
  void Stop();

  // The writer of `space`; null when the space has no destination.
  OutboxWriter* writer(std::string_view space);
  // The destination named `name`; null when there is none.
  Delivery* Find(std::string_view name);
  const std::vector<std::unique_ptr<Delivery>>& deliveries() const { return deliveries_; }

  // Per destination, in Prometheus text format.
  void AppendPrometheus(std::string& out) const;

 private:
  Activation() = default;

  // Declared first so that it is destroyed after the deliveries reading through it.
  std::map<std::string, std::unique_ptr<LoggedEvents>, std::less<>> logged_events_;
  std::map<std::string, std::unique_ptr<OutboxWriter>, std::less<>> writers_;
  std::vector<std::unique_ptr<Delivery>> deliveries_;
};

}  // namespace tessera::activation
