#pragma once

// An OAuth 2.0 access token kept fresh from a refresh token (RFC 6749, 6: grant_type
// refresh_token), for APIs whose tokens expire within the hour (Google Ads). The token is fetched
// before the first request and again a minute before it expires, or after the API answered 401;
// between, every request reuses it.
//
// Thread-safety: none; one delivery thread uses it.

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "activation/http_sender.h"

namespace tessera::activation {

struct OAuthClient {
  std::string token_url;  // e.g. https://oauth2.googleapis.com/token
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
};

class OAuthTokenSource {
 public:
  // InvalidArgument for a token URL that cannot be used.
  static absl::StatusOr<std::unique_ptr<OAuthTokenSource>> Create(OAuthClient client, const std::string& ca_file);

  // The current token, fetched when there is none or it is about to expire. Unavailable or
  // DeadlineExceeded when the token endpoint cannot be reached; PermissionDenied with the
  // endpoint's words when it refuses (a revoked refresh token: `invalid_grant`).
  absl::StatusOr<std::string> Token(std::chrono::milliseconds timeout);
  // The API refused the token (401): the next Token() fetches a new one.
  void Invalidate() { expires_ = {}; }

 private:
  OAuthTokenSource(OAuthClient client, HttpUrl url, std::unique_ptr<HttpSender> sender);

  const OAuthClient client_;
  const HttpUrl url_;
  std::unique_ptr<HttpSender> sender_;
  std::string token_;
  std::chrono::steady_clock::time_point expires_{};
};

}  // namespace tessera::activation
