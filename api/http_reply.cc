#include "api/http_reply.h"

#include "api/reply_json.h"
#include "base/json_writer.h"

namespace tessera::api {

HttpReply UncachedJsonReply(std::string body) {
  HttpReply reply;
  reply.body = std::move(body);
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

HttpReply ErrorReply(int status, std::string_view code, std::string_view message, std::string_view field) {
  HttpReply reply;
  reply.status = status;
  base::JsonWriter json(reply.body);
  json.BeginObject();
  WriteErrorMember(json, code, message, field);
  json.EndObject();
  return reply;
}

}  // namespace tessera::api
