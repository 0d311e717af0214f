#include "activation/outbox_writer.h"

#include <algorithm>
#include <memory>

#include "activation/holdout.h"
#include "base/json_writer.h"
#include "identity/identifier.h"
#include "rocksdb/db.h"

namespace tessera::activation {

using profile_store::ColumnFamily;
using profile_store::Profile;

void DescribeProfile(const Profile& profile, OutboxItem& item) {
  item.profile_id = profile.id.value;
  base::Timestamp user_seen{};
  base::Timestamp anonymous_seen{};
  for (const profile_store::IdentityRecord& identity : profile.identities) {
    item.identifiers.emplace_back(identity.type, identity.value);
    if (identity.type == identity::identifier_type::kUserId && identity.last_seen >= user_seen) {
      item.user_id = identity.value;
      user_seen = identity.last_seen;
    } else if (identity.type == identity::identifier_type::kAnonymousId && identity.last_seen >= anonymous_seen) {
      item.anonymous_id = identity.value;
      anonymous_seen = identity.last_seen;
    }
  }
  if (!item.user_id.empty()) item.anonymous_id.clear();
}

void AppendTraitsJson(const Profile& profile, std::string& out) {
  base::JsonWriter traits(out);
  traits.BeginObject();
  for (const auto& [name, trait] : profile.traits) traits.Key(name).Raw(trait.json);
  traits.EndObject();
}

OutboxWriter::OutboxWriter(profile_store::Store& store, std::string space, std::vector<DestinationSpec> destinations)
    : store_(store),
      space_(std::move(space)),
      destinations_(std::move(destinations)),
      cursors_(destinations_.size()),
      consented_before_(destinations_.size(), false) {}

absl::Status OutboxWriter::Recover() {
  for (size_t i = 0; i < destinations_.size(); ++i) {
    const std::string& name = destinations_[i].name;
    absl::StatusOr<uint64_t> delivered = ReadDeliveredCursor(store_, space_, name);
    if (!delivered.ok()) return delivered.status();
    absl::StatusOr<uint64_t> newest = NewestOutboxRow(store_, space_, name);
    if (!newest.ok()) return newest.status();
    // After the newest row still waiting, or after the last one delivered when none waits.
    cursors_[i].committed_next = cursors_[i].next = std::max(*delivered, *newest) + 1;
  }
  return absl::OkStatus();
}

bool OutboxWriter::Consents(const DestinationSpec& destination, const Profile& profile) const {
  if (destination.consent.empty()) return true;
  auto it = profile.consent.find(destination.consent);
  return it != profile.consent.end() && it->second.granted;
}

bool OutboxWriter::HeldOut(const Profile& profile, std::string_view audience) const {
  if (!holdout_) return false;
  const double share = holdout_(audience);
  return share > 0 && InHoldout(space_, audience, profile_store::FormatProfileId(profile.id), share);
}

void OutboxWriter::BeforeEvent(const Profile& profile) {
  before_profile_ = profile.id.value;
  for (size_t i = 0; i < destinations_.size(); ++i) consented_before_[i] = Consents(destinations_[i], profile);
}

void OutboxWriter::Put(size_t index, const OutboxItem& item, rocksdb::WriteBatch& batch) {
  encoded_.clear();
  EncodeOutboxItem(item, encoded_);
  batch.Put(store_.handle(ColumnFamily::kOutbox), OutboxKey(space_, destinations_[index].name, cursors_[index].next++),
            encoded_);
}

OutboxItem OutboxWriter::ChangeItem(const Profile& profile, const std::string& audience, bool entered,
                                    base::Timestamp time, std::string_view reason) const {
  OutboxItem item;
  item.kind = entered ? OutboxKind::kAudienceEntered : OutboxKind::kAudienceExited;
  item.time = time;
  item.audience = audience;
  item.reason = std::string(reason);
  DescribeProfile(profile, item);
  item.message_id = AudienceChangeId(space_, audience, profile.id.value, entered, time);
  AppendTraitsJson(profile, item.traits_json);
  return item;
}

void OutboxWriter::OnEvent(const ingest::CanonicalEvent& event, uint64_t sequence, const Profile& profile,
                           rocksdb::WriteBatch& batch) {
  const std::string_view type = ingest::EventTypeName(event.type);
  const bool snapshot = before_profile_ == profile.id.value;
  before_profile_ = 0;
  for (size_t i = 0; i < destinations_.size(); ++i) {
    const DestinationSpec& destination = destinations_[i];
    const bool consents = Consents(destination, profile);
    if (!consents) {
      // Withdrawn by this event: the audiences it was sent into are left, once.
      if (snapshot && consented_before_[i]) {
        for (const auto& [audience, entered] : profile.audiences) {
          (void)entered;
          if (!destination.WantsAudience(audience) || HeldOut(profile, audience)) continue;
          Put(i, ChangeItem(profile, audience, /*entered=*/false, event.timestamp, "consent withdrawn"), batch);
        }
      }
      continue;
    }
    if (snapshot && !consented_before_[i]) {
      // Granted by this event: the audiences it already is in are entered now.
      for (const auto& [audience, entered] : profile.audiences) {
        (void)entered;
        if (!destination.WantsAudience(audience) || HeldOut(profile, audience)) continue;
        Put(i, ChangeItem(profile, audience, /*entered=*/true, event.timestamp, "consent granted"), batch);
      }
    }
    if (!destination.WantsEvent(type, event.event)) continue;
    // The row names the event's log position and delivery reads the event from the log: a copy
    // per destination made the outbox most of what was written, and compacted, while a
    // destination was down (`perf record -g` of benchmark row D2).
    OutboxItem item;
    item.kind = OutboxKind::kEvent;
    item.log_sequence = sequence;
    item.time = event.timestamp;
    item.message_id = event.message_id;
    item.profile_id = profile.id.value;
    if (destination.type == DestinationType::kKakaoAlimtalk) {
      // A message goes to the person's phone, with their traits in its template.
      DescribeProfile(profile, item);
      AppendTraitsJson(profile, item.traits_json);
    }
    Put(i, item, batch);
  }
}

void OutboxWriter::OnAudienceChange(const Profile& profile, const std::string& audience, bool entered,
                                    base::Timestamp time, std::string_view reason, rocksdb::WriteBatch& batch) {
  if (HeldOut(profile, audience)) return;
  for (size_t i = 0; i < destinations_.size(); ++i) {
    const DestinationSpec& destination = destinations_[i];
    if (!destination.WantsAudience(audience) || !Consents(destination, profile)) continue;
    Put(i, ChangeItem(profile, audience, entered, time, reason), batch);
  }
}

absl::Status OutboxWriter::Forget(const std::vector<uint64_t>& profile_ids, rocksdb::WriteBatch& batch) {
  for (const DestinationSpec& destination : destinations_) {
    for (ColumnFamily family : {ColumnFamily::kOutbox, ColumnFamily::kDeliveryDeadLetters}) {
      absl::Status failure = absl::OkStatus();
      absl::Status scanned = store_.ScanPrefix(
          family, OutboxPrefix(space_, destination.name), [&](std::string_view key, std::string_view value) {
            std::string row;
            if (family == ColumnFamily::kDeliveryDeadLetters) {
              absl::StatusOr<DeliveryDeadLetter> letter = DecodeDeliveryDeadLetter(value);
              if (!letter.ok()) {
                failure = letter.status();
                return;
              }
              row = std::move(letter->item);
              value = row;
            }
            absl::StatusOr<OutboxItem> item = DecodeOutboxItem(value);
            if (!item.ok()) {
              failure = item.status();
              return;
            }
            if (item->kind == OutboxKind::kAudienceExited) return;
            if (std::find(profile_ids.begin(), profile_ids.end(), item->profile_id) == profile_ids.end()) return;
            batch.Delete(store_.handle(family), rocksdb::Slice(key.data(), key.size()));
          });
      if (!scanned.ok()) return scanned;
      if (!failure.ok()) return failure;
    }
  }
  return absl::OkStatus();
}

void OutboxWriter::Committed() {
  for (size_t i = 0; i < cursors_.size(); ++i) {
    Cursor& cursor = cursors_[i];
    if (cursor.next == cursor.committed_next) continue;
    cursor.committed_next = cursor.next;
    if (listener_) listener_(destinations_[i].name, cursor.next - 1);
  }
}

void OutboxWriter::Aborted() {
  for (Cursor& cursor : cursors_) cursor.next = cursor.committed_next;
}

}  // namespace tessera::activation
