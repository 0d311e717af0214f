#include "pipeline/ingest_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ingest/free_text.h"
#include "ingest/log_command.h"

namespace tessera::pipeline {

IngestPipeline::IngestPipeline(profile_store::Store& store, PipelineOptions options,
                               ingest::IngestMetrics& metrics)
    : store_(store),
      metrics_(metrics),
      options_(std::move(options)),
      log_writer_(std::make_unique<ingest::GroupCommitWriter>(store, options_.group_commit, metrics)),
      sink_(log_writer_.get()) {}

IngestPipeline::IngestPipeline(profile_store::Store& store, PipelineOptions options, ingest::IngestMetrics& metrics,
                               std::unique_ptr<ingest::EventSink> sink)
    : store_(store),
      metrics_(metrics),
      options_(std::move(options)),
      outside_sink_(std::move(sink)),
      sink_(outside_sink_.get()) {
  if (options_.resolve) {
    log_writer_ = std::make_unique<ingest::GroupCommitWriter>(store, options_.group_commit, copy_metrics_);
  }
}

IngestPipeline::~IngestPipeline() { Stop(); }

absl::Status IngestPipeline::Start() {
  if (options_.resolve && log_writer_ == nullptr) {
    return absl::InvalidArgumentError("resolvers follow the local event log; an outside sink has none");
  }
  if (options_.resolve || shared_ != nullptr) {  // A gateway checks the shared list as resolvers do.
    auto normalizer = identity::Normalizer::Create(options_.normalizer);
    if (!normalizer.ok()) return normalizer.status();
    normalizer_ = *std::move(normalizer);
    extractor_ = std::make_unique<ingest::IdentifierExtractor>(options_.mappings);
  }
  if (options_.resolve) {
    absl::StatusOr<std::unique_ptr<privacy::PrivacyStore>> privacy = privacy::PrivacyStore::Open(store_);
    if (!privacy.ok()) return privacy.status();
    privacy_ = *std::move(privacy);
    suppression_ = std::make_unique<privacy::SuppressionList>(*privacy_);
    std::vector<std::string> spaces = options_.spaces;
    std::sort(spaces.begin(), spaces.end());
    spaces.erase(std::unique(spaces.begin(), spaces.end()), spaces.end());
    for (const std::string& space : spaces) {
      auto audiences = std::make_unique<audiences::SpaceAudiences>(store_, space);
      const resolve::SpaceDefinitions& defined = options_.definitions[space];
      if (absl::Status status = audiences->Load(defined.computed_traits, defined.audiences); !status.ok()) {
        return absl::Status(status.code(), absl::StrCat("space ", space, ": ", status.message()));
      }
      auto resolver = std::make_unique<resolve::Resolver>(store_, space, *normalizer_, *extractor_,
                                                          identity::IdentityRules(options_.rules),
                                                          options_.resolver, audiences.get());
      audiences_.push_back(std::move(audiences));
      if (absl::Status status = resolver->Recover(); !status.ok()) return status;
      if (absl::Status status = suppression_->Load(space); !status.ok()) return status;
      resolver->SetSuppressionList(suppression_.get());
      resolver->SetSharedSuppression(shared_);
      if (options_.activation != nullptr) {
        if (activation::OutboxWriter* outbox = options_.activation->writer(space)) resolver->SetOutbox(outbox);
      }
      resolvers_.push_back(std::move(resolver));
    }
    log_writer_->SetCommitListener([this](uint64_t /*first*/, uint64_t last) {
      for (auto& resolver : resolvers_) resolver->NotifyCommitted(last);
    });
  }
  if (log_writer_ != nullptr && sink_ != log_writer_.get()) {
    if (absl::Status status = log_writer_->Start(); !status.ok()) return status;
  }
  if (sink_ != nullptr) {
    if (absl::Status status = sink_->Start(); !status.ok()) return status;
  }
  for (auto& resolver : resolvers_) {
    resolver->NotifyCommitted(log_writer_->log().next_sequence() - 1);
    resolver->Start();
  }
  return absl::OkStatus();
}

void IngestPipeline::Stop() {
  if (sink_ != nullptr) sink_->Stop();
  if (log_writer_ != nullptr) log_writer_->Stop();
  for (auto& resolver : resolvers_) resolver->Stop();
}

audiences::SpaceAudiences* IngestPipeline::audiences(std::string_view space) {
  for (auto& space_audiences : audiences_) {
    if (space_audiences->space() == space) return space_audiences.get();
  }
  return nullptr;
}

resolve::Resolver* IngestPipeline::resolver(std::string_view space) {
  for (auto& resolver : resolvers_) {
    if (resolver->space() == space) return resolver.get();
  }
  return nullptr;
}

void IngestPipeline::AppendPrometheus(std::string& out) const {
  metrics_.AppendPrometheus(out);
  if (sink_ != nullptr) sink_->AppendPrometheus(out);
  for (const auto& source : prometheus_sources_) source(out);
  if (resolvers_.empty()) return;
  struct Series {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (*read)(const resolve::ResolverMetrics&);
  };
  static constexpr Series kSeries[] = {
      {"tessera_resolver_events_total", "counter", "Log events applied to the identity graph.",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.events_applied.load(); }},
      {"tessera_resolver_dead_letters_total", "counter", "Events sent to the dead-letter store.",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.events_dead_lettered.load(); }},
      {"tessera_resolver_profiles_created_total", "counter", "Profiles created.",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.profiles_created.load(); }},
      {"tessera_resolver_merges_total", "counter", "Profiles merged into others.",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.merges.load(); }},
      {"tessera_resolver_refused_merges_total", "counter", "Merges refused by the identity rules.",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.refused_merges.load(); }},
      {"tessera_resolver_errors_total", "counter", "Store errors while resolving (retried).",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.errors.load(); }},
      {"tessera_resolver_suppressed_events_total", "counter",
       "Logged events deleted instead of applied: they carry an erased person's identifier.",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.events_suppressed.load(); }},
      {"tessera_privacy_erasures_total", "counter", "Erasure requests completed.",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.erasures.load(); }},
      {"tessera_resolver_position", "gauge", "Last log sequence applied.",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.position.load(); }},
      {"tessera_resolver_lag_events", "gauge", "Accepted events not yet applied (upper bound).",
       [](const resolve::ResolverMetrics& m) -> uint64_t { return m.lag(); }},
  };
  for (const Series& series : kSeries) {
    absl::StrAppend(&out, "# HELP ", series.name, " ", series.help, "\n# TYPE ", series.name, " ",
                    series.type, "\n");
    for (const auto& resolver : resolvers_) {
      absl::StrAppend(&out, series.name, "{space=\"", resolver->space(), "\"} ",
                      series.read(resolver->metrics()), "\n");
    }
  }
  struct AudienceSeries {
    const char* name;
    const char* type;
    const char* help;
    double (*read)(const resolve::AudienceMetrics&);
  };
  static constexpr AudienceSeries kAudienceSeries[] = {
      {"tessera_audience_entries_total", "counter", "Profiles that entered an audience.",
       [](const resolve::AudienceMetrics& m) -> double { return static_cast<double>(m.entries.load()); }},
      {"tessera_audience_exits_total", "counter", "Profiles that left an audience.",
       [](const resolve::AudienceMetrics& m) -> double { return static_cast<double>(m.exits.load()); }},
      {"tessera_audience_backfilled_profiles_total", "counter",
       "Profiles whose computed-trait state was rebuilt from their timeline after a definition change.",
       [](const resolve::AudienceMetrics& m) -> double {
         return static_cast<double>(m.backfilled_profiles.load());
       }},
      {"tessera_audience_sweeps_total", "counter", "Complete re-evaluations of every profile.",
       [](const resolve::AudienceMetrics& m) -> double { return static_cast<double>(m.sweeps.load()); }},
      {"tessera_audience_last_sweep_profiles", "gauge", "Profiles the last complete sweep evaluated.",
       [](const resolve::AudienceMetrics& m) -> double {
         return static_cast<double>(m.last_sweep_profiles.load());
       }},
      {"tessera_audience_last_sweep_seconds", "gauge", "Wall time of the last complete sweep.",
       [](const resolve::AudienceMetrics& m) -> double {
         return static_cast<double>(m.last_sweep_micros.load()) / 1e6;
       }},
  };
  for (const AudienceSeries& series : kAudienceSeries) {
    absl::StrAppend(&out, "# HELP ", series.name, " ", series.help, "\n# TYPE ", series.name, " ",
                    series.type, "\n");
    for (const auto& resolver : resolvers_) {
      if (resolve::AudienceMaintenance* maintenance = resolver->audience_maintenance()) {
        absl::StrAppend(&out, series.name, "{space=\"", resolver->space(), "\"} ",
                        series.read(maintenance->metrics()), "\n");
      }
    }
  }
  absl::StrAppend(&out,
                  "# HELP tessera_audience_members Current members of each audience.\n"
                  "# TYPE tessera_audience_members gauge\n");
  for (const auto& space_audiences : audiences_) {
    for (const audiences::AudienceStatus& status : space_audiences->AllStatuses()) {
      absl::StrAppend(&out, "tessera_audience_members{space=\"", space_audiences->space(), "\",audience=\"",
                      status.audience->name, "\"} ", status.counters.size, "\n");
    }
  }
}

const privacy::SuppressionList* IngestPipeline::DoorSuppression() const {
  return shared_ != nullptr && outside_sink_ != nullptr ? shared_->list() : suppression_.get();
}

void IngestPipeline::DropSuppressed(const privacy::SuppressionList& list, const ingest::SourceRef& source,
                                    ingest::ParsedRequest& request, IngestResult& result) {
  size_t kept = 0;
  size_t dropped = 0;
  for (size_t i = 0; i < request.events.size(); ++i) {
    ingest::CanonicalEvent& event = request.events[i];
    std::optional<std::string> type =
        list.FirstSuppressed(source.space, source.name, extractor_->Extract(event), *normalizer_);
    if (!type) {
      if (kept != i) {
        request.events[kept] = std::move(event);
        if (i < request.index_of.size()) request.index_of[kept] = request.index_of[i];
      }
      ++kept;
      continue;
    }
    ++dropped;
    result.rejected.push_back(ingest::RejectedEvent{
        .index = i < request.index_of.size() ? request.index_of[i] : 0,
        .message_id = event.message_id,
        .error = ingest::FieldError{
            .code = "suppressed",
            .message = absl::StrCat("the person this event's ", *type,
                                    " belongs to was erased on request; events for them are not accepted"),
            .field = ""}});
  }
  request.events.resize(kept);
  if (request.index_of.size() > kept) request.index_of.resize(kept);
  if (dropped == 0) return;
  std::sort(result.rejected.begin(), result.rejected.end(),
            [](const ingest::RejectedEvent& a, const ingest::RejectedEvent& b) { return a.index < b.index; });
  metrics_.events_suppressed.fetch_add(dropped, std::memory_order_relaxed);
  // Logged, but at most once a second: a device of an erased person may keep sending.
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  int64_t last = last_suppression_log_.load(std::memory_order_relaxed);
  if (now > last && last_suppression_log_.compare_exchange_strong(last, now)) {
    std::fprintf(stderr,
                 "tessera: dropped %zu event(s) from source %s carrying a suppressed (erased) identifier; "
                 "tessera_events_total{result=\"suppressed\"} counts them all\n",
                 dropped, source.name.c_str());
  }
}

absl::StatusOr<privacy::ErasureRequest> IngestPipeline::RequestErasure(std::string_view space,
                                                                       std::string_view type,
                                                                       std::string_view value,
                                                                       std::string_view requested_by,
                                                                       std::string_view phone_region,
                                                                       uint64_t* position) {
  if (sink_ == nullptr) {
    return absl::UnimplementedError(
        "this member takes no events (its cluster role applies the stream only); send erasure requests to a "
        "gateway");
  }
  const bool publishes = outside_sink_ != nullptr;  // A cluster gateway: through the stream.
  resolve::Resolver* space_resolver = resolver(space);
  const bool served = publishes ? std::find(options_.spaces.begin(), options_.spaces.end(), space) !=
                                      options_.spaces.end()
                                : space_resolver != nullptr && privacy_ != nullptr;
  if (!served || normalizer_ == nullptr) {
    return absl::NotFoundError(absl::StrCat("no space \"", std::string(space), "\" is served here"));
  }
  if (!phone_region.empty() && !identity::Normalizer::IsSupportedPhoneRegion(phone_region)) {
    return absl::InvalidArgumentError(
        absl::StrCat("region: \"", std::string(phone_region),
                     "\" is not a region libphonenumber supports, such as \"KR\""));
  }
  identity::NormalizedValue normalized =
      normalizer_->Normalize(type, value, identity::PhoneContext{.country = phone_region});
  if (normalized.outcome != identity::NormalizedValue::Outcome::kOk) {
    return absl::InvalidArgumentError(absl::StrCat("value: ", normalized.reason));
  }
  privacy::ErasureRequest request;
  request.id = privacy::PrivacyStore::NewRequestId();
  request.identifier_type = std::string(type);
  request.identifier_value = normalized.value;
  request.requested_at =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  request.requested_by = std::string(requested_by);
  if (publishes) return PublishErasure(space, std::move(request), position);
  std::string hash = privacy_->SuppressionHash(type, normalized.value);
  rocksdb::WriteBatch batch;
  privacy_->PutRequest(space, request, batch);
  privacy_->PutSuppression(space, hash, request.id, type, request.requested_at, batch);
  if (absl::Status status = store_.Write(batch); !status.ok()) return status;
  suppression_->Add(space, std::move(hash));
  space_resolver->NotifyErasureRequested();
  return request;
}

absl::StatusOr<privacy::ErasureRequest> IngestPipeline::PublishErasure(std::string_view space,
                                                                       privacy::ErasureRequest request,
                                                                       uint64_t* position) {
  if (shared_ == nullptr) return absl::InternalError("a cluster gateway without the shared suppression list");
  // Suppressed at every gateway first: from the answer on, none takes events carrying it. Should
  // the publish fail, the identifier stays suppressed and the client, told so, asks again.
  const identity::Identifier named{request.identifier_type, request.identifier_value};
  if (absl::Status status = shared_->Suppress(space, {named}, request.id); !status.ok()) return status;
  ingest::LogEntry entry{.space = std::string(space),
                         .dedup_key = ingest::CommandDedupKey(space, request.id),
                         .record = {},
                         .received_at = request.requested_at};
  ingest::EncodeErasureCommand(ingest::ErasureCommand{.request_id = request.id,
                                                      .identifier_type = request.identifier_type,
                                                      .identifier_value = request.identifier_value,
                                                      .requested_by = request.requested_by,
                                                      .requested_at = request.requested_at},
                               entry.record);
  auto published = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> outcome = published->get_future();
  std::vector<ingest::LogEntry> entries;
  entries.push_back(std::move(entry));
  absl::Status submitted =
      sink_->Submit(std::move(entries), [published](absl::Status status, std::vector<ingest::EventOutcome>) {
        published->set_value(std::move(status));
      });
  if (!submitted.ok()) return submitted;
  // The sink answers within its publish timeout.
  if (absl::Status status = outcome.get(); !status.ok()) return status;
  if (position != nullptr) *position = sink_->acknowledged_position(space);
  return request;
}

absl::StatusOr<privacy::ErasureRequest> IngestPipeline::ErasureStatus(std::string_view space,
                                                                      std::string_view id) const {
  if (privacy_ == nullptr) return absl::NotFoundError("no erasure requests are kept here");
  return privacy_->GetRequest(space, id);
}

void IngestPipeline::Accept(const ingest::SourceRef& source, ingest::ParsedRequest request, bool strict,
                            IngestCallback done) {
  auto result = std::make_shared<IngestResult>();
  result->event_count = request.event_count;
  result->rejected = std::move(request.rejected);
  // Rejections are counted once the request is decided: a request refused for overload or
  // shutdown will be sent again, and its invalid events must not count twice.
  const size_t rejected_count = result->rejected.size();

  if (sink_ == nullptr) {
    result->status = absl::UnimplementedError(
        "this process does not take events (its cluster role applies the stream only); send them to a gateway");
    done(std::move(*result));
    return;
  }
  if (strict && !result->rejected.empty()) {
    metrics_.events_rejected.fetch_add(rejected_count, std::memory_order_relaxed);
    result->status = absl::FailedPreconditionError(
        absl::StrCat(result->rejected.size(), " of ", result->event_count,
                     " events are invalid and strict mode is on: nothing was stored"));
    done(std::move(*result));
    return;
  }
  if (request.events.empty()) {
    metrics_.events_rejected.fetch_add(rejected_count, std::memory_order_relaxed);
    result->status = absl::InvalidArgumentError("the request holds no valid event");
    done(std::move(*result));
    return;
  }

  const privacy::SuppressionList* door = DoorSuppression();
  if (door == nullptr && shared_ != nullptr && outside_sink_ != nullptr) {
    result->status = ingest::StoreUnreachable(
        "this gateway has not read the cluster's suppression list yet (is NATS reachable?); retry soon");
    done(std::move(*result));
    return;
  }
  if (door != nullptr && !door->Empty() && normalizer_ != nullptr) {
    DropSuppressed(*door, source, request, *result);
    if (request.events.empty()) {
      metrics_.events_rejected.fetch_add(rejected_count, std::memory_order_relaxed);
      result->status = absl::InvalidArgumentError("the request holds no valid event");
      done(std::move(*result));
      return;
    }
  }

  std::vector<ingest::LogEntry> entries;
  entries.reserve(request.events.size());
  auto message_ids = std::make_shared<std::vector<std::string>>();
  message_ids->reserve(request.events.size());
  // Summaries for the live tail only while someone watches: nothing is built otherwise.
  std::shared_ptr<std::vector<ingest::EventSummary>> summaries;
  if (feed_.has_subscribers()) {
    summaries = std::make_shared<std::vector<ingest::EventSummary>>();
    summaries->reserve(request.events.size());
  }
  // Free text of a service source is kept only when the source says so (docs/privacy.md); the
  // properties are removed before the log, so nothing downstream ever holds them.
  const bool remove_free_text = source.channel == ingest::kFreeTextChannel && !source.keep_free_text;
  for (ingest::CanonicalEvent& event : request.events) {
    event.space = source.space;
    event.source = source.name;
    event.channel = source.channel;
    if (remove_free_text) {
      absl::StatusOr<bool> removed = ingest::RemoveFreeText(event.properties);
      // Parsers and connectors hand over validated objects; a failure is a bug, and the event must
      // not be logged with text it was not allowed to keep.
      if (!removed.ok()) {
        result->status = absl::InternalError(
            absl::StrCat("removing free text from event ", event.message_id, ": ", removed.status().message()));
        done(std::move(*result));
        return;
      }
    }
    entries.push_back(ingest::MakeLogEntry(event));
    if (summaries) summaries->push_back(ingest::SummarizeEvent(event));
    message_ids->push_back(std::move(event.message_id));
  }

  const size_t count = entries.size();
  absl::Status submitted = sink_->Submit(
      std::move(entries), [this, result, message_ids, summaries, done, space = source.space](
                              absl::Status status, std::vector<ingest::EventOutcome> outcomes) {
        result->status = std::move(status);
        if (result->status.ok()) {
          result->position = sink_->acknowledged_position(space);
          for (size_t i = 0; i < outcomes.size(); ++i) {
            auto& bucket =
                outcomes[i] == ingest::EventOutcome::kAccepted ? result->accepted : result->duplicates;
            bucket.push_back(std::move((*message_ids)[i]));
          }
          if (summaries) {
            // Duplicates were accepted before; the tail shows each event once, when it arrived.
            std::vector<ingest::EventSummary> accepted;
            accepted.reserve(outcomes.size());
            for (size_t i = 0; i < outcomes.size() && i < summaries->size(); ++i) {
              if (outcomes[i] == ingest::EventOutcome::kAccepted)
                accepted.push_back(std::move((*summaries)[i]));
            }
            feed_.Publish(accepted);
          }
        }
        done(std::move(*result));
      });
  if (submitted.ok()) {
    metrics_.events_rejected.fetch_add(rejected_count, std::memory_order_relaxed);
  } else {
    if (absl::IsResourceExhausted(submitted))
      metrics_.events_overloaded.fetch_add(count, std::memory_order_relaxed);
    result->status = std::move(submitted);
    done(std::move(*result));
  }
}

}  // namespace tessera::pipeline
