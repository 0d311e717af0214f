#pragma once

// What the wire formats' tests share: members to send and the form-encoded bodies read back.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "activation/outbox.h"

namespace tessera::activation {

// The inverse of application/x-www-form-urlencoded, for reading the body back.
inline std::string FormDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

inline std::string FormField(const std::string& body, std::string_view name) {
  for (size_t at = 0; at < body.size();) {
    size_t end = body.find('&', at);
    if (end == std::string::npos) end = body.size();
    std::string_view pair(body.data() + at, end - at);
    if (pair.starts_with(std::string(name) + "=")) return FormDecode(pair.substr(name.size() + 1));
    at = end + 1;
  }
  return "<absent>";
}

inline OutboxItem Member(OutboxKind kind, std::vector<std::pair<std::string, std::string>> identifiers) {
  OutboxItem item;
  item.kind = kind;
  item.profile_id = 7;
  item.audience = "vip";
  item.identifiers = std::move(identifiers);
  return item;
}

}  // namespace tessera::activation
