#pragma once

// TLS for the end-to-end tests: a self-signed certificate for 127.0.0.1, and a client that speaks
// HTTPS and wss to the server over one connection, checking the server's certificate against it.
// Beast and OpenSSL stay in the .cc. Every call has a deadline.
//
// Thread-safety: one thread at a time.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {

// Writes a fresh self-signed certificate (EC P-256, valid for a day, subjectAltName IP:127.0.0.1)
// to `cert_file` and its private key to `key_file`, both PEM.
absl::Status WriteSelfSignedCertificate(const std::string& cert_file, const std::string& key_file);

// For tests of slow clients: connects to 127.0.0.1:`port`, completes a TLS handshake (trusting
// `ca_file`), then sends `plaintext` (at most a few KiB) as ONE TLS record whose bytes go to the
// socket one at a time, `pause` apart, until the server closes the connection. Returns how long
// after the record's first byte the server closed; DeadlineExceeded if it had not closed `give_up`
// after the first byte.
absl::StatusOr<std::chrono::milliseconds> TrickleOneRecord(uint16_t port, const std::string& ca_file,
                                                           std::string_view plaintext,
                                                           std::chrono::milliseconds pause,
                                                           std::chrono::milliseconds give_up);

class TlsClient {
 public:
  // Connects to 127.0.0.1:`port` and completes a TLS handshake, trusting only the certificate in
  // `ca_file` and requiring it to name 127.0.0.1.
  static absl::StatusOr<std::unique_ptr<TlsClient>> Connect(
      uint16_t port, const std::string& ca_file,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~TlsClient();

  // One HTTP/1.1 request on the connection (kept alive), and its whole response.
  absl::StatusOr<HttpResponse> Request(std::string_view method, std::string_view target,
                                       std::string_view body = {},
                                       const std::map<std::string, std::string>& headers = {});

  // Upgrades the connection to a WebSocket on `target`; afterwards use the calls below only.
  absl::Status UpgradeToWebSocket(std::string_view target, const std::string& authorization);
  absl::Status SendText(std::string_view payload);
  absl::StatusOr<std::string> ReadText();
  // The closing handshake, then TLS close_notify.
  absl::Status CloseWebSocket();

  // The TLS version the handshake agreed on, e.g. "TLSv1.3".
  std::string Version() const;

  struct Impl;

 private:
  explicit TlsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::e2e
