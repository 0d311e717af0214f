#include "tools/cluster_member.h"

#include <unistd.h>

#include <algorithm>
#include <limits>
#include <cstdio>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "cluster/event_stream.h"
#include "cluster/stream_scrubber.h"
#include "cluster/stream_writer.h"
#include "simdjson.h"

namespace tessera::tools {
namespace {

constexpr auto kAnnounceInterval = std::chrono::seconds(2);
constexpr auto kScrubCheck = std::chrono::seconds(2);

std::set<std::string> SpacesOf(const config::Config& config) {
  std::set<std::string> spaces;
  for (const config::Source& source : config.sources) spaces.insert(source.space);
  if (spaces.empty()) spaces.insert("default");
  return spaces;
}

bool HasRole(const config::ClusterOptions& options, std::string_view role) {
  return std::find(options.roles.begin(), options.roles.end(), role) != options.roles.end();
}

// How far the resolver has got in the local log: its position, or further when the log's newer
// events are all of other spaces (a mark after duplicates only may point there).
uint64_t AppliedLogSequence(resolve::Resolver& resolver) {
  const resolve::ResolverMetrics& metrics = resolver.metrics();
  return std::max(metrics.position.load(), metrics.caught_up_to.load());
}

std::string HostName() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "localhost";
  return buffer;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterMember>> ClusterMember::Connect(const config::Config& config,
                                                                      profile_store::Store& store,
                                                                      ingest::IngestMetrics& metrics) {
  const config::ClusterOptions& options = *config.cluster;
  std::unique_ptr<ClusterMember> member(new ClusterMember(config));
  member->applies_ = HasRole(options, "resolver") || HasRole(options, "replica");
  auto nats = cluster::NatsConnection::Connect({.urls = options.nats_urls,
                                                .name = options.name.empty() ? "tessera" : options.name,
                                                .request_timeout = options.publish_timeout});
  if (!nats.ok()) return nats.status();
  member->nats_ = *std::move(nats);

  member->suppression_ = std::make_unique<cluster::ClusterSuppression>(
      *member->nats_, store, cluster::ClusterSuppressionOptions{.replicas = options.stream_replicas});
  member->suppression_->Start();
  if (member->nats_->WaitConnected(options.publish_timeout)) {
    cluster::EventStream streams(*member->nats_, {.replicas = options.stream_replicas,
                                                  .duplicate_window = options.duplicate_window,
                                          .max_bytes = options.stream_max_bytes});
    for (const std::string& space : SpacesOf(config)) {
      if (absl::Status status = streams.Ensure(space); !status.ok()) {
        std::fprintf(stderr, "tessera serve: warning: stream of space %s: %s\n", space.c_str(),
                     std::string(status.message()).c_str());
      }
    }
    // A gateway takes no events before it has read the list: wait for it here rather than answer
    // the first requests 503.
    if (!member->suppression_->WaitLoaded(options.publish_timeout)) {
      std::fprintf(stderr, "tessera serve: warning: the suppression list is not read yet; %s until it is\n",
                   HasRole(options, "gateway") ? "events are refused with 503" : "erasures are not shared");
    }
  } else {
    std::fprintf(stderr, "tessera serve: warning: no NATS server answered yet; %s until one does\n",
                 HasRole(options, "gateway") ? "events are refused with 503" : "nothing is applied");
  }
  if (HasRole(options, "gateway")) {
    member->fill_ = std::make_unique<cluster::StreamFill>(*member->nats_,
                                                          static_cast<double>(options.shed_at_percent) / 100.0);
    member->gateway_sink_ = std::make_unique<cluster::StreamWriter>(
        *member->nats_,
        cluster::StreamWriterOptions{.publish_timeout = options.publish_timeout,
                                     .max_pending_events = config.group_commit.queue_capacity_events,
                                     .fill = member->fill_.get()},
        &metrics);
  }
  return member;
}

ClusterMember::~ClusterMember() { Stop(); }

absl::Status ClusterMember::Start(pipeline::IngestPipeline& pipeline, profile_store::Store& store,
                                  const std::string& host, unsigned port) {
  if (applies_ && pipeline.log_writer() == nullptr) {
    return absl::InternalError("a resolver or replica needs a pipeline with a local log");
  }
  pipeline_ = &pipeline;
  store_ = &store;
  const config::ClusterOptions& options = *config_.cluster;
  name_ = options.name.empty() ? absl::StrCat(HostName(), "-", port) : options.name;
  http_address_ = absl::StrCat(host, ":", port);
  announcer_ = std::thread([this] { Run(); });
  if (applies_) scrubber_ = std::thread([this] { Scrub(); });
  return absl::OkStatus();
}

void ClusterMember::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (announcer_.joinable()) announcer_.join();
  if (scrubber_.joinable()) scrubber_.join();
  std::vector<std::unique_ptr<cluster::SpaceApplier>> appliers;
  {
    std::lock_guard lock(mutex_);
    appliers.swap(appliers_);
  }
  for (auto& applier : appliers) applier->Stop();  // Each releases its lease.
  // Its list stays readable, and erasures the resolvers still complete are still added to it.
  if (suppression_ != nullptr) suppression_->Stop();
}

absl::Status ClusterMember::SetUp() {
  const config::ClusterOptions& options = *config_.cluster;
  if (members_ == nullptr) {
    auto members = cluster::MemberRegistry::Open(*nats_, {.replicas = options.stream_replicas});
    if (!members.ok()) return members.status();
    members_ = *std::move(members);
  }
  if (!applies_) return absl::OkStatus();
  const bool contends = HasRole(options, "resolver");
  if (contends && leases_ == nullptr) {
    auto leases = cluster::SpaceLeases::Open(*nats_, {.ttl = options.lease_ttl, .replicas = options.stream_replicas});
    if (!leases.ok()) return leases.status();
    leases_ = *std::move(leases);
  }
  if (contends && shared_owner_ == nullptr) {
    auto shared = cluster::SharedRecords::Open(*nats_, "tessera_delivery", options.stream_replicas);
    if (!shared.ok()) return shared.status();
    shared_owner_ = *std::move(shared);
    shared_ = shared_owner_.get();
  }
  std::vector<std::unique_ptr<cluster::SpaceApplier>> appliers;
  for (const std::string& space : SpacesOf(config_)) {
    auto applier = std::make_unique<cluster::SpaceApplier>(
        *nats_, *pipeline_->log_writer(), *store_, contends ? leases_.get() : nullptr,
        cluster::SpaceApplierOptions{
            .space = space,
            .member = name_,
            .follower = {.scrubbed_through = [this, space](int64_t created) -> absl::StatusOr<uint64_t> {
              absl::StatusOr<cluster::ClusterSuppression::ScrubMark> mark = suppression_->ScrubbedThrough(space);
              if (!mark.ok()) return mark.status();
              return mark->stream_created_ns == created ? mark->sequence : 0;  // Another stream's.
            }}});
    if (absl::Status status = applier->Start(); !status.ok()) {
      for (auto& started : appliers) started->Stop();
      return status;
    }
    appliers.push_back(std::move(applier));
  }
  std::lock_guard lock(mutex_);
  appliers_ = std::move(appliers);
  return absl::OkStatus();
}

void ClusterMember::Run() {
  bool set_up = false;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    if (nats_->connected()) {
      if (!set_up) {
        absl::Status status = SetUp();
        set_up = status.ok();
        if (!set_up) {
          std::fprintf(stderr, "tessera serve: cluster set-up (retried): %s\n", std::string(status.message()).c_str());
        }
      }
      if (members_ != nullptr) {
        if (absl::Status status = members_->Announce(name_, Report()); !status.ok()) {
          std::fprintf(stderr, "tessera serve: announcing this member: %s\n", std::string(status.message()).c_str());
        }
      }
    }
    lock.lock();
    wake_.wait_for(lock, set_up ? kAnnounceInterval : std::chrono::seconds(1), [this] { return stopping_; });
  }
}

uint64_t ClusterMember::Horizon(std::string_view space) {
  if (members_ == nullptr) return 0;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> listed = members_->List();
  if (!listed.ok()) return 0;
  uint64_t horizon = std::numeric_limits<uint64_t>::max();
  bool any = false;
  simdjson::dom::parser parser;
  for (const auto& [key, report] : *listed) {
    simdjson::dom::element root;
    if (parser.parse(report).get(root) != simdjson::SUCCESS) return 0;  // A report we cannot read: wait.
    simdjson::dom::object spaces;
    if (root["spaces"].get(spaces) != simdjson::SUCCESS) continue;  // A gateway.
    simdjson::dom::object fields;
    if (spaces[space].get(fields) != simdjson::SUCCESS) continue;
    // A member whose store cannot follow the stream any more is restored from a backup; it must
    // not hold the scrubbing back for as long as it runs.
    if (fields["error"].error() == simdjson::SUCCESS) continue;
    uint64_t applied = 0;
    if (fields["applied"].get(applied) != simdjson::SUCCESS) return 0;
    horizon = std::min(horizon, applied);
    any = true;
  }
  return any ? horizon : 0;
}

void ClusterMember::Scrub() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, kScrubCheck, [this] { return stopping_; })) {
    std::vector<cluster::SpaceApplier*> held;
    for (const auto& applier : appliers_) {
      if (applier->lease_held()) held.push_back(applier.get());
    }
    lock.unlock();
    const privacy::SuppressionList* list = suppression_->list();
    for (cluster::SpaceApplier* applier : held) {
      resolve::Resolver* resolver = pipeline_->resolver(applier->space());
      if (list == nullptr || resolver == nullptr) continue;
      ScrubState& state = scrub_[applier->space()];
      if (list->size() != state.seen_list_size) {
        state.seen_list_size = list->size();
        state.full_pass_due = true;
      }
      if (const uint64_t erasures = resolver->metrics().erasures.load(); erasures != state.seen_erasures) {
        state.seen_erasures = erasures;
        state.full_pass_due = true;
        state.due_through = std::max(state.due_through, AppliedPosition(applier->space()));
      }
      if (!state.full_pass_due && state.scrubbed_through >= state.due_through) continue;
      const uint64_t horizon = Horizon(applier->space());
      const uint64_t from = state.full_pass_due ? 1 : state.scrubbed_through + 1;
      if (horizon < from) continue;
      // The mark first: a store that has not applied as far stops rather than skip what goes.
      absl::StatusOr<cluster::StreamState> stream = cluster::EventStream(*nats_, {}).State(applier->space());
      if (!stream.ok()) continue;
      cluster::StreamScrubber scrubber(*nats_, applier->space(), *list, *pipeline_->extractor(),
                                       *pipeline_->normalizer());
      absl::StatusOr<cluster::ScrubReport> report = scrubber.Scrub(
          from, horizon,
          [&](uint64_t highest) -> absl::Status {
            // The mark first, and only within the lease: a store that has not applied as far stops
            // rather than skip what goes.
            if (!applier->lease_held()) return absl::FailedPreconditionError("the lease went to another member");
            return suppression_->RaiseScrubbedThrough(
                applier->space(), {.sequence = highest, .stream_created_ns = stream->created_ns});
          },
          [this] {
            std::lock_guard stop_lock(mutex_);
            return stopping_;
          });
      if (absl::IsCancelled(report.status())) break;
      if (!report.ok()) {
        std::fprintf(stderr, "tessera serve: scrubbing the stream of space %s (retried): %s\n",
                     applier->space().c_str(), std::string(report.status().message()).c_str());
        continue;
      }
      state.full_pass_due = false;
      state.scrubbed_through = horizon;
      state.erased += report->erased_events + report->erased_commands;
      if (report->erased_events + report->erased_commands > 0) {
        std::fprintf(stderr,
                     "tessera serve: space %s: erased %llu event(s) of erased people and %llu erasure command(s) "
                     "from the stream (sequences %llu-%llu)\n",
                     applier->space().c_str(), static_cast<unsigned long long>(report->erased_events),
                     static_cast<unsigned long long>(report->erased_commands), static_cast<unsigned long long>(from),
                     static_cast<unsigned long long>(horizon));
      }
    }
    lock.lock();
  }
}

uint64_t ClusterMember::AppliedPosition(std::string_view space) const {
  std::lock_guard lock(mutex_);
  for (const auto& applier : appliers_) {
    if (applier->space() != space) continue;
    resolve::Resolver* resolver = pipeline_->resolver(space);
    if (resolver == nullptr) return 0;
    return applier->follower().StreamPositionAt(AppliedLogSequence(*resolver));
  }
  return 0;
}

std::string ClusterMember::Report() const {
  std::string out;
  base::JsonWriter json(out);
  json.BeginObject();
  json.Key("name").String(name_);
  json.Key("http").String(http_address_);
  json.Key("roles").BeginArray();
  for (const std::string& role : config_.cluster->roles) json.String(role);
  json.EndArray();
  json.Key("spaces").BeginObject();
  std::lock_guard lock(mutex_);
  for (const auto& applier : appliers_) {
    const cluster::StreamFollower& follower = applier->follower();
    resolve::Resolver* resolver = pipeline_->resolver(applier->space());
    json.Key(applier->space()).BeginObject();
    json.Key("copied").Uint(follower.copied());
    json.Key("applied").Uint(resolver == nullptr ? 0 : follower.StreamPositionAt(AppliedLogSequence(*resolver)));
    json.Key("stream_last").Uint(follower.stream_last());
    json.Key("lease").Bool(applier->lease_held());
    json.Key("token").Uint(applier->fencing_token());
    if (absl::Status error = follower.error(); !error.ok()) json.Key("error").String(std::string(error.message()));
    json.EndObject();
  }
  json.EndObject();
  json.EndObject();
  return out;
}

void ClusterMember::AppendPrometheus(std::string& out) const {
  struct Row {
    std::string space;
    uint64_t copied, applied, stream_last, gaps;
    bool lease;
  };
  std::vector<Row> rows;
  {
    std::lock_guard lock(mutex_);
    for (const auto& applier : appliers_) {
      const cluster::StreamFollower& follower = applier->follower();
      resolve::Resolver* resolver = pipeline_->resolver(applier->space());
      rows.push_back({applier->space(), follower.copied(),
                      resolver == nullptr ? 0 : follower.StreamPositionAt(AppliedLogSequence(*resolver)),
                      follower.stream_last(), follower.gaps(), applier->lease_held()});
    }
  }
  if (rows.empty()) return;
  auto series = [&](const char* name, const char* help, auto value) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " gauge\n");
    for (const Row& row : rows) absl::StrAppend(&out, name, "{space=\"", row.space, "\"} ", value(row), "\n");
  };
  series("tessera_cluster_copied_position", "Last stream sequence copied into the local log.",
         [](const Row& row) { return row.copied; });
  series("tessera_cluster_applied_position", "Last stream sequence the applied state reflects.",
         [](const Row& row) { return row.applied; });
  series("tessera_cluster_stream_last_sequence", "The stream's last sequence as last seen.",
         [](const Row& row) { return row.stream_last; });
  series("tessera_cluster_apply_lag_messages", "Stream messages not yet applied here.",
         [](const Row& row) { return row.stream_last > row.applied ? row.stream_last - row.applied : 0; });
  series("tessera_cluster_stream_gaps", "Gaps the stream's consumer left, each read again from the position (never skipped).",
         [](const Row& row) { return row.gaps; });
  series("tessera_cluster_lease_held", "1 while this process holds the space's resolver lease.",
         [](const Row& row) { return row.lease ? 1 : 0; });
}

bool ClusterMember::MaySend(std::string_view space) const {
  std::lock_guard lock(mutex_);
  for (const auto& applier : appliers_) {
    if (applier->space() == space) return applier->lease_held();
  }
  return false;
}

absl::StatusOr<std::optional<std::string>> ClusterMember::Load(const std::string& key) {
  cluster::SharedRecords* shared = shared_.load();
  if (shared == nullptr) return absl::UnavailableError("the cluster has not answered yet");
  return shared->Get(key);
}

absl::Status ClusterMember::Store(const std::string& key, std::string_view value) {
  cluster::SharedRecords* shared = shared_.load();
  if (shared == nullptr) return absl::UnavailableError("the cluster has not answered yet");
  return shared->Put(key, value);
}

}  // namespace tessera::tools
