// The resolver's part of stewardship (docs/stewardship.md): carrying out an admin's merge or
// separation at its place in the log. Kept apart from resolver.cc, which applies events.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "identity/separations.h"
#include "ingest/accepted_log.h"
#include "resolve/resolver.h"

namespace tessera::resolve {
namespace {

using profile_store::ColumnFamily;
using profile_store::ProfileId;

identity::GraphEvent DecisionEvent(uint64_t sequence, const ingest::StewardshipCommand& decision) {
  identity::GraphEvent event;
  event.message_id = decision.request_id;
  event.sequence = sequence;
  event.event_time = decision.requested_at;
  event.received_at = decision.requested_at;
  event.source = "stewardship";
  return event;
}

std::string MergeReason(const ingest::StewardshipCommand& decision) {
  std::string reason = "manual merge by " + decision.requested_by;
  if (!decision.note.empty()) absl::StrAppend(&reason, ": ", decision.note);
  return reason;
}

}  // namespace

absl::Status Resolver::CarryOutDecision(uint64_t sequence, const ingest::StewardshipCommand& decision) {
  restart_prefetch_ = true;
  rocksdb::WriteBatch batch;
  if (maintenance_) maintenance_->BeginUnit(batch);
  absl::Status done = absl::OkStatus();
  if (decision.kind == ingest::StewardshipCommand::Kind::kMerge) {
    done = MergeByDecision(sequence, decision, batch, /*replaying=*/false);
  } else {
    graph_.Separate(decision.a, decision.b);
    absl::StatusOr<std::optional<ProfileId>> a = graph_.Lookup(decision.a);
    absl::StatusOr<std::optional<ProfileId>> b = a.ok() ? graph_.Lookup(decision.b) : a;
    if (!b.ok()) {
      done = b.status();
    } else if (a->has_value() && b->has_value() && **a == **b) {
      done = Recompute(**a, batch);
    }
    // The decision is recorded where it will be looked for: on the profiles the two are in now.
    std::vector<ProfileId> holders;
    for (const identity::Identifier& identifier : {decision.a, decision.b}) {
      if (!done.ok()) break;
      absl::StatusOr<std::optional<ProfileId>> holder = graph_.Lookup(identifier);
      if (!holder.ok()) {
        done = holder.status();
      } else if (holder->has_value() && std::find(holders.begin(), holders.end(), **holder) == holders.end()) {
        holders.push_back(**holder);
      }
    }
    std::string json;
    base::JsonWriter writer(json);
    writer.BeginObject();
    writer.Key("kind").String("separated");
    writer.Key("identifiers").BeginArray().String(identity::ToString(decision.a)).String(identity::ToString(decision.b));
    writer.EndArray();
    writer.Key("profiles").BeginArray();
    for (ProfileId holder : holders) writer.String(profile_store::FormatProfileId(holder));
    writer.EndArray();
    writer.Key("messageId").String(decision.request_id);
    writer.Key("sequence").Uint(sequence);
    writer.Key("time").Int(decision.requested_at.time_since_epoch().count());
    writer.Key("reason").String(absl::StrCat("not the same person, by ", decision.requested_by,
                                             decision.note.empty() ? "" : ": ", decision.note));
    writer.EndObject();
    for (ProfileId holder : holders) {
      batch.Put(store_.handle(ColumnFamily::kMerges), profile_store::MergeKey(space_, holder, sequence, 0), json);
    }
  }
  if (done.ok() && maintenance_) done = maintenance_->EndUnit(batch);
  if (!done.ok()) {
    AbortUnit();
    return done;
  }
  return WriteUnit(batch, sequence);  // Aborts the unit itself when the write fails.
}

absl::Status Resolver::MergeByDecision(uint64_t sequence, const ingest::StewardshipCommand& decision,
                                       rocksdb::WriteBatch& batch, bool replaying) {
  // The later decision holds: a merge lifts a separation of the same two identifiers. Replayed by
  // a recompute, it is the earlier one, and a separation made since holds.
  if (!replaying) graph_.Unseparate(decision.a, decision.b);
  absl::StatusOr<std::optional<ProfileId>> a = graph_.Lookup(decision.a);
  if (!a.ok()) return a.status();
  absl::StatusOr<std::optional<ProfileId>> b = graph_.Lookup(decision.b);
  if (!b.ok()) return b.status();
  // Checked when it was asked for; an identifier gone since (erased) leaves nothing to merge.
  if (!a->has_value() || !b->has_value()) return absl::OkStatus();
  if (replaying) {
    absl::StatusOr<bool> separated = graph_.Separated(**a, **b);
    if (!separated.ok()) return separated.status();
    if (*separated) return absl::OkStatus();  // Undone by the separation that is recomputing.
  }
  absl::StatusOr<identity::Resolution> resolution =
      graph_.MergeProfiles(**a, **b, DecisionEvent(sequence, decision), MergeReason(decision));
  if (!resolution.ok()) return resolution.status();
  if (!resolution->merged.empty()) {
    metrics_.merges.fetch_add(resolution->merged.size(), std::memory_order_relaxed);
    if (maintenance_) maintenance_->OnMerge(*resolution, batch);
    if (duplicates_) {
      for (ProfileId id : resolution->merged) {
        if (absl::Status status = duplicates_->Refresh(id, graph_, batch); !status.ok()) return status;
      }
      if (absl::Status status = duplicates_->Refresh(resolution->profile, graph_, batch); !status.ok()) return status;
    }
  } else if (!resolution->decision.empty()) {
    metrics_.refused_merges.fetch_add(1, std::memory_order_relaxed);
  }
  return absl::OkStatus();
}

absl::Status Resolver::ForgetDecisions(const profile_store::Profile& profile,
                                       const std::vector<identity::Identifier>& identifiers,
                                       rocksdb::WriteBatch& batch, rocksdb::WriteBatch& intake_batch) {
  std::vector<ProfileId> ids = profile.merged_from;
  ids.push_back(profile.id);
  for (ProfileId id : ids) {
    const std::string merges = profile_store::MergePrefix(space_, id);
    std::vector<uint64_t> sequences;
    absl::Status scanned = store_.ScanPrefix(ColumnFamily::kMerges, merges, [&](std::string_view key, std::string_view) {
      if (key.size() == merges.size() + 12) sequences.push_back(profile_store::ReadBigEndian64(key.substr(merges.size())));
    });
    if (!scanned.ok()) return scanned;
    for (uint64_t sequence : sequences) {
      const std::string log_key = ingest::AcceptedLog::Key(space_, sequence);
      absl::StatusOr<std::string> record = store_.Get(ColumnFamily::kLog, log_key);
      if (absl::IsNotFound(record.status())) continue;
      if (!record.ok()) return record.status();
      if (!ingest::IsStewardshipCommand(*record)) continue;
      intake_batch.Delete(store_.handle(ColumnFamily::kLog), log_key);
      if (absl::StatusOr<ingest::StewardshipCommand> decision = ingest::DecodeStewardshipCommand(*record); decision.ok()) {
        intake_batch.Delete(store_.handle(ColumnFamily::kDedup), ingest::CommandDedupKey(space_, decision->request_id));
      }
    }
  }
  for (const identity::Identifier& identifier : identifiers) {
    absl::StatusOr<std::vector<identity::Identifier>> partners =
        identity::SeparatedPartners(store_, space_, identifier);
    if (!partners.ok()) return partners.status();
    for (const identity::Identifier& partner : *partners) {
      batch.Delete(store_.handle(ColumnFamily::kMeta), identity::SeparationKey(space_, identifier, partner));
      batch.Delete(store_.handle(ColumnFamily::kMeta), identity::SeparationKey(space_, partner, identifier));
    }
  }
  return absl::OkStatus();
}

absl::Status Resolver::Recompute(ProfileId profile, rocksdb::WriteBatch& batch) {
  absl::StatusOr<std::shared_ptr<const profile_store::Profile>> before = graph_.BeginRecompute(profile);
  if (!before.ok()) return before.status();
  std::vector<ProfileId> component = (*before)->merged_from;
  component.push_back((*before)->id);
  // The replay files the component's profiles anew, as the first time (and scores them again).
  for (ProfileId id : component) {
    if (duplicates_) {
      if (absl::Status status = duplicates_->Remove(id, batch); !status.ok()) return status;
    }
  }

  // What made the component: its events (on the timelines of every profile in it) and the
  // decisions that merged parts of it (their merge records). Both are applied again, in log order;
  // the rows they wrote go, and the replay writes them anew.
  std::vector<uint64_t> sequences;
  for (ProfileId id : component) {
    const std::string timeline = profile_store::TimelinePrefix(space_, id);
    absl::Status scanned =
        store_.ScanPrefix(ColumnFamily::kTimeline, timeline, [&](std::string_view key, std::string_view) {
          if (key.size() != timeline.size() + 16) return;
          sequences.push_back(~profile_store::ReadBigEndian64(key.substr(timeline.size() + 8)));
          batch.Delete(store_.handle(ColumnFamily::kTimeline), key);
        });
    if (!scanned.ok()) return scanned;
    const std::string merges = profile_store::MergePrefix(space_, id);
    scanned = store_.ScanPrefix(ColumnFamily::kMerges, merges, [&](std::string_view key, std::string_view json) {
      if (key.size() == merges.size() + 12 && json.find(R"("kind":"merge")") != std::string_view::npos) {
        sequences.push_back(profile_store::ReadBigEndian64(key.substr(merges.size())));
      }
      batch.Delete(store_.handle(ColumnFamily::kMerges), key);
    });
    if (!scanned.ok()) return scanned;
  }
  std::sort(sequences.begin(), sequences.end());
  sequences.erase(std::unique(sequences.begin(), sequences.end()), sequences.end());
  if (maintenance_) maintenance_->OnRecomputed(**before, batch);

  // Events delivered to destinations once are not offered again; audience changes are.
  activation::OutboxWriter* const outbox = outbox_;
  outbox_ = nullptr;
  absl::Status replayed = absl::OkStatus();
  for (uint64_t sequence : sequences) {
    absl::StatusOr<std::string> record = store_.Get(ColumnFamily::kLog, ingest::AcceptedLog::Key(space_, sequence));
    if (absl::IsNotFound(record.status())) continue;  // Gone by retention or erasure.
    if (!record.ok()) {
      replayed = record.status();
      break;
    }
    PreparedEvent prepared = preparer_.Prepare(sequence, *record);
    if (prepared.decision) {
      if (prepared.decision->kind == ingest::StewardshipCommand::Kind::kMerge) {
        replayed = MergeByDecision(sequence, *prepared.decision, batch, /*replaying=*/true);
      }
    } else if (!prepared.command && prepared.decode_status.ok()) {
      replayed = ApplyPrepared(prepared, batch);
    }
    if (!replayed.ok()) break;
  }
  outbox_ = outbox;
  if (!replayed.ok()) return replayed;
  graph_.EndRecompute();
  // Ids the recompute did not hand out again are redirects now, and keep no rows.
  for (ProfileId id : component) {
    if (duplicates_) {
      if (absl::Status status = duplicates_->Refresh(id, graph_, batch); !status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::resolve
