// `tessera bench audiences`: what computed traits and audiences cost (a measurement, not a test).
//
// It writes the same seeded synthetic log (identify with traits, orders with totals, email opens,
// page views; events per person power-law distributed) into two fresh stores, untimed, then:
//   1. resolves store A with no definitions and store B with 10 computed traits and 20 audiences
//      (the resolver's throughput with and without keeping them fresh);
//   2. on B, a complete sweep: every profile re-evaluated against the 20 audiences;
//   3. on A, one new audience with an event condition defined over the existing profiles: the
//      sweep that backfills its state from each profile's timeline, then a second, steady sweep;
//   4. on B, the export of the largest audience as CSV (rows/s), discarded.
// See docs/benchmarks.md, section "Audiences".

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audiences/member_export.h"
#include "audiences/space_audiences.h"
#include "identity/identity_rules.h"
#include "identity/normalizer.h"
#include "ingest/accepted_log.h"
#include "ingest/event.h"
#include "ingest/event_codec.h"
#include "ingest/identifier_extractor.h"
#include "profile_store/store.h"
#include "resolve/resolver.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

constexpr std::string_view kSpace = "default";
constexpr std::string_view kUsage =
    "usage: tessera bench audiences [--people N] [--seed N] [--dir DIR]\n"
    "  --people N   people in the synthetic log (default 1000000); about 5 events each\n"
    "  --seed N     seed of the generator (default 42)\n"
    "  --dir DIR    keep the two stores in DIR (must not exist) instead of a temporary directory\n";

using Clock = std::chrono::steady_clock;
using base::Timestamp;

// 10 computed traits and 20 audiences: windows, sums, RFM, churn, identifiers, channels, nesting.
const std::vector<audiences::ConfiguredDefinition>& ComputedTraits() {
  static const std::vector<audiences::ConfiguredDefinition> kTraits = {
      {"orders_90d", R"({"kind":"count","event":"Order Completed","window":"90d"})"},
      {"orders_total", R"({"kind":"count","event":"Order Completed"})"},
      {"revenue", R"({"kind":"sum","event":"Order Completed","property":"properties.total"})"},
      {"avg_order", R"({"kind":"average","event":"Order Completed","property":"properties.total"})"},
      {"max_order_365d", R"({"kind":"max","event":"Order Completed","property":"properties.total","window":"365d"})"},
      {"last_channel", R"({"kind":"last_channel"})"},
      {"days_since_order", R"({"kind":"days_since","event":"Order Completed"})"},
      {"ltv", R"({"kind":"lifetime_value","event":"Order Completed","property":"properties.total"})"},
      {"churn", R"({"kind":"churn_risk","event":"Order Completed"})"},
      {"rfm", R"({"kind":"rfm","event":"Order Completed","property":"properties.total","window":"365d"})"},
  };
  return kTraits;
}

const std::vector<audiences::ConfiguredDefinition>& Audiences() {
  static const std::vector<audiences::ConfiguredDefinition> kAudiences = {
      {"buyers_30d", R"({"condition":{"event":"Order Completed","window":"30d"}})"},
      {"buyers_ever", R"({"condition":{"event":"Order Completed"}})"},
      {"lapsed_openers", R"({"condition":{"all":[{"event":"Order Completed"},{"not":{"event":"Order Completed","window":"90d"}},{"event":"Email Opened","window":"7d"}]}})"},
      {"sms_reachable", R"({"condition":{"all":[{"identifier":"phone"},{"trait":"consent.sms","op":"eq","value":true}]}})"},
      {"big_spenders", R"({"condition":{"computed":"revenue","op":"gte","value":500}})"},
      {"frequent", R"({"condition":{"computed":"orders_90d","op":"gte","value":3}})"},
      {"pro_frequent", R"({"condition":{"all":[{"trait":"plan","op":"in","value":["pro","team"]},{"computed":"orders_90d","op":"gte","value":2}]}})"},
      {"email_active", R"({"condition":{"channel":"email","window":"14d"}})"},
      {"app_users", R"({"condition":{"channel":"app"}})"},
      {"no_email", R"({"condition":{"identifier":"email","op":"missing"}})"},
      {"high_churn", R"({"condition":{"computed":"churn","op":"gte","value":0.8}})"},
      {"champions", R"({"condition":{"computed":"rfm.score","op":"starts_with","value":"55"}})"},
      {"ltv_1k", R"({"condition":{"computed":"ltv","op":"gte","value":1000}})"},
      {"big_basket", R"({"condition":{"computed":"avg_order","op":"gt","value":150}})"},
      {"recent_big", R"({"condition":{"computed":"max_order_365d","op":"gte","value":250}})"},
      {"last_on_web", R"({"condition":{"computed":"last_channel","op":"eq","value":"web"}})"},
      {"week_quiet", R"({"condition":{"computed":"days_since_order","op":"gte","value":7}})"},
      {"free_plan", R"({"condition":{"trait":"plan","op":"eq","value":"free"}})"},
      {"visitors_no_order", R"({"condition":{"all":[{"event":"","type":"page"},{"not":{"event":"Order Completed"}}]}})"},
      {"any_signal", R"({"condition":{"any":[{"event":"Email Opened","window":"30d"},{"computed":"orders_total","op":"gte","value":5},{"trait":"plan","op":"eq","value":"team"}]}})"},
  };
  return kAudiences;
}

// The synthetic log: person i has an identify (user id, email for 90%, phone for 60%, plan,
// consent), 0..30 orders (power law) over the last year, 0..3 email opens in the last 3 weeks and
// 0..4 page views. Returns the number of events written.
absl::StatusOr<uint64_t> WriteLog(profile_store::Store& store, uint64_t people, uint64_t seed, Timestamp now) {
  ingest::AcceptedLog log(store);
  if (absl::Status recovered = log.Recover(); !recovered.ok()) return recovered;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  const char* const plans[] = {"free", "pro", "team"};
  const std::string_view channels[] = {"web", "app", "pos"};
  uint64_t events = 0;
  uint64_t message = 0;
  std::string record;
  rocksdb::WriteBatch batch;
  auto add = [&](ingest::CanonicalEvent& event) -> absl::Status {
    event.message_id = absl::StrCat("m", ++message);
    event.space = std::string(kSpace);
    event.received_at = now;
    record.clear();
    ingest::EncodeEvent(event, record);
    log.AddToBatch(kSpace, record, batch);
    ++events;
    if (batch.Count() >= 20000) {
      log.FinishBatch(batch);
      if (absl::Status written = store.WriteIntakeUnsynced(batch); !written.ok()) return written;
      batch.Clear();
    }
    return absl::OkStatus();
  };
  auto days_ago = [&](double days) {
    return now - std::chrono::microseconds(static_cast<int64_t>(days * 86400e6));
  };
  for (uint64_t person = 0; person < people; ++person) {
    const std::string user = absl::StrCat("u", person);
    ingest::CanonicalEvent identify;
    identify.type = ingest::EventType::kIdentify;
    identify.user_id = user;
    identify.source = "bench";
    identify.channel = std::string(channels[person % 3]);
    identify.timestamp = days_ago(400 * unit(rng));
    identify.traits = absl::StrCat(R"({"plan":")", plans[person % 3], R"(","consent":{"sms":)",
                                   unit(rng) < 0.5 ? "true" : "false", "}");
    if (unit(rng) < 0.9) absl::StrAppend(&identify.traits, R"(,"email":"user)", person, R"(@example.com")");
    if (unit(rng) < 0.6) absl::StrAppend(&identify.traits, R"(,"phone":"+1)", 2012000000 + person % 7000000, R"(")");
    identify.traits.push_back('}');
    if (absl::Status status = add(identify); !status.ok()) return status;
    // Power law: most people order rarely, a few often.
    const int orders = std::min(30, static_cast<int>(std::floor(std::pow(unit(rng), -0.7))) - 1);
    for (int i = 0; i < orders; ++i) {
      ingest::CanonicalEvent order;
      order.type = ingest::EventType::kTrack;
      order.event = "Order Completed";
      order.user_id = user;
      order.source = "bench";
      order.channel = std::string(channels[(person + static_cast<uint64_t>(i)) % 3]);
      order.timestamp = days_ago(365 * unit(rng));
      order.properties = absl::StrCat(R"({"total":)", std::round(unit(rng) * 30000) / 100, R"(,"currency":"USD"})");
      if (absl::Status status = add(order); !status.ok()) return status;
    }
    const int opens = static_cast<int>(unit(rng) * 4);
    for (int i = 0; i < opens; ++i) {
      ingest::CanonicalEvent open;
      open.type = ingest::EventType::kTrack;
      open.event = "Email Opened";
      open.user_id = user;
      open.source = "mailer";
      open.channel = "email";
      open.timestamp = days_ago(21 * unit(rng));
      if (absl::Status status = add(open); !status.ok()) return status;
    }
    const int pages = static_cast<int>(unit(rng) * 5);
    for (int i = 0; i < pages; ++i) {
      ingest::CanonicalEvent page;
      page.type = ingest::EventType::kPage;
      page.name = "Pricing";
      page.user_id = user;
      page.source = "bench";
      page.channel = "web";
      page.timestamp = days_ago(60 * unit(rng));
      if (absl::Status status = add(page); !status.ok()) return status;
    }
  }
  if (batch.Count() > 0) {
    log.FinishBatch(batch);
    if (absl::Status written = store.WriteIntakeUnsynced(batch); !written.ok()) return written;
  }
  return events;
}

struct Figures {
  uint64_t events = 0;
  uint64_t profiles = 0;
  double resolve_plain_seconds = 0;
  double resolve_audiences_seconds = 0;
  double sweep_all_seconds = 0;
  double sweep_again_seconds = 0;
  double backfill_one_seconds = 0;
  uint64_t backfilled_profiles = 0;
  double sweep_one_seconds = 0;
  std::string largest_audience;
  int64_t largest_size = 0;
  uint64_t exported_rows = 0;
  uint64_t exported_bytes = 0;
  double export_seconds = 0;
  std::map<std::string, int64_t> sizes;
};

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

absl::StatusOr<std::unique_ptr<profile_store::Store>> OpenStore(const std::string& path) {
  profile_store::StoreOptions options;
  options.path = path;
  options.sync_writes = false;
  return profile_store::Store::Open(options);
}

absl::Status Run(const std::string& root, uint64_t people, uint64_t seed, Figures& figures) {
  const Timestamp now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  auto normalizer = identity::Normalizer::Create({});
  if (!normalizer.ok()) return normalizer.status();
  const ingest::IdentifierExtractor extractor(std::vector<ingest::IdentifierMapping>{});
  resolve::ResolverOptions options;
  options.audiences.clock = [now] { return now; };

  auto plain = OpenStore(root + "/plain");
  if (!plain.ok()) return plain.status();
  auto defined = OpenStore(root + "/audiences");
  if (!defined.ok()) return defined.status();
  std::fprintf(stderr, "writing the log (%llu people) twice...\n", static_cast<unsigned long long>(people));
  auto events = WriteLog(**plain, people, seed, now);
  if (!events.ok()) return events.status();
  if (auto again = WriteLog(**defined, people, seed, now); !again.ok()) return again.status();
  figures.events = *events;

  // 1. Resolution without and with definitions.
  audiences::SpaceAudiences plain_audiences(**plain, std::string(kSpace));
  if (absl::Status loaded = plain_audiences.Load({}, {}); !loaded.ok()) return loaded;
  resolve::Resolver plain_resolver(**plain, std::string(kSpace), **normalizer, extractor,
                                   identity::IdentityRules(), options, &plain_audiences);
  if (absl::Status recovered = plain_resolver.Recover(); !recovered.ok()) return recovered;
  std::fprintf(stderr, "resolving without definitions...\n");
  Clock::time_point start = Clock::now();
  if (auto applied = plain_resolver.CatchUp(); !applied.ok()) return applied.status();
  figures.resolve_plain_seconds = SecondsSince(start);
  figures.profiles = plain_resolver.metrics().profiles_created.load();

  audiences::SpaceAudiences space_audiences(**defined, std::string(kSpace));
  if (absl::Status loaded = space_audiences.Load(ComputedTraits(), Audiences()); !loaded.ok()) return loaded;
  resolve::Resolver resolver(**defined, std::string(kSpace), **normalizer, extractor,
                             identity::IdentityRules(), options, &space_audiences);
  if (absl::Status recovered = resolver.Recover(); !recovered.ok()) return recovered;
  std::fprintf(stderr, "resolving with 10 computed traits and 20 audiences...\n");
  start = Clock::now();
  if (auto applied = resolver.CatchUp(); !applied.ok()) return applied.status();
  figures.resolve_audiences_seconds = SecondsSince(start);

  // 2. A complete sweep of every profile against the 20 audiences.
  std::fprintf(stderr, "sweeping...\n");
  start = Clock::now();
  if (absl::Status swept = resolver.EvaluateAudiences(); !swept.ok()) return swept;
  figures.sweep_all_seconds = SecondsSince(start);
  // The first sweep computed the RFM cut points; the second evaluates with them.
  start = Clock::now();
  if (absl::Status swept = resolver.EvaluateAudiences(); !swept.ok()) return swept;
  figures.sweep_again_seconds = SecondsSince(start);
  for (const audiences::AudienceStatus& status : space_audiences.AllStatuses()) {
    figures.sizes[status.audience->name] = status.counters.size;
    if (status.counters.size > figures.largest_size) {
      figures.largest_size = status.counters.size;
      figures.largest_audience = status.audience->name;
    }
  }

  // 3. One audience defined over existing profiles: backfill, then a steady sweep.
  auto added = plain_audiences.PutAudience("buyers_30d", R"({"condition":{"event":"Order Completed","window":"30d"}})");
  if (!added.ok()) return added.status();
  std::fprintf(stderr, "defining one audience over the resolved store (backfill)...\n");
  start = Clock::now();
  if (absl::Status swept = plain_resolver.EvaluateAudiences(); !swept.ok()) return swept;
  figures.backfill_one_seconds = SecondsSince(start);
  figures.backfilled_profiles = plain_resolver.audience_maintenance()->metrics().backfilled_profiles.load();
  start = Clock::now();
  if (absl::Status swept = plain_resolver.EvaluateAudiences(); !swept.ok()) return swept;
  figures.sweep_one_seconds = SecondsSince(start);
  if (plain_audiences.Counters("buyers_30d").size != figures.sizes["buyers_30d"]) {
    return absl::InternalError(absl::StrCat("buyers_30d has ", plain_audiences.Counters("buyers_30d").size,
                                            " members when backfilled but ", figures.sizes["buyers_30d"],
                                            " when kept from the start"));
  }

  // 4. Export of the largest audience.
  auto fields = audiences::ParseExportFields("id,enteredAt,user_id,email,traits.plan,computed.revenue,computed.rfm",
                                             *space_audiences.definitions());
  if (!fields.ok()) return fields.status();
  audiences::MemberExport exporter(**defined, std::string(kSpace), figures.largest_audience, *std::move(fields),
                                   audiences::ExportFormat::kCsv, space_audiences.definitions(), space_audiences.figures(),
                                   now);
  std::string chunk;
  start = Clock::now();
  for (;;) {
    chunk.clear();
    absl::StatusOr<bool> more = exporter.Next(chunk);
    if (!more.ok()) return more.status();
    figures.exported_bytes += chunk.size();
    if (!*more) break;
  }
  figures.export_seconds = SecondsSince(start);
  figures.exported_rows = exporter.rows();
  if (static_cast<int64_t>(figures.exported_rows) != figures.largest_size) {
    return absl::InternalError(absl::StrCat("exported ", figures.exported_rows, " rows of ", figures.largest_audience,
                                            ", whose size is ", figures.largest_size));
  }
  return absl::OkStatus();
}

std::string Rate(double count, double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.0f", seconds > 0 ? count / seconds : 0);
  return text;
}

}  // namespace

int BenchAudiences(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"people", "seed", "dir"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) {
    std::fprintf(stderr, "tessera bench audiences: %s\n\n%s", std::string(flags.status().message()).c_str(),
                 kUsage.data());
    return 2;
  }
  uint64_t people = 1'000'000;
  uint64_t seed = 42;
  for (auto [name, out] : {std::pair<const char*, uint64_t*>{"people", &people}, {"seed", &seed}}) {
    auto it = flags->find(name);
    if (it == flags->end()) continue;
    const std::string& text = it->second;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
    if (error != std::errc() || end != text.data() + text.size() || (std::string_view(name) == "people" && *out == 0)) {
      std::fprintf(stderr, "tessera bench audiences: --%s: \"%s\" is not a positive number\n", name, text.c_str());
      return 2;
    }
  }
  std::error_code ec;
  std::string root;
  bool temporary = false;
  if (auto it = flags->find("dir"); it != flags->end()) {
    root = it->second;
    if (std::filesystem::exists(root, ec)) {
      std::fprintf(stderr, "tessera bench audiences: --dir %s already exists\n", root.c_str());
      return 2;
    }
  } else {
    root = (std::filesystem::temp_directory_path(ec) / ("tessera-bench-audiences-" + std::to_string(getpid()))).string();
    temporary = true;
  }
  Figures figures;
  absl::Status status = Run(root, people, seed, figures);
  if (!status.ok()) {
    std::fprintf(stderr, "tessera bench audiences: %s (stores kept in %s)\n", std::string(status.message()).c_str(),
                 root.c_str());
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("Synthetic log: %llu events about %llu profiles.\n\n", static_cast<unsigned long long>(figures.events),
              static_cast<unsigned long long>(figures.profiles));
  std::printf("| measurement | time | rate |\n|---|---:|---:|\n");
  std::printf("| resolve, no definitions | %.2f s | %s events/s |\n", figures.resolve_plain_seconds,
              Rate(static_cast<double>(figures.events), figures.resolve_plain_seconds).c_str());
  std::printf("| resolve, 10 computed traits + 20 audiences | %.2f s | %s events/s (%.2fx) |\n",
              figures.resolve_audiences_seconds,
              Rate(static_cast<double>(figures.events), figures.resolve_audiences_seconds).c_str(),
              figures.resolve_plain_seconds / figures.resolve_audiences_seconds);
  std::printf("| sweep: every profile against 20 audiences | %.2f s | %s profiles/s |\n", figures.sweep_all_seconds,
              Rate(static_cast<double>(figures.profiles), figures.sweep_all_seconds).c_str());
  std::printf("| sweep again, with the RFM cut points of the first | %.2f s | %s profiles/s |\n",
              figures.sweep_again_seconds,
              Rate(static_cast<double>(figures.profiles), figures.sweep_again_seconds).c_str());
  std::printf("| new audience over existing profiles (backfill of %llu profiles) | %.2f s | %s profiles/s |\n",
              static_cast<unsigned long long>(figures.backfilled_profiles), figures.backfill_one_seconds,
              Rate(static_cast<double>(figures.profiles), figures.backfill_one_seconds).c_str());
  std::printf("| sweep: every profile against 1 audience | %.2f s | %s profiles/s |\n", figures.sweep_one_seconds,
              Rate(static_cast<double>(figures.profiles), figures.sweep_one_seconds).c_str());
  std::printf("| export %s (%llu rows, %.1f MB CSV) | %.2f s | %s rows/s |\n", figures.largest_audience.c_str(),
              static_cast<unsigned long long>(figures.exported_rows), static_cast<double>(figures.exported_bytes) / 1e6,
              figures.export_seconds, Rate(static_cast<double>(figures.exported_rows), figures.export_seconds).c_str());
  std::printf("\nPeak RSS of the whole run: %.0f MB.\n\nAudience sizes:", static_cast<double>(usage.ru_maxrss) / 1024);
  for (const auto& [name, size] : figures.sizes) std::printf(" %s %lld;", name.c_str(), static_cast<long long>(size));
  std::printf("\n");
  if (temporary) std::filesystem::remove_all(root, ec);
  return 0;
}

}  // namespace tessera::tools
