// GET /v1/audiences/{name}/lift (api/audience_handler.h): the campaign's measurement, as
// activation/campaign_lift.h makes it, in JSON:
//   {"audience","holdoutShare","conversion":{"event","withinDays","revenue"},"since","until",
//    "entries","erased","windowNotOver",
//    "treated":{"members","converted","rate","rateCi":[low,high],"revenue","revenuePerMember"},
//    "holdout":{...the same...},
//    "lift":{"absolute","absoluteCi":[low,high],"relative"?,"relativeCi"?:[low,high]} or null}
// Intervals are 95%. ?since= and ?until= bound when members entered (ISO-8601; default: all).

#include <chrono>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "activation/campaign_lift.h"
#include "api/audience_handler.h"
#include "base/json_writer.h"
#include "base/time.h"

namespace tessera::api {
namespace {

using base::JsonWriter;

void WriteInterval(JsonWriter& json, const activation::Interval& interval) {
  json.BeginArray().Double(interval.low).Double(interval.high).EndArray();
}

void WriteGroup(JsonWriter& json, const activation::GroupOutcome& group, double rate,
                const std::optional<activation::Interval>& rate_ci) {
  json.BeginObject();
  json.Key("members").Uint(group.members);
  json.Key("converted").Uint(group.converted);
  json.Key("rate").Double(rate);
  if (rate_ci) {
    json.Key("rateCi");
    WriteInterval(json, *rate_ci);
  }
  json.Key("revenue").Double(group.revenue);
  json.Key("revenuePerMember").Double(group.members == 0 ? 0 : group.revenue / static_cast<double>(group.members));
  json.EndObject();
}

std::optional<base::Timestamp> TimeParam(std::string_view query, std::string_view name, bool& bad) {
  std::optional<std::string_view> text = FindQueryParam(query, name);
  if (!text) return std::nullopt;
  std::optional<std::string> decoded = UrlDecode(*text);
  std::optional<base::Timestamp> time = decoded ? base::ParseIso8601(*decoded) : std::nullopt;
  if (!time && decoded && decoded->size() == 10) time = base::ParseIso8601(*decoded + "T00:00:00Z");
  bad = !time.has_value();
  return time;
}

}  // namespace

HttpReply AudienceHandler::Lift(const AudienceRequest& request, audiences::SpaceAudiences& space,
                                const std::string& name) const {
  const std::shared_ptr<const audiences::DefinitionSet> definitions = space.definitions();
  const audiences::Audience* audience = definitions->FindAudience(name);
  if (audience == nullptr) return ErrorReply(404, "unknown_audience", absl::StrCat("no audience ", name));
  bool bad = false;
  const base::Timestamp since = TimeParam(request.query, "since", bad).value_or(base::Timestamp{});
  if (bad) return ErrorReply(400, "invalid_value", "since: expected an ISO-8601 date or time", "since");
  const base::Timestamp now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  const base::Timestamp until = TimeParam(request.query, "until", bad).value_or(now + std::chrono::seconds(1));
  if (bad) return ErrorReply(400, "invalid_value", "until: expected an ISO-8601 date or time", "until");
  absl::StatusOr<activation::LiftReport> report =
      activation::MeasureLift(store_, space.space(), *audience, since, until, now);
  if (!report.ok()) return ErrorReply(500, "internal", std::string(report.status().message()));

  HttpReply reply;
  JsonWriter json(reply.body);
  json.BeginObject();
  json.Key("audience").String(name);
  json.Key("holdoutShare").Double(audience->holdout);
  json.Key("conversion").BeginObject();
  json.Key("event").String(audience->conversion.event);
  json.Key("withinDays").Int(audience->conversion.within_days);
  json.Key("revenue").String(audience->conversion.revenue);
  json.EndObject();
  json.Key("since").String(base::FormatIso8601(since));
  json.Key("until").String(base::FormatIso8601(until));
  json.Key("entries").Uint(report->entries);
  json.Key("erased").Uint(report->erased);
  json.Key("windowNotOver").Uint(report->window_not_over);
  const std::optional<activation::Lift>& lift = report->lift;
  auto rate = [](const activation::GroupOutcome& group) {
    return group.members == 0 ? 0.0 : static_cast<double>(group.converted) / static_cast<double>(group.members);
  };
  json.Key("treated");
  WriteGroup(json, report->treated, rate(report->treated),
             lift ? std::optional(lift->treated_rate_ci) : std::nullopt);
  json.Key("holdout");
  WriteGroup(json, report->holdout, rate(report->holdout),
             lift ? std::optional(lift->holdout_rate_ci) : std::nullopt);
  json.Key("lift");
  if (!lift) {
    json.Null();
  } else {
    json.BeginObject();
    json.Key("absolute").Double(lift->absolute);
    json.Key("absoluteCi");
    WriteInterval(json, lift->absolute_ci);
    if (lift->relative) json.Key("relative").Double(*lift->relative);
    if (lift->relative_ci) {
      json.Key("relativeCi");
      WriteInterval(json, *lift->relative_ci);
    }
    json.EndObject();
  }
  json.EndObject();
  return reply;
}

}  // namespace tessera::api
