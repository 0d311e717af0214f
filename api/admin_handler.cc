#include "api/admin_handler.h"

#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "base/time.h"
#include "simdjson.h"

namespace tessera::api {
namespace {

// The target directory of a backup request: {"to":"/absolute/dir"}. InvalidArgument when the body
// is not a JSON object, NotFound when it has no usable "to".
absl::StatusOr<std::string> BackupTarget(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("the body is not valid JSON; send {\"to\":\"/absolute/dir\"}");
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("expected a JSON object: {\"to\":\"/absolute/dir\"}");
  }
  std::string_view to;
  const simdjson::error_code error = object["to"].get_string().get(to);
  if (error == simdjson::NO_SUCH_FIELD)
    return absl::NotFoundError("missing: the backup directory, as an absolute path");
  if (error != simdjson::SUCCESS)
    return absl::NotFoundError("expected a string: the backup directory, as an absolute path");
  if (to.empty() || to.front() != '/') {
    // The server's working directory means nothing to the client, so a relative path is refused.
    return absl::NotFoundError(absl::StrCat("\"", std::string(to), "\" is not an absolute path"));
  }
  return std::string(to);
}

HttpReply SummaryReply(const profile_store::BackupSummary& summary) {
  HttpReply reply;
  base::JsonWriter json(reply.body);
  json.BeginObject();
  json.Key("backupId").Uint(summary.backup_id);
  json.Key("directory").String(summary.directory);
  json.Key("sizeBytes").Uint(summary.size_bytes);
  json.Key("files").Uint(summary.files);
  json.Key("createdAt")
      .String(base::FormatIso8601(std::chrono::time_point_cast<std::chrono::microseconds>(summary.created)));
  json.Key("seconds").Double(summary.elapsed.count());
  json.Key("backups").Uint(summary.backups_in_directory);
  json.Key("verified").Bool(true);
  json.EndObject();
  return reply;
}

}  // namespace

AdminHandler::AdminHandler(const KeyRegistry& keys, profile_store::Store& store)
    : keys_(keys), store_(store) {}

AdminHandler::~AdminHandler() { Wait(); }

void AdminHandler::Wait() {
  std::thread finished;
  {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return !running_; });
    finished = std::move(worker_);
  }
  if (finished.joinable()) finished.join();
}

void AdminHandler::Handle(const AdminRequest& request, std::function<void(HttpReply)> reply) {
  std::optional<std::string_view> token = BearerToken(request.authorization);
  if (!token || token->empty()) {
    return reply(ErrorReply(401, "unauthorized", "send an admin key as Authorization: Bearer KEY"));
  }
  if (!keys_.IsAdminKey(*token)) {
    if (keys_.IsReadKey(*token))
      return reply(ErrorReply(403, "forbidden", "a read key cannot make backups; use an admin key"));
    if (keys_.FindSource(*token) != nullptr) {
      return reply(ErrorReply(403, "forbidden", "a write key cannot make backups; use an admin key"));
    }
    return reply(ErrorReply(401, "unauthorized", "unknown key"));
  }

  absl::StatusOr<std::string> target = BackupTarget(request.body);
  if (!target.ok()) {
    const bool bad_json = absl::IsInvalidArgument(target.status());
    return reply(ErrorReply(400, bad_json ? "invalid_json" : "invalid_value",
                            std::string(target.status().message()), bad_json ? "" : "to"));
  }

  std::unique_lock lock(mutex_);
  if (running_) {
    return reply(
        ErrorReply(409, "backup_in_progress", "a backup is already running; retry when it has finished"));
  }
  running_ = true;
  // The previous backup's thread has finished (running_ was false): reap it before starting anew.
  if (worker_.joinable()) worker_.join();
  worker_ = std::thread([this, directory = *std::move(target), reply = std::move(reply)] {
    const absl::StatusOr<profile_store::BackupSummary> result =
        profile_store::CreateBackup(store_, directory);
    // Free before replying, so that a client may start the next backup as soon as it has the answer.
    {
      std::lock_guard done(mutex_);
      running_ = false;
    }
    idle_.notify_all();
    FinishBackup(directory, result, reply);
  });
}

void AdminHandler::FinishBackup(const std::string& directory,
                                const absl::StatusOr<profile_store::BackupSummary>& result,
                                const std::function<void(HttpReply)>& reply) {
  HttpReply answer;
  const absl::Status& status = result.status();
  if (result.ok()) {
    answer = SummaryReply(*result);
  } else if (absl::IsInvalidArgument(status) || absl::IsPermissionDenied(status)) {
    answer = ErrorReply(400, "invalid_value", std::string(status.message()), "to");
  } else {
    answer = ErrorReply(500, "backup_failed", absl::StrCat("backup to ", directory, " failed: ", status.message()));
  }
  answer.audit_target = absl::StrCat("backup to ", directory);
  reply(std::move(answer));
}

}  // namespace tessera::api
