// Validating and minifying JSON values for the Segment parser: Walk checks a value (bounded
// nesting, strict literals and numbers) while writing it minified, and names the path of the first
// problem; object members (traits, properties, context, integrations), members that are only
// validated, and whether a body that is not an object is at least valid JSON are built on it.

#include <string>
#include <utility>
#include <vector>

#include "ingest/internal/segment_fields.h"
#include "ingest/internal/segment_parser_impl.h"

namespace tessera::ingest {
namespace {

// Deepest nesting accepted inside traits / properties / context / integrations (the object itself
// is level 1). Deeper documents are almost always abuse, and recursion must stay bounded.
constexpr int kMaxNestingDepth = 64;

}  // namespace

using internal::DescribeType;
using internal::InvalidJsonDetail;
using internal::IsJsonInteger;
using internal::IsValidNull;
using internal::JoinPath;
using internal::MakeError;
using internal::QuoteForMessage;
using internal::TrimJsonWhitespace;

bool SegmentParser::Impl::WalkFail(std::string_view code, std::string detail) {
  walk_code_ = code;
  walk_detail_ = std::move(detail);
  return false;
}

bool SegmentParser::Impl::Walk(od::value value, Output& out, int depth, std::vector<MemberSpan>* members) {
  od::json_type type;
  if (auto e = value.type().get(type)) return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
  switch (type) {
    case od::json_type::object: {
      if (depth > kMaxNestingDepth) {
        return WalkFail(error_code::kInvalidValue,
                        "nesting too deep (at most " + std::to_string(kMaxNestingDepth) + " levels)");
      }
      od::object object;
      if (auto e = value.get_object().get(object))
        return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
      out.writer.BeginObject();
      for (auto field : object) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key))
          return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
        out.writer.Key(key);
        od::value child;
        if (auto e = field.value().get(child))
          return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
        const size_t value_begin = out.text.size();
        if (!Walk(child, out, depth + 1, nullptr)) {
          std::string segment = ".";
          segment.append(key);
          walk_path_.push_back(std::move(segment));
          return false;
        }
        if (members != nullptr) members->push_back({key, value_begin, out.text.size()});
      }
      out.writer.EndObject();
      return true;
    }
    case od::json_type::array: {
      if (depth > kMaxNestingDepth) {
        return WalkFail(error_code::kInvalidValue,
                        "nesting too deep (at most " + std::to_string(kMaxNestingDepth) + " levels)");
      }
      od::array array;
      if (auto e = value.get_array().get(array))
        return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
      out.writer.BeginArray();
      size_t index = 0;
      for (auto element : array) {
        od::value child;
        if (auto e = element.get(child)) return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
        if (!Walk(child, out, depth + 1, nullptr)) {
          walk_path_.push_back("[" + std::to_string(index) + "]");
          return false;
        }
        ++index;
      }
      out.writer.EndArray();
      return true;
    }
    case od::json_type::string: {
      std::string_view text;
      if (auto e = value.get_string().get(text))
        return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
      out.writer.String(text);
      return true;
    }
    case od::json_type::number: {
      // Emit the client's own digits (no float round trip), after checking they are a number.
      const std::string_view token = TrimJsonWhitespace(value.raw_json_token());
      od::number number;
      // simdjson 3.0 refuses integers beyond 64 bits; they are still valid JSON (long ids).
      if (value.get_number().get(number) != simdjson::SUCCESS && !IsJsonInteger(token)) {
        return WalkFail(error_code::kInvalidJson, "invalid number " + QuoteForMessage(token));
      }
      out.writer.Raw(token);
      return true;
    }
    case od::json_type::boolean: {
      bool flag;
      if (auto e = value.get_bool().get(flag))
        return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
      out.writer.Bool(flag);
      return true;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (value.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
        return WalkFail(error_code::kInvalidJson,
                        "invalid literal " + QuoteForMessage(value.raw_json_token()));
      }
      out.writer.Null();
      return true;
    }
  }
  return WalkFail(error_code::kInvalidJson, "unrecognized value");
}

bool SegmentParser::Impl::ReadObjectMember(od::value value, std::string_view path_prefix,
                                           std::string_view name, std::string& out,
                                           std::vector<MemberSpan>* members, FieldError& error) {
  out.clear();
  if (members != nullptr) members->clear();
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(path_prefix, name), InvalidJsonDetail(e));
    return false;
  }
  if (type == od::json_type::null) {
    if (IsValidNull(value)) return true;
    error =
        MakeError(error_code::kInvalidJson, JoinPath(path_prefix, name), "not valid JSON (expected null)");
    return false;
  }
  if (type != od::json_type::object) {
    std::string detail = "expected an object, got ";
    detail.append(DescribeType(type));
    error = MakeError(error_code::kInvalidType, JoinPath(path_prefix, name), detail);
    return false;
  }
  walk_path_.clear();
  Output output(out);
  if (Walk(value, output, 1, members)) return true;
  std::string path = JoinPath(path_prefix, name);
  for (auto it = walk_path_.rbegin(); it != walk_path_.rend(); ++it) path.append(*it);
  error = MakeError(walk_code_, std::move(path), walk_detail_);
  return false;
}

bool SegmentParser::Impl::RootIsValidJson(od::document& doc, od::json_type type) {
  bool valid = false;
  switch (type) {
    case od::json_type::null: {
      bool is_null = false;
      valid = doc.is_null().get(is_null) == simdjson::SUCCESS && is_null;
      break;
    }
    case od::json_type::boolean: {
      bool flag;
      valid = doc.get_bool().get(flag) == simdjson::SUCCESS;
      break;
    }
    case od::json_type::number: {
      std::string_view token;
      od::number number;
      valid =
          doc.get_number().get(number) == simdjson::SUCCESS ||
          (doc.raw_json_token().get(token) == simdjson::SUCCESS && IsJsonInteger(TrimJsonWhitespace(token)));
      break;
    }
    case od::json_type::string: {
      std::string_view text;
      valid = doc.get_string().get(text) == simdjson::SUCCESS;
      break;
    }
    case od::json_type::array: {
      od::array array;
      if (doc.get_array().get(array) != simdjson::SUCCESS) return false;
      valid = true;
      for (auto element : array) {
        od::value value;
        scratch_.clear();
        Output output(scratch_);
        if (element.get(value) != simdjson::SUCCESS || !Walk(value, output, 2, nullptr)) {
          valid = false;
          break;
        }
      }
      break;
    }
    case od::json_type::object:
      return true;
  }
  const char* trailing = nullptr;
  return valid && doc.current_location().get(trailing) != simdjson::SUCCESS;
}

bool SegmentParser::Impl::SkipMember(od::value value, std::string_view path_prefix, std::string_view name,
                                     FieldError& error) {
  scratch_.clear();
  walk_path_.clear();
  Output output(scratch_);
  if (Walk(value, output, 1, nullptr)) return true;
  std::string path = JoinPath(path_prefix, name);
  for (auto it = walk_path_.rbegin(); it != walk_path_.rend(); ++it) path.append(*it);
  error = MakeError(walk_code_, std::move(path), walk_detail_);
  return false;
}

}  // namespace tessera::ingest
