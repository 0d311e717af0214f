#pragma once

// AdminHandler serves operator actions on the running server, with an admin key as
// `Authorization: Bearer KEY`:
//   POST /v1/admin/backup   body {"to":"/absolute/dir"}: a backup of the live store into that
//                           directory (profile_store/backup.h), taken while ingestion goes on.
//     200 {"backupId","directory","sizeBytes","files","createdAt","seconds","backups","verified":true}
// Errors: 400 invalid_json / invalid_value (field "to": missing, not a string, not absolute, or a
// directory that cannot hold backups); 401 unauthorized (no key, unknown key); 403 forbidden (a
// read or write key); 409 backup_in_progress; 500 backup_failed (the store or the disk failed, or
// the finished backup did not verify).
//
// A backup copies the store's files, which takes seconds to minutes, so it runs on a thread of this
// handler's own and never on an I/O thread; one backup at a time.
// Thread-safety: Handle may be called from any number of threads at once.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "api/key_registry.h"
#include "api/router.h"
#include "api/tracking_handler.h"
#include "profile_store/backup.h"
#include "profile_store/store.h"

namespace tessera::api {

struct AdminRequest {
  Method method = Method::kPost;
  RouteId route = RouteId::kAdminBackup;
  std::string_view authorization = {};  // the Authorization header
  std::string_view body = {};
};

class AdminHandler {
 public:
  // `store` must outlive the handler, and stay open until Wait returns.
  AdminHandler(const KeyRegistry& keys, profile_store::Store& store);
  // Waits for a running backup.
  ~AdminHandler();
  AdminHandler(const AdminHandler&) = delete;
  AdminHandler& operator=(const AdminHandler&) = delete;

  // Handles one request. `reply` is called exactly once, possibly on the handler's backup thread,
  // possibly before Handle returns.
  void Handle(const AdminRequest& request, std::function<void(HttpReply)> reply);

  // Blocks until no backup is running. The server calls it after it stops serving and before it
  // closes the store.
  void Wait();

 private:
  // The one place where a backup requested over HTTP ends, whatever the outcome: it turns the
  // result into the reply (and is where an audit record of the action belongs).
  void FinishBackup(const std::string& directory, const absl::StatusOr<profile_store::BackupSummary>& result,
                    const std::function<void(HttpReply)>& reply);

  const KeyRegistry& keys_;
  profile_store::Store& store_;

  std::mutex mutex_;
  std::condition_variable idle_;
  bool running_ = false;  // Guarded by mutex_.
  std::thread worker_;    // The latest backup's thread; guarded by mutex_.
};

}  // namespace tessera::api
