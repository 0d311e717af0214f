#include "api/console_handler.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace tessera::api {
namespace {

constexpr std::string_view kIndex = "index.html";
constexpr std::string_view kImmutablePrefix = "assets/";

bool PlainHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']';
  });
}

}  // namespace

std::string ConsoleContentSecurityPolicy(std::string_view host) {
  std::string policy = absl::StrCat(std::string(kConsoleContentSecurityPolicy), "; connect-src 'self'");
  if (PlainHost(host)) absl::StrAppend(&policy, " ws://", std::string(host), " wss://", std::string(host));
  return policy;
}

std::string_view ConsoleHandler::ContentType(std::string_view path) {
  const size_t dot = path.rfind('.');
  const std::string_view extension =
      dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (extension == "html") return "text/html; charset=utf-8";
  if (extension == "js" || extension == "mjs") return "text/javascript; charset=utf-8";
  if (extension == "css") return "text/css; charset=utf-8";
  if (extension == "svg") return "image/svg+xml";
  if (extension == "png") return "image/png";
  if (extension == "ico") return "image/x-icon";
  if (extension == "json" || extension == "map") return "application/json";
  if (extension == "webmanifest") return "application/manifest+json";
  if (extension == "woff2") return "font/woff2";
  if (extension == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

const StaticAsset* ConsoleHandler::Find(std::string_view path) const {
  // ConsoleAssets() is sorted by path.
  auto it =
      std::lower_bound(assets_.begin(), assets_.end(), path,
                       [](const StaticAsset& asset, std::string_view wanted) { return asset.path < wanted; });
  if (it == assets_.end() || it->path != path) return nullptr;
  return &*it;
}

HttpReply ConsoleHandler::Serve(Method method, const StaticAsset& asset) const {
  HttpReply reply{.status = 200};
  // HEAD gets the same answer; the server leaves the body out, keeping its Content-Length.
  (void)method;
  reply.body = std::string(asset.data);
  reply.headers.emplace_back("Content-Type", std::string(ContentType(asset.path)));
  reply.headers.emplace_back("Cache-Control", asset.path.starts_with(kImmutablePrefix)
                                                  ? "public, max-age=31536000, immutable"
                                                  : "no-cache");
  return reply;
}

HttpReply ConsoleHandler::Handle(Method method, std::string_view rest, std::string_view query,
                                 std::string_view host) const {
  HttpReply reply;
  if (rest.empty()) {
    // Relative asset URLs resolve against the directory, so the page must be at /console/.
    reply = HttpReply{.status = 308, .body = R"({"location":"/console/"})"};
    reply.headers.emplace_back("Location", query.empty() ? std::string("/console/")
                                                         : absl::StrCat("/console/?", std::string(query)));
  } else if (assets_.empty()) {
    reply =
        ErrorReply(404, "not_found", "the web console was not built into this binary (TESSERA_CONSOLE=OFF)");
  } else {
    std::string_view path = rest.substr(1);
    if (path.empty()) path = kIndex;
    const StaticAsset* asset = Find(path);
    // ".." can never name an embedded file (there is no file system behind this), so it simply
    // is not found; a path without an extension is a client-side route.
    const std::string_view last =
        path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
    if (asset == nullptr && last.find('.') == std::string_view::npos) asset = Find(kIndex);
    if (asset == nullptr) {
      reply = ErrorReply(404, "not_found", absl::StrCat("no console file ", std::string(path)));
    } else {
      reply = Serve(method, *asset);
    }
  }
  reply.headers.emplace_back("Content-Security-Policy", ConsoleContentSecurityPolicy(host));
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("Referrer-Policy", "no-referrer");
  reply.headers.emplace_back("X-Frame-Options", "DENY");
  return reply;
}

}  // namespace tessera::api
