#pragma once

// Checks every fuzz target makes on a parser's result, beyond "did not crash": the promises of
// ingest/segment_parser.h and connectors/connector.h that the rest of Tessera relies on. A broken
// promise aborts, so libFuzzer keeps the input like any crash.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/segment_parser.h"
#include "simdjson.h"

namespace tessera::fuzz {

[[noreturn]] inline void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz check failed: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// An integer literal as JSON writes it: -?(0|[1-9][0-9]*).
inline bool IsJsonIntegerText(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  if (text.empty() || (text.front() == '0' && text.size() > 1)) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Every value of `value`, recursively, is valid JSON. Integers beyond 64 bits count as valid: they
// are JSON, Tessera keeps clients' long ids as written, and simdjson 3.0 only refuses to convert them.
inline bool IsValidJsonValue(simdjson::ondemand::value value) {
  namespace od = simdjson::ondemand;
  od::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (value.get_object().get(object) != simdjson::SUCCESS) return false;
      for (auto field : object) {
        std::string_view key;
        od::value member;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(member) != simdjson::SUCCESS ||
            !IsValidJsonValue(member)) {
          return false;
        }
      }
      return true;
    }
    case od::json_type::array: {
      od::array array;
      if (value.get_array().get(array) != simdjson::SUCCESS) return false;
      for (auto item : array) {
        od::value element;
        if (item.get(element) != simdjson::SUCCESS || !IsValidJsonValue(element)) return false;
      }
      return true;
    }
    case od::json_type::number: {
      std::string_view token = value.raw_json_token();
      while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                                token.back() == '\t')) {
        token.remove_suffix(1);
      }
      od::number number;
      return value.get_number().get(number) == simdjson::SUCCESS || IsJsonIntegerText(token);
    }
    case od::json_type::string: {
      std::string_view text;
      return value.get_string().get(text) == simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool flag = false;
      return value.get_bool().get(flag) == simdjson::SUCCESS;
    }
    case od::json_type::null: {
      bool is_null = false;
      return value.is_null().get(is_null) == simdjson::SUCCESS && is_null;
    }
  }
  return false;
}

// traits / properties / context / integrations are stored and served as they are, without another
// parse: they must be one valid (UTF-8) JSON object each, or empty.
inline void CheckJsonObject(const char* what, const std::string& json) {
  if (json.empty()) return;
  thread_local simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  bool valid = parser.iterate(padded).get(doc) == simdjson::SUCCESS && doc.get_object().get(object) == simdjson::SUCCESS;
  if (valid) {
    doc.rewind();
    simdjson::ondemand::value root;
    // A document's root as a value, so that the same walk checks it; then nothing may follow it.
    valid = doc.get_value().get(root) == simdjson::SUCCESS && IsValidJsonValue(root);
    const char* trailing = nullptr;
    valid = valid && doc.current_location().get(trailing) != simdjson::SUCCESS;
  }
  if (!valid) Fail(what, json);
}

inline void CheckParsedRequest(const ingest::ParsedRequest& parsed) {
  if (parsed.request_error && !parsed.events.empty()) Fail("request_error with events");
  if (parsed.request_error && parsed.request_error->code.empty()) Fail("request_error without a code");
  if (parsed.index_of.size() != parsed.events.size()) Fail("index_of and events differ in size");
  for (const ingest::RejectedEvent& rejected : parsed.rejected) {
    if (rejected.error.code.empty()) Fail("rejected event without a code");
  }
  for (const ingest::CanonicalEvent& event : parsed.events) {
    if (event.message_id.empty()) Fail("event without a message_id");
    CheckJsonObject("traits", event.traits);
    CheckJsonObject("properties", event.properties);
    CheckJsonObject("context", event.context);
    CheckJsonObject("integrations", event.integrations);
  }
}

}  // namespace tessera::fuzz
