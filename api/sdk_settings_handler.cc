#include "api/sdk_settings_handler.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"

namespace tessera::api {
namespace {

using base::JsonWriter;

// A Host header is echoed into the settings only if it is a plain host[:port] (or [IPv6]:port):
// the document tells the SDK where to send, and must not be steered by odd bytes.
bool IsPlainHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
  });
}

// analytics-next's settings: the Segment.io integration (its own delivery plugin) sending to
// `host`/v1 over `protocol`, every call type enabled, nothing else to load.
std::string SegmentSettings(std::string_view write_key, std::string_view host, std::string_view protocol) {
  std::string body;
  JsonWriter json(body);
  json.BeginObject();
  json.Key("integrations").BeginObject();
  json.Key("Segment.io").BeginObject();
  json.Key("apiKey").String(write_key);
  json.Key("apiHost").String(absl::StrCat(std::string(host), "/v1"));
  json.Key("protocol").String(protocol);
  json.Key("unbundledIntegrations").BeginArray().EndArray();
  json.Key("addBundledMetadata").Bool(true);
  json.Key("maybeBundledConfigIds").BeginObject().EndObject();
  json.EndObject();
  json.EndObject();
  json.Key("plan").BeginObject();
  for (std::string_view call : {"track", "identify", "group"}) {
    json.Key(call).BeginObject().Key("__default").BeginObject().Key("enabled").Bool(true);
    if (call == "track") json.Key("integrations").BeginObject().EndObject();
    json.EndObject().EndObject();
  }
  json.EndObject();
  json.Key("edgeFunction").BeginObject().EndObject();
  json.Key("analyticsNextEnabled").Bool(true);
  json.Key("middlewareSettings").BeginObject().EndObject();
  json.Key("enabledMiddleware").BeginObject().EndObject();
  // The SDK's own telemetry would go to Segment's servers: off.
  json.Key("metrics").BeginObject().Key("sampleRate").Int(0).EndObject();
  json.Key("legacyVideoPluginsEnabled").Bool(false);
  json.Key("remotePlugins").BeginArray().EndArray();
  json.EndObject();
  return body;
}

// RudderStack's source configuration: an enabled source without destinations (so no device-mode
// SDK is fetched) and with the SDK's error reports and metrics, which go to RudderStack, off.
std::string RudderSourceConfig(const ingest::SourceRef& source, std::string_view write_key) {
  std::string body;
  JsonWriter json(body);
  json.BeginObject();
  json.Key("isHosted").Bool(false);
  json.Key("source").BeginObject();
  json.Key("id").String(absl::StrCat(source.space, ":", source.name));
  json.Key("name").String(source.name);
  json.Key("writeKey").String(write_key);
  json.Key("enabled").Bool(true);
  json.Key("workspaceId").String(source.space);
  json.Key("config").BeginObject();
  json.Key("statsCollection").BeginObject();
  json.Key("errors").BeginObject().Key("enabled").Bool(false).EndObject();
  json.Key("metrics").BeginObject().Key("enabled").Bool(false).EndObject();
  json.EndObject();
  json.EndObject();
  json.Key("destinations").BeginArray().EndArray();
  json.EndObject();
  json.EndObject();
  return body;
}

}  // namespace

HttpReply SdkSettingsHandler::Handle(const SdkSettingsRequest& request) const {
  std::optional<std::string> write_key;
  if (request.route == RouteId::kSdkSettings) {
    write_key = UrlDecode(request.write_key_segment);
  } else if (const std::optional<std::string_view> encoded = FindQueryParam(request.query, "writeKey")) {
    write_key = UrlDecode(*encoded);
  } else {
    return ErrorReply(400, "missing_field", "send the source's write key as the writeKey query parameter",
                      "writeKey");
  }
  const ingest::SourceRef* source = write_key ? keys_.FindSource(*write_key) : nullptr;
  if (source == nullptr) return ErrorReply(404, "not_found", "no source has this write key");
  if (!request.origin.empty() && !cors_.AllowsIngest(source, request.origin)) {
    return ErrorReply(403, "origin_not_allowed",
                      absl::StrCat("pages from ", std::string(request.origin),
                                   " may not use this write key (see sources[].allowed_origins)"));
  }
  HttpReply reply;
  if (request.route == RouteId::kSdkSettings) {
    if (!IsPlainHost(request.host)) {
      return ErrorReply(400, "invalid_value", "the Host header is not a host name with an optional port",
                        "Host");
    }
    reply.body = SegmentSettings(*write_key, request.host, request.tls ? "https" : "http");
  } else {
    reply.body = RudderSourceConfig(*source, *write_key);
  }
  return reply;
}

}  // namespace tessera::api
