#pragma once

// JSON pieces shared by the HTTP replies and the WebSocket acks, so that both transports describe
// errors and rejected events in exactly the same shape.

#include <string_view>
#include <vector>

#include "ingest/event.h"
#include "ingest/segment_parser.h"
#include "profile_store/json_writer.h"

namespace tessera::api {

// "error":{"code":...,"message":...,"field":...}
void WriteErrorMember(profile_store::JsonWriter& json, std::string_view code, std::string_view message,
                      std::string_view field);

// "rejected":[{"index","messageId","code","message","field"}, ...]
void WriteRejectedMember(profile_store::JsonWriter& json, const std::vector<ingest::RejectedEvent>& rejected);

// The arrival time stamped on events, at the precision events carry.
ingest::Timestamp ReceivedNow();

}  // namespace tessera::api
