// `tessera bench resolve`: the benchmark of the identity resolver alone (a measurement, not a test).
//
// It writes a synthetic, seeded stream of canonical events into the accepted-event log of a fresh
// store (untimed), then times one Resolver::CatchUp over the whole log: decode, extract, normalize,
// resolve, update profiles and timelines, and the unsynced writes of all of it. Each configuration
// runs in two child processes (one writes the log, one resolves it) so that the peak RSS reported
// is the resolver's own, and so that two configurations in one run do not share memory or caches.
//
// The generator also simulates the graph (union-find over each person's identifiers) to know how
// many profiles and merges the resolver must report; a difference, or any dead letter, is printed
// and makes the command fail, because a fast resolver that resolves wrongly measures nothing.
//
// See docs/benchmarks.md, section "Resolver".

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "identity/identity_graph.h"
#include "identity/identity_rules.h"
#include "identity/normalizer.h"
#include "ingest/accepted_log.h"
#include "ingest/event.h"
#include "ingest/event_codec.h"
#include "ingest/identifier_extractor.h"
#include "profile_store/store.h"
#include "resolve/resolver.h"
#include "tools/commands.h"
#include "tools/load/event_generator.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

constexpr std::string_view kUsage =
    "usage: tessera bench resolve [--events N] [--people N] [--multi F] [--cache-ratio R] [--seed N] [--dir "
    "DIR]\n"
    "  --events N        events in the synthetic log (default 1000000)\n"
    "  --people N        people the events are about (default 200000, at most 10000000)\n"
    "  --multi F         fraction of events carrying several identifiers, 0..1 (default 0.3)\n"
    "  --cache-ratio R   0: caches hold the whole graph; 0 < R <= 1: caches hold R x the graph.\n"
    "                    Without it, both 0 and 0.1 are run, each in its own fresh store.\n"
    "  --seed N          seed of the generator (default 42)\n"
    "  --dir DIR         keep the stores in DIR/resolve-cache-ratio-R (must not exist) instead of a\n"
    "                    temporary directory that is removed afterwards\n"
    "\n"
    "usage: tessera bench audiences [--people N] [--seed N] [--dir DIR]   (tools/bench_audiences.cc)\n"
    "\n"
    "usage: tessera bench purchase-fit [--customers N] [--seed N] [--dir DIR]   (tools/bench_prediction.cc)\n"
    "\n"
    "usage: tessera bench match [--datasets DIR] [--only NAME] [--threshold P]   (tools/match_command.cc)\n"
    "  fake_1000 and Febrl 1-3 deduplicated, Febrl 4a-4b linked, against their ground truth (docs/matching.md)\n"
    "       tessera bench match --generate N --out PEOPLE.csv [--seed S]   synthetic people with ground truth\n"
    "       tessera bench match --evaluate PEOPLE.csv --pairs PAIRS.csv --clusters CLUSTERS.csv [--id COLUMN]\n"
    "\n"
    "usage: tessera bench corpus|parse|store|pipeline|graph ...   the steps of tools/bench/run.sh\n"
    "  (tools/bench_suite.cc; docs/benchmarks.md, \"Tessera against its limits and a peer\")\n";

constexpr std::string_view kSpace = "default";
constexpr size_t kTargetEventBytes = 600;    // Size of an event as JSON, about.
constexpr size_t kLogChunkEvents = 10'000;   // Events per log WriteBatch.
constexpr double kZipfExponent = 0.8;        // Popularity of person of rank k is proportional to k^-0.8.
constexpr uint64_t kMaxPeople = 10'000'000;  // Phone numbers are unique per person up to this.
// Caches when the graph must fit: more than any run of the default size needs.
constexpr size_t kFitIdentifierCache = 4'000'000;
constexpr size_t kFitProfileCache = 1'000'000;
// 2025-01-01T00:00:00Z: a fixed epoch keeps the stream reproducible.
constexpr int64_t kEpochSeconds = 1'735'689'600;

// Identifier slots of a person; identifier number = person * kSlots + slot.
enum Slot : uint32_t { kUser = 0, kAnonymous0 = 1, kEmail = 4, kPhone = 5, kDevice = 6, kSlots = 7 };

struct BenchOptions {
  uint64_t events = 1'000'000;
  uint64_t people = 200'000;
  double multi = 0.3;
  uint64_t seed = 42;
  std::string dir;  // Empty: a temporary directory.
};

// What the log writer learned, sent from its child process (plain data through a pipe).
struct GenerationStats {
  uint64_t events = 0;
  uint64_t log_bytes = 0;
  uint64_t multi_events = 0;
  uint64_t people_seen = 0;
  uint64_t distinct_identifiers = 0;
  uint64_t expected_profiles_created = 0;
  uint64_t expected_merges = 0;
  double write_seconds = 0;
};

// What the resolver did, sent from its child process.
struct ResolveStats {
  uint64_t applied = 0;
  uint64_t profiles_created = 0;
  uint64_t merges = 0;
  uint64_t refused_merges = 0;
  uint64_t dead_letters = 0;
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  uint64_t identifier_cache_entries = 0;
  uint64_t profile_cache_entries = 0;
  uint64_t peak_rss_kib = 0;
  double seconds = 0;
};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The synthetic population: which identifiers each person has, and their values. Values are
// functions of (seed, person, slot), written already normalized so that counting raw values counts
// graph identifiers.
class Population {
 public:
  Population(uint64_t people, uint64_t seed) : seed_(seed), people_(people) {
    std::mt19937_64 rng(SplitMix64(seed ^ 0x5eed));
    traits_.resize(people);
    for (Traits& person : traits_) {
      person.anonymous_ids = static_cast<uint8_t>(std::uniform_int_distribution<int>(1, 3)(rng));
      person.email = std::bernoulli_distribution(0.7)(rng);
      person.phone = std::bernoulli_distribution(0.3)(rng);
      person.device = std::bernoulli_distribution(0.5)(rng);
    }
    // Zipf over ranks; rank r is person permutation_[r], so popularity is not the person number.
    cdf_.resize(people);
    double sum = 0;
    for (uint64_t rank = 0; rank < people; ++rank) {
      sum += std::pow(static_cast<double>(rank + 1), -kZipfExponent);
      cdf_[rank] = sum;
    }
    for (double& value : cdf_) value /= sum;
    permutation_.resize(people);
    std::iota(permutation_.begin(), permutation_.end(), 0);
    std::shuffle(permutation_.begin(), permutation_.end(), rng);
  }

  uint64_t people() const { return people_; }
  uint64_t Pick(std::mt19937_64& rng) const {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const size_t rank = std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
    return permutation_[std::min<size_t>(rank, people_ - 1)];
  }

  int anonymous_ids(uint64_t person) const { return traits_[person].anonymous_ids; }
  bool has_email(uint64_t person) const { return traits_[person].email; }
  bool has_phone(uint64_t person) const { return traits_[person].phone; }
  bool has_device(uint64_t person) const { return traits_[person].device; }

  std::string UserId(uint64_t person) const { return "usr_" + std::to_string(person + 1); }
  std::string AnonymousId(uint64_t person, int index) const {
    const uint64_t a = SplitMix64(seed_ ^ SplitMix64(person * kSlots + kAnonymous0 + index));
    return UuidFromBits(a, SplitMix64(a));
  }
  std::string Email(uint64_t person) const {
    static constexpr std::string_view kDomains[] = {"example.com", "gmail.com", "naver.com", "outlook.com"};
    return "person" + std::to_string(person + 1) + "@" + std::string(kDomains[SplitMix64(person) % 4]);
  }
  // Unique per person: US +1 650 [2-9]XX-XXXX for odd persons, Korean mobile +82 10 [2-9]XXX-XXXX
  // for even ones (both valid for libphonenumber; checked before the log is written).
  std::string Phone(uint64_t person) const {
    const uint64_t half = person / 2;
    if (person % 2 == 1) return "+1650" + std::to_string(2'000'000 + half);
    return "+8210" + std::to_string(20'000'000 + half);
  }
  std::string DeviceId(uint64_t person) const {
    char buffer[40];
    std::snprintf(buffer, sizeof(buffer), "%016llx%016llx",
                  static_cast<unsigned long long>(SplitMix64(seed_ + person * kSlots + kDevice)),
                  static_cast<unsigned long long>(SplitMix64(~seed_ ^ person)));
    return buffer;
  }

 private:
  struct Traits {
    uint8_t anonymous_ids = 1;
    bool email = false;
    bool phone = false;
    bool device = false;
  };
  uint64_t seed_;
  uint64_t people_;
  std::vector<Traits> traits_;
  std::vector<double> cdf_;
  std::vector<uint32_t> permutation_;
};

// What the graph must do with the stream, computed the simple way: identifiers of one person are
// joined by the events that carry several of them. An event whose identifiers are all new creates a
// profile; an event touching k existing profiles merges k - 1 of them. (No limit is ever exceeded:
// each person has one user id, one email, one phone, and identifiers never cross persons.)
class GraphSimulation {
 public:
  explicit GraphSimulation(uint64_t identifiers) : parent_(identifiers), seen_(identifiers, false) {
    std::iota(parent_.begin(), parent_.end(), 0);
  }

  void Apply(std::span<const uint64_t> identifiers) {
    uint64_t roots[8];
    size_t distinct = 0;
    for (uint64_t id : identifiers) {
      if (!seen_[id]) continue;
      const uint64_t root = Find(id);
      if (std::find(roots, roots + distinct, root) == roots + distinct) roots[distinct++] = root;
    }
    if (distinct == 0) ++profiles_created_;
    if (distinct > 1) merges_ += distinct - 1;
    for (uint64_t id : identifiers) {
      if (!seen_[id]) {
        seen_[id] = true;
        ++distinct_identifiers_;
      }
      parent_[Find(id)] = Find(identifiers[0]);
    }
  }

  uint64_t profiles_created() const { return profiles_created_; }
  uint64_t merges() const { return merges_; }
  uint64_t distinct_identifiers() const { return distinct_identifiers_; }

 private:
  uint64_t Find(uint64_t id) {
    while (parent_[id] != id) {
      parent_[id] = parent_[parent_[id]];
      id = parent_[id];
    }
    return id;
  }

  std::vector<uint64_t> parent_;
  std::vector<bool> seen_;
  uint64_t profiles_created_ = 0;
  uint64_t merges_ = 0;
  uint64_t distinct_identifiers_ = 0;
};

template <size_t N>
std::string_view Pick(const std::string_view (&choices)[N], std::mt19937_64& rng) {
  return choices[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

// Makes the events: one person per event by popularity, then one of the shapes in the usage.
class StreamGenerator {
 public:
  StreamGenerator(const Population& population, const BenchOptions& options)
      : population_(population), options_(options), rng_(options.seed) {}

  // The next event, and the identifier numbers it carries (for the simulation).
  ingest::CanonicalEvent Next(std::vector<uint64_t>& identifiers, bool& multi) {
    static constexpr std::string_view kChannels[] = {"web", "web", "web", "app", "app", "pos", "email"};
    static constexpr std::string_view kTrackEvents[] = {
        "Product Viewed",  "Product Added",    "Cart Viewed",    "Checkout Started",
        "Order Completed", "Search Performed", "Coupon Applied", "Email Link Clicked"};
    static constexpr std::string_view kPages[] = {"/",        "/products", "/cart",         "/checkout",
                                                  "/account", "/stores",   "/help/shipping"};
    static constexpr std::string_view kCategories[] = {"shoes", "outerwear", "accessories", "kids", "sale"};
    static constexpr std::string_view kPlans[] = {"free", "plus", "pro", "enterprise"};
    static constexpr std::string_view kFirstNames[] = {"Ada",     "Grace",    "Linus",
                                                       "Min-jun", "Seo-yeon", "Mateo"};
    static constexpr std::string_view kLocales[] = {"de-DE", "ko-KR", "en-US", "pt-BR"};
    static constexpr std::string_view kUserAgents[] = {
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Safari/605",
        "Mozilla/5.0 (Windows NT 10.0; Win64) Chrome/124.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/124.0"};
    static constexpr std::string_view kDevices[] = {R"("type":"ios","model":"iPhone15,2")",
                                                    R"("type":"android","model":"Pixel 8")",
                                                    R"("type":"desktop")"};
    static constexpr std::string_view kWords[] = {"comfortable", "waterproof", "limited", "edition",
                                                  "recycled",    "cotton",     "classic", "navy"};

    const uint64_t index = counter_++;
    const uint64_t person = population_.Pick(rng_);
    const int anonymous = std::uniform_int_distribution<int>(0, population_.anonymous_ids(person) - 1)(rng_);
    const size_t locale = std::uniform_int_distribution<size_t>(0, std::size(kLocales) - 1)(rng_);
    clock_ += std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 1500)(rng_));

    ingest::CanonicalEvent event;
    char message_id[48];
    std::snprintf(message_id, sizeof(message_id), "bench-%016llx-%012llx",
                  static_cast<unsigned long long>(SplitMix64(options_.seed)),
                  static_cast<unsigned long long>(index));
    event.message_id = message_id;
    event.space = std::string(kSpace);
    event.channel = std::string(Pick(kChannels, rng_));
    event.source = event.channel + "-source";
    event.timestamp = clock_;
    event.received_at = clock_ + std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 900)(rng_));

    identifiers.clear();
    multi = std::bernoulli_distribution(options_.multi)(rng_);
    bool device_id = false;
    if (multi) {
      if (population_.has_device(person) && std::bernoulli_distribution(0.5)(rng_)) {
        // An app event: the anonymous id and the device id.
        event.type = ingest::EventType::kTrack;
        event.event = std::string(Pick(kTrackEvents, rng_));
        event.anonymous_id = population_.AnonymousId(person, anonymous);
        identifiers.push_back(person * kSlots + kAnonymous0 + anonymous);
        device_id = true;
        identifiers.push_back(person * kSlots + kDevice);
      } else {
        // A login: identify with the user id, the anonymous id, and the contact traits.
        event.type = ingest::EventType::kIdentify;
        event.user_id = population_.UserId(person);
        event.anonymous_id = population_.AnonymousId(person, anonymous);
        identifiers.push_back(person * kSlots + kUser);
        identifiers.push_back(person * kSlots + kAnonymous0 + anonymous);
        event.traits = R"({"firstName":")" + std::string(Pick(kFirstNames, rng_)) + R"(","plan":")" +
                       std::string(Pick(kPlans, rng_)) + "\"";
        if (population_.has_email(person)) {
          event.traits += R"(,"email":")" + population_.Email(person) + "\"";
          identifiers.push_back(person * kSlots + kEmail);
        }
        if (population_.has_phone(person)) {
          event.traits += R"(,"phone":")" + population_.Phone(person) + "\"";
          identifiers.push_back(person * kSlots + kPhone);
        }
        event.traits += "}";
      }
    } else {
      event.type =
          std::bernoulli_distribution(0.75)(rng_) ? ingest::EventType::kTrack : ingest::EventType::kPage;
      if (event.type == ingest::EventType::kTrack) event.event = std::string(Pick(kTrackEvents, rng_));
      if (std::bernoulli_distribution(0.6)(rng_)) {
        event.anonymous_id = population_.AnonymousId(person, anonymous);
        identifiers.push_back(person * kSlots + kAnonymous0 + anonymous);
      } else {
        event.user_id = population_.UserId(person);
        identifiers.push_back(person * kSlots + kUser);
      }
    }
    multi = identifiers.size() > 1;

    // context.traits carries no identifier (it is read for every event type).
    event.context = R"({"library":{"name":"analytics.js","version":"4.1.0"},"ip":"203.0.113.)" +
                    std::to_string(person % 250 + 1) + R"(","locale":")" + std::string(kLocales[locale]) +
                    R"(","userAgent":")" + std::string(Pick(kUserAgents, rng_)) + R"(","traits":{"plan":")" +
                    std::string(Pick(kPlans, rng_)) + R"("},"device":{)";
    if (device_id) event.context += R"("id":")" + population_.DeviceId(person) + "\",";
    event.context += std::string(Pick(kDevices, rng_)) + "}}";

    std::string properties;
    if (event.type == ingest::EventType::kPage) {
      const std::string_view path = Pick(kPages, rng_);
      event.name = path == "/" ? "Home" : std::string(path.substr(1));
      properties = R"({"path":")" + std::string(path) + R"(","url":"https://shop.example.com)" +
                   std::string(path) + R"(","referrer":"https://www.google.com/","title":"Example Shop")";
    } else {
      const int cents = std::uniform_int_distribution<int>(499, 29999)(rng_);
      properties = R"({"product_id":"SKU-)" +
                   std::to_string(std::uniform_int_distribution<int>(10000, 99999)(rng_)) +
                   R"(","category":")" + std::string(Pick(kCategories, rng_)) + R"(","price":)" +
                   std::to_string(cents / 100) + "." + std::to_string(cents % 100 / 10) +
                   std::to_string(cents % 10) + R"(,"currency":"EUR")";
    }
    // Pad the properties up to the target size of the event as JSON (the log's format before v1, so
    // that the synthetic events stay the same whatever the record format).
    event.properties = properties + "}";
    scratch_.clear();
    ingest::EncodeEventJson(event, scratch_);
    constexpr size_t kPadOverhead = std::string_view(R"(,"description":"")").size();
    if (scratch_.size() + kPadOverhead < kTargetEventBytes) {
      const size_t wanted = kTargetEventBytes - scratch_.size() - kPadOverhead;
      std::string padding;
      while (padding.size() < wanted) {
        if (!padding.empty()) padding += ' ';
        padding += Pick(kWords, rng_);
      }
      padding.resize(wanted);
      if (padding.back() == ' ') padding.back() = 's';
      event.properties = properties + R"(,"description":")" + padding + "\"}";
    }
    return event;
  }

 private:
  const Population& population_;
  const BenchOptions& options_;
  std::mt19937_64 rng_;
  uint64_t counter_ = 0;
  ingest::Timestamp clock_{std::chrono::seconds(kEpochSeconds)};
  std::string scratch_;
};

void PrintError(std::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "tessera bench resolve: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               std::string(status.message()).c_str());
}

absl::StatusOr<std::unique_ptr<profile_store::Store>> OpenStore(const std::string& path) {
  profile_store::StoreOptions options;
  options.path = path;
  options.sync_writes = false;
  return profile_store::Store::Open(options);
}

// Checks that every phone and email the population holds normalizes to itself, and that every phone
// is one the metadata knows (the normalizer keeps merely possible numbers too); a generator that
// produced invalid identifiers would benchmark the dead-letter path instead of resolution.
absl::Status CheckPopulation(const Population& population) {
  auto normalizer = identity::Normalizer::Create({});
  if (!normalizer.ok()) return normalizer.status();
  for (uint64_t person = 0; person < population.people(); ++person) {
    const std::pair<std::string_view, std::string> values[] = {
        {identity::identifier_type::kPhone, population.Phone(person)},
        {identity::identifier_type::kEmail, population.Email(person)},
        {identity::identifier_type::kDeviceId, population.DeviceId(person)},
        {identity::identifier_type::kAnonymousId, population.AnonymousId(person, 0)}};
    for (const auto& [type, value] : values) {
      identity::NormalizedValue normalized = (*normalizer)->Normalize(type, value);
      if (normalized.outcome != identity::NormalizedValue::Outcome::kOk || normalized.value != value ||
          !normalized.valid) {
        return absl::InternalError("generated " + std::string(type) + " \"" + value +
                                   "\" does not normalize to itself: " +
                                   (!normalized.reason.empty() ? normalized.reason
                                    : normalized.valid         ? normalized.value
                                                       : "not a range libphonenumber's metadata knows"));
      }
    }
  }
  return absl::OkStatus();
}

// Child process: writes the log into a fresh store at `path`.
absl::StatusOr<GenerationStats> WriteLog(const BenchOptions& options, const std::string& path) {
  Population population(options.people, options.seed);
  if (absl::Status checked = CheckPopulation(population); !checked.ok()) return checked;
  auto store = OpenStore(path);
  if (!store.ok()) return store.status();
  ingest::AcceptedLog log(**store);
  if (absl::Status recovered = log.Recover(); !recovered.ok()) return recovered;
  if (log.next_sequence() != 1) return absl::FailedPreconditionError(path + ": the store is not empty");

  GenerationStats stats;
  StreamGenerator generator(population, options);
  GraphSimulation simulation(options.people * kSlots);
  std::vector<bool> person_seen(options.people, false);
  std::vector<uint64_t> identifiers;
  std::string record;
  const auto start = std::chrono::steady_clock::now();
  uint64_t written = 0;
  while (written < options.events) {
    rocksdb::WriteBatch batch;
    const uint64_t chunk = std::min<uint64_t>(kLogChunkEvents, options.events - written);
    for (uint64_t i = 0; i < chunk; ++i) {
      bool multi = false;
      const ingest::CanonicalEvent event = generator.Next(identifiers, multi);
      record.clear();
      ingest::EncodeEvent(event, record);
      log.AddToBatch(kSpace, record, batch);
      stats.log_bytes += record.size();
      stats.multi_events += multi ? 1 : 0;
      simulation.Apply(identifiers);
      const uint64_t person = identifiers[0] / kSlots;
      if (!person_seen[person]) {
        person_seen[person] = true;
        ++stats.people_seen;
      }
    }
    log.FinishBatch(batch);
    if (absl::Status status = (*store)->WriteIntakeUnsynced(batch); !status.ok()) return status;
    written += chunk;
  }
  if (absl::Status closed = (*store)->Close(); !closed.ok()) return closed;
  stats.write_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.events = written;
  stats.distinct_identifiers = simulation.distinct_identifiers();
  stats.expected_profiles_created = simulation.profiles_created();
  stats.expected_merges = simulation.merges();
  return stats;
}

// Child process: resolves the whole log of the store at `path`, timing CatchUp alone.
absl::StatusOr<ResolveStats> ResolveLog(const std::string& path, size_t identifier_cache,
                                        size_t profile_cache) {
  auto store = OpenStore(path);
  if (!store.ok()) return store.status();
  auto normalizer = identity::Normalizer::Create({});
  if (!normalizer.ok()) return normalizer.status();
  const ingest::IdentifierExtractor extractor(std::vector<ingest::IdentifierMapping>{});
  resolve::ResolverOptions options;
  options.graph.identifier_cache_entries = identifier_cache;
  options.graph.profile_cache_entries = profile_cache;
  ResolveStats stats;
  {
    resolve::Resolver resolver(**store, std::string(kSpace), **normalizer, extractor,
                               identity::IdentityRules(), options);
    if (absl::Status recovered = resolver.Recover(); !recovered.ok()) return recovered;
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<uint64_t> applied = resolver.CatchUp();
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!applied.ok()) return applied.status();
    stats.applied = *applied;
    const resolve::ResolverMetrics& metrics = resolver.metrics();
    stats.profiles_created = metrics.profiles_created.load();
    stats.merges = metrics.merges.load();
    stats.refused_merges = metrics.refused_merges.load();
    stats.dead_letters = metrics.events_dead_lettered.load();
    stats.cache_hits = resolver.graph().identifier_cache_hits();
    stats.cache_misses = resolver.graph().identifier_cache_misses();
    stats.identifier_cache_entries = identifier_cache;
    stats.profile_cache_entries = profile_cache;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    stats.peak_rss_kib = static_cast<uint64_t>(usage.ru_maxrss);  // KiB on Linux.
  }
  if (absl::Status closed = (*store)->Close(); !closed.ok()) return closed;
  return stats;
}

// Runs `work` in a child process and returns the plain-data result it sends back, so that the
// child's memory (and peak RSS) is its own. The child reports its own errors on stderr.
template <typename Result, typename Work>
absl::StatusOr<Result> RunInChild(std::string_view what, Work&& work) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return absl::InternalError("pipe: " + std::string(std::strerror(errno)));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = fork();
  if (child < 0) return absl::InternalError("fork: " + std::string(std::strerror(errno)));
  if (child == 0) {
    close(pipe_fds[0]);
    absl::StatusOr<Result> result = work();
    int code = 0;
    if (!result.ok()) {
      PrintError(what, result.status());
      code = 1;
    } else if (write(pipe_fds[1], &*result, sizeof(Result)) != static_cast<ssize_t>(sizeof(Result))) {
      code = 1;
    }
    close(pipe_fds[1]);
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);
  }
  close(pipe_fds[1]);
  Result result{};
  size_t received = 0;
  while (received < sizeof(Result)) {
    const ssize_t n =
        read(pipe_fds[0], reinterpret_cast<char*>(&result) + received, sizeof(Result) - received);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    received += static_cast<size_t>(n);
  }
  close(pipe_fds[0]);
  int wait_status = 0;
  while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::InternalError(std::string(what) + ": child process killed by signal " +
                               std::to_string(WTERMSIG(wait_status)) + " (" +
                               strsignal(WTERMSIG(wait_status)) + ")");
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0 || received != sizeof(Result)) {
    return absl::InternalError(std::string(what) + " failed (see above)");
  }
  return result;
}

std::string FormatRatio(double ratio) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", ratio);
  return buffer;
}

std::string FormatCount(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// One configuration in its own fresh store. Prints the summary; returns the Markdown row, or an
// error (the summary is still printed when the resolver ran but its results are wrong).
absl::StatusOr<std::string> RunConfiguration(const BenchOptions& options, double ratio,
                                             const std::filesystem::path& path) {
  std::printf("== cache-ratio %s (%s), store %s\n", FormatRatio(ratio).c_str(),
              ratio == 0 ? "the graph fits in the caches" : "the graph is larger than the caches",
              path.string().c_str());
  auto generated =
      RunInChild<GenerationStats>("writing the log", [&] { return WriteLog(options, path.string()); });
  if (!generated.ok()) return generated.status();
  const GenerationStats& g = *generated;
  std::printf("  log written (untimed) %s events, %.0f bytes each on average, in %.1f s\n",
              FormatCount(g.events).c_str(), static_cast<double>(g.log_bytes) / static_cast<double>(g.events),
              g.write_seconds);

  size_t identifier_cache = kFitIdentifierCache;
  size_t profile_cache = kFitProfileCache;
  if (ratio > 0) {
    identifier_cache =
        std::max<size_t>(1, static_cast<size_t>(ratio * static_cast<double>(g.distinct_identifiers)));
    profile_cache = std::max<size_t>(1, static_cast<size_t>(ratio * static_cast<double>(g.people_seen)));
  } else {
    identifier_cache = std::max<size_t>(identifier_cache, g.distinct_identifiers);
    profile_cache = std::max<size_t>(profile_cache, g.expected_profiles_created);
  }
  auto resolved = RunInChild<ResolveStats>(
      "resolving", [&] { return ResolveLog(path.string(), identifier_cache, profile_cache); });
  if (!resolved.ok()) return resolved.status();
  const ResolveStats& r = *resolved;

  const double events_per_second = r.seconds > 0 ? static_cast<double>(r.applied) / r.seconds : 0;
  const uint64_t lookups = r.cache_hits + r.cache_misses;
  const double hit_rate =
      lookups > 0 ? 100.0 * static_cast<double>(r.cache_hits) / static_cast<double>(lookups) : 0;
  const double rss_mib = static_cast<double>(r.peak_rss_kib) / 1024.0;
  std::printf("  events               %s (%s with several identifiers)\n", FormatCount(r.applied).c_str(),
              FormatCount(g.multi_events).c_str());
  std::printf("  people               %s (%s seen in the stream)\n", FormatCount(options.people).c_str(),
              FormatCount(g.people_seen).c_str());
  std::printf("  distinct identifiers %s\n", FormatCount(g.distinct_identifiers).c_str());
  std::printf("  caches               %s identifier entries, %s profile entries\n",
              FormatCount(r.identifier_cache_entries).c_str(), FormatCount(r.profile_cache_entries).c_str());
  std::printf("  profiles created     %s (expected %s)\n", FormatCount(r.profiles_created).c_str(),
              FormatCount(g.expected_profiles_created).c_str());
  std::printf("  merges               %s (expected %s)\n", FormatCount(r.merges).c_str(),
              FormatCount(g.expected_merges).c_str());
  std::printf("  live profiles        %s (created - merges)\n",
              FormatCount(r.profiles_created - std::min(r.merges, r.profiles_created)).c_str());
  std::printf("  refused merges       %s\n", FormatCount(r.refused_merges).c_str());
  std::printf("  dead letters         %s\n", FormatCount(r.dead_letters).c_str());
  std::printf("  elapsed              %.2f s (Resolver::CatchUp)\n", r.seconds);
  std::printf("  events/s             %s\n", FormatCount(static_cast<uint64_t>(events_per_second)).c_str());
  std::printf("  identifier cache     %.1f%% hits (%s hits, %s misses)\n", hit_rate,
              FormatCount(r.cache_hits).c_str(), FormatCount(r.cache_misses).c_str());
  std::printf("  peak RSS             %.0f MiB (resolver process)\n", rss_mib);

  char row[512];
  std::snprintf(row, sizeof(row),
                "| %s | %s | %s | %g | %s | %s / %s | %s | %s | %.1f | %s | %.1f%% | %.0f MiB |",
                FormatCount(r.applied).c_str(), FormatCount(options.people).c_str(),
                FormatCount(g.distinct_identifiers).c_str(), options.multi,
                ratio == 0 ? "fits" : ("ratio " + FormatRatio(ratio)).c_str(),
                FormatCount(r.identifier_cache_entries).c_str(), FormatCount(r.profile_cache_entries).c_str(),
                FormatCount(r.profiles_created).c_str(), FormatCount(r.merges).c_str(), r.seconds,
                FormatCount(static_cast<uint64_t>(events_per_second)).c_str(), hit_rate, rss_mib);

  std::string problems;
  if (r.applied != g.events)
    problems += " applied " + std::to_string(r.applied) + " of " + std::to_string(g.events) + ";";
  if (r.dead_letters != 0) problems += " " + std::to_string(r.dead_letters) + " dead letters;";
  if (r.refused_merges != 0) problems += " " + std::to_string(r.refused_merges) + " refused merges;";
  if (r.profiles_created != g.expected_profiles_created)
    problems += " profiles created differ from the expected;";
  if (r.merges != g.expected_merges) problems += " merges differ from the expected;";
  if (!problems.empty()) {
    std::printf("  check                FAILED:%s\n", problems.c_str());
    return absl::InternalError("the resolver's results are wrong:" + problems + " (store kept at " +
                               path.string() + ")");
  }
  std::printf("  check                OK (counts equal the simulation, no dead letters)\n");
  return std::string(row);
}

template <typename Number>
bool ParseNumber(const std::map<std::string, std::string>& flags, const std::string& name, Number& out) {
  auto it = flags.find(name);
  if (it == flags.end()) return true;
  const std::string& text = it->second;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (error != std::errc() || end != text.data() + text.size()) {
    std::fprintf(stderr, "tessera bench resolve: --%s: \"%s\" is not a number\n", name.c_str(), text.c_str());
    return false;
  }
  return true;
}

int BenchResolve(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"events", "people", "multi", "cache-ratio", "seed", "dir"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) {
    std::fprintf(stderr, "tessera bench resolve: %s\n\n%s", std::string(flags.status().message()).c_str(),
                 kUsage.data());
    return 2;
  }
  BenchOptions options;
  double cache_ratio = -1;
  if (!ParseNumber(*flags, "events", options.events) || !ParseNumber(*flags, "people", options.people) ||
      !ParseNumber(*flags, "multi", options.multi) || !ParseNumber(*flags, "cache-ratio", cache_ratio) ||
      !ParseNumber(*flags, "seed", options.seed)) {
    return 2;
  }
  if (auto it = flags->find("dir"); it != flags->end()) options.dir = it->second;
  const bool both = !flags->contains("cache-ratio");
  std::string error;
  if (options.events < 1) error = "--events must be at least 1";
  if (options.people < 1 || options.people > kMaxPeople) error = "--people must be between 1 and 10000000";
  if (!(options.multi >= 0 && options.multi <= 1)) error = "--multi must be between 0 and 1";
  if (!both && !(cache_ratio >= 0 && cache_ratio <= 1)) error = "--cache-ratio must be between 0 and 1";
  if (flags->contains("dir") && options.dir.empty()) error = "--dir must not be empty";
  if (!error.empty()) {
    std::fprintf(stderr, "tessera bench resolve: %s\n", error.c_str());
    return 2;
  }
  const std::vector<double> ratios = both ? std::vector<double>{0.0, 0.1} : std::vector<double>{cache_ratio};

  std::filesystem::path root;
  bool temporary = false;
  std::error_code ec;
  if (options.dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path(ec) / "tessera-bench-XXXXXX").string();
    if (ec || mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "tessera bench resolve: cannot create a temporary directory: %s\n",
                   std::strerror(errno));
      return 1;
    }
    root = pattern;
    temporary = true;
  } else {
    root = options.dir;
    for (double ratio : ratios) {
      if (std::filesystem::exists(root / ("resolve-cache-ratio-" + FormatRatio(ratio)), ec)) {
        std::fprintf(stderr, "tessera bench resolve: %s already exists; the benchmark needs a fresh store\n",
                     (root / ("resolve-cache-ratio-" + FormatRatio(ratio))).string().c_str());
        return 2;
      }
    }
  }

  std::printf("tessera bench resolve: %s events, %s people, multi %g, seed %llu, Zipf exponent %g\n",
              FormatCount(options.events).c_str(), FormatCount(options.people).c_str(), options.multi,
              static_cast<unsigned long long>(options.seed), kZipfExponent);
  std::vector<std::string> rows;
  int code = 0;
  for (double ratio : ratios) {
    const std::filesystem::path path = root / ("resolve-cache-ratio-" + FormatRatio(ratio));
    absl::StatusOr<std::string> row = RunConfiguration(options, ratio, path);
    if (!row.ok()) {
      PrintError("cache-ratio " + FormatRatio(ratio), row.status());
      code = 1;
      break;
    }
    rows.push_back(*std::move(row));
    if (temporary) std::filesystem::remove_all(path, ec);
  }
  if (!rows.empty()) {
    std::printf(
        "\n| Events | People | Distinct identifiers | Multi | Caches | Identifier / profile cache entries "
        "| Profiles created | Merges | Elapsed (s) | Events/s | Identifier cache hits | Peak RSS |\n");
    std::printf("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const std::string& row : rows) std::printf("%s\n", row.c_str());
  }
  // A failed run keeps its store for inspection.
  if (temporary && code == 0) std::filesystem::remove_all(root, ec);
  return code;
}

}  // namespace

int BenchCommand(std::span<const std::string_view> args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage.data(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "resolve") return BenchResolve(args.subspan(1));
  if (args[0] == "audiences") return BenchAudiences(args.subspan(1));
  if (args[0] == "purchase-fit") return BenchPurchaseFit(args.subspan(1));
  if (args[0] == "match") return BenchMatch(args.subspan(1));
  for (std::string_view step : {"corpus", "parse", "store", "pipeline", "graph"}) {
    if (args[0] == step) return BenchSuiteStep(step, args.subspan(1));
  }
  std::fprintf(stderr, "tessera bench: unknown benchmark \"%.*s\"\n\n%s", static_cast<int>(args[0].size()),
               args[0].data(), kUsage.data());
  return 2;
}

}  // namespace tessera::tools
