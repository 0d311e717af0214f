#include "cluster/internal/nats_error.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace tessera::cluster::internal {

absl::Status FromNats(natsStatus status, std::string_view what, jsErrCode js_error) {
  if (status == NATS_OK) return absl::OkStatus();
  // The thread's last error carries the server's words (e.g. "insufficient resources"); the status
  // text alone is generic.
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  std::string message = absl::StrCat(std::string(what), ": ", natsStatus_GetText(status));
  if (detail != nullptr && *detail != '\0' && last == status) absl::StrAppend(&message, " (", detail, ")");
  if (js_error != 0) absl::StrAppend(&message, " [JetStream error ", static_cast<int>(js_error), "]");

  switch (js_error) {
    case JSStreamNotFoundErr:
    case JSConsumerNotFoundErr:
      return absl::NotFoundError(message);
    case JSStreamNameExistErr:
      return absl::AlreadyExistsError(message);
    case JSStreamWrongLastSequenceErr:
    case JSStreamWrongLastMsgIDErr:
      return absl::FailedPreconditionError(message);
    case JSClusterNoPeersErr:
    case JSInsufficientResourcesErr:
    case JSStreamStoreFailedErr:
      return absl::UnavailableError(message);
    default:
      break;
  }
  switch (status) {
    case NATS_NOT_FOUND:
      return absl::NotFoundError(message);
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_NOT_YET_CONNECTED:
    case NATS_SLOW_CONSUMER:
    case NATS_MAX_DELIVERED_MSGS:
    case NATS_INSUFFICIENT_BUFFER:  // Disconnected, with no reconnect buffer (nats_connection.cc).
      return absl::UnavailableError(message);
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace tessera::cluster::internal
