// The batch envelope (/v1/batch, and WebSocket frames that carry a "batch"): the envelope's members
// (writeKey, sentAt, context, integrations that apply to every event), the limits on the batch, and
// each element parsed on its own, a bad one rejected by its index without sinking the others.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ingest/internal/segment_fields.h"
#include "ingest/internal/segment_parser_impl.h"

namespace tessera::ingest {

using internal::DescribeType;
using internal::FindTopLevelString;
using internal::InvalidJsonDetail;
using internal::KeyAndValue;
using internal::MakeError;
using internal::ReadString;
using internal::ReadTimestamp;
using internal::TrimJsonWhitespace;

void SegmentParser::Impl::ParseBatch(const Input& input, Timestamp received_at, ParsedRequest& result) {
  od::document doc;
  od::object object;
  FieldError error;
  if (!OpenRootObject(input, "an object with a \"batch\" array", doc, object, error)) {
    result.request_error = std::move(error);
    return;
  }
  ParseBatchEnvelope(input, doc, object, received_at, result);
}

void SegmentParser::Impl::ParseBatchEnvelope(const Input& input, od::document& doc, od::object& object,
                                             Timestamp received_at, ParsedRequest& result) {
  auto fail = [&result, &doc](FieldError error) {
    result.request_error = std::move(error);
    result.events.clear();
    result.index_of.clear();
    result.rejected.clear();
    result.event_count = 0;
    // The writeKey may come after the bad member; with it the HTTP layer can answer 400, not 401.
    if (result.write_key.empty()) result.write_key.assign(FindTopLevelString(doc, "writeKey"));
  };
  FieldError error;

  elements_.clear();
  batch_context_.clear();
  batch_integrations_.clear();
  batch_context_members_.clear();
  batch_integrations_members_.clear();
  std::optional<Timestamp> batch_sent_at;
  bool saw_batch = false;
  for (auto field : object) {
    std::string_view key;
    od::value value;
    simdjson::error_code e = KeyAndValue(field, key, value);
    if (e != simdjson::SUCCESS) return fail(MakeError(error_code::kInvalidJson, "", InvalidJsonDetail(e)));
    if (key == "batch") {
      saw_batch = true;
      elements_.clear();
      od::json_type type;
      if ((e = value.type().get(type)))
        return fail(MakeError(error_code::kInvalidJson, "batch", InvalidJsonDetail(e)));
      if (type != od::json_type::array) {
        std::string detail = "expected an array of events, got ";
        detail.append(DescribeType(type));
        return fail(MakeError(error_code::kInvalidType, "batch", detail));
      }
      od::array array;
      if ((e = value.get_array().get(array))) {
        return fail(MakeError(error_code::kInvalidJson, "batch", InvalidJsonDetail(e)));
      }
      // Only locate each element here: events are parsed after the envelope, because the batch's
      // sentAt / context / integrations may come after "batch" and apply to every event.
      for (auto element_result : array) {
        const auto element_field = [this] { return "batch[" + std::to_string(elements_.size()) + "]"; };
        od::value element;
        if ((e = element_result.get(element))) {
          return fail(MakeError(error_code::kInvalidJson, element_field(), InvalidJsonDetail(e)));
        }
        if (elements_.size() == options_.max_batch_events) {
          return fail(MakeError(error_code::kInvalidValue, "batch",
                                "more than " + std::to_string(options_.max_batch_events) +
                                    " events; split the batch into smaller requests"));
        }
        od::json_type element_type;
        if ((e = element.type().get(element_type))) {
          return fail(MakeError(error_code::kInvalidJson, element_field(), InvalidJsonDetail(e)));
        }
        std::string_view raw;
        if (element_type == od::json_type::object) {
          od::object element_object;
          if ((e = element.get_object().get(element_object)) || (e = element_object.raw_json().get(raw))) {
            return fail(MakeError(error_code::kInvalidJson, element_field(), InvalidJsonDetail(e)));
          }
          raw = TrimJsonWhitespace(raw);
        }
        elements_.push_back({raw, element_type});
      }
    } else if (key == "writeKey") {
      if (!ReadString(value, "", key, result.write_key, error)) return fail(std::move(error));
    } else if (key == "sentAt") {
      if (!ReadTimestamp(value, "", key, batch_sent_at, error)) return fail(std::move(error));
    } else if (key == "context") {
      if (!ReadObjectMember(value, "", key, batch_context_, &batch_context_members_, error))
        return fail(std::move(error));
    } else if (key == "integrations") {
      if (!ReadObjectMember(value, "", key, batch_integrations_, &batch_integrations_members_, error)) {
        return fail(std::move(error));
      }
    } else if (!SkipMember(value, "", key, error)) {
      return fail(std::move(error));
    }
  }
  const char* location = nullptr;
  if (doc.current_location().get(location) == simdjson::SUCCESS) {
    return fail(MakeError(error_code::kInvalidJson, "", "unexpected content after the JSON object"));
  }
  if (!saw_batch)
    return fail(MakeError(error_code::kMissingField, "batch", "required: an array of event objects"));

  result.event_count = elements_.size();
  result.events.reserve(elements_.size());
  result.index_of.reserve(elements_.size());
  BatchDefaults defaults;
  defaults.sent_at = batch_sent_at;
  if (!batch_context_.empty()) defaults.context = &batch_context_;
  if (!batch_integrations_.empty()) defaults.integrations = &batch_integrations_;
  for (size_t i = 0; i < elements_.size(); ++i) {
    const Element& element = elements_[i];
    element_path_.assign("batch[").append(std::to_string(i)).append("]");
    if (element.type != od::json_type::object) {
      std::string detail = "expected an event object, got ";
      detail.append(DescribeType(element.type));
      result.rejected.push_back({i, "", MakeError(error_code::kInvalidType, element_path_, detail)});
      continue;
    }
    if (element.raw.size() > options_.max_event_bytes) {
      result.rejected.push_back(
          {i, "",
           MakeError(error_code::kEventTooLarge, element_path_,
                     "the event is " + std::to_string(element.raw.size()) + " bytes; at most " +
                         std::to_string(options_.max_event_bytes) + " are accepted")});
      continue;
    }
    CanonicalEvent& event = result.events.emplace_back();
    RejectedEvent rejected;
    rejected.index = i;
    if (ParseEvent(element.raw, input, std::nullopt, &defaults, received_at, event, rejected.error,
                   rejected.message_id, nullptr)) {
      result.index_of.push_back(i);
    } else {
      result.events.pop_back();
      result.rejected.push_back(std::move(rejected));
    }
  }
}

}  // namespace tessera::ingest
