#include "tests/e2e/tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tessera::e2e {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

std::string ToString(beast::string_view view) { return std::string(view.data(), view.size()); }

// Owners for OpenSSL objects.
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct FileClose {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

absl::Status WriteSelfSignedCertificate(const std::string& cert_file, const std::string& key_file) {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, CertFree> cert(X509_new());
  if (key == nullptr || cert == nullptr)
    return absl::InternalError("OpenSSL could not make a key or certificate");
  X509_set_version(cert.get(), 2);  // v3, for subjectAltName.
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    if (extension == nullptr)
      return absl::InternalError(absl::StrCat("OpenSSL refused the extension ", value));
    X509_add_ext(cert.get(), extension, -1);
    X509_EXTENSION_free(extension);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return absl::InternalError("X509_sign failed");

  std::unique_ptr<std::FILE, FileClose> cert_out(std::fopen(cert_file.c_str(), "wb"));
  std::unique_ptr<std::FILE, FileClose> key_out(std::fopen(key_file.c_str(), "wb"));
  if (cert_out == nullptr || key_out == nullptr)
    return absl::InternalError("cannot create the certificate files");
  if (PEM_write_X509(cert_out.get(), cert.get()) != 1 ||
      PEM_write_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError("cannot write the certificate files");
  }
  return absl::OkStatus();
}

namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

// Moves what OpenSSL wrote into `out` (a memory BIO) onto the socket.
absl::Status Flush(BIO* out, int fd) {
  char chunk[4096];
  int n = 0;
  while ((n = BIO_read(out, chunk, sizeof(chunk))) > 0) {
    for (int sent = 0; sent < n;) {
      const ssize_t written = ::send(fd, chunk + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (written <= 0) return absl::UnavailableError("send failed during the handshake");
      sent += static_cast<int>(written);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::chrono::milliseconds> TrickleOneRecord(uint16_t port, const std::string& ca_file,
                                                           std::string_view plaintext,
                                                           std::chrono::milliseconds pause,
                                                           std::chrono::milliseconds give_up) {
  using Clock = std::chrono::steady_clock;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("socket failed");
  std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return absl::UnavailableError("connect failed");
  }
  // OpenSSL over memory BIOs: the test decides when each encrypted byte reaches the socket.
  std::unique_ptr<SSL_CTX, SslCtxFree> context(SSL_CTX_new(TLS_client_method()));
  if (context == nullptr || SSL_CTX_load_verify_locations(context.get(), ca_file.c_str(), nullptr) != 1) {
    return absl::InternalError("cannot load the certificate to trust");
  }
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(context.get()));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);  // ssl owns both now.
  SSL_set_connect_state(ssl.get());
  const auto handshake_deadline = Clock::now() + std::chrono::seconds(10);
  while (true) {
    const int result = SSL_do_handshake(ssl.get());
    if (absl::Status flushed = Flush(out, fd); !flushed.ok()) return flushed;
    if (result == 1) break;
    if (SSL_get_error(ssl.get(), result) != SSL_ERROR_WANT_READ)
      return absl::UnavailableError("handshake failed");
    if (Clock::now() > handshake_deadline) return absl::DeadlineExceededError("handshake timed out");
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 1000) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return absl::UnavailableError("the server closed during the handshake");
    BIO_write(in, chunk, static_cast<int>(n));
  }
  if (SSL_write(ssl.get(), plaintext.data(), static_cast<int>(plaintext.size())) <= 0) {
    return absl::InternalError("SSL_write failed");
  }
  std::string record;
  char chunk[4096];
  for (int n = 0; (n = BIO_read(out, chunk, sizeof(chunk))) > 0;)
    record.append(chunk, static_cast<size_t>(n));

  const auto began = Clock::now();
  size_t sent = 0;
  while (Clock::now() - began < give_up) {
    if (sent < record.size()) {
      if (::send(fd, record.data() + sent, 1, MSG_NOSIGNAL) != 1) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
      }
      ++sent;
    }
    // Anything the server sends (session tickets) is read and dropped; EOF or a reset is the close.
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(pause.count())) > 0) {
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
    }
  }
  return absl::DeadlineExceededError(absl::StrCat("the server still had the connection open after ", sent,
                                                  " of the record's ", record.size(), " bytes"));
}

struct TlsClient::Impl {
  explicit Impl(std::chrono::milliseconds call_timeout) : timeout(call_timeout) {}

  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(ws); }
  beast::ssl_stream<beast::tcp_stream>& Tls() { return ws.next_layer(); }

  // Starts one asynchronous operation with `start(handler)` and runs the I/O context until it
  // completes. The TCP stream's deadline (set here) cuts it off after `timeout`.
  template <class Start>
  beast::error_code Run(Start start) {
    Tcp().expires_after(timeout);
    std::optional<beast::error_code> result;
    start([&result](beast::error_code error, auto&&...) { result = error; });
    io.restart();
    while (!result.has_value() && io.run_one() > 0) {
    }
    return result.value_or(net::error::operation_aborted);
  }

  const std::chrono::milliseconds timeout;
  net::io_context io;
  net::ssl::context context{net::ssl::context::tls_client};
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws{io, context};
  beast::flat_buffer buffer;
};

TlsClient::TlsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsClient::~TlsClient() = default;

absl::StatusOr<std::unique_ptr<TlsClient>> TlsClient::Connect(uint16_t port, const std::string& ca_file,
                                                              std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>(timeout);
  beast::error_code error;
  impl->context.load_verify_file(ca_file, error);
  if (error) return absl::InternalError(absl::StrCat("load_verify_file ", ca_file, ": ", error.message()));
  impl->Tls().set_verify_mode(net::ssl::verify_peer);
  impl->Tls().set_verify_callback(net::ssl::host_name_verification("127.0.0.1"));
  Impl* state = impl.get();
  error = state->Run([&](auto handler) {
    state->Tcp().async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port), std::move(handler));
  });
  if (error) return absl::UnavailableError(absl::StrCat("connect: ", error.message()));
  error = state->Run(
      [&](auto handler) { state->Tls().async_handshake(net::ssl::stream_base::client, std::move(handler)); });
  if (error) return absl::UnavailableError(absl::StrCat("TLS handshake: ", error.message()));
  return std::unique_ptr<TlsClient>(new TlsClient(std::move(impl)));
}

absl::StatusOr<HttpResponse> TlsClient::Request(std::string_view method, std::string_view target,
                                                std::string_view body,
                                                const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> request;
  request.method_string(beast::string_view(method.data(), method.size()));
  request.target(beast::string_view(target.data(), target.size()));
  request.version(11);
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::string(body);
  request.prepare_payload();
  Impl& state = *impl_;
  beast::error_code error =
      state.Run([&](auto handler) { http::async_write(state.Tls(), request, std::move(handler)); });
  if (error) return absl::UnavailableError(absl::StrCat("write: ", error.message()));
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  error = state.Run(
      [&](auto handler) { http::async_read(state.Tls(), state.buffer, parser, std::move(handler)); });
  if (error) return absl::UnavailableError(absl::StrCat("read: ", error.message()));
  HttpResponse response;
  response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    std::string name = ToString(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response.headers[name] = ToString(field.value());
  }
  response.body = parser.get().body();
  return response;
}

absl::Status TlsClient::UpgradeToWebSocket(std::string_view target, const std::string& authorization) {
  Impl& state = *impl_;
  state.ws.set_option(websocket::stream_base::decorator([authorization](websocket::request_type& request) {
    request.set(http::field::authorization, authorization);
  }));
  state.ws.text(true);
  websocket::response_type response;
  const beast::error_code error = state.Run([&](auto handler) {
    state.ws.async_handshake(response, "127.0.0.1", beast::string_view(target.data(), target.size()),
                             std::move(handler));
  });
  if (error)
    return absl::UnavailableError(
        absl::StrCat("WebSocket upgrade: ", error.message(), " (HTTP ", response.result_int(), ")"));
  return absl::OkStatus();
}

absl::Status TlsClient::SendText(std::string_view payload) {
  Impl& state = *impl_;
  const beast::error_code error = state.Run([&](auto handler) {
    state.ws.async_write(net::buffer(payload.data(), payload.size()), std::move(handler));
  });
  if (error) return absl::UnavailableError(absl::StrCat("send: ", error.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> TlsClient::ReadText() {
  Impl& state = *impl_;
  beast::flat_buffer message;
  const beast::error_code error =
      state.Run([&](auto handler) { state.ws.async_read(message, std::move(handler)); });
  if (error) return absl::UnavailableError(absl::StrCat("read: ", error.message()));
  return beast::buffers_to_string(message.data());
}

absl::Status TlsClient::CloseWebSocket() {
  Impl& state = *impl_;
  const beast::error_code error = state.Run(
      [&](auto handler) { state.ws.async_close(websocket::close_code::normal, std::move(handler)); });
  if (error) return absl::UnavailableError(absl::StrCat("close: ", error.message()));
  return absl::OkStatus();
}

std::string TlsClient::Version() const { return SSL_get_version(impl_->Tls().native_handle()); }

}  // namespace tessera::e2e
