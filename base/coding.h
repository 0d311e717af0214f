#pragma once

// Row encodings for what Tessera stores (log records, profiles, timeline entries): the primitives,
// in the manner of RocksDB's util/coding.h. Integers are varints (LEB128, 7 bits a byte, low first)
// or fixed-width little-endian; byte strings are a varint length followed by the bytes. Every row
// type starts with a version byte of its own (see profile_store/KEYS.md) and has one Encode/Decode
// pair; these helpers know nothing of rows.
//
// Keys are not encoded here: they keep big-endian integers so that byte order is numeric order.

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::base {

void PutVarint64(std::string& out, uint64_t value);
// Zig-zag, so that small negative numbers stay short.
void PutVarintSigned64(std::string& out, int64_t value);
void PutFixed64(std::string& out, uint64_t value);
void PutDouble(std::string& out, double value);
void PutLengthPrefixed(std::string& out, std::string_view bytes);

// Reads the primitives above from the front of a byte string. Every Read* returns false, and reads
// nothing more, once the input is short or malformed (a varint longer than 10 bytes); callers then
// report the row as damaged.
class ByteReader {
 public:
  explicit ByteReader(std::string_view input) : rest_(input) {}

  bool ReadByte(uint8_t& out);
  bool ReadVarint64(uint64_t& out);
  bool ReadVarintSigned64(int64_t& out);
  bool ReadFixed64(uint64_t& out);
  bool ReadDouble(double& out);
  // `out` views the input: valid as long as it is.
  bool ReadLengthPrefixed(std::string_view& out);
  bool ReadLengthPrefixed(std::string& out);

  bool empty() const { return rest_.empty(); }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

// Bytes as lower-case hexadecimal, two characters per byte (ids, keys, digests in text).
std::string LowerHex(std::string_view bytes);

}  // namespace tessera::base
