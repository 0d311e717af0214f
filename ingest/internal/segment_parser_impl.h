#pragma once

// Internal to the Segment parser: SegmentParser::Impl, the state one parser reuses from request to
// request, and the walk's output types. Impl's members are defined by concept: segment_parser.cc
// (the entry point, single-event endpoints, the root object), segment_batch.cc (the batch
// envelope), segment_stream_frame.cc (WebSocket frames), segment_event.cc (one event) and
// segment_json_walk.cc (validating and minifying JSON values).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_writer.h"
#include "ingest/internal/segment_fields.h"
#include "ingest/segment_parser.h"
#include "simdjson.h"

namespace tessera::ingest {
namespace internal {

using base::JsonWriter;

// Where Walk writes: the text and the writer appending to it (which tracks where commas go).
struct Output {
  explicit Output(std::string& text_in) : text(text_in), writer(text_in) {}
  std::string& text;
  JsonWriter writer;
};

// A member of a walked top-level object: its key and where its minified value sits in the output.
struct MemberSpan {
  std::string_view key;  // Unescaped; points into the parser's string buffer.
  size_t value_begin = 0;
  size_t value_end = 0;
};

}  // namespace internal

struct SegmentParser::Impl {
  // The walk's output types, shared with the free helpers of internal::.
  using Output = internal::Output;
  using MemberSpan = internal::MemberSpan;

  explicit Impl(SegmentParserOptions options) : options_(options) {}

  // Where the body lives for this request and how far readable memory extends past it.
  struct Input {
    const char* data = nullptr;
    size_t size = 0;
    const char* end_of_capacity = nullptr;
  };

  // A batch element, as found by the request-level pass.
  struct Element {
    std::string_view raw;  // The object's JSON text; empty when the element is not an object.
    od::json_type type = od::json_type::object;
  };

  // Batch-level defaults that apply to every event of the batch.
  struct BatchDefaults {
    std::optional<Timestamp> sent_at;
    const std::string* context = nullptr;  // Minified object, when the batch has one.
    const std::string* integrations = nullptr;
  };

  ParsedRequest Parse(Endpoint endpoint, const std::string& body, Timestamp received_at);
  void ParseSingle(const Input& input, EventType type, Timestamp received_at, ParsedRequest& result);
  void ParseBatch(const Input& input, Timestamp received_at, ParsedRequest& result);
  // The batch envelope `object` (the root of `doc`, opened by OpenRootObject): locates the elements,
  // reads the batch-level members, then parses each element.
  void ParseBatchEnvelope(const Input& input, od::document& doc, od::object& object, Timestamp received_at,
                          ParsedRequest& result);
  void ParseStreamFrame(const Input& input, Timestamp received_at, ParsedRequest& result);

  // Parses the event object in `raw`; false with `error` (and `client_message_id` when it could be
  // read) when it is invalid. Error paths start with element_path_: "" for a single event, "batch[i]".
  bool ParseEvent(std::string_view raw, const Input& input, std::optional<EventType> endpoint_type,
                  const BatchDefaults* batch, Timestamp received_at, CanonicalEvent& event, FieldError& error,
                  std::string& client_message_id, std::string* write_key);

  // Validates `value` and writes it minified to `out`. On failure returns false and leaves the
  // code and detail in walk_code_ / walk_detail_ and the path below `value` in walk_path_ (innermost
  // first). Records top-level members in `members` when it is not null.
  bool Walk(od::value value, Output& out, int depth, std::vector<MemberSpan>* members);
  bool WalkFail(std::string_view code, std::string detail);
  // Walks an object-valued member (traits, context...) into `out`; "null" leaves `out` empty.
  bool ReadObjectMember(od::value value, std::string_view path_prefix, std::string_view name,
                        std::string& out, std::vector<MemberSpan>* members, FieldError& error);
  // Starts parsing the whole body with request_parser_ and opens its root object; false with
  // `error` when the body is not JSON or not an object (`expected` describes what should be).
  bool OpenRootObject(const Input& input, std::string_view expected, od::document& doc, od::object& object,
                      FieldError& error);
  // For a body that is not an object: whether it is at least valid JSON (then the error is
  // invalid_type, else invalid_json).
  bool RootIsValidJson(od::document& doc, od::json_type type);
  // Validates a member whose content is not used.
  bool SkipMember(od::value value, std::string_view path_prefix, std::string_view name, FieldError& error);

  SegmentParserOptions options_;
  od::parser request_parser_;  // The batch envelope.
  od::parser event_parser_;    // One event at a time.
  std::string padded_copy_;    // Only when the caller's body lacks padding.
  std::string scratch_;        // Output of members that are validated but not kept.
  std::vector<Element> elements_;
  std::vector<MemberSpan> context_members_;
  std::vector<MemberSpan> integrations_members_;
  std::vector<MemberSpan> batch_context_members_;
  std::vector<MemberSpan> batch_integrations_members_;
  std::string batch_context_;
  std::string batch_integrations_;
  std::string element_path_;
  std::string_view walk_code_;
  std::string walk_detail_;
  std::vector<std::string> walk_path_;
};

}  // namespace tessera::ingest
