// The sections for the HTTP and WebSocket server: listen, tls, cors, limits, stream and threads.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "config/internal/json_reader.h"
#include "config/internal/sections.h"

namespace tessera::config::internal {
namespace {

constexpr int kMaxIoThreads = 256;

}  // namespace

absl::Status ReadListen(element value, const std::string& path, ListenOptions& listen) {
  return ReadObject(
      value, path,
      {{"address", [&](element v, const std::string& p) { return ReadNonEmptyString(v, p, listen.address); }},
       {"port", [&](element v, const std::string& p) -> absl::Status {
          absl::StatusOr<uint64_t> port = ReadUnsigned(v, p, 0, 65535);
          if (!port.ok()) return port.status();
          listen.port = static_cast<uint16_t>(*port);
          return absl::OkStatus();
        }}});
}

absl::Status ReadTls(element value, const std::string& path, TlsOptions& tls) {
  bool has_cert = false;
  bool has_key = false;
  absl::Status status =
      ReadObject(value, path,
                 {{"cert_file",
                   [&](element v, const std::string& p) {
                     has_cert = true;
                     return ReadNonEmptyString(v, p, tls.cert_file);
                   }},
                  {"key_file",
                   [&](element v, const std::string& p) {
                     has_key = true;
                     return ReadNonEmptyString(v, p, tls.key_file);
                   }},
                  {"min_version", [&](element v, const std::string& p) -> absl::Status {
                     if (absl::Status s = ReadString(v, p, tls.min_version); !s.ok()) return s;
                     if (tls.min_version != "1.2" && tls.min_version != "1.3") {
                       return Invalid(p, absl::StrCat(Quote(tls.min_version), " must be \"1.2\" or \"1.3\""));
                     }
                     return absl::OkStatus();
                   }}});
  if (!status.ok()) return status;
  if (!has_cert) return Invalid(ChildPath(path, "cert_file"), "required (tls needs cert_file and key_file)");
  if (!has_key) return Invalid(ChildPath(path, "key_file"), "required (tls needs cert_file and key_file)");
  return absl::OkStatus();
}

absl::Status ReadCors(element value, const std::string& path, CorsOptions& cors) {
  return ReadObject(value, path, {{"api_origins", AllowedOriginsReader(cors.api_origins)}});
}

absl::Status ReadLimits(element value, const std::string& path, LimitOptions& limits) {
  return ReadObject(value, path,
                    {{"max_event_bytes", SizeReader(limits.max_event_bytes)},
                     {"max_request_bytes", SizeReader(limits.max_request_bytes)},
                     {"max_webhook_bytes", SizeReader(limits.max_webhook_bytes)},
                     {"max_header_bytes", SizeReader(limits.max_header_bytes)},
                     {"read_timeout_ms", DurationReader(limits.read_timeout, 1, kMaxMilliseconds)},
                     {"idle_timeout_ms", DurationReader(limits.idle_timeout, 1, kMaxMilliseconds)},
                     {"write_timeout_ms", DurationReader(limits.write_timeout, 1, kMaxMilliseconds)},
                     {"max_connections", SizeReader(limits.max_connections)}});
}

absl::Status ReadStream(element value, const std::string& path, StreamOptions& stream) {
  return ReadObject(value, path,
                    {{"max_inflight_frames", SizeReader(stream.max_inflight_frames, 1, 1'000'000)},
                     {"max_inflight_bytes", SizeReader(stream.max_inflight_bytes)},
                     {"idle_timeout_ms", DurationReader(stream.idle_timeout, 2, kMaxMilliseconds)},
                     {"permessage_deflate", [&](element v, const std::string& p) {
                        return ReadBool(v, p, stream.permessage_deflate);
                      }}});
}

absl::Status ReadThreads(element value, const std::string& path, ThreadOptions& threads) {
  return ReadObject(value, path, {{"io", [&](element v, const std::string& p) -> absl::Status {
                                     absl::StatusOr<uint64_t> io = ReadUnsigned(v, p, 1, kMaxIoThreads);
                                     if (!io.ok()) return io.status();
                                     threads.io_threads = static_cast<int>(*io);
                                     return absl::OkStatus();
                                   }}});
}

}  // namespace tessera::config::internal
