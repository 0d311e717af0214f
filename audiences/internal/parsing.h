#pragma once

// Internal to audiences/: the helpers every definition parser shares (computed traits, audience
// conditions, windows, event filters). They read a simdjson DOM and build errors that name the
// bad node by its JSON path and say what was expected and what was found, e.g.
//   InvalidArgument("condition.all[1].op: \"bigger\" is not one of eq, ne, ...").

#include <array>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "simdjson.h"

namespace tessera::audiences::internal {

namespace dom = simdjson::dom;
using dom::element;
using dom::element_type;

// The installed abseil has its own string_view type, which does not convert from std::string_view.
absl::string_view ToAbsl(std::string_view text);

template <size_t N>
std::string JoinNames(const std::array<std::string_view, N>& names) {
  return absl::StrJoin(names, ", ", [](std::string* out, std::string_view name) { out->append(name); });
}

// User text in a message: as a JSON string (escaped, so control characters cannot garble a log
// line), shortened so that a pasted blob does not drown the message.
std::string Quote(std::string_view text);

std::string Describe(element value);

bool IsNumber(element value);

std::string ChildPath(std::string_view parent, std::string_view key);
std::string IndexPath(std::string_view parent, size_t index);

absl::Status Invalid(std::string_view path, std::string_view reason);
absl::Status Expected(std::string_view path, std::string_view what, element got);

// The members of one JSON object, by key, after checking that every key is one of `known`.
// Unknown and repeated keys are errors: either means the definition does not say what its author
// thinks it says.
class Members {
 public:
  static absl::StatusOr<Members> Read(element value, std::string_view path, std::string_view what,
                                      std::initializer_list<std::string_view> known);

  std::optional<element> Get(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  bool Has(std::string_view key) const { return values_.contains(key); }
  // The keys present, in key order.
  std::vector<std::string_view> Keys() const {
    std::vector<std::string_view> keys;
    for (const auto& [key, value] : values_) keys.push_back(key);
    return keys;
  }

 private:
  std::map<std::string_view, element, std::less<>> values_;  // Keys point into the parser's strings.
};

absl::StatusOr<std::string> ReadString(element value, std::string_view path, bool allow_empty = false);

bool IsValidName(std::string_view name, bool allow_dash);

// A dotted path: non-empty segments separated by single dots.
bool IsDottedPath(std::string_view path);

// Minified text of a JSON document that simdjson has already accepted, keeping the author's tokens.
std::string Minified(std::string_view json);

}  // namespace tessera::audiences::internal
