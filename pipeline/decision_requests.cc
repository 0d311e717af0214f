// IngestPipeline::LogDecision: an admin's stewardship decision into the log (docs/stewardship.md).

#include <future>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ingest/dedup_window.h"
#include "ingest/log_command.h"
#include "openssl/rand.h"
#include "pipeline/ingest_pipeline.h"
#include "profile_store/profile_reader.h"

namespace tessera::pipeline {
namespace {

std::string NewDecisionId() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // Uniqueness, not secrecy, is what matters here; the clock is a fine fallback.
    const uint64_t now = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(now >> (8 * i));
  }
  return absl::StrCat("sd_", absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), 8)));
}

}  // namespace

absl::StatusOr<IngestPipeline::LoggedDecision> IngestPipeline::LogDecision(std::string_view space,
                                                                           const DecisionRequest& request) {
  if (sink_ == nullptr) {
    return absl::UnimplementedError(
        "this member takes no events (its cluster role applies the stream only); send decisions to a gateway");
  }
  const bool publishes = outside_sink_ != nullptr;  // A cluster gateway: through the stream.
  const bool served = publishes
                          ? std::find(options_.spaces.begin(), options_.spaces.end(), space) != options_.spaces.end()
                          : resolver(space) != nullptr;
  if (!served || normalizer_ == nullptr) {
    return absl::NotFoundError(absl::StrCat("no space \"", std::string(space), "\" is served here"));
  }
  if (!request.phone_region.empty() && !identity::Normalizer::IsSupportedPhoneRegion(request.phone_region)) {
    return absl::InvalidArgumentError(absl::StrCat("region: \"", request.phone_region,
                                                   "\" is not a region libphonenumber supports, such as \"KR\""));
  }
  ingest::StewardshipCommand command;
  command.kind = request.kind;
  const profile_store::ProfileReader reader(store_);
  for (const auto& [name, given, normalized] :
       {std::tuple("a", &request.a, &command.a), std::tuple("b", &request.b, &command.b)}) {
    identity::NormalizedValue value = normalizer_->Normalize(
        given->type, given->value, identity::PhoneContext{.country = request.phone_region});
    if (value.outcome != identity::NormalizedValue::Outcome::kOk) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", value.reason));
    }
    *normalized = identity::Identifier{given->type, std::move(value.value)};
    // A gateway holds no profiles: the members' resolvers skip a decision on one nobody holds.
    if (publishes) continue;
    absl::StatusOr<std::optional<profile_store::Profile>> holder =
        reader.FindByIdentifier(space, normalized->type, normalized->value);
    if (!holder.ok()) return holder.status();
    if (!holder->has_value()) {
      return absl::NotFoundError(absl::StrCat(name, ": no profile holds this ", given->type));
    }
  }
  if (command.a == command.b) return absl::InvalidArgumentError("a and b name the same identifier");
  command.request_id = NewDecisionId();
  command.requested_by = request.requested_by;
  command.note = request.note;
  command.requested_at =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());

  ingest::LogEntry entry{.space = std::string(space),
                         .dedup_key = ingest::CommandDedupKey(space, command.request_id),
                         .record = {},
                         .received_at = command.requested_at};
  ingest::EncodeStewardshipCommand(command, entry.record);
  auto committed = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> outcome = committed->get_future();
  std::vector<ingest::LogEntry> entries;
  entries.push_back(std::move(entry));
  absl::Status submitted =
      sink_->Submit(std::move(entries), [committed](absl::Status status, std::vector<ingest::EventOutcome>) {
        committed->set_value(std::move(status));
      });
  if (!submitted.ok()) return submitted;
  // The sink answers within its commit (or publish) timeout.
  if (absl::Status status = outcome.get(); !status.ok()) return status;
  LoggedDecision logged;
  if (publishes) {
    logged.position = sink_->acknowledged_position(space);
  } else {
    // The dedup entry the writer made for it holds its sequence (first receive time, sequence).
    absl::StatusOr<std::string> dedup =
        store_.Get(profile_store::ColumnFamily::kDedup, ingest::CommandDedupKey(space, command.request_id));
    if (!dedup.ok()) return dedup.status();
    if (dedup->size() != 16) return absl::DataLossError("dedup entry of a decision: expected 16 bytes");
    logged.sequence = profile_store::ReadBigEndian64(std::string_view(*dedup).substr(8));
  }
  logged.command = std::move(command);
  return logged;
}

}  // namespace tessera::pipeline
