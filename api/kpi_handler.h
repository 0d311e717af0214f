#pragma once

// KpiHandler serves the KPI dashboard's figures (docs/kpis.md), read or admin key:
//   GET /v1/kpis?space=&from=YYYY-MM-DD&to=YYYY-MM-DD&granularity=day|week|month&channel=NAME
//                &model_as_of=YYYY-MM-DD
// answered from a KpiSnapshot of the space (audiences/kpi_snapshot.h) by audiences::KpiJson. The
// predictions and the tracking plot use the model the resolver's sweep keeps, or with
// `model_as_of` one fitted on the customers' summaries at the end of that day (as GET
// /v1/models/purchase?as_of= does), so that the plot shows a calibration period and a holdout.
//
// A snapshot is one scan of the space's timeline, profiles and merges, so it is read on the
// handler's own thread, never an I/O thread, and kept: it is read again only when the resolver
// has moved since and the last one is older than twice what reading it took (a small space is
// always current; a large one is read at most half the time). The answer says when its figures
// were computed. At most kMaxWaiting requests wait for the thread; more are answered 503.
//
// Errors: 401/403 for keys; 404 unknown space; 400 invalid_value naming from, to, granularity,
// channel or model_as_of; 503 busy. A model that cannot be fitted at model_as_of (nobody had bought
// twice) is no error: the answer has no predictions and says why in `model_error`.
//
// Thread-safety: Handle may be called from any thread; the reply may come on the handler's thread.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/http_reply.h"
#include "api/key_registry.h"
#include "api/model_handler.h"
#include "audiences/kpi_figures.h"
#include "audiences/kpi_snapshot.h"
#include "profile_store/store.h"

namespace tessera::api {

struct KpiRequest {
  std::string_view query;          // after '?'
  std::string_view authorization;  // the Authorization header
};

class KpiHandler {
 public:
  static constexpr size_t kMaxWaiting = 8;

  // `position(space)`: the resolver's applied position; `latest(space)`: the space's purchase
  // model (null before its first fit). `settings` give each space's time zone. The store must
  // outlive the handler.
  KpiHandler(const KeyRegistry& keys, const profile_store::Store& store, std::vector<std::string> spaces,
             std::map<std::string, PurchaseModelSettings> settings,
             std::function<uint64_t(std::string_view space)> position, ModelHandler::LatestModel latest);
  ~KpiHandler();

  // Finishes the computation in progress (its reply goes out) and drops the requests still
  // waiting. The server calls it once it stops serving, while its I/O context still exists.
  void Stop();

  // `reply` is called exactly once, on the calling thread (errors) or on the handler's thread.
  void Handle(const KpiRequest& request, std::function<void(HttpReply)> reply);

 private:
  struct Kept {
    std::shared_ptr<const audiences::KpiSnapshot> snapshot;
    uint64_t position = 0;
    std::chrono::steady_clock::time_point read_at{};
    std::chrono::steady_clock::duration took{};
  };
  void Run();
  struct Job {
    std::string space;
    audiences::KpiQuery query;
    std::optional<int32_t> model_as_of;
    std::function<void(HttpReply)> reply;
  };
  void Answer(const Job& job);
  absl::StatusOr<std::shared_ptr<const audiences::KpiSnapshot>> SnapshotOf(const std::string& space);
  // The model fitted at the end of `day` (kept while the resolver has not moved).
  absl::StatusOr<std::shared_ptr<const audiences::PurchaseModelState>> ModelAt(const std::string& space, int32_t day);
  const PurchaseModelSettings& SettingsOf(const std::string& space) const;

  const KeyRegistry& keys_;
  const profile_store::Store& store_;
  const std::vector<std::string> spaces_;
  const std::map<std::string, PurchaseModelSettings> settings_;
  const std::function<uint64_t(std::string_view)> position_;
  const ModelHandler::LatestModel latest_;

  std::map<std::string, Kept> kept_;  // By space; the handler's thread's.
  struct KeptModel {
    std::shared_ptr<const audiences::PurchaseModelState> model;
    uint64_t position = 0;
  };
  std::map<std::pair<std::string, int32_t>, KeptModel> models_;  // By space and day; the thread's.

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> waiting_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera::api
