#include "activation/http_sender.h"

#include <openssl/ssl.h>

#include <charconv>
#include <optional>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"

namespace tessera::activation {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kResponseBodyLimit = 1 << 20;

absl::Status Failure(const beast::error_code& ec, std::string_view doing, const HttpUrl& url) {
  const std::string message = absl::StrCat(std::string(doing), " ", url.host, ":", url.port, ": ", ec.message());
  if (ec == beast::error::timeout) return absl::DeadlineExceededError(message);
  return absl::UnavailableError(message);
}

}  // namespace

absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view text) {
  HttpUrl url;
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    url.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text), "\" is not an http:// or https:// URL"));
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  url.port = url.tls ? 443 : 80;
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text), "\": credentials do not belong in the URL"));
  }
  std::string_view host = authority;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text), "\": bad host"));
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority[0] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text), "\": bad host"));
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    authority.remove_prefix(colon);
  } else {
    authority = {};
  }
  if (authority.starts_with(':')) {
    std::string_view port = authority.substr(1);
    unsigned value = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text), "\": bad port"));
    }
    url.port = static_cast<uint16_t>(value);
  }
  if (host.empty()) return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text), "\": no host"));
  url.host = std::string(host);
  return url;
}

struct HttpSender::Impl {
  HttpUrl url;
  asio::io_context io;
  std::optional<asio::ssl::context> tls_context;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool open = false;

  beast::tcp_stream& Lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Starts one asynchronous operation and runs the context until it completes (the stream's
  // expiry ends it with beast::error::timeout).
  template <class Start>
  beast::error_code Run(Start start) {
    beast::error_code result = asio::error::would_block;
    bool done = false;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    return result;
  }

  void Close() {
    if (secure) {
      beast::error_code ignored;
      beast::get_lowest_layer(*secure).socket().close(ignored);
      secure.reset();
    }
    if (plain) {
      beast::error_code ignored;
      plain->socket().close(ignored);
      plain.reset();
    }
    buffer.clear();
    open = false;
  }

  absl::Status Connect(std::chrono::steady_clock::time_point deadline) {
    Close();
    tcp::resolver resolver(io);
    beast::error_code ec;
    const tcp::resolver::results_type endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) return absl::UnavailableError(absl::StrCat("resolving ", url.host, ": ", ec.message()));
    if (url.tls) {
      secure.emplace(io, *tls_context);
      if (!SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str())) {
        return absl::UnavailableError(absl::StrCat("setting the TLS server name ", url.host));
      }
      secure->set_verify_callback(asio::ssl::host_name_verification(url.host));
    } else {
      plain.emplace(io);
    }
    Lowest().expires_at(deadline);
    ec = Run([&](auto handler) { Lowest().async_connect(endpoints, std::move(handler)); });
    if (ec) return Failure(ec, "connecting to", url);
    Lowest().socket().set_option(tcp::no_delay(true), ec);
    if (secure) {
      ec = Run([&](auto handler) { secure->async_handshake(asio::ssl::stream_base::client, std::move(handler)); });
      if (ec) return Failure(ec, "TLS handshake with", url);
    }
    open = true;
    return absl::OkStatus();
  }

  // One exchange on the open connection. `nothing_read` tells whether the failure came before a
  // byte of the answer: a kept-alive connection the server had closed.
  absl::StatusOr<HttpResponse> Exchange(const http::request<http::string_body>& request,
                                        std::chrono::steady_clock::time_point deadline, bool& nothing_read) {
    nothing_read = true;
    Lowest().expires_at(deadline);
    beast::error_code ec = Run([&](auto handler) {
      if (secure) {
        http::async_write(*secure, request, std::move(handler));
      } else {
        http::async_write(*plain, request, std::move(handler));
      }
    });
    if (ec) return Failure(ec, "writing to", url);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseBodyLimit);
    const size_t buffered = buffer.size();
    ec = Run([&](auto handler) {
      if (secure) {
        http::async_read(*secure, buffer, parser, std::move(handler));
      } else {
        http::async_read(*plain, buffer, parser, std::move(handler));
      }
    });
    nothing_read = buffered == 0 && !parser.got_some();
    if (ec) return Failure(ec, "reading from", url);
    http::response<http::string_body> response = parser.release();
    HttpResponse answer;
    answer.status = static_cast<int>(response.result_int());
    answer.body = std::move(response.body());
    if (auto it = response.find(http::field::retry_after); it != response.end()) {
      answer.retry_after = std::string(it->value());
    }
    if (!response.keep_alive()) Close();
    return answer;
  }
};

HttpSender::HttpSender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpSender::~HttpSender() {
  if (impl_) impl_->Close();
}

absl::StatusOr<std::unique_ptr<HttpSender>> HttpSender::Create(const HttpUrl& url, const std::string& ca_file) {
  auto impl = std::make_unique<Impl>();
  impl->url = url;
  if (url.tls) {
    impl->tls_context.emplace(asio::ssl::context::tls_client);
    beast::error_code ec;
    impl->tls_context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                                   asio::ssl::context::no_tlsv1_1);
    if (ca_file.empty()) {
      impl->tls_context->set_default_verify_paths(ec);
    } else {
      impl->tls_context->load_verify_file(ca_file, ec);
    }
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("loading trusted certificates", ca_file.empty() ? "" : " from ", ca_file, ": ", ec.message()));
    }
    impl->tls_context->set_verify_mode(asio::ssl::verify_peer);
  }
  return std::unique_ptr<HttpSender>(new HttpSender(std::move(impl)));
}

const HttpUrl& HttpSender::url() const { return impl_->url; }

absl::StatusOr<HttpResponse> HttpSender::Send(const OutgoingRequest& outgoing, std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  http::request<http::string_body> request;
  request.method_string(outgoing.method);
  request.target(outgoing.target);
  request.version(11);
  request.set(http::field::host, impl.url.host);
  request.set(http::field::user_agent, "Tessera");
  if (!outgoing.content_type.empty()) request.set(http::field::content_type, outgoing.content_type);
  for (const auto& [name, value] : outgoing.headers) request.set(name, value);
  request.keep_alive(true);
  request.body() = outgoing.body;
  request.prepare_payload();
  for (int attempt = 0;; ++attempt) {
    const bool reused = impl.open;
    if (!impl.open) {
      if (absl::Status connected = impl.Connect(deadline); !connected.ok()) {
        impl.Close();
        return connected;
      }
    }
    bool nothing_read = false;
    absl::StatusOr<HttpResponse> answer = impl.Exchange(request, deadline, nothing_read);
    if (answer.ok()) return answer;
    impl.Close();
    // An idle connection the server closed: open a new one, once, within the same deadline.
    if (reused && nothing_read && attempt == 0 && !absl::IsDeadlineExceeded(answer.status())) continue;
    return answer.status();
  }
}

}  // namespace tessera::activation
