#pragma once

// StreamScrubber: erases from a space's stream what erasure makes unlawful to keep (docs/
// cluster.md): the messages of erased people (events carrying an identifier on the shared
// suppression list, as a resolver would read them) and erasure commands (which hold the
// identifier's value). The space's lease holder runs it, only up to a horizon every member that
// follows the space has applied (ClusterMember): a member behind the horizon would otherwise miss
// what it must still apply. Before erasing it has the space's scrub mark raised to the highest
// sequence it erases (ClusterSuppression::RaiseScrubbedThrough), and a store whose position is
// below that mark can no longer follow the stream (StreamFollower) and is restored from a newer
// backup.
//
// Messages are erased with JetStream's secure erase (overwritten, then deleted).
//
// Thread-safety: one Scrub at a time per scrubber.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "cluster/nats_connection.h"
#include "identity/normalizer.h"
#include "ingest/identifier_extractor.h"
#include "privacy/suppression.h"

namespace tessera::cluster {

struct ScrubReport {
  uint64_t scanned = 0;           // Messages read.
  uint64_t erased_events = 0;     // Events carrying a suppressed identifier.
  uint64_t erased_commands = 0;   // Erasure commands.
};

class StreamScrubber {
 public:
  // Every reference must outlive the scrubber.
  StreamScrubber(NatsConnection& nats, std::string space, const privacy::SuppressionList& list,
                 const ingest::IdentifierExtractor& extractor, const identity::Normalizer& normalizer);

  // Reads the stream's messages from sequence `from` through `through`, then, when any is to go,
  // calls `before_erasing` with the highest of them (to raise the scrub mark that far; an error
  // there erases nothing) and erases them. Unavailable when the stream could not be read to the
  // end (nothing erased); Cancelled when `stopping` turned true.
  absl::StatusOr<ScrubReport> Scrub(uint64_t from, uint64_t through,
                                    const std::function<absl::Status(uint64_t highest)>& before_erasing,
                                    const std::function<bool()>& stopping = [] { return false; });

 private:
  // Whether the message's record is to be erased, counting it in `report`.
  bool Unlawful(std::string_view record, ScrubReport& report) const;

  NatsConnection& nats_;
  const std::string space_;
  const privacy::SuppressionList& list_;
  const ingest::IdentifierExtractor& extractor_;
  const identity::Normalizer& normalizer_;
};

}  // namespace tessera::cluster
