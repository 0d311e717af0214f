#include "activation/oauth_token.h"

#include "absl/strings/str_cat.h"
#include "activation/internal/format_support.h"
#include "simdjson.h"

namespace tessera::activation {
namespace {

// Refreshed this long before the endpoint says the token expires, so no request carries a token
// that expires on its way.
constexpr std::chrono::seconds kRefreshMargin{60};

}  // namespace

absl::StatusOr<std::unique_ptr<OAuthTokenSource>> OAuthTokenSource::Create(OAuthClient client,
                                                                           const std::string& ca_file) {
  absl::StatusOr<HttpUrl> url = ParseHttpUrl(client.token_url);
  if (!url.ok()) return absl::InvalidArgumentError(absl::StrCat("options.oauth.token_url: ", url.status().message()));
  absl::StatusOr<std::unique_ptr<HttpSender>> sender = HttpSender::Create(*url, ca_file);
  if (!sender.ok()) return sender.status();
  return std::unique_ptr<OAuthTokenSource>(new OAuthTokenSource(std::move(client), *url, *std::move(sender)));
}

OAuthTokenSource::OAuthTokenSource(OAuthClient client, HttpUrl url, std::unique_ptr<HttpSender> sender)
    : client_(std::move(client)), url_(std::move(url)), sender_(std::move(sender)) {}

absl::StatusOr<std::string> OAuthTokenSource::Token(std::chrono::milliseconds timeout) {
  if (!token_.empty() && std::chrono::steady_clock::now() < expires_) return token_;
  OutgoingRequest request;
  request.target = url_.target;
  request.content_type = "application/x-www-form-urlencoded";
  request.body = "grant_type=refresh_token&client_id=";
  internal::AppendFormEncoded(request.body, client_.client_id);
  request.body += "&client_secret=";
  internal::AppendFormEncoded(request.body, client_.client_secret);
  request.body += "&refresh_token=";
  internal::AppendFormEncoded(request.body, client_.refresh_token);
  absl::StatusOr<HttpResponse> response = sender_->Send(request, timeout);
  if (!response.ok()) {
    return absl::Status(response.status().code(), absl::StrCat("OAuth token: ", response.status().message()));
  }
  if (response->status == 429 || response->status >= 500) {
    return absl::UnavailableError(absl::StrCat("OAuth token: HTTP ", response->status));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(response->body).get(root) != simdjson::SUCCESS) {
    return absl::UnavailableError(absl::StrCat("OAuth token: HTTP ", response->status, ", not JSON"));
  }
  if (response->status != 200) {
    std::string_view error = "(no error)";
    if (root["error"].get(error) != simdjson::SUCCESS) error = "(no error)";
    return absl::PermissionDeniedError(
        absl::StrCat("OAuth token: HTTP ", response->status, ": ", std::string(error.substr(0, 200))));
  }
  std::string_view token;
  if (root["access_token"].get(token) != simdjson::SUCCESS || token.empty()) {
    return absl::UnavailableError("OAuth token: the answer has no access_token");
  }
  int64_t expires_in = 3600;
  if (root["expires_in"].get(expires_in) != simdjson::SUCCESS) expires_in = 3600;
  token_ = std::string(token);
  expires_ = std::chrono::steady_clock::now() + std::chrono::seconds(expires_in) - kRefreshMargin;
  return token_;
}

}  // namespace tessera::activation
