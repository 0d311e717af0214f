#include "base/coding.h"

#include <cstring>

namespace tessera::base {

void PutVarint64(std::string& out, uint64_t value) {
  char buffer[10];
  size_t size = 0;
  while (value >= 0x80) {
    buffer[size++] = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  buffer[size++] = static_cast<char>(value);
  out.append(buffer, size);
}

void PutVarintSigned64(std::string& out, int64_t value) {
  PutVarint64(out, (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
}

void PutFixed64(std::string& out, uint64_t value) {
  char buffer[8];
  for (int i = 0; i < 8; ++i) buffer[i] = static_cast<char>(value >> (8 * i));
  out.append(buffer, 8);
}

void PutDouble(std::string& out, double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  PutFixed64(out, bits);
}

void PutLengthPrefixed(std::string& out, std::string_view bytes) {
  PutVarint64(out, bytes.size());
  out.append(bytes);
}

bool ByteReader::ReadByte(uint8_t& out) {
  if (rest_.empty()) return false;
  out = static_cast<uint8_t>(rest_.front());
  rest_.remove_prefix(1);
  return true;
}

bool ByteReader::ReadVarint64(uint64_t& out) {
  uint64_t value = 0;
  for (size_t i = 0; i < 10 && i < rest_.size(); ++i) {
    const uint64_t byte = static_cast<uint8_t>(rest_[i]);
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      // The tenth byte may only carry the top bit of a 64-bit value.
      if (i == 9 && byte > 1) return false;
      out = value;
      rest_.remove_prefix(i + 1);
      return true;
    }
  }
  rest_ = {};
  return false;
}

bool ByteReader::ReadVarintSigned64(int64_t& out) {
  uint64_t zigzag = 0;
  if (!ReadVarint64(zigzag)) return false;
  out = static_cast<int64_t>((zigzag >> 1) ^ (~(zigzag & 1) + 1));
  return true;
}

bool ByteReader::ReadFixed64(uint64_t& out) {
  if (rest_.size() < 8) {
    rest_ = {};
    return false;
  }
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(static_cast<uint8_t>(rest_[i])) << (8 * i);
  out = value;
  rest_.remove_prefix(8);
  return true;
}

bool ByteReader::ReadDouble(double& out) {
  uint64_t bits = 0;
  if (!ReadFixed64(bits)) return false;
  std::memcpy(&out, &bits, sizeof(out));
  return true;
}

bool ByteReader::ReadLengthPrefixed(std::string_view& out) {
  uint64_t size = 0;
  if (!ReadVarint64(size)) return false;
  if (size > rest_.size()) {
    rest_ = {};
    return false;
  }
  out = rest_.substr(0, size);
  rest_.remove_prefix(size);
  return true;
}

bool ByteReader::ReadLengthPrefixed(std::string& out) {
  std::string_view view;
  if (!ReadLengthPrefixed(view)) return false;
  out.assign(view);
  return true;
}

std::string LowerHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char byte : bytes) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xf]);
  }
  return out;
}

}  // namespace tessera::base
