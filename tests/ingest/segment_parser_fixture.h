#pragma once

// The Segment parser tests' fixture: a parser, helpers that parse a body expecting success or a
// request error, the sample payloads of Segment's documentation, and descriptions of errors for
// failure messages. Shared by the segment_*_test.cc files.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "base/time.h"
#include "ingest/segment_parser.h"

#ifndef TESSERA_SHARED_DIR
#define TESSERA_SHARED_DIR "../shared"
#endif

namespace tessera::ingest {
namespace segment_parser_testing {

using std::chrono::milliseconds;

inline Timestamp At(std::string_view iso) {
  const std::optional<Timestamp> time = base::ParseIso8601(iso);
  if (!time) ADD_FAILURE() << "bad time in test: " << iso;
  return time.value_or(Timestamp{});
}

inline const Timestamp kReceivedAt = At("2024-05-01T12:00:00.000Z");

inline std::string ReadPayload(std::string_view name) {
  const std::string path = std::string(TESSERA_SHARED_DIR) + "/payloads/segment/" + std::string(name);
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    ADD_FAILURE() << "cannot read sample payload " << path;
    return {};
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

inline std::string Describe(const std::optional<FieldError>& error) {
  if (!error) return "no request error";
  return "request error {" + error->code + ", field \"" + error->field + "\", " + error->message + "}";
}

inline std::string Describe(const ParsedRequest& request) {
  std::string text = Describe(request.request_error);
  for (const RejectedEvent& rejected : request.rejected) {
    text += "; rejected #" + std::to_string(rejected.index) + " {" + rejected.error.code + ", field \"" +
            rejected.error.field + "\", " + rejected.error.message + "}";
  }
  return text;
}

class SegmentParserTest : public ::testing::Test {
 protected:
  ParsedRequest Parse(Endpoint endpoint, std::string body) {
    EnsurePadding(body);
    return parser_.Parse(endpoint, body, kReceivedAt);
  }

  // Parses a single-event body that must succeed, returning its event.
  CanonicalEvent ParseOne(Endpoint endpoint, std::string body) {
    const ParsedRequest request = Parse(endpoint, std::move(body));
    EXPECT_FALSE(request.request_error.has_value()) << Describe(request);
    EXPECT_EQ(request.events.size(), 1u) << Describe(request);
    if (request.events.size() != 1) return {};
    return request.events[0];
  }

  // Parses a single-event body that must fail, returning the request error.
  FieldError ParseError(Endpoint endpoint, std::string body) {
    const ParsedRequest request = Parse(endpoint, std::move(body));
    EXPECT_TRUE(request.request_error.has_value()) << "expected a request error for the body";
    EXPECT_TRUE(request.events.empty()) << "no event may be produced when the request fails";
    EXPECT_TRUE(request.rejected.empty()) << "single-event errors go to request_error, not rejected";
    return request.request_error.value_or(FieldError{});
  }

  SegmentParser parser_;
};

}  // namespace segment_parser_testing
}  // namespace tessera::ingest
