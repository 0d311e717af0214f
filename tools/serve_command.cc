// `tessera serve`: open the store, start ingestion, serve HTTP until SIGTERM, then shut down in
// the order that keeps every acknowledged event: stop accepting and drain requests, write what is
// queued, close the store.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/admin_handler.h"
#include "api/audience_handler.h"
#include "api/audit.h"
#include "api/destination_handler.h"
#include "api/http_server.h"
#include "api/position_gate.h"
#include "api/key_registry.h"
#include "api/kpi_handler.h"
#include "api/stewardship_handler.h"
#include "api/model_handler.h"
#include "api/privacy_handler.h"
#include "api/duplicates_handler.h"
#include "api/profile_handler.h"
#include "config/dev_keys.h"
#include "pipeline/ingest_pipeline.h"
#include "privacy/audit_log.h"
#include "profile_store/profile_reader.h"
#include "profile_store/store.h"
#include "tools/cluster_member.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "tessera: %s\n", message.c_str());
  return code;
}
int Fail(int code, absl::string_view message) { return Fail(code, std::string(message)); }

api::ServerOptions ServerOptionsFrom(const config::Config& config) {
  api::ServerOptions options;
  options.address = config.listen.address;
  options.port = config.listen.port;
  options.io_threads = config.threads.io_threads;
  options.max_event_bytes = config.limits.max_event_bytes;
  options.max_request_bytes = config.limits.max_request_bytes;
  options.max_webhook_bytes = config.limits.max_webhook_bytes;
  options.max_header_bytes = config.limits.max_header_bytes;
  options.read_timeout = config.limits.read_timeout;
  options.idle_timeout = config.limits.idle_timeout;
  options.write_timeout = config.limits.write_timeout;
  options.max_connections = config.limits.max_connections;
  options.shutdown_grace = config.shutdown_grace;
  options.stream_max_inflight_frames = config.stream.max_inflight_frames;
  options.stream_max_inflight_bytes = config.stream.max_inflight_bytes;
  options.stream_idle_timeout = config.stream.idle_timeout;
  options.stream_permessage_deflate = config.stream.permessage_deflate;
  options.api_cors_origins = config.cors.api_origins;
  return options;
}

// How long a read with min_position waits for this member to apply that far before a 503.
constexpr auto kMinPositionWait = std::chrono::seconds(5);

}  // namespace

int ServeCommand(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"config", "data-dir", "address", "port"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) return Fail(2, flags.status().message());
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> loaded = ConfigFromFlags(*flags, uses_dev_keys);
  if (!loaded.ok()) return Fail(2, absl::StrCat("invalid configuration: ", loaded.status().message()));
  config::Config config = *std::move(loaded);
  if (uses_dev_keys) {
    absl::StatusOr<config::DevKeys> keys = config::LoadOrCreateDevKeys(config.data_dir);
    if (!keys.ok()) return Fail(1, keys.status().message());
    config::ApplyDevKeys(*keys, config);
    std::printf("write key: %s\nread key: %s\nadmin key: %s\n", keys->write_key.c_str(), keys->read_key.c_str(),
                keys->admin_key.c_str());
  }

  absl::StatusOr<std::vector<activation::DestinationSpec>> destinations = DestinationSpecsFrom(config);
  if (!destinations.ok()) return Fail(2, absl::StrCat("invalid configuration: ", destinations.status().message()));
  // In a cluster, destinations are delivered by the resolvers (the lease holder of each space sends,
  // the standbys follow it: activation/delivery_gate.h); a gateway or a replica keeps no outbox.
  const bool delivers = !destinations->empty() &&
                        (!config.cluster || std::find(config.cluster->roles.begin(), config.cluster->roles.end(),
                                                      "resolver") != config.cluster->roles.end());
  for (const activation::DestinationSpec& destination : *destinations) {
    if (destination.url.starts_with("http://")) {
      std::fprintf(stderr, "tessera: warning: destination %s sends over plain HTTP (%s): use https:// outside a "
                   "trusted network\n", destination.name.c_str(), destination.url.c_str());
    }
  }

  api::ServerOptions server_options = ServerOptionsFrom(config);
  // Loaded before the store opens: a bad certificate is a configuration error like any other.
  if (config.tls) {
    absl::StatusOr<std::shared_ptr<api::TlsContext>> tls = api::LoadTlsContext(*config.tls);
    if (!tls.ok()) return Fail(2, absl::StrCat("invalid configuration: ", tls.status().message()));
    server_options.tls = *std::move(tls);
  }

  // Signals are handled by the server's signal_set; block nothing here, but ignore SIGPIPE so a
  // client closing early cannot kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<profile_store::Store>> store = OpenStore(config);
  if (!store.ok()) return Fail(StoreOpenExitCode(store.status()), store.status().message());
  std::unique_ptr<activation::Activation> activation;
  // Made once the cluster member that gates it exists (cluster mode) or at once.
  auto make_activation = [&](activation::DeliveryGate* gate) -> absl::Status {
    if (!delivers) return absl::OkStatus();
    absl::StatusOr<std::unique_ptr<activation::Activation>> created =
        activation::Activation::Create(**store, *std::move(destinations), activation::DeliveryOptions{.gate = gate});
    if (!created.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid configuration: ", created.status().message()));
    activation = *std::move(created);
    return activation->Recover();
  };
  if (!config.cluster) {
    if (absl::Status made = make_activation(nullptr); !made.ok()) {
      return Fail(absl::IsInvalidArgument(made) ? 2 : 1, made.message());
    }
  }
  if (config.encryption) {
    // Key ids only: a key itself never reaches a log.
    std::printf("encryption at rest: on; master keys loaded: %s; the store's files need: %s\n",
                (*store)->options().encryption_keys->Describe().c_str(),
                (*store)->encryption_summary().empty() ? "the current key (new store)"
                                                       : (*store)->encryption_summary().c_str());
    std::fflush(stdout);
  }

  ingest::IngestMetrics metrics;
  // In cluster mode a gateway publishes accepted events to JetStream, and a resolver or replica
  // copies the stream into the store's log, which its resolvers follow; otherwise events go to
  // the store's log directly.
  std::unique_ptr<ClusterMember> member;
  std::unique_ptr<pipeline::IngestPipeline> pipeline_owner;
  if (config.cluster) {
    absl::StatusOr<std::unique_ptr<ClusterMember>> connected = ClusterMember::Connect(config, **store, metrics);
    if (!connected.ok()) {
      return Fail(absl::IsInvalidArgument(connected.status()) ? 2 : 1, connected.status().message());
    }
    member = *std::move(connected);
    if (absl::Status made = make_activation(member.get()); !made.ok()) {
      return Fail(absl::IsInvalidArgument(made) ? 2 : 1, made.message());
    }
    pipeline::PipelineOptions options = PipelineOptionsFrom(config);
    options.resolve = member->applies();
    options.activation = activation.get();
    pipeline_owner = std::make_unique<pipeline::IngestPipeline>(**store, std::move(options), metrics,
                                                                member->TakeGatewaySink());
    pipeline_owner->AddPrometheusSource([&member](std::string& out) { member->AppendPrometheus(out); });
    if (activation != nullptr) {
      pipeline_owner->AddPrometheusSource([&activation](std::string& out) { activation->AppendPrometheus(out); });
    }
    pipeline_owner->SetSharedSuppression(member->suppression());
  } else {
    pipeline::PipelineOptions options = PipelineOptionsFrom(config);
    options.activation = activation.get();
    pipeline_owner = std::make_unique<pipeline::IngestPipeline>(**store, std::move(options), metrics);
    if (activation != nullptr) {
      pipeline_owner->AddPrometheusSource([&activation](std::string& out) { activation->AppendPrometheus(out); });
    }
  }
  pipeline::IngestPipeline& pipeline = *pipeline_owner;
  // On every way out the followers stop before the pipeline's log writer they submit to.
  struct StopMemberFirst {
    ClusterMember* member;
    ~StopMemberFirst() {
      if (member != nullptr) member->Stop();
    }
  } stop_member_first{member.get()};
  // Deliveries ask the member (their gate) about leases: they stop before it goes, on every way out.
  struct StopActivationFirst {
    activation::Activation* activation;
    ~StopActivationFirst() {
      if (activation != nullptr) activation->Stop();
    }
  } stop_activation_first{activation.get()};
  if (absl::Status status = pipeline.Start(); !status.ok()) return Fail(1, status.message());
  if (activation != nullptr) activation->Start();

  api::KeyRegistry keys(config);
  profile_store::ProfileReader reader(**store);
  std::vector<std::string> spaces;
  for (const config::Source& source : config.sources) spaces.push_back(source.space);
  if (spaces.empty()) spaces.push_back("default");
  auto space_audiences = [&pipeline](std::string_view space) { return pipeline.audiences(space); };
  std::optional<api::ProfileHandler> profiles;
  std::optional<api::DuplicatesHandler> duplicates;
  std::optional<api::ModelHandler> models;
  std::optional<api::KpiHandler> kpis;
  std::optional<api::StewardshipHandler> stewardship;
  auto resolver_position = [&pipeline](std::string_view space) {
    resolve::Resolver* resolver = pipeline.resolver(space);
    return resolver == nullptr ? uint64_t{0} : resolver->metrics().position.load();
  };
  auto purchase_model = [&pipeline](std::string_view space) {
    audiences::SpaceAudiences* audiences = pipeline.audiences(space);
    return audiences == nullptr ? nullptr : audiences->purchase_model();
  };
  if (pipeline.resolves()) {
    profiles.emplace(keys, reader, *pipeline.normalizer(), KnownIdentifierTypes(config), spaces, space_audiences);
    profiles->SetIdentifierExtractor(pipeline.extractor());
    models.emplace(
        keys, **store, spaces, PurchaseModelSettingsFrom(config),
        resolver_position, purchase_model);
    kpis.emplace(
        keys, **store, spaces, PurchaseModelSettingsFrom(config),
        resolver_position, purchase_model);
    stewardship.emplace(keys, pipeline, reader, KnownIdentifierTypes(config));
    profiles->SetPredictions([&models](const std::string& space, const profile_store::Profile& profile,
                                       std::string_view query) { return models->Predictions(space, profile, query); });
    duplicates.emplace(**store, reader, DuplicateOptionsFrom(config));
    profiles->SetDuplicates([&duplicates](const std::string& space, const profile_store::Profile& profile,
                                          std::string_view query) { return duplicates->Duplicates(space, profile, query); });
  }
  const api::AudienceHandler audiences(keys, **store, space_audiences);
  auto audit_log = std::make_unique<privacy::AuditLog>(**store);
  const api::Auditor auditor(keys, *audit_log);
  const api::PrivacyHandler privacy(keys, pipeline, KnownIdentifierTypes(config));
  api::AdminHandler admin(keys, **store);
  const api::DestinationHandler destination_handler(keys, **store, activation.get());
  // A member that applies the stream answers reads with their position and honours min_position.
  std::optional<api::PositionGate> position_gate;
  if (member != nullptr && member->applies()) {
    position_gate.emplace([&member](std::string_view space) { return member->AppliedPosition(space); },
                          kMinPositionWait);
  }
  {
    api::HttpServer server(std::move(server_options), keys, pipeline, profiles ? &*profiles : nullptr,
                           &audiences, &admin);
    server.SetPrivacy(&privacy, &auditor);
    server.SetDestinations(&destination_handler);
    if (models) server.SetModels(&*models);
    if (kpis) server.SetKpis(&*kpis);
    if (stewardship) server.SetStewardship(&*stewardship);
    if (position_gate) server.SetPositionGate(&*position_gate);
    if (absl::Status status = server.Bind(); !status.ok()) {
      pipeline.Stop();
      return Fail(1, status.message());
    }
    if (member != nullptr) {
      if (absl::Status status = member->Start(pipeline, **store, config.listen.address, server.port());
          !status.ok()) {
        pipeline.Stop();
        return Fail(1, status.message());
      }
    }
    const char* scheme = config.tls ? "https" : "http";
    // A wildcard listen address is no address to open in a browser; this machine's loopback is.
    const std::string& address = config.listen.address;
    const std::string browsable = address == "0.0.0.0" ? "127.0.0.1" : address == "::" ? "[::1]" : address;
    std::printf("data directory: %s\nlistening on %s://%s:%u\nweb console: %s://%s:%u/console/\n",
                config.data_dir.c_str(), scheme, address.c_str(), static_cast<unsigned>(server.port()), scheme,
                browsable.c_str(), static_cast<unsigned>(server.port()));
    std::fflush(stdout);
    server.Run();
    if (kpis) kpis->Stop();
    // A backup still copying files needs the store open; its reply, if any, goes nowhere now.
    admin.Wait();
    // Followers stop (their last batch durable) and leases are released before the log closes.
    if (member != nullptr) member->Stop();
    // Write whatever was accepted into the queue before the server went quiet. The server object
    // stays alive until here because the pipeline's last callbacks post into its I/O context.
    pipeline.Stop();
  }
  // After the resolvers stopped: nothing writes the outbox any more.
  if (activation != nullptr) activation->Stop();
  audit_log.reset();  // Writes the entries still waiting, while the store is open.
  if (absl::Status status = (*store)->Close(); !status.ok()) return Fail(1, status.message());
  std::printf("tessera: stopped cleanly\n");
  return 0;
}

}  // namespace tessera::tools
