// A NATS subject for in-house consumers (activation/nats_publisher.h carries it): each item is one
// message, its JSON the item as a Segment event (events as accepted, audience changes as their
// "Audience Entered" / "Audience Exited" track events), published in outbox order to
// options.subject with a message id that is the same on every retry and replay: the event's log
// position, or the audience change's id. With options.jetstream the subject must belong to a
// JetStream stream, which stores each id once within its duplicate window. Service events go
// without the free text the destination does not name (internal::ItemAsEvent).

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "activation/internal/format_support.h"
#include "activation/internal/formats.h"

namespace tessera::activation::internal {
namespace {

// A subject to publish to: dot-separated tokens, none empty, no wildcards or white space.
bool PublishableSubject(std::string_view subject) {
  if (subject.empty() || subject.size() > 255 || subject.front() == '.' || subject.back() == '.') return false;
  char previous = '\0';
  for (char c : subject) {
    if (c == '*' || c == '>' || c <= ' ' || c == 127 || (c == '.' && previous == '.')) return false;
    previous = c;
  }
  return true;
}

absl::StatusOr<std::string> ReadSubject(const DestinationSpec& destination) {
  absl::StatusOr<OptionsReader> options = OptionsReader::Parse(destination);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::string> subject = options->String("subject", "the subject to publish to");
  if (!subject.ok()) return subject.status();
  if (!PublishableSubject(*subject)) {
    return absl::InvalidArgumentError("options.subject: dot-separated tokens without wildcards or spaces");
  }
  if (absl::StatusOr<bool> jetstream = options->Bool("jetstream"); !jetstream.ok()) return jetstream.status();
  return *subject;
}

}  // namespace

absl::Status ValidateNatsSubject(const DestinationSpec& destination) { return ReadSubject(destination).status(); }

bool NatsUsesJetStream(const DestinationSpec& destination) {
  absl::StatusOr<OptionsReader> options = OptionsReader::Parse(destination);
  if (!options.ok()) return false;
  absl::StatusOr<bool> jetstream = options->Bool("jetstream");
  return jetstream.ok() && *jetstream;
}

FormatResult FormatNatsSubject(const RequestContext& context, const std::vector<OutboxItem>& items) {
  absl::StatusOr<std::string> subject = ReadSubject(context.destination);
  if (!subject.ok()) return subject.status();
  OutgoingRequest request;
  request.target = *subject;
  request.messages.reserve(items.size());
  for (const OutboxItem& item : items) {
    OutgoingMessage message;
    message.id = item.kind == OutboxKind::kEvent
                     ? absl::StrCat(context.destination.space, ":", item.log_sequence)
                     : item.message_id;
    absl::StatusOr<std::string> body = ItemAsEvent(context.destination, item);
    if (!body.ok()) return body.status();
    message.body = *std::move(body);
    request.messages.push_back(std::move(message));
  }
  return std::optional<OutgoingRequest>(std::move(request));
}

}  // namespace tessera::activation::internal
