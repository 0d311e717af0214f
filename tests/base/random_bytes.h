#pragma once

// Random byte strings for text-handling tests, biased towards the bytes a test names as
// interesting (ASCII specials, UTF-8 lead and continuation bytes at their range edges) so that
// every branch is hit often, with uniformly random bytes mixed in.

#include <random>
#include <span>
#include <string>

namespace tessera::base::testing {

// Up to 40 bytes; each is one of `interesting` or, with weight `any_byte_slots` against one
// slot per interesting byte, any byte.
inline std::string RandomBytes(std::mt19937& random, std::span<const unsigned char> interesting,
                               int any_byte_slots) {
  std::uniform_int_distribution<int> length(0, 40);
  std::uniform_int_distribution<int> pick(0, static_cast<int>(interesting.size()) + any_byte_slots - 1);
  std::uniform_int_distribution<int> any_byte(0, 255);
  std::string bytes;
  const int n = length(random);
  for (int k = 0; k < n; ++k) {
    const int choice = pick(random);
    bytes.push_back(static_cast<char>(choice < static_cast<int>(interesting.size()) ? interesting[choice]
                                                                                   : any_byte(random)));
  }
  return bytes;
}

}  // namespace tessera::base::testing
