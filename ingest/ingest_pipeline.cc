#include "ingest/ingest_pipeline.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tessera::ingest {

IngestPipeline::IngestPipeline(profile_store::Store& store, PipelineOptions options, IngestMetrics& metrics)
    : metrics_(metrics), writer_(store, std::move(options.group_commit), metrics) {}

absl::Status IngestPipeline::Start() { return writer_.Start(); }

void IngestPipeline::Stop() { writer_.Stop(); }

void IngestPipeline::Accept(const SourceRef& source, ParsedRequest request, bool strict, IngestCallback done) {
  auto result = std::make_shared<IngestResult>();
  result->event_count = request.event_count;
  result->rejected = std::move(request.rejected);
  metrics_.events_rejected.fetch_add(result->rejected.size(), std::memory_order_relaxed);

  if (strict && !result->rejected.empty()) {
    result->status = absl::FailedPreconditionError(
        absl::StrCat(result->rejected.size(), " of ", result->event_count,
                     " events are invalid and strict mode is on: nothing was stored"));
    done(std::move(*result));
    return;
  }
  if (request.events.empty()) {
    result->status = absl::InvalidArgumentError("the request holds no valid event");
    done(std::move(*result));
    return;
  }

  std::vector<LogEntry> entries;
  entries.reserve(request.events.size());
  auto message_ids = std::make_shared<std::vector<std::string>>();
  message_ids->reserve(request.events.size());
  for (CanonicalEvent& event : request.events) {
    event.space = source.space;
    event.source = source.name;
    event.channel = source.channel;
    entries.push_back(MakeLogEntry(event));
    message_ids->push_back(std::move(event.message_id));
  }

  const size_t count = entries.size();
  absl::Status submitted = writer_.Submit(
      std::move(entries), [result, message_ids, done](absl::Status status, std::vector<EventOutcome> outcomes) {
        result->status = std::move(status);
        if (result->status.ok()) {
          for (size_t i = 0; i < outcomes.size(); ++i) {
            auto& bucket = outcomes[i] == EventOutcome::kAccepted ? result->accepted : result->duplicates;
            bucket.push_back(std::move((*message_ids)[i]));
          }
        }
        done(std::move(*result));
      });
  if (!submitted.ok()) {
    if (absl::IsResourceExhausted(submitted)) metrics_.events_overloaded.fetch_add(count, std::memory_order_relaxed);
    result->status = std::move(submitted);
    done(std::move(*result));
  }
}

}  // namespace tessera::ingest
