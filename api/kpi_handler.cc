#include "api/kpi_handler.h"

#include <algorithm>
#include <pthread.h>

#include "absl/strings/str_cat.h"
#include "api/router.h"
#include "audiences/purchase_traits.h"
#include "base/json_writer.h"
#include "resolve/purchase_models.h"

namespace tessera::api {
namespace {

// A day parameter: nullopt when absent; InvalidArgument naming it when it is not a date.
absl::StatusOr<std::optional<int32_t>> DayParam(std::string_view query, std::string_view name) {
  const std::optional<std::string_view> raw = FindQueryParam(query, name);
  if (!raw) return std::optional<int32_t>();
  const std::optional<std::string> text = UrlDecode(*raw);
  std::optional<int32_t> day = text ? audiences::ParseDayText(*text) : std::nullopt;
  if (!day) return absl::InvalidArgumentError(absl::StrCat(std::string(name), ": expected a date, YYYY-MM-DD"));
  return std::optional<int32_t>(*day);
}

}  // namespace

KpiHandler::KpiHandler(const KeyRegistry& keys, const profile_store::Store& store, std::vector<std::string> spaces,
                       std::map<std::string, PurchaseModelSettings> settings,
                       std::function<uint64_t(std::string_view space)> position, ModelHandler::LatestModel latest)
    : keys_(keys),
      store_(store),
      spaces_(std::move(spaces)),
      settings_(std::move(settings)),
      position_(std::move(position)),
      latest_(std::move(latest)),
      thread_([this] { Run(); }) {}

KpiHandler::~KpiHandler() { Stop(); }

void KpiHandler::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    waiting_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void KpiHandler::Run() {
  pthread_setname_np(pthread_self(), "kpis");
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      job = std::move(waiting_.front());
      waiting_.pop_front();
    }
    Answer(job);
  }
}

const PurchaseModelSettings& KpiHandler::SettingsOf(const std::string& space) const {
  static const PurchaseModelSettings kDefaults;
  auto it = settings_.find(space);
  return it == settings_.end() ? kDefaults : it->second;
}

absl::StatusOr<std::shared_ptr<const audiences::KpiSnapshot>> KpiHandler::SnapshotOf(const std::string& space) {
  const uint64_t position = position_ ? position_(space) : 0;
  const auto now = std::chrono::steady_clock::now();
  auto kept = kept_.find(space);
  if (kept != kept_.end() &&
      (kept->second.position == position || now - kept->second.read_at < 2 * kept->second.took)) {
    return kept->second.snapshot;
  }
  absl::StatusOr<audiences::KpiSnapshot> read = audiences::ReadKpiSnapshot(store_, space, SettingsOf(space).time_zone);
  if (!read.ok()) return read.status();
  auto snapshot = std::make_shared<const audiences::KpiSnapshot>(*std::move(read));
  kept_[space] = Kept{.snapshot = snapshot, .position = position, .read_at = now,
                      .took = std::chrono::steady_clock::now() - now};
  return snapshot;
}

absl::StatusOr<std::shared_ptr<const audiences::PurchaseModelState>> KpiHandler::ModelAt(const std::string& space,
                                                                                          int32_t day) {
  const uint64_t position = position_ ? position_(space) : 0;
  auto kept = models_.find({space, day});
  if (kept != models_.end() && kept->second.position == position) return kept->second.model;
  absl::StatusOr<resolve::SpacePurchaseFit> fitted = resolve::FitSpacePurchases(store_, space, day);
  if (!fitted.ok()) return fitted.status();
  const PurchaseModelSettings& settings = SettingsOf(space);
  auto state = std::make_shared<audiences::PurchaseModelState>();
  state->model = fitted->fit.model();
  state->time_zone = settings.time_zone;
  state->monthly_discount_rate = settings.monthly_discount_rate;
  state->version = absl::StrCat(audiences::DayText(day), "@", position);
  state->as_of_day = day;
  state->orders = fitted->orders;
  if (models_.size() >= 16) models_.clear();  // A dashboard asks for a few days, not hundreds.
  models_[{space, day}] = KeptModel{.model = state, .position = position};
  return state;
}

void KpiHandler::Answer(const Job& job) {
  absl::StatusOr<std::shared_ptr<const audiences::KpiSnapshot>> snapshot = SnapshotOf(job.space);
  if (!snapshot.ok()) return job.reply(ErrorReply(500, "internal", std::string(snapshot.status().message())));
  std::shared_ptr<const audiences::PurchaseModelState> model;
  std::string model_error;
  if (job.model_as_of) {
    absl::StatusOr<std::shared_ptr<const audiences::PurchaseModelState>> fitted = ModelAt(job.space, *job.model_as_of);
    if (fitted.ok()) {
      model = *std::move(fitted);
    } else if (absl::IsFailedPrecondition(fitted.status())) {
      model_error = std::string(fitted.status().message());
    } else {
      return job.reply(ErrorReply(500, "internal", std::string(fitted.status().message())));
    }
  } else {
    model = latest_ ? latest_(job.space) : nullptr;
    if (model == nullptr) model_error = "no purchase model yet: it is fitted once customers have bought twice";
  }
  const base::Timestamp now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  absl::StatusOr<std::string> body = audiences::KpiJson(**snapshot, job.query, model.get(), now);
  if (absl::IsInvalidArgument(body.status())) {
    const std::string message(body.status().message());
    return job.reply(ErrorReply(400, "invalid_value", message, message.substr(0, message.find(':'))));
  }
  if (!body.ok()) return job.reply(ErrorReply(500, "internal", std::string(body.status().message())));
  if (!model_error.empty()) {
    // One more member before the closing brace.
    body->pop_back();
    body->append(",\"model_error\":");
    base::AppendJsonString(*body, model_error);
    body->push_back('}');
  }
  job.reply(UncachedJsonReply(*std::move(body)));
}

void KpiHandler::Handle(const KpiRequest& request, std::function<void(HttpReply)> reply) {
  std::optional<std::string_view> token = BearerToken(request.authorization);
  if (!token || token->empty()) {
    return reply(ErrorReply(401, "unauthorized", "send a read or admin key as Authorization: Bearer KEY"));
  }
  const KeyScope scope = keys_.Identify(*token).scope;
  if (scope == KeyScope::kUnknown) return reply(ErrorReply(401, "unauthorized", "unknown key"));
  if (scope != KeyScope::kAdmin && scope != KeyScope::kRead) {
    return reply(ErrorReply(403, "forbidden", "a write key cannot read figures; use a read or admin key"));
  }
  Job job;
  job.space = std::string(QueryParam(request.query, "space"));
  if (job.space.empty()) job.space = "default";
  if (std::find(spaces_.begin(), spaces_.end(), job.space) == spaces_.end()) {
    return reply(ErrorReply(404, "not_found", absl::StrCat("no space \"", job.space, "\""), "space"));
  }
  for (auto [name, day] : {std::pair{"from", &job.query.from_day}, std::pair{"to", &job.query.to_day},
                           std::pair{"model_as_of", &job.model_as_of}}) {
    absl::StatusOr<std::optional<int32_t>> parsed = DayParam(request.query, name);
    if (!parsed.ok()) return reply(ErrorReply(400, "invalid_value", std::string(parsed.status().message()), name));
    *day = *parsed;
  }
  if (job.query.from_day && job.query.to_day && *job.query.from_day > *job.query.to_day) {
    return reply(ErrorReply(400, "invalid_value", "from: after to", "from"));
  }
  if (std::optional<std::string_view> raw = FindQueryParam(request.query, "granularity")) {
    std::optional<audiences::KpiGranularity> granularity = audiences::ParseKpiGranularity(*raw);
    if (!granularity) {
      return reply(ErrorReply(400, "invalid_value", "granularity: expected day, week or month", "granularity"));
    }
    job.query.granularity = *granularity;
  }
  if (std::optional<std::string_view> raw = FindQueryParam(request.query, "channel")) {
    std::optional<std::string> channel = UrlDecode(*raw);
    if (!channel || channel->empty()) {
      return reply(ErrorReply(400, "invalid_value", "channel: expected a channel name", "channel"));
    }
    job.query.channel = *std::move(channel);
  }
  job.reply = std::move(reply);
  bool queued = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && waiting_.size() < kMaxWaiting) {
      waiting_.push_back(std::move(job));
      queued = true;
    }
  }
  if (!queued) return job.reply(ErrorReply(503, "busy", "too many figure requests waiting; try again shortly"));
  wake_.notify_one();
}

}  // namespace tessera::api
