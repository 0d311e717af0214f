#include "resolve/resolver.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "ingest/accepted_log.h"
#include "ingest/dedup_window.h"
#include "ingest/event_codec.h"
#include "privacy/consent_extractor.h"
#include "privacy/erasure.h"
#include "profile_store/timeline_summary.h"

namespace tessera::resolve {
namespace {

using base::JsonWriter;
using profile_store::ColumnFamily;

}  // namespace

std::string ResolverPositionKey(std::string_view space) {
  return absl::StrCat("resolver/position/", std::string(space));
}

std::string DeadLetterKey(std::string_view space, uint64_t sequence) {
  return ingest::AcceptedLog::Key(space, sequence);
}

Resolver::Resolver(profile_store::Store& store, std::string space, const identity::Normalizer& normalizer,
                   const ingest::IdentifierExtractor& extractor, identity::IdentityRules rules,
                   ResolverOptions options, audiences::SpaceAudiences* audiences)
    : store_(store),
      space_(std::move(space)),
      normalizer_(normalizer),
      extractor_(extractor),
      options_(options),
      purchase_rules_(options.purchases.contains(space_) ? options.purchases.at(space_) : PurchaseRules()),
      graph_(store, space_, std::move(rules), options.graph),
      audiences_(audiences),
      preparer_(normalizer, extractor) {
  if (options_.prefetch) {
    prefetcher_ = std::make_unique<LogPrefetcher>(store_, space_, preparer_, options_.prefetch_options);
  }
  static const std::map<std::string, DuplicateOptions> kNone;
  const std::map<std::string, DuplicateOptions>& named = options_.duplicates ? *options_.duplicates : kNone;
  const auto configured = named.find(space_);
  const DuplicateOptions duplicate_options =
      configured == named.end() ? DuplicateOptions() : configured->second;
  if (duplicate_options.enabled) {
    absl::StatusOr<std::unique_ptr<DuplicateIndex>> index = DuplicateIndex::Create(store_, space_, duplicate_options);
    if (index.ok()) {
      duplicates_ = *std::move(index);
    } else {
      duplicates_status_ = index.status();
    }
  }
  if (audiences != nullptr) {
    maintenance_ =
        std::make_unique<AudienceMaintenance>(store_, space_, graph_, *audiences, options_.audiences);
    maintenance_->SetPurchaseRules(purchase_rules_);
    graph_.SetLoadHook([this](profile_store::Profile& profile) { return maintenance_->Reconcile(profile); });
    audiences->SetChangeListener([this] {
      {
        std::lock_guard lock(mutex_);
        definitions_changed_ = true;
      }
      wake_.notify_one();
    });
  }
}

Resolver::~Resolver() {
  Stop();
  if (audiences_ != nullptr) audiences_->SetChangeListener(nullptr);
}

absl::Status Resolver::EvaluateAudiences() {
  if (!maintenance_) return absl::OkStatus();
  return maintenance_->SweepAll();
}

absl::Status Resolver::Recover() {
  if (!duplicates_status_.ok()) return duplicates_status_;
  if (absl::Status status = graph_.Recover(); !status.ok()) return status;
  auto value = store_.Get(ColumnFamily::kMeta, ResolverPositionKey(space_));
  if (absl::IsNotFound(value.status())) {
    position_ = 0;
  } else if (!value.ok()) {
    return value.status();
  } else if (value->size() != 8) {
    return absl::DataLossError("meta " + ResolverPositionKey(space_) + ": expected 8 bytes");
  } else {
    position_ = profile_store::ReadBigEndian64(*value);
  }
  metrics_.position = position_;
  restart_prefetch_ = true;
  // A command carried out up to its first write only: its record, which holds the value, is still
  // at the position.
  if (position_ > 0) {
    absl::StatusOr<std::string> record = store_.Get(ColumnFamily::kLog, ingest::AcceptedLog::Key(space_, position_));
    if (!record.ok() && !absl::IsNotFound(record.status())) return record.status();
    if (record.ok() && ingest::IsCommandRecord(*record) && !ingest::IsStewardshipCommand(*record)) {
      if (absl::Status deleted = DeleteCommandRecord(position_); !deleted.ok()) return deleted;
    }
  }
  return absl::OkStatus();
}

void Resolver::DeadLetter(uint64_t sequence, std::string_view record_text, std::string_view reason,
                          const std::vector<std::string>& warnings, rocksdb::WriteBatch& batch) {
  std::string json;
  JsonWriter writer(json);
  writer.BeginObject();
  writer.Key("sequence").Uint(sequence);
  writer.Key("reason").String(reason);
  writer.Key("warnings").BeginArray();
  for (const std::string& warning : warnings) writer.String(warning);
  writer.EndArray();
  // The record is stored as text: it may be the very thing that failed to parse.
  writer.Key("record").String(record_text);
  writer.EndObject();
  batch.Put(store_.handle(ColumnFamily::kDeadLetter), DeadLetterKey(space_, sequence), json);
  metrics_.events_dead_lettered.fetch_add(1, std::memory_order_relaxed);
}

absl::Status Resolver::ApplyPrepared(PreparedEvent& prepared, rocksdb::WriteBatch& batch) {
  const uint64_t sequence = prepared.sequence;
  if (!prepared.decode_status.ok()) {
    DeadLetter(sequence, prepared.undecodable,
               absl::StrCat("undecodable log record: ", std::string(prepared.decode_status.message())), {}, batch);
    return absl::OkStatus();
  }
  const ingest::CanonicalEvent& event = prepared.event;

  std::vector<std::string> warnings = std::move(prepared.warnings);
  identity::GraphEvent graph_event;
  graph_event.message_id = event.message_id;
  graph_event.sequence = sequence;
  graph_event.event_time = event.timestamp;
  graph_event.received_at = event.received_at;
  graph_event.source = event.source;
  for (PreparedIdentifier& prepared_identifier : prepared.identifiers) {
    std::string type = std::move(prepared_identifier.type);
    identity::NormalizedValue normalized = std::move(prepared_identifier.normalized);
    if (type == ingest::kPreviousIdType) {
      // alias previousId: a former user id if the graph knows it as one, else an anonymous id.
      const identity::NormalizedValue& as_user = prepared_identifier.as_user_id;
      bool known_user = false;
      if (as_user.outcome == identity::NormalizedValue::Outcome::kOk) {
        auto known = graph_.Lookup(
            identity::Identifier{std::string(identity::identifier_type::kUserId), as_user.value});
        if (!known.ok()) return known.status();
        known_user = known->has_value();
      }
      type = std::string(known_user ? identity::identifier_type::kUserId : identity::identifier_type::kAnonymousId);
      normalized = known_user ? std::move(prepared_identifier.as_user_id)
                              : std::move(prepared_identifier.as_anonymous_id);
    }
    if (normalized.outcome != identity::NormalizedValue::Outcome::kOk) {
      warnings.push_back(absl::StrCat(prepared_identifier.field, ": ", normalized.reason));
      continue;
    }
    identity::Identifier identifier{std::move(type), std::move(normalized.value)};
    if (std::find(graph_event.identifiers.begin(), graph_event.identifiers.end(), identifier) ==
        graph_event.identifiers.end()) {
      graph_event.identifiers.push_back(std::move(identifier));
    }
  }

  if (suppression_ != nullptr && !suppression_->Empty()) {
    for (const identity::Identifier& identifier : graph_event.identifiers) {
      if (!suppression_->Contains(space_, identifier.type, identifier.value)) continue;
      // Accepted before its person was erased, applied after: it must not bring them back, and
      // its record must not outlive the erasure.
      intake_deletes_.Delete(store_.handle(ColumnFamily::kLog), ingest::AcceptedLog::Key(space_, sequence));
      intake_deletes_.Delete(store_.handle(ColumnFamily::kDedup), ingest::DedupWindow::Key(space_, event.message_id));
      metrics_.events_suppressed.fetch_add(1, std::memory_order_relaxed);
      return absl::OkStatus();
    }
  }

  absl::StatusOr<identity::Resolution> resolution = graph_.Apply(graph_event);
  if (absl::IsFailedPrecondition(resolution.status())) {
    // The event as users see it (erasure finds the identifiers of dead letters in this text).
    std::string json;
    ingest::EncodeEventJson(event, json);
    DeadLetter(sequence, json, std::string(resolution.status().message()), warnings, batch);
    return absl::OkStatus();
  }
  if (!resolution.ok()) return resolution.status();
  if (resolution->created) metrics_.profiles_created.fetch_add(1, std::memory_order_relaxed);
  metrics_.merges.fetch_add(resolution->merged.size(), std::memory_order_relaxed);
  if (!resolution->decision.empty()) metrics_.refused_merges.fetch_add(1, std::memory_order_relaxed);

  absl::StatusOr<profile_store::Profile*> profile = graph_.MutableProfile(resolution->profile);
  if (!profile.ok()) return profile.status();
  if (outbox_ != nullptr) outbox_->BeforeEvent(**profile);
  (*profile)->TouchChannel(event.channel, event.timestamp);
  for (const TraitWrite& trait : prepared.traits) {
    (*profile)->SetTrait(trait.name, trait.json, event.timestamp, sequence, trait.set_once);
  }
  if (!prepared.traits_ok) warnings.push_back("traits: not a JSON object; ignored");
  for (const privacy::ConsentReport& report : prepared.consent.reports) {
    (*profile)->SetConsent(report.purpose, profile_store::ConsentRecord{.granted = report.granted,
                                                                        .time = event.timestamp,
                                                                        .sequence = sequence,
                                                                        .source = event.source,
                                                                        .channel = event.channel});
  }
  for (std::string& warning : prepared.consent.warnings) warnings.push_back(std::move(warning));
  if (RecordPurchase(purchase_rules_, event, **profile) && maintenance_) maintenance_->NotePurchase();
  RecordServiceEvent(event, sequence, **profile);
  if (maintenance_) maintenance_->OnEvent(event, sequence, *resolution, **profile, batch);
  if (outbox_ != nullptr) outbox_->OnEvent(event, sequence, **profile, batch);
  if (duplicates_) {
    // Last: an auto-merge may make `profile` a redirect.
    std::vector<identity::Resolution> auto_merges;
    if (absl::Status filed = duplicates_->AfterEvent(*resolution, graph_, graph_event, prepared.traits, batch,
                                                     auto_merges);
        !filed.ok()) {
      return filed;
    }
    for (const identity::Resolution& merged : auto_merges) {
      metrics_.merges.fetch_add(merged.merged.size(), std::memory_order_relaxed);
      metrics_.auto_merges.fetch_add(1, std::memory_order_relaxed);
      if (maintenance_) maintenance_->OnMerge(merged, batch);
    }
  }

  // The timeline entry keeps what the events query filters on, so a page needs no log reads.
  profile_store::TimelineSummary summary{.sequence = sequence,
                                         .type = std::string(ingest::EventTypeName(event.type)),
                                         .event = event.event,
                                         .channel = event.channel,
                                         .warnings = std::move(warnings)};
  std::string encoded_summary;
  profile_store::EncodeTimelineSummary(summary, encoded_summary);
  batch.Put(store_.handle(ColumnFamily::kTimeline),
            profile_store::TimelineKey(space_, resolution->profile, event.timestamp, sequence),
            encoded_summary);
  return absl::OkStatus();
}

void Resolver::FlushTimeline(rocksdb::WriteBatch& batch) {
  std::sort(timeline_entries_.begin(), timeline_entries_.end());
  for (const auto& [key, summary] : timeline_entries_) batch.Put(store_.handle(ColumnFamily::kTimeline), key, summary);
  timeline_entries_.clear();
}

absl::Status Resolver::ApplyBatch(rocksdb::WriteBatch& batch, size_t& count, uint64_t& last) {
  if (prefetcher_) {
    while (count < options_.batch_events) {
      absl::StatusOr<PreparedEvent*> prepared = prefetcher_->Next();
      if (!prepared.ok()) return prepared.status();
      if (*prepared == nullptr) return absl::OkStatus();
      if ((*prepared)->command || (*prepared)->decision) {
        restart_prefetch_ = true;  // Read again from after what this batch applies.
        if (count == 0) {
          command_ = std::move((*prepared)->command);
          decision_ = std::move((*prepared)->decision);
          command_sequence_ = (*prepared)->sequence;
        }
        return absl::OkStatus();
      }
      if (absl::Status applied = ApplyPrepared(**prepared, batch); !applied.ok()) return applied;
      last = (*prepared)->sequence;
      ++count;
    }
    return absl::OkStatus();
  }
  absl::Status apply_status = absl::OkStatus();
  absl::Status scan = ingest::AcceptedLog(store_).Scan(
      space_, position_ + 1, [&](uint64_t sequence, std::string_view record) {
        PreparedEvent prepared = preparer_.Prepare(sequence, record);
        if (prepared.command || prepared.decision) {
          if (count == 0) {
            command_ = std::move(prepared.command);
            decision_ = std::move(prepared.decision);
            command_sequence_ = sequence;
          }
          return false;
        }
        apply_status = ApplyPrepared(prepared, batch);
        if (!apply_status.ok()) return false;
        last = sequence;
        return ++count < options_.batch_events;
      });
  return scan.ok() ? apply_status : scan;
}

absl::StatusOr<uint64_t> Resolver::CatchUp() {
  uint64_t applied_total = 0;
  if (!unshared_.empty()) ShareSuppressed();
  if (erase_first_) {
    absl::StatusOr<uint64_t> erased = ApplyErasures();
    if (!erased.ok()) return erased.status();
    erase_first_ = false;
  }
  for (;;) {
    // Read before the log is: everything logged up to `told` is then seen by this round.
    const uint64_t told = metrics_.log_last_seen.load();
    if (prefetcher_ && restart_prefetch_) {
      prefetcher_->Restart(position_ + 1);
      restart_prefetch_ = false;
    } else if (prefetcher_) {
      prefetcher_->ReadOn();
    }
    rocksdb::WriteBatch batch;
    if (maintenance_) maintenance_->BeginUnit(batch);
    uint64_t last = position_;
    size_t count = 0;
    absl::Status scan = ApplyBatch(batch, count, last);
    if (!scan.ok()) restart_prefetch_ = true;  // Read again from the position that holds.
    if (scan.ok() && count > 0 && maintenance_) scan = maintenance_->EndUnit(batch);
    FlushTimeline(batch);
    if (scan.ok() && intake_deletes_.Count() > 0) scan = store_.WriteIntake(intake_deletes_);
    intake_deletes_.Clear();
    if (!scan.ok()) {
      AbortUnit();
      metrics_.errors.fetch_add(1, std::memory_order_relaxed);
      return scan;
    }
    if (count == 0) {
      // Nothing after the position: everything told so far is done for this space. The batch may
      // still hold the removal of a deleted audience's rows.
      if (batch.Count() > 0) {
        if (absl::Status written = store_.WriteUnsynced(batch); !written.ok()) {
          metrics_.errors.fetch_add(1, std::memory_order_relaxed);
          return written;
        }
      }
      if (maintenance_) maintenance_->Committed();
      if (command_) {
        const ingest::ErasureCommand command = *std::move(command_);
        command_.reset();
        if (absl::Status done = CarryOut(command_sequence_, command); !done.ok()) {
          metrics_.errors.fetch_add(1, std::memory_order_relaxed);
          return done;
        }
        continue;
      }
      if (decision_) {
        const ingest::StewardshipCommand decision = *std::move(decision_);
        decision_.reset();
        if (absl::Status done = CarryOutDecision(command_sequence_, decision); !done.ok()) {
          metrics_.errors.fetch_add(1, std::memory_order_relaxed);
          return done;
        }
        continue;
      }
      metrics_.caught_up_to = std::max(metrics_.caught_up_to.load(), told);
      return applied_total;
    }
    if (absl::Status written = WriteUnit(batch, last); !written.ok()) {
      metrics_.errors.fetch_add(1, std::memory_order_relaxed);
      return written;
    }
    metrics_.events_applied.fetch_add(count, std::memory_order_relaxed);
    applied_total += count;
  }
}

absl::Status Resolver::WriteUnit(rocksdb::WriteBatch& batch, uint64_t last) {
  graph_.Flush(batch);
  std::string position;
  profile_store::AppendBigEndian64(position, last);
  batch.Put(store_.handle(ColumnFamily::kMeta), ResolverPositionKey(space_), position);
  if (absl::Status written = store_.WriteUnsynced(batch); !written.ok()) {
    AbortUnit();
    return written;
  }
  graph_.Commit();
  if (duplicates_) duplicates_->Commit();
  if (maintenance_) maintenance_->Committed();
  if (outbox_ != nullptr) outbox_->Committed();
  position_ = last;
  metrics_.position = last;
  return absl::OkStatus();
}

void Resolver::AbortUnit() {
  if (maintenance_) maintenance_->Aborted();
  if (outbox_ != nullptr) outbox_->Aborted();
  if (duplicates_) duplicates_->Abort();
  graph_.Abort();
}

void Resolver::SetOutbox(activation::OutboxWriter* outbox) {
  outbox_ = outbox;
  if (maintenance_) maintenance_->SetOutbox(outbox);
  if (outbox != nullptr && audiences_ != nullptr) {
    outbox->SetHoldout([audiences = audiences_](std::string_view name) {
      const std::shared_ptr<const audiences::DefinitionSet> definitions = audiences->definitions();
      const audiences::Audience* audience = definitions->FindAudience(name);
      return audience == nullptr ? 0.0 : audience->holdout;
    });
  }
}

void Resolver::NotifyErasureRequested() {
  {
    std::lock_guard lock(mutex_);
    erasures_requested_ = true;
  }
  wake_.notify_one();
}

absl::Status Resolver::CarryOut(uint64_t sequence, const ingest::ErasureCommand& command) {
  restart_prefetch_ = true;
  if (suppression_ == nullptr) {
    // Never passed over: the erasure would be lost on this store alone.
    return absl::FailedPreconditionError(
        absl::StrCat("space ", space_, ": erasure ", command.request_id, " at log sequence ", sequence,
                     " cannot be carried out by a resolver without a privacy store"));
  }
  rocksdb::WriteBatch batch;
  const privacy::PrivacyStore& privacy = suppression_->privacy();
  absl::StatusOr<privacy::ErasureRequest> known = privacy.GetRequest(space_, command.request_id);
  if (!known.ok() && !absl::IsNotFound(known.status())) return known.status();
  if (!known.ok()) {  // A request logged twice is carried out once.
    privacy.PutRequest(space_,
                       privacy::ErasureRequest{.id = command.request_id,
                                               .identifier_type = command.identifier_type,
                                               .identifier_value = command.identifier_value,
                                               .requested_at = command.requested_at,
                                               .requested_by = command.requested_by},
                       batch);
  }
  std::string position;
  profile_store::AppendBigEndian64(position, sequence);
  batch.Put(store_.handle(ColumnFamily::kMeta), ResolverPositionKey(space_), position);
  // Synced, the request with the position: after a crash it is pending, and erase_first_ carries
  // it out before the events after it.
  if (absl::Status written = store_.Write(batch); !written.ok()) return written;
  position_ = sequence;
  metrics_.position = sequence;
  // The command's record holds the value and has served: it goes now (after a crash before this,
  // Recover finds it at the position and deletes it then).
  if (absl::Status deleted = DeleteCommandRecord(sequence); !deleted.ok()) {
    erase_first_ = true;
    return deleted;
  }
  absl::StatusOr<uint64_t> erased = ApplyErasures();
  if (!erased.ok()) {
    erase_first_ = true;
    return erased.status();
  }
  return absl::OkStatus();
}

void Resolver::ShareSuppressed() {
  for (auto it = unshared_.begin(); it != unshared_.end();) {
    absl::Status shared = shared_->Suppress(space_, it->second, it->first);
    if (!shared.ok()) {
      std::fprintf(stderr, "tessera: erasure %s: adding to the cluster's suppression list (retried): %s\n",
                   it->first.c_str(), std::string(shared.message()).c_str());
      return;  // The list is out of reach: the next round tries again.
    }
    it = unshared_.erase(it);
  }
}

absl::Status Resolver::DeleteCommandRecord(uint64_t sequence) {
  rocksdb::WriteBatch intake;
  intake.Delete(store_.handle(ColumnFamily::kLog), ingest::AcceptedLog::Key(space_, sequence));
  return store_.WriteIntake(intake);
}

absl::StatusOr<uint64_t> Resolver::ApplyErasures() {
  restart_prefetch_ = true;  // Records read ahead may be erased.
  if (suppression_ == nullptr) return 0;
  const privacy::PrivacyStore& privacy = suppression_->privacy();
  absl::StatusOr<std::vector<privacy::ErasureRequest>> pending = privacy.PendingRequests(space_);
  if (!pending.ok()) return pending.status();
  uint64_t completed = 0;
  std::vector<privacy::CompactionRange> to_compact;
  for (privacy::ErasureRequest& request : *pending) {
    rocksdb::WriteBatch batch;
    rocksdb::WriteBatch intake_batch;
    if (maintenance_) maintenance_->BeginUnit(batch);
    absl::StatusOr<std::optional<profile_store::ProfileId>> found =
        graph_.Lookup(identity::Identifier{request.identifier_type, request.identifier_value});
    graph_.Abort();  // The lookup is all this needs of the graph's unit.
    if (!found.ok()) return found.status();
    privacy::ErasedPerson erased;
    if (found->has_value()) {
      absl::StatusOr<std::string> record =
          store_.Get(ColumnFamily::kProfiles, profile_store::ProfileKey(space_, **found));
      if (!record.ok()) return record.status();
      absl::StatusOr<profile_store::Profile> profile = profile_store::DecodeProfile(*record);
      if (!profile.ok()) return profile.status();
      absl::StatusOr<privacy::ErasedPerson> collected =
          privacy::CollectErasure(store_, space_, *profile, extractor_, normalizer_, batch, intake_batch);
      if (!collected.ok()) return collected.status();
      erased = *std::move(collected);
      if (absl::Status forgotten = ForgetDecisions(*profile, erased.identifiers, batch, intake_batch);
          !forgotten.ok()) {
        return forgotten;
      }
      if (maintenance_) maintenance_->OnErased(*profile, batch);
      if (outbox_ != nullptr) {
        // What waits for the destinations must not outlive the person (their exits excepted).
        std::vector<uint64_t> ids = {profile->id.value};
        for (profile_store::ProfileId merged : profile->merged_from) ids.push_back(merged.value);
        if (absl::Status forgotten = outbox_->Forget(ids, batch); !forgotten.ok()) return forgotten;
      }
    } else {
      // Nobody holds the identifier now; events carrying it may still wait in dead letters.
      absl::StatusOr<uint64_t> dead_letters = privacy::EraseDeadLetters(
          store_, space_, {identity::Identifier{request.identifier_type, request.identifier_value}},
          extractor_, normalizer_, batch, erased.ranges);
      if (!dead_letters.ok()) return dead_letters.status();
      erased.dead_letters = *dead_letters;
    }
    const base::Timestamp now =
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    // Every identifier of the person is suppressed, the one named in the request included.
    std::vector<identity::Identifier> suppressed = erased.identifiers;
    identity::Identifier named{request.identifier_type, request.identifier_value};
    if (std::find(suppressed.begin(), suppressed.end(), named) == suppressed.end())
      suppressed.push_back(named);
    std::vector<std::string> hashes;
    for (const identity::Identifier& identifier : suppressed) {
      hashes.push_back(privacy.SuppressionHash(identifier.type, identifier.value));
      privacy.PutSuppression(space_, hashes.back(), request.id, identifier.type, now, batch);
    }
    request.state = privacy::ErasureRequest::State::kCompleted;
    request.identifier_value.clear();
    request.completed_at = now;
    request.profiles = erased.profiles;
    request.events = erased.events;
    request.identifiers = erased.identifiers.size();
    request.dead_letters = erased.dead_letters;
    privacy.PutRequest(space_, request, batch);
    // The pending version of the record held the identifier's value.
    const std::string request_key = privacy::PrivacyStore::RequestKey(space_, request.id);
    erased.ranges.push_back({ColumnFamily::kPrivacy, request_key, request_key + '\0'});
    if (maintenance_) {
      if (absl::Status status = maintenance_->EndUnit(batch); !status.ok()) {
        maintenance_->Aborted();
        return status;
      }
    }
    // Synced: the caller was told the request is pending until this is on disk. The log's part
    // first: should the state's part not follow, the request stays pending and runs again.
    absl::Status written = intake_batch.Count() > 0 ? store_.WriteIntake(intake_batch) : absl::OkStatus();
    if (written.ok()) written = store_.Write(batch);
    if (!written.ok()) {
      if (maintenance_) maintenance_->Aborted();
      return written;
    }
    if (maintenance_) maintenance_->Committed();
    for (std::string& hash : hashes) suppression_->Add(space_, std::move(hash));
    if (shared_ != nullptr) unshared_.emplace_back(request.id, std::move(suppressed));
    graph_.ClearCaches();
    if (absl::Status reloaded = graph_.ReloadSeparations(); !reloaded.ok()) return reloaded;
    metrics_.erasures.fetch_add(1, std::memory_order_relaxed);
    to_compact.insert(to_compact.end(), erased.ranges.begin(), erased.ranges.end());
    std::fprintf(stderr,
                 "tessera: erasure %s completed in space %s: %llu profiles, %llu events, %llu identifiers\n",
                 request.id.c_str(), space_.c_str(), static_cast<unsigned long long>(request.profiles),
                 static_cast<unsigned long long>(request.events),
                 static_cast<unsigned long long>(request.identifiers));
    ++completed;
  }
  ShareSuppressed();
  // One flush and one round of compactions for every request carried out in this call.
  if (absl::Status compacted = privacy::CompactErased(store_, to_compact); !compacted.ok()) {
    // The data is deleted; only its physical removal waits for RocksDB's own compactions.
    std::fprintf(stderr, "tessera: compacting after erasure: %s\n", std::string(compacted.message()).c_str());
  }
  return completed;
}

absl::StatusOr<RetentionReport> Resolver::ApplyRetention(base::Timestamp cutoff) {
  restart_prefetch_ = true;  // Records read ahead may be deleted.
  RetentionReport report;
  // The log: sequences follow receive order (up to requests committed in the same group), so the
  // first record received at or after the cutoff is found by bisection over the applied part.
  const std::string space_prefix = ingest::AcceptedLog::Key(space_, 0).substr(0, space_.size() + 1);
  std::unique_ptr<rocksdb::Iterator> log(
      store_.db(ColumnFamily::kLog)->NewIterator(rocksdb::ReadOptions(), store_.handle(ColumnFamily::kLog)));
  log->Seek(ingest::AcceptedLog::Key(space_, 0));
  if (!log->Valid() || !log->key().starts_with(space_prefix)) return report;
  uint64_t low = profile_store::ReadBigEndian64(std::string_view(log->key().data() + space_prefix.size(), 8));
  uint64_t high = position_ + 1;  // Never past what the resolver has applied.
  const uint64_t first_logged = low;
  while (low < high) {
    const uint64_t middle = low + (high - low) / 2;
    log->Seek(ingest::AcceptedLog::Key(space_, middle));
    if (!log->Valid() || !log->key().starts_with(space_prefix)) {
      high = middle;
      continue;
    }
    const uint64_t found =
        profile_store::ReadBigEndian64(std::string_view(log->key().data() + space_prefix.size(), 8));
    if (found >= high) {
      high = middle;
      continue;
    }
    absl::StatusOr<ingest::CanonicalEvent> event =
        ingest::DecodeEvent(std::string_view(log->value().data(), log->value().size()));
    if (event.ok() && event->received_at < cutoff) {
      low = found + 1;
    } else {
      high = middle;
    }
  }
  if (!log->status().ok()) return profile_store::ToAbslStatus(log->status(), "reading the log for retention");
  report.first_kept_sequence = low;
  if (low > first_logged) {
    // The resolver's writes that applied these records become durable before the records go.
    if (absl::Status synced = store_.SyncState(); !synced.ok()) return synced;
  }
  rocksdb::WriteBatch batch;
  rocksdb::WriteBatch intake_batch;
  // Retention runs again at its next interval, so a crash part way loses nothing it must do.
  auto flush_batch = [&]() -> absl::Status {
    absl::Status written = absl::OkStatus();
    if (intake_batch.Count() >= 10'000) {
      written = store_.WriteIntakeUnsynced(intake_batch);
      intake_batch.Clear();
    }
    if (written.ok() && batch.Count() >= 10'000) {
      written = store_.WriteUnsynced(batch);
      batch.Clear();
    }
    return written;
  };
  if (low > first_logged) {
    // Point deletes, not a range: the log family inserts with a per-space memtable hint, and
    // RocksDB 7.8 reuses that hint for range tombstones, which corrupts the memtable's order.
    const std::string end = ingest::AcceptedLog::Key(space_, low);
    for (log->Seek(ingest::AcceptedLog::Key(space_, first_logged));
         log->Valid() && log->key().compare(end) < 0; log->Next()) {
      intake_batch.Delete(store_.handle(ColumnFamily::kLog), log->key());
      ++report.log_records;
      if (absl::Status written = flush_batch(); !written.ok()) return written;
    }
    if (!log->status().ok())
      return profile_store::ToAbslStatus(log->status(), "reading the log for retention");
    batch.DeleteRange(store_.handle(ColumnFamily::kDeadLetter), DeadLetterKey(space_, first_logged), end);
  }

  // Timelines: within a profile's prefix, keys run from the newest event to the oldest, so the
  // entries older than the cutoff are the tail that starts at (cutoff - 1 µs, newest sequence).
  const std::string profiles_prefix =
      profile_store::ProfileKey(space_, profile_store::ProfileId{0}).substr(0, space_.size() + 1);
  std::unique_ptr<rocksdb::Iterator> profiles(
      store_.db()->NewIterator(rocksdb::ReadOptions(), store_.handle(ColumnFamily::kProfiles)));
  std::unique_ptr<rocksdb::Iterator> timeline(
      store_.db()->NewIterator(rocksdb::ReadOptions(), store_.handle(ColumnFamily::kTimeline)));
  for (profiles->Seek(profiles_prefix); profiles->Valid() && profiles->key().starts_with(profiles_prefix);
       profiles->Next()) {
    const profile_store::ProfileId id{profile_store::ReadBigEndian64(std::string_view(
        profiles->key().data() + profiles_prefix.size(), profiles->key().size() - profiles_prefix.size()))};
    const std::string prefix = profile_store::TimelinePrefix(space_, id);
    for (timeline->Seek(profile_store::TimelineKey(space_, id, cutoff - std::chrono::microseconds(1),
                                                   std::numeric_limits<uint64_t>::max()));
         timeline->Valid() && timeline->key().starts_with(prefix); timeline->Next()) {
      batch.Delete(store_.handle(ColumnFamily::kTimeline), timeline->key());
      ++report.timeline_entries;
      if (absl::Status written = flush_batch(); !written.ok()) return written;
    }
  }
  if (!profiles->status().ok())
    return profile_store::ToAbslStatus(profiles->status(), "reading profiles for retention");
  if (!timeline->status().ok())
    return profile_store::ToAbslStatus(timeline->status(), "reading timelines for retention");
  if (intake_batch.Count() > 0) {
    if (absl::Status written = store_.WriteIntakeUnsynced(intake_batch); !written.ok()) return written;
  }
  if (batch.Count() > 0) {
    if (absl::Status written = store_.WriteUnsynced(batch); !written.ok()) return written;
  }
  metrics_.retention_removed.fetch_add(report.timeline_entries, std::memory_order_relaxed);
  return report;
}

void Resolver::Start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    // Named so that top -H and profiles tell the threads apart (at most 15 characters).
    pthread_setname_np(pthread_self(), ("resolve:" + space_).substr(0, 15).c_str());
    Run();
  });
}

void Resolver::NotifyCommitted(uint64_t last_sequence) {
  {
    std::lock_guard lock(mutex_);
    notified_ = std::max(notified_, last_sequence);
  }
  uint64_t seen = metrics_.log_last_seen.load();
  while (seen < last_sequence && !metrics_.log_last_seen.compare_exchange_weak(seen, last_sequence)) {
  }
  wake_.notify_one();
}

void Resolver::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Resolver::Run() {
  uint64_t handled = 0;
  bool pending = true;  // Catch up at start: the log may hold events from before a restart.
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      auto woken = [&] {
        return stopping_ || notified_ > handled || definitions_changed_ || erasures_requested_;
      };
      if (!pending) {
        // Sleep until events arrive, definitions change or the next audience sweep is due.
        std::optional<std::chrono::steady_clock::time_point> sweep;
        if (maintenance_) sweep = maintenance_->NextSweep();
        if (options_.retention.count() > 0 && (!sweep || next_retention_ < *sweep)) sweep = next_retention_;
        if (sweep) {
          wake_.wait_until(lock, *sweep, woken);
        } else {
          wake_.wait(lock, woken);
        }
      }
      handled = notified_;
      definitions_changed_ = false;
    }
    bool erase = false;
    {
      std::lock_guard lock(mutex_);
      erase = std::exchange(erasures_requested_, false);
    }
    absl::StatusOr<uint64_t> applied = CatchUp();
    if (applied.ok() && erase) {
      // After CatchUp: events already logged for the person are on their timeline and go with it.
      absl::StatusOr<uint64_t> erased = ApplyErasures();
      if (!erased.ok()) {
        std::lock_guard lock(mutex_);
        erasures_requested_ = true;  // Retried with the batch.
        applied = erased.status();
      }
    }
    if (applied.ok() && options_.retention.count() > 0 &&
        std::chrono::steady_clock::now() >= next_retention_) {
      next_retention_ = std::chrono::steady_clock::now() + options_.retention_interval;
      const auto now =
          std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
      absl::StatusOr<RetentionReport> retained = ApplyRetention(now - options_.retention);
      if (!retained.ok()) {
        applied = retained.status();
      } else if (retained->log_records > 0 || retained->timeline_entries > 0) {
        std::fprintf(stderr,
                     "tessera: retention in space %s removed %llu log records and %llu timeline entries\n",
                     space_.c_str(), static_cast<unsigned long long>(retained->log_records),
                     static_cast<unsigned long long>(retained->timeline_entries));
      }
    }
    if (applied.ok() && maintenance_ && maintenance_->SweepDue()) {
      // One chunk per turn, so that events never wait behind a whole sweep.
      absl::StatusOr<bool> swept = maintenance_->SweepChunk();
      if (!swept.ok()) applied = swept.status();
    }
    std::unique_lock lock(mutex_);
    if (!applied.ok()) {
      std::fprintf(stderr, "tessera: resolver for space %s: %s (will retry)\n", space_.c_str(),
                   std::string(applied.status().message()).c_str());
      // A store error: pause, then retry from the recorded position. On shutdown, give up; the
      // next start resumes from the same position.
      if (wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; })) return;
      pending = true;
      continue;
    }
    // Stop drains: one more pass runs after stopping_ is set, then nothing is left to do.
    if (stopping_ && notified_ <= handled) return;
    pending = maintenance_ && maintenance_->SweepDue();
  }
}

}  // namespace tessera::resolve
