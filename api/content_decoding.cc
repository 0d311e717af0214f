#include "api/content_decoding.h"

#include <zlib.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tessera::api {
namespace {

enum class Coding { kGzip, kDeflate, kIdentity };

// Layers of encoding beyond this are not a real client's; refuse rather than loop.
constexpr size_t kMaxCodings = 4;
// Output starts at this much (or the limit, if smaller) and doubles.
constexpr size_t kOutputStep = 64 * 1024;

// zlib's windowBits: 15 is the largest window, +16 reads gzip, negative reads raw deflate.
constexpr int kZlibWindowBits = 15;
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kRawDeflateWindowBits = -15;

bool LooksLikeZlibHeader(std::string_view data) {
  if (data.size() < 2) return false;
  const auto cmf = static_cast<unsigned char>(data[0]);
  const auto flg = static_cast<unsigned char>(data[1]);
  return (cmf & 0x0F) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0;
}

bool IsGzipMagic(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1F &&
         static_cast<unsigned char>(data[1]) == 0x8B;
}

// Inflates `input` with zlib into `output`, at most `limit` bytes.
absl::Status Inflate(Coding coding, std::string_view input, size_t limit, std::string& output) {
  const int window_bits = coding == Coding::kGzip      ? kGzipWindowBits
                          : LooksLikeZlibHeader(input) ? kZlibWindowBits
                                                       : kRawDeflateWindowBits;
  const char* const name = coding == Coding::kGzip ? "gzip" : "deflate";
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) {
    return absl::InternalError("cannot start a zlib inflater");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  output.clear();
  size_t produced = 0;
  absl::Status status;
  while (true) {
    if (produced == output.size()) {
      if (output.size() > limit) {
        status = absl::ResourceExhaustedError(
            absl::StrCat("the request body decompresses to more than the limit of ", limit, " bytes"));
        break;
      }
      // Doubling, and one byte past the limit at most (which tells "exactly at the limit" from
      // "over it"). A fresh string reserves exactly what it is asked for, where growing one in
      // place may double its capacity past the limit.
      const size_t grown = std::min(std::max(output.size() * 2, kOutputStep), limit + 1);
      std::string bigger;
      bigger.reserve(grown);
      bigger.append(output, 0, produced);
      bigger.resize(grown);
      output.swap(bigger);
    }
    stream.next_out = reinterpret_cast<Bytef*>(output.data() + produced);
    stream.avail_out = static_cast<uInt>(output.size() - produced);
    const int result = inflate(&stream, Z_NO_FLUSH);
    produced = output.size() - stream.avail_out;
    if (result == Z_STREAM_END) {
      if (stream.avail_in == 0) break;
      // gzip allows several members one after another; anything else after the end is garbage.
      const std::string_view rest(reinterpret_cast<const char*>(stream.next_in), stream.avail_in);
      if (coding == Coding::kGzip && IsGzipMagic(rest)) {
        inflateReset(&stream);
        continue;
      }
      status = absl::InvalidArgumentError(absl::StrCat("the ", name, " body has ", stream.avail_in,
                                                       " bytes after the end of its compressed data"));
      break;
    }
    if (result == Z_OK) continue;
    if (result == Z_BUF_ERROR && stream.avail_out > 0) {
      // No progress possible with output space left: the input ended inside the stream.
      status = absl::InvalidArgumentError(absl::StrCat("the ", name, " body is truncated"));
      break;
    }
    if (result == Z_BUF_ERROR) continue;
    status = absl::InvalidArgumentError(
        absl::StrCat("the ", name, " body is not valid ", name, " data",
                     stream.msg != nullptr ? absl::StrCat(" (", stream.msg, ")") : std::string()));
    break;
  }
  inflateEnd(&stream);
  if (status.ok() && produced > limit) {
    status = absl::ResourceExhaustedError(
        absl::StrCat("the request body decompresses to more than the limit of ", limit, " bytes"));
  }
  if (!status.ok()) return status;
  output.resize(produced);
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeContent(std::string_view content_encoding, std::string& body, size_t limit) {
  std::vector<Coding> codings;
  for (absl::string_view token :
       absl::StrSplit(absl::string_view(content_encoding.data(), content_encoding.size()), ',',
                      absl::SkipWhitespace())) {
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(token));
    if (name == "gzip" || name == "x-gzip") {
      codings.push_back(Coding::kGzip);
    } else if (name == "deflate") {
      codings.push_back(Coding::kDeflate);
    } else if (name == "identity") {
      continue;
    } else {
      return absl::UnimplementedError(
          absl::StrCat("Content-Encoding \"", name, "\" is not supported; send gzip, deflate or identity"));
    }
    if (codings.size() > kMaxCodings) {
      return absl::UnimplementedError(
          absl::StrCat("more than ", kMaxCodings, " Content-Encodings on one body are not supported"));
    }
  }
  if (codings.empty()) return absl::OkStatus();
  std::string decoded;
  std::string previous;  // The output of the layer before, input of the next.
  std::string_view input = body;
  for (auto coding = codings.rbegin(); coding != codings.rend(); ++coding) {
    if (absl::Status status = Inflate(*coding, input, limit, decoded); !status.ok()) return status;
    previous.swap(decoded);
    std::string().swap(decoded);  // The layer's input is no longer needed: at most two bodies live.
    input = previous;
  }
  body = std::move(previous);
  return absl::OkStatus();
}

}  // namespace tessera::api
