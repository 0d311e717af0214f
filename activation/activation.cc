#include "activation/activation.h"

#include "absl/strings/str_cat.h"

namespace tessera::activation {

absl::StatusOr<std::unique_ptr<Activation>> Activation::Create(profile_store::Store& store,
                                                               std::vector<DestinationSpec> destinations,
                                                               const DeliveryOptions& options) {
  std::unique_ptr<Activation> activation(new Activation());
  std::map<std::string, std::vector<DestinationSpec>> by_space;
  for (DestinationSpec& destination : destinations) {
    if (activation->Find(destination.name) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("destination ", destination.name, " is named twice"));
    }
    std::unique_ptr<LoggedEvents>& events = activation->logged_events_[destination.space];
    if (!events) events = std::make_unique<LoggedEvents>(store, destination.space);
    DeliveryOptions shared = options;
    shared.logged_events = events.get();
    absl::StatusOr<std::unique_ptr<Delivery>> delivery = Delivery::Create(store, destination, std::move(shared));
    if (!delivery.ok()) return delivery.status();
    activation->deliveries_.push_back(*std::move(delivery));
    by_space[destination.space].push_back(std::move(destination));
  }
  for (auto& [space, specs] : by_space) {
    auto writer = std::make_unique<OutboxWriter>(store, space, std::move(specs));
    Activation* self = activation.get();
    writer->SetCommitListener([self](const std::string& name, uint64_t last) {
      if (Delivery* delivery = self->Find(name)) delivery->NotifyWritten(last);
    });
    activation->writers_.emplace(space, std::move(writer));
  }
  return activation;
}

Activation::~Activation() { Stop(); }

absl::Status Activation::Recover() {
  for (auto& [space, writer] : writers_) {
    if (absl::Status status = writer->Recover(); !status.ok()) return status;
  }
  for (const auto& delivery : deliveries_) {
    if (absl::Status status = delivery->Recover(); !status.ok()) return status;
  }
  return absl::OkStatus();
}

void Activation::Start() {
  for (const auto& delivery : deliveries_) delivery->Start();
}

void Activation::Stop() {
  for (const auto& delivery : deliveries_) delivery->Stop();
}

OutboxWriter* Activation::writer(std::string_view space) {
  auto it = writers_.find(space);
  return it == writers_.end() ? nullptr : it->second.get();
}

Delivery* Activation::Find(std::string_view name) {
  for (const auto& delivery : deliveries_) {
    if (delivery->destination().name == name) return delivery.get();
  }
  return nullptr;
}

void Activation::AppendPrometheus(std::string& out) const {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (*value)(Delivery&);
  };
  static const Family kFamilies[] = {
      {"tessera_destination_delivered_total", "counter", "Events and audience changes a destination accepted.",
       [](Delivery& d) { return d.metrics().delivered.load(); }},
      {"tessera_destination_requests_total", "counter", "Requests sent to a destination, retries included.",
       [](Delivery& d) { return d.metrics().requests.load(); }},
      {"tessera_destination_failures_total", "counter", "Requests that failed (an error answer or no answer).",
       [](Delivery& d) { return d.metrics().failures.load(); }},
      {"tessera_destination_retries_total", "counter", "Requests that repeated a failed batch.",
       [](Delivery& d) { return d.metrics().retries.load(); }},
      {"tessera_destination_dead_lettered_total", "counter", "Rows given up on and kept as dead letters.",
       [](Delivery& d) { return d.metrics().dead_lettered.load(); }},
      {"tessera_destination_replayed_total", "counter", "Dead letters delivered by a replay.",
       [](Delivery& d) { return d.metrics().replayed.load(); }},
      {"tessera_destination_skipped_total", "counter",
       "Rows not sent: the profile was erased or withdrew the destination's consent purpose.",
       [](Delivery& d) { return d.metrics().skipped.load(); }},
      {"tessera_destination_lag", "gauge", "Rows written for a destination and not yet delivered.",
       [](Delivery& d) { return d.metrics().lag(); }},
      {"tessera_destination_dead_letters", "gauge", "Dead letters waiting for a replay.",
       [](Delivery& d) { return d.metrics().dead_letters.load(); }},
      {"tessera_destination_paused", "gauge", "1 while a destination is paused.",
       [](Delivery& d) { return static_cast<uint64_t>(d.paused()); }},
  };
  if (deliveries_.empty()) return;
  for (const Family& family : kFamilies) {
    absl::StrAppend(&out, "# HELP ", family.name, " ", family.help, "\n# TYPE ", family.name, " ", family.type, "\n");
    for (const auto& delivery : deliveries_) {
      absl::StrAppend(&out, family.name, "{destination=\"", delivery->destination().name, "\",space=\"",
                      delivery->destination().space, "\",type=\"", std::string(DestinationTypeName(delivery->destination().type)),
                      "\"} ", family.value(*delivery), "\n");
    }
  }
}

}  // namespace tessera::activation
