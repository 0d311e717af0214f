#pragma once

// zlib compression for tests of compressed request bodies: gzip (window_bits 15 + 16), the zlib
// format (15) or raw deflate (-15), at the best compression, so that a test's "bomb" is small.

#include <zlib.h>

#include <string>
#include <string_view>

namespace tessera::testing {

inline std::string Compress(std::string_view data, int window_bits) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    return {};
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const bool finished = deflate(&stream, Z_FINISH) == Z_STREAM_END;
  out.resize(finished ? stream.total_out : 0);
  deflateEnd(&stream);
  return out;
}

inline std::string Gzip(std::string_view data) { return Compress(data, 15 + 16); }

}  // namespace tessera::testing
