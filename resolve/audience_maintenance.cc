#include "resolve/audience_maintenance.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ingest/event_codec.h"
#include "profile_store/audience_store.h"
#include "profile_store/profile_reader.h"

namespace tessera::resolve {
namespace {

using profile_store::ColumnFamily;
using profile_store::PrefixEnd;
using profile_store::Profile;
using profile_store::ProfileId;

std::string BigEndianMicros(base::Timestamp time) {
  std::string value;
  profile_store::AppendBigEndian64(
      value, static_cast<uint64_t>(std::max<int64_t>(0, time.time_since_epoch().count())));
  return value;
}

}  // namespace

AudienceMaintenance::AudienceMaintenance(profile_store::Store& store, std::string space,
                                         identity::IdentityGraph& graph, audiences::SpaceAudiences& audiences,
                                         AudienceOptions options)
    : store_(store),
      space_(std::move(space)),
      graph_(graph),
      audiences_(audiences),
      options_(std::move(options)),
      definitions_(audiences.definitions()),
      generation_(audiences.generation()),
      figures_(audiences.figures()) {}

base::Timestamp AudienceMaintenance::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

void AudienceMaintenance::BeginUnit(rocksdb::WriteBatch& batch) {
  // rfm_ needs no refresh here: only this thread's sweep changes the cut points.
  const uint64_t generation = audiences_.generation();
  if (generation != generation_) {
    std::shared_ptr<const audiences::DefinitionSet> next = audiences_.definitions();
    for (const auto& audience : definitions_->audiences) {
      if (next->FindAudience(audience->name) == nullptr) deleted_audiences_.push_back(audience->name);
    }
    definitions_ = std::move(next);
    generation_ = generation;
    sweep_requested_ = true;
    sweep_.reset();  // A sweep of older definitions restarts from the beginning.
    // Profiles already in the graph's unit (none between batches, unless someone looked one up)
    // were reconciled against the old definitions: let them enter again.
    graph_.Abort();
  }
  // A deleted audience's rows go with it, in every batch until one is written. Profiles still
  // list it until they are next written; the evaluation drops names that are no longer defined.
  for (const std::string& audience : deleted_audiences_) {
    const std::string members = profile_store::MemberPrefix(space_, audience);
    batch.DeleteRange(store_.handle(ColumnFamily::kMembers), members, PrefixEnd(members));
    const std::string changes = profile_store::AudienceChangePrefix(space_, audience);
    batch.DeleteRange(store_.handle(ColumnFamily::kAudienceChanges), changes, PrefixEnd(changes));
    batch.Delete(store_.handle(ColumnFamily::kMeta), profile_store::AudienceCountersKey(space_, audience));
  }
}

absl::StatusOr<bool> AudienceMaintenance::Reconcile(Profile& profile) {
  if (audiences::HasCurrentAggregates(*definitions_, profile)) return false;
  std::vector<const audiences::AggregateSpec*> missing;
  for (size_t i = 0; i < definitions_->specs.size(); ++i) {
    if (!profile.aggregates.contains(definitions_->spec_keys[i])) missing.push_back(&definitions_->specs[i]);
  }
  for (auto it = profile.aggregates.begin(); it != profile.aggregates.end();) {
    if (std::binary_search(definitions_->spec_keys.begin(), definitions_->spec_keys.end(), it->first)) {
      ++it;
    } else {
      it = profile.aggregates.erase(it);
    }
  }
  for (const audiences::AggregateSpec* spec : missing) {
    profile.aggregates.emplace(spec->Key(), profile_store::EventAggregate(spec->retention));
  }
  if (profile.event_count > 0 && !missing.empty()) {
    if (absl::Status filled = Backfill(profile, missing); !filled.ok()) return filled;
    metrics_.backfilled_profiles.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

absl::Status AudienceMaintenance::Backfill(Profile& profile,
                                           const std::vector<const audiences::AggregateSpec*>& missing) {
  // Everything the profile absorbed so far is in the store: a profile is reconciled when it first
  // enters a unit, before this unit changes it.
  profile_store::ProfileReader reader(store_);
  std::optional<profile_store::TimelineCursor> after;
  std::vector<profile_store::EventAggregate*> targets;
  for (const audiences::AggregateSpec* spec : missing) targets.push_back(&profile.aggregates.at(spec->Key()));
  do {
    absl::StatusOr<profile_store::TimelinePage> page =
        reader.Timeline(space_, profile, profile_store::TimelineFilter{}, 1000, after);
    if (!page.ok()) return page.status();
    for (const profile_store::TimelineEntry& entry : page->entries) {
      const profile_store::TimelineSummary& fields = entry.summary;
      std::optional<ingest::CanonicalEvent> decoded;
      for (size_t i = 0; i < missing.size(); ++i) {
        const audiences::AggregateSpec& spec = *missing[i];
        if (!audiences::Matches(spec.filter, fields.type, fields.event, fields.channel)) continue;
        audiences::EventFacts facts;
        facts.type = fields.type;
        facts.event = fields.event;
        facts.channel = fields.channel;
        facts.time = entry.time;
        facts.sequence = entry.sequence;
        if (!spec.property.empty()) {
          if (!decoded) {
            absl::StatusOr<std::optional<std::string>> record = reader.LogRecord(space_, entry.sequence);
            if (!record.ok()) return record.status();
            if (record->has_value()) {
              absl::StatusOr<ingest::CanonicalEvent> event = ingest::DecodeEvent(**record);
              if (!event.ok()) return event.status();
              decoded = *std::move(event);
            } else {
              // Retention removed the record (received before the cutoff, timed after it): the
              // event still counts, without property values.
              decoded = ingest::CanonicalEvent{};
            }
          }
          facts.properties = decoded->properties;
          facts.traits = decoded->traits;
          facts.context = decoded->context;
        }
        targets[i]->Add(entry.time, entry.sequence, audiences::ValueAt(facts, spec.property), spec.keep_json);
      }
    }
    after = page->next;
  } while (after);
  return absl::OkStatus();
}

void AudienceMaintenance::OnEvent(const ingest::CanonicalEvent& event, uint64_t sequence,
                                  const identity::Resolution& resolution, Profile& profile,
                                  rocksdb::WriteBatch& batch) {
  if (resolution.created) {
    // A new profile has no past to fill its aggregates from: they start empty and current.
    for (const audiences::AggregateSpec& spec : definitions_->specs) {
      profile.aggregates.try_emplace(spec.Key(), spec.retention);
    }
  }
  if (!definitions_->specs.empty()) {
    audiences::EventFacts facts;
    facts.type = ingest::EventTypeName(event.type);
    facts.event = event.event;
    facts.channel = event.channel;
    facts.time = event.timestamp;
    facts.sequence = sequence;
    facts.properties = event.properties;
    facts.traits = event.traits;
    facts.context = event.context;
    audiences::AddEvent(*definitions_, facts, profile);
  }
  OnMerge(resolution, batch);
}

void AudienceMaintenance::OnMerge(const identity::Resolution& resolution, rocksdb::WriteBatch& batch) {
  touched_.push_back(resolution.profile);
  if (resolution.absorbed.empty()) return;
  const base::Timestamp now = Now();
  const std::string reason = "merged into " + FormatProfileId(resolution.profile);
  for (const auto& loser : resolution.absorbed) {
    for (const auto& [audience, entered] : loser->audiences) {
      batch.Delete(store_.handle(ColumnFamily::kMembers),
                   profile_store::MemberKey(space_, audience, loser->id));
      if (definitions_->FindAudience(audience) == nullptr) continue;
      RecordChange(audience, *loser, /*entered=*/false, now, reason, batch);
      auto [hint, inserted] = entry_hints_.try_emplace({resolution.profile.value, audience}, entered);
      if (!inserted) hint->second = std::min(hint->second, entered);
    }
  }
}

void AudienceMaintenance::OnRecomputed(const Profile& profile, rocksdb::WriteBatch& batch) {
  const base::Timestamp now = Now();
  for (const auto& [audience, entered] : profile.audiences) {
    (void)entered;
    batch.Delete(store_.handle(ColumnFamily::kMembers), profile_store::MemberKey(space_, audience, profile.id));
    if (definitions_->FindAudience(audience) == nullptr) continue;
    RecordChange(audience, profile, /*entered=*/false, now, "recomputed after a separation", batch);
  }
}

void AudienceMaintenance::OnErased(const Profile& profile, rocksdb::WriteBatch& batch) {
  const base::Timestamp now = Now();
  for (const auto& [audience, entered] : profile.audiences) {
    (void)entered;
    if (definitions_->FindAudience(audience) == nullptr) continue;
    RecordChange(audience, profile, /*entered=*/false, now, "erased", batch);
  }
}

profile_store::AudienceCounters& AudienceMaintenance::PendingCounters(const std::string& audience) {
  auto it = pending_counters_.find(audience);
  if (it == pending_counters_.end())
    it = pending_counters_.emplace(audience, audiences_.Counters(audience)).first;
  return it->second;
}

void AudienceMaintenance::RecordChange(const std::string& audience, const Profile& profile, bool entered,
                                       base::Timestamp time, std::string_view reason,
                                       rocksdb::WriteBatch& batch) {
  batch.Put(store_.handle(ColumnFamily::kAudienceChanges),
            profile_store::AudienceChangeKey(space_, audience, time, profile.id),
            profile_store::EncodeAudienceChange(profile.id, entered, time, reason));
  if (outbox_ != nullptr) outbox_->OnAudienceChange(profile, audience, entered, time, reason, batch);
  profile_store::AudienceCounters& counters = PendingCounters(audience);
  if (entered) {
    ++counters.size;
    ++counters.entered;
    ++unit_entries_;
  } else {
    --counters.size;
    ++counters.left;
    ++unit_exits_;
  }
  counters.last_change = time;
}

bool AudienceMaintenance::MembershipDiffers(const Profile& profile, base::Timestamp now,
                                            const audiences::SpaceFigures& figures) const {
  size_t defined_memberships = 0;
  for (const auto& audience : definitions_->audiences) {
    const bool member = audiences::IsMember(*audience, *definitions_, profile, now, figures);
    const bool listed = profile.audiences.contains(audience->name);
    if (member != listed) return true;
    defined_memberships += listed;
  }
  return defined_memberships != profile.audiences.size();  // lists a deleted audience
}

bool AudienceMaintenance::UpdateMemberships(Profile& profile, base::Timestamp now,
                                            const audiences::SpaceFigures& figures, rocksdb::WriteBatch& batch) {
  bool changed = false;
  for (auto it = profile.audiences.begin(); it != profile.audiences.end();) {
    if (definitions_->FindAudience(it->first) == nullptr) {
      it = profile.audiences.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  for (const auto& audience : definitions_->audiences) {
    const bool member = audiences::IsMember(*audience, *definitions_, profile, now, figures);
    auto listed = profile.audiences.find(audience->name);
    if (member == (listed != profile.audiences.end())) continue;
    changed = true;
    if (member) {
      base::Timestamp entered = now;
      std::string reason;
      if (auto hint = entry_hints_.find({profile.id.value, audience->name}); hint != entry_hints_.end()) {
        entered = hint->second;
        reason = "merge";
      }
      profile.audiences.emplace(audience->name, entered);
      batch.Put(store_.handle(ColumnFamily::kMembers),
                profile_store::MemberKey(space_, audience->name, profile.id), BigEndianMicros(entered));
      RecordChange(audience->name, profile, /*entered=*/true, now, reason, batch);
    } else {
      profile.audiences.erase(listed);
      batch.Delete(store_.handle(ColumnFamily::kMembers),
                   profile_store::MemberKey(space_, audience->name, profile.id));
      RecordChange(audience->name, profile, /*entered=*/false, now, {}, batch);
    }
  }
  return changed;
}

void AudienceMaintenance::WriteCounters(rocksdb::WriteBatch& batch) {
  for (const auto& [audience, counters] : pending_counters_) {
    batch.Put(store_.handle(ColumnFamily::kMeta), profile_store::AudienceCountersKey(space_, audience),
              profile_store::EncodeAudienceCounters(counters));
  }
}

absl::Status AudienceMaintenance::EndUnit(rocksdb::WriteBatch& batch) {
  if (!touched_.empty()) {
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    const base::Timestamp now = Now();
    for (ProfileId id : touched_) {
      absl::StatusOr<std::optional<ProfileId>> canonical = graph_.Canonical(id);
      if (!canonical.ok()) return canonical.status();
      // A profile merged away later in the unit: its winner is in the list too.
      if (!canonical->has_value() || **canonical != id) continue;
      absl::StatusOr<Profile*> profile = graph_.MutableProfile(id);
      if (!profile.ok()) return profile.status();
      // Without audiences there is only a deleted audience's name to forget, if any.
      if (definitions_->audiences.empty() && (*profile)->audiences.empty()) continue;
      UpdateMemberships(**profile, now, figures_, batch);
    }
  }
  WriteCounters(batch);
  return absl::OkStatus();
}

void AudienceMaintenance::Committed() {
  if (outbox_ != nullptr) outbox_->Committed();
  deleted_audiences_.clear();
  for (const auto& [audience, counters] : pending_counters_) audiences_.SetCounters(audience, counters);
  metrics_.entries.fetch_add(unit_entries_, std::memory_order_relaxed);
  metrics_.exits.fetch_add(unit_exits_, std::memory_order_relaxed);
  Aborted();
}

void AudienceMaintenance::Aborted() {
  if (outbox_ != nullptr) outbox_->Aborted();
  touched_.clear();
  entry_hints_.clear();
  pending_counters_.clear();
  unit_entries_ = unit_exits_ = 0;
}

bool AudienceMaintenance::RefitDue() const {
  const audiences::PurchaseModelState* model = figures_.purchase_model.get();
  // Without a model: at start, then whenever purchases arrive; after a fit that could not be made
  // (no repeat customer yet), only once 10% more have arrived, so that an import of first purchases
  // does not sweep every profile again and again.
  if (model == nullptr) return refit_requested_ || purchases_since_fit_ > unfitted_orders_ / 10;
  if (Now() - model->fitted_at >= purchase_rules_.refit_interval) return true;
  // A bulk import (or a busy day) changes what the model was fitted on: fit again. (At least 10,
  // so that a space's first few customers are not left out of its model until the interval.)
  return purchases_since_fit_ >= std::max<uint64_t>(10, model->orders / 10);
}

bool AudienceMaintenance::SweepDue() const {
  if (sweep_) return true;
  if (RefitDue()) return true;
  if (definitions_->OnlyBuiltIn()) return false;
  if (sweep_requested_) return true;
  return definitions_->AnyTimeDependent() && std::chrono::steady_clock::now() >= next_sweep_;
}

std::optional<std::chrono::steady_clock::time_point> AudienceMaintenance::NextSweep() const {
  if (SweepDue()) return std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> next;
  if (!definitions_->OnlyBuiltIn() && definitions_->AnyTimeDependent()) next = next_sweep_;
  if (const audiences::PurchaseModelState* model = figures_.purchase_model.get()) {
    // The next refit, on the steady clock.
    const auto refit = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           model->fitted_at + purchase_rules_.refit_interval - Now());
    if (!next || refit < *next) next = refit;
  }
  return next;
}

absl::StatusOr<bool> AudienceMaintenance::SweepChunk() {
  rocksdb::WriteBatch batch;
  BeginUnit(batch);
  if (!sweep_) {
    sweep_.emplace();
    sweep_->generation = generation_;
    sweep_->started = std::chrono::steady_clock::now();
    std::string start(space_);
    start.push_back('\0');
    sweep_->resume_key = std::move(start);
    sweep_->refit = RefitDue();
    sweep_->now = Now();
    sweep_->purchases.as_of_day = audiences::LocalDay(purchase_rules_.time_zone, sweep_->now);
    sweep_requested_ = false;
  }
  std::string prefix(space_);
  prefix.push_back('\0');
  const base::Timestamp now = Now();

  // Read a chunk of profiles as the store holds them (the graph's unit is empty between batches,
  // so the store and the graph's caches agree); only those whose state must change go through the
  // graph, which rewrites them.
  std::vector<ProfileId> to_update;
  std::vector<std::pair<ProfileId, Profile>> read;
  bool finished = false;
  {
    rocksdb::ReadOptions options;
    options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db()->NewIterator(options, store_.handle(ColumnFamily::kProfiles)));
    it->Seek(sweep_->resume_key);
    size_t taken = 0;
    for (; it->Valid() && it->key().starts_with(prefix) && taken < options_.sweep_chunk_profiles;
         it->Next()) {
      absl::StatusOr<Profile> profile =
          profile_store::DecodeProfile(std::string_view(it->value().data(), it->value().size()));
      if (!profile.ok()) return profile.status();
      if (profile->merged_into) continue;
      ++taken;
      read.emplace_back(profile->id, *std::move(profile));
    }
    if (!it->status().ok()) return profile_store::ToAbslStatus(it->status(), "sweeping profiles");
    if (it->Valid() && it->key().starts_with(prefix)) {
      sweep_->resume_key = it->key().ToString();
    } else {
      finished = true;
    }
  }

  std::vector<std::shared_ptr<const audiences::ComputedTrait>> rfm_traits;
  for (const auto& trait : definitions_->computed) {
    if (trait->kind == audiences::ComputedKind::kRfm) rfm_traits.push_back(trait);
  }
  for (auto& [id, stored] : read) {
    const Profile* current = &stored;
    if (!audiences::HasCurrentAggregates(*definitions_, stored) || MembershipDiffers(stored, now, figures_)) {
      absl::StatusOr<Profile*> profile = graph_.MutableProfile(id);  // reconciled by the load hook
      if (!profile.ok()) {
        graph_.Abort();
        Aborted();
        return profile.status();
      }
      UpdateMemberships(**profile, now, figures_, batch);
      current = *profile;
    }
    if (sweep_->refit && !current->purchases.days.empty()) {
      SpacePurchaseFit& counts = sweep_->purchases;
      absl::StatusOr<prediction::CalibrationSummary> summary =
          audiences::SummarizePurchaseDays(current->purchases, counts.as_of_day);
      if (summary.ok()) {
        sweep_->customers.push_back(*summary);
        counts.other_currency += current->purchases.other_currency;
        for (const profile_store::PurchaseDay& day : current->purchases.days) {
          if (day.day <= counts.as_of_day) counts.orders += day.orders;
        }
      } else {
        ++counts.first_purchase_later;
      }
    }
    for (const auto& trait : rfm_traits) {
      if (auto inputs = audiences::RfmInputsOf(*trait, *current, now)) {
        auto& lists = sweep_->rfm_inputs[trait->name];
        lists[0].push_back(inputs->recency_days);
        lists[1].push_back(inputs->frequency);
        lists[2].push_back(inputs->monetary);
      }
    }
  }
  sweep_->profiles += read.size();
  sweep_->purchases.profiles_scanned += static_cast<int64_t>(read.size());

  audiences::RfmTable rfm;
  std::shared_ptr<const audiences::PurchaseModelState> refitted;
  if (finished) {
    for (const auto& trait : rfm_traits) {
      auto& lists = sweep_->rfm_inputs[trait->name];
      audiences::RfmCutPoints& cuts = rfm[trait->name];
      cuts.recency_days = audiences::QuintileCutPoints(lists[0]);
      cuts.frequency = audiences::QuintileCutPoints(lists[1]);
      cuts.monetary = audiences::QuintileCutPoints(lists[2]);
    }
    batch.Put(store_.handle(ColumnFamily::kMeta), audiences::RfmKey(space_), audiences::EncodeRfmTable(rfm));
    if (sweep_->refit) refitted = Refit(batch);
    for (const auto& audience : definitions_->audiences) PendingCounters(audience->name).last_evaluated = now;
  }
  WriteCounters(batch);
  graph_.Flush(batch);
  if (absl::Status written = store_.WriteUnsynced(batch); !written.ok()) {
    graph_.Abort();
    Aborted();
    return written;
  }
  graph_.Commit();
  Committed();
  if (!finished) return false;

  const auto elapsed = std::chrono::steady_clock::now() - sweep_->started;
  metrics_.sweeps.fetch_add(1, std::memory_order_relaxed);
  metrics_.last_sweep_profiles = sweep_->profiles;
  metrics_.last_sweep_micros =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
  // The first cut points of a space change RFM scores from absent to present: evaluate again at
  // once rather than a sweep interval later. (Later cut points move slowly; the next sweep does.)
  const bool first_cut_points = figures_.rfm.empty() && !rfm.empty();
  audiences_.SetRfm(rfm);
  figures_.rfm = std::move(rfm);
  if (sweep_->refit) {
    refit_requested_ = false;
    purchases_since_fit_ = 0;
    unfitted_orders_ = refitted ? 0 : sweep_->purchases.orders;
  }
  if (refitted) {
    // The first model gives the purchase figures values, a new one changes them: evaluate again.
    if (definitions_->AnyTimeDependent()) sweep_requested_ = true;
    audiences_.SetPurchaseModel(refitted);
    figures_.purchase_model = std::move(refitted);
  }
  audiences_.MarkEvaluated(sweep_->generation, now);
  sweep_.reset();
  next_sweep_ = std::chrono::steady_clock::now() + options_.sweep_interval;
  if (first_cut_points) sweep_requested_ = true;
  return true;
}

std::shared_ptr<const audiences::PurchaseModelState> AudienceMaintenance::Refit(rocksdb::WriteBatch& batch) {
  if (sweep_->customers.empty()) return nullptr;
  absl::StatusOr<prediction::PurchaseModelFit> fit = prediction::FitPurchaseModel(sweep_->customers);
  if (!fit.ok()) {
    // Too few customers yet (no repeat customer): the figures stay without values until a refit works.
    metrics_.refit_failures.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  SpacePurchaseFit& counts = sweep_->purchases;
  counts.fit = *std::move(fit);
  auto state = std::make_shared<audiences::PurchaseModelState>();
  state->model = counts.fit.model();
  state->time_zone = purchase_rules_.time_zone;
  state->monthly_discount_rate = purchase_rules_.monthly_discount_rate;
  state->fitted_at = sweep_->now;
  state->as_of_day = counts.as_of_day;
  state->orders = counts.orders;
  state->version = absl::StrCat(audiences::DayText(counts.as_of_day), "#", counts.orders);
  state->fit_json = FitJson(space_, counts, purchase_rules_.time_zone, purchase_rules_.currency, state->version);
  batch.Put(store_.handle(ColumnFamily::kMeta), audiences::PurchaseModelKey(space_),
            audiences::EncodePurchaseModel(*state));
  metrics_.refits.fetch_add(1, std::memory_order_relaxed);
  return state;
}

absl::Status AudienceMaintenance::SweepAll() {
  sweep_requested_ = true;
  for (;;) {
    absl::StatusOr<bool> finished = SweepChunk();
    if (!finished.ok()) return finished.status();
    if (*finished) return absl::OkStatus();
  }
}

}  // namespace tessera::resolve
