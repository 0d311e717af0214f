#pragma once

// JSON pieces shared by the HTTP replies and the WebSocket acks, so that both transports describe
// errors and rejected events in exactly the same shape.

#include <string_view>
#include <vector>

#include "base/json_writer.h"
#include "ingest/event.h"
#include "ingest/segment_parser.h"

namespace tessera::api {

// "error":{"code":...,"message":...,"field":...}
void WriteErrorMember(base::JsonWriter& json, std::string_view code, std::string_view message,
                      std::string_view field);

// "rejected":[{"index","messageId","code","message","field"}, ...]
void WriteRejectedMember(base::JsonWriter& json, const std::vector<ingest::RejectedEvent>& rejected);

// The arrival time stamped on events, at the precision events carry.
ingest::Timestamp ReceivedNow();

}  // namespace tessera::api
