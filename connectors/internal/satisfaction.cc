#include "connectors/internal/satisfaction.h"

#include <array>
#include <utility>

#include "connectors/internal/text.h"

namespace tessera::connectors::internal {

std::string_view SatisfactionFromWord(std::string_view lowered) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kRatings = {{
      {"good", "good"},
      {"good, i'm satisfied", "good"},
      {"awesome", "good"},
      {"happy", "good"},
      {"very happy", "good"},
      {"extremely happy", "good"},
      {"satisfied", "good"},
      {"positive", "good"},
      {"bad", "bad"},
      {"bad, i'm unsatisfied", "bad"},
      {"not good", "bad"},
      {"unhappy", "bad"},
      {"very unhappy", "bad"},
      {"extremely unhappy", "bad"},
      {"dissatisfied", "bad"},
      {"negative", "bad"},
  }};
  return EventNameFor(kRatings, lowered, "");
}

}  // namespace tessera::connectors::internal
