// `tessera bench purchase-fit`: what fitting a space's purchase models costs (a measurement, not a
// test). It draws N customers from BG/NBD's and Gamma-Gamma's own stories with CDNOW's published
// parameters (seeded), writes them as profiles with purchase days into a fresh store, untimed, then
// times
//   1. the fit on the customers' summaries alone (prediction::FitPurchaseModel), and
//   2. the whole path of GET /v1/models/purchase?as_of= and of the sweep's refit: reading every
//      profile of the space, summarizing it and fitting (resolve::FitSpacePurchases).
// It prints one RESULT line for tools/bench/run.sh, with the fitted parameters beside the ones the
// customers were drawn from. See docs/benchmarks.md and docs/prediction.md.

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "audiences/purchase_traits.h"
#include "prediction/purchase_model.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "resolve/purchase_models.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

constexpr std::string_view kSpace = "default";
constexpr std::string_view kUsage =
    "usage: tessera bench purchase-fit [--customers N] [--seed N] [--dir DIR]\n"
    "  --customers N  customers drawn (default 100000)\n"
    "  --seed N       seed of the generator (default 42)\n"
    "  --dir DIR      keep the store in DIR (must not exist) instead of a temporary directory\n";
constexpr int32_t kFirstDay = 9'862;        // 1997-01-01: acquisitions over its first 12 weeks, as CDNOW's.
constexpr int32_t kAsOfDay = kFirstDay + 272;  // 1997-09-30: the calibration's end.

// CDNOW's published parameters (Fader, Hardie & Lee 2005; Fader & Hardie's Gamma-Gamma note).
constexpr prediction::BgNbdParameters kBgNbd{.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426};
constexpr prediction::GammaGammaParameters kGammaGamma{.p = 6.25, .q = 3.74, .gamma = 15.44};

// One customer's purchase days from the models' stories: first purchase on an acquisition day,
// then a Poisson process of rate lambda a week; after each repeat purchase the customer leaves
// with probability p. Every transaction's value is Gamma(p_gg, nu) with nu ~ Gamma(q, gamma).
profile_store::PurchaseHistory DrawCustomer(std::mt19937_64& random) {
  std::gamma_distribution<double> rate(kBgNbd.r, 1 / kBgNbd.alpha);
  std::gamma_distribution<double> dropout_a(kBgNbd.a, 1);
  std::gamma_distribution<double> dropout_b(kBgNbd.b, 1);
  std::gamma_distribution<double> spend_scale(kGammaGamma.q, 1 / kGammaGamma.gamma);
  std::uniform_int_distribution<int32_t> acquisition(0, 83);
  std::uniform_real_distribution<double> uniform(0, 1);
  const double lambda = rate(random);
  const double x = dropout_a(random);
  const double dropout = x / (x + dropout_b(random));
  const double nu = spend_scale(random);
  std::gamma_distribution<double> value(kGammaGamma.p, 1 / nu);
  profile_store::PurchaseHistory history;
  int32_t day = kFirstDay + acquisition(random);
  history.Add(day, value(random));
  double weeks = 0;
  for (;;) {
    if (!(lambda > 0)) break;
    weeks += std::exponential_distribution<double>(lambda)(random);
    const int32_t next = day + static_cast<int32_t>(weeks * 7);
    if (next > kAsOfDay) break;
    history.Add(next, value(random));
    if (uniform(random) < dropout) break;
  }
  return history;
}

struct Figures {
  int64_t customers = 0;
  int64_t repeat_customers = 0;
  double fit_seconds = 0;       // Summaries in memory -> both models.
  double scan_fit_seconds = 0;  // Store -> summaries -> both models.
  prediction::PurchaseModel fitted;
};

absl::Status Run(const std::string& dir, uint64_t customers, uint64_t seed, Figures& figures) {
  auto store = profile_store::Store::Open({.path = dir, .sync_writes = false});
  if (!store.ok()) return store.status();
  std::mt19937_64 random(seed);
  std::vector<prediction::CalibrationSummary> summaries;
  summaries.reserve(customers);
  rocksdb::WriteBatch batch;
  std::string record;
  for (uint64_t i = 1; i <= customers; ++i) {
    profile_store::Profile profile;
    profile.id = profile_store::ProfileId{i};
    profile.purchases = DrawCustomer(random);
    absl::StatusOr<prediction::CalibrationSummary> summary =
        audiences::SummarizePurchaseDays(profile.purchases, kAsOfDay);
    if (!summary.ok()) return summary.status();
    summaries.push_back(*summary);
    record.clear();
    profile_store::EncodeProfile(profile, record);
    batch.Put((*store)->handle(profile_store::ColumnFamily::kProfiles), profile_store::ProfileKey(kSpace, profile.id),
              record);
    if (batch.Count() >= 10'000 || i == customers) {
      if (absl::Status written = (*store)->Write(batch); !written.ok()) return written;
      batch.Clear();
    }
  }
  const auto fit_start = std::chrono::steady_clock::now();
  absl::StatusOr<prediction::PurchaseModelFit> fit = prediction::FitPurchaseModel(summaries);
  figures.fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
  if (!fit.ok()) return fit.status();
  const auto scan_start = std::chrono::steady_clock::now();
  absl::StatusOr<resolve::SpacePurchaseFit> scanned = resolve::FitSpacePurchases(**store, kSpace, kAsOfDay);
  figures.scan_fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - scan_start).count();
  if (!scanned.ok()) return scanned.status();
  figures.customers = scanned->fit.bg_nbd.customers;
  figures.repeat_customers = scanned->fit.bg_nbd.repeat_customers;
  figures.fitted = scanned->fit.model();
  return (*store)->Close();
}

}  // namespace

int BenchPurchaseFit(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"customers", "seed", "dir"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) {
    std::fprintf(stderr, "tessera bench purchase-fit: %s\n\n%s", std::string(flags.status().message()).c_str(),
                 kUsage.data());
    return 2;
  }
  uint64_t customers = 100'000;
  uint64_t seed = 42;
  for (auto [name, out] : {std::pair<const char*, uint64_t*>{"customers", &customers}, {"seed", &seed}}) {
    auto it = flags->find(name);
    if (it == flags->end()) continue;
    const std::string& text = it->second;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
    if (error != std::errc() || end != text.data() + text.size() ||
        (std::string_view(name) == "customers" && *out == 0)) {
      std::fprintf(stderr, "tessera bench purchase-fit: --%s: \"%s\" is not a positive number\n", name, text.c_str());
      return 2;
    }
  }
  std::error_code ec;
  std::string dir;
  bool temporary = false;
  if (auto it = flags->find("dir"); it != flags->end()) {
    dir = it->second;
    if (std::filesystem::exists(dir, ec)) {
      std::fprintf(stderr, "tessera bench purchase-fit: --dir %s already exists\n", dir.c_str());
      return 2;
    }
  } else {
    dir = (std::filesystem::temp_directory_path(ec) / ("tessera-bench-purchase-fit-" + std::to_string(getpid())))
              .string();
    temporary = true;
  }
  Figures figures;
  const absl::Status status = Run(dir, customers, seed, figures);
  if (temporary) std::filesystem::remove_all(dir, ec);
  if (!status.ok()) {
    std::fprintf(stderr, "tessera bench purchase-fit: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const prediction::PurchaseModel& m = figures.fitted;
  std::printf(
      "RESULT customers=%lld repeat_customers=%lld fit_seconds=%.3f scan_fit_seconds=%.3f r=%.4f alpha=%.4f "
      "a=%.4f b=%.4f p=%.4f q=%.4f gamma=%.4f peak_rss_kib=%ld\n",
      static_cast<long long>(figures.customers), static_cast<long long>(figures.repeat_customers),
      figures.fit_seconds, figures.scan_fit_seconds, m.bg_nbd.r, m.bg_nbd.alpha, m.bg_nbd.a, m.bg_nbd.b,
      m.gamma_gamma.p, m.gamma_gamma.q, m.gamma_gamma.gamma, usage.ru_maxrss);
  return 0;
}

}  // namespace tessera::tools
