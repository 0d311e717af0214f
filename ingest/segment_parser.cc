// The Segment parser's entry point (ingest/segment_parser.h): the padding simdjson needs, the
// dispatch on the endpoint, single-event endpoints (/v1/track, /identify, /page, /screen, /group,
// /alias), and opening the body's root object.

#include "ingest/segment_parser.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "ingest/internal/segment_fields.h"
#include "ingest/internal/segment_parser_impl.h"
#include "simdjson.h"

namespace tessera::ingest {
namespace {

std::optional<EventType> EndpointType(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kTrack:
      return EventType::kTrack;
    case Endpoint::kIdentify:
      return EventType::kIdentify;
    case Endpoint::kPage:
      return EventType::kPage;
    case Endpoint::kScreen:
      return EventType::kScreen;
    case Endpoint::kGroup:
      return EventType::kGroup;
    case Endpoint::kAlias:
      return EventType::kAlias;
    case Endpoint::kBatch:
    case Endpoint::kStream:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

using internal::DescribeType;
using internal::InvalidJsonDetail;
using internal::MakeError;
using internal::TrimJsonWhitespace;

size_t RequiredPadding() { return simdjson::SIMDJSON_PADDING; }

void EnsurePadding(std::string& body) {
  // Growing then shrinking the size leaves the capacity in place and the padding bytes zeroed, so
  // simdjson never reads uninitialized memory past the end.
  const size_t size = body.size();
  body.resize(size + simdjson::SIMDJSON_PADDING);
  body.resize(size);
}

void SegmentParser::Impl::ParseSingle(const Input& input, EventType type, Timestamp received_at,
                                      ParsedRequest& result) {
  result.event_count = 1;
  if (input.size > options_.max_event_bytes) {
    result.request_error = MakeError(error_code::kEventTooLarge, "",
                                     "the event is " + std::to_string(input.size) + " bytes; at most " +
                                         std::to_string(options_.max_event_bytes) + " are accepted");
    return;
  }
  element_path_.clear();
  const std::string_view raw = TrimJsonWhitespace(std::string_view(input.data, input.size));
  CanonicalEvent event;
  FieldError error;
  std::string client_message_id;
  if (!ParseEvent(raw, input, type, nullptr, received_at, event, error, client_message_id,
                  &result.write_key)) {
    result.request_error = std::move(error);
    return;
  }
  result.events.push_back(std::move(event));
  result.index_of.push_back(0);
}

bool SegmentParser::Impl::OpenRootObject(const Input& input, std::string_view expected, od::document& doc,
                                         od::object& object, FieldError& error) {
  if (auto e = request_parser_
                   .iterate(input.data, input.size, static_cast<size_t>(input.end_of_capacity - input.data))
                   .get(doc)) {
    error =
        MakeError(error_code::kInvalidJson, "",
                  e == simdjson::EMPTY ? "the body is empty; expected a JSON object" : InvalidJsonDetail(e));
    return false;
  }
  od::json_type doc_type;
  if (auto e = doc.type().get(doc_type)) {
    error = MakeError(error_code::kInvalidJson, "", InvalidJsonDetail(e));
    return false;
  }
  if (doc_type != od::json_type::object) {
    if (!RootIsValidJson(doc, doc_type)) {
      error = MakeError(error_code::kInvalidJson, "", "not valid JSON; expected an object");
      return false;
    }
    error = MakeError(error_code::kInvalidType, "",
                      "expected " + std::string(expected) + ", got " + std::string(DescribeType(doc_type)));
    return false;
  }
  if (auto e = doc.get_object().get(object)) {
    error = MakeError(error_code::kInvalidJson, "", InvalidJsonDetail(e));
    return false;
  }
  return true;
}

ParsedRequest SegmentParser::Impl::Parse(Endpoint endpoint, const std::string& body, Timestamp received_at) {
  ParsedRequest result;
  Input input;
  if (body.capacity() - body.size() >= simdjson::SIMDJSON_PADDING) {
    input = {body.data(), body.size(), body.data() + body.capacity()};
  } else {
    // The caller skipped EnsurePadding: parse a padded copy rather than read past the allocation.
    padded_copy_.assign(body);
    EnsurePadding(padded_copy_);
    input = {padded_copy_.data(), padded_copy_.size(), padded_copy_.data() + padded_copy_.capacity()};
  }
  if (const std::optional<EventType> type = EndpointType(endpoint)) {
    ParseSingle(input, *type, received_at, result);
  } else if (endpoint == Endpoint::kStream) {
    ParseStreamFrame(input, received_at, result);
  } else {
    ParseBatch(input, received_at, result);
  }
  return result;
}

SegmentParser::SegmentParser(SegmentParserOptions options) : impl_(std::make_unique<Impl>(options)) {}

SegmentParser::~SegmentParser() = default;

ParsedRequest SegmentParser::Parse(Endpoint endpoint, const std::string& body, Timestamp received_at) {
  return impl_->Parse(endpoint, body, received_at);
}

}  // namespace tessera::ingest
