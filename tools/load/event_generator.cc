#include "tools/load/event_generator.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace tessera::tools {
namespace {

// 2025-01-01T00:00:00Z: a fixed epoch keeps the generated bodies reproducible.
constexpr int64_t kEpochMs = 1'735'689'600'000;

constexpr std::string_view kTrackEvents[] = {
    "Product Viewed",  "Product Added",     "Cart Viewed",    "Checkout Started",   "Order Completed",
    "Signed In",       "Search Performed",  "Coupon Applied", "Video Played",       "Email Link Clicked",
    "Product Removed", "Payment Info Entered"};
constexpr std::string_view kPages[] = {"/", "/products", "/cart", "/checkout", "/account", "/blog/spring-sale",
                                       "/stores", "/help/shipping"};
constexpr std::string_view kScreens[] = {"Home", "Product Detail", "Cart", "Checkout", "Profile", "Loyalty Card"};
constexpr std::string_view kCategories[] = {"shoes", "outerwear", "accessories", "kids", "sale", "home"};
constexpr std::string_view kPlans[] = {"free", "plus", "pro", "enterprise"};
constexpr std::string_view kFirstNames[] = {"Ada", "Grace", "Linus", "Min-jun", "Seo-yeon", "Mateo", "Amara", "Yuki"};
constexpr std::string_view kLibraries[] = {R"({"name":"analytics.js","version":"4.1.0"})",
                                           R"({"name":"analytics-ios","version":"4.1.8"})",
                                           R"({"name":"analytics-android","version":"4.11.3"})",
                                           R"({"name":"analytics-node","version":"6.2.0"})"};
constexpr std::string_view kUserAgents[] = {
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36"};
constexpr std::string_view kTimezones[] = {"Europe/Berlin", "Asia/Seoul", "America/New_York", "America/Sao_Paulo"};
constexpr std::string_view kLocales[] = {"de-DE", "ko-KR", "en-US", "pt-BR"};
constexpr std::string_view kWords[] = {"comfortable", "waterproof", "limited", "edition", "recycled", "cotton",
                                       "lightweight", "classic",     "fit",     "colour",  "navy",     "size"};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void AppendIsoTime(std::string& out, int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
  out += buffer;
}

// A stable anonymous id per person and channel (web cookie, app install), formatted like a UUID.
std::string AnonymousId(uint64_t person, uint64_t channel_salt) {
  const uint64_t a = SplitMix64(person * 2 + 1 + (channel_salt << 40));
  return UuidFromBits(a, SplitMix64(a));
}

// The person's phone's device id (context.device.id of app events).
std::string DeviceId(uint64_t person) {
  const uint64_t a = SplitMix64(person * 2 + 0x7700000000000000ULL);
  return UuidFromBits(a, SplitMix64(a ^ 0xd1ce));
}

constexpr std::string_view kChannels[] = {"web", "app", "pos", "email"};
enum ChannelIndex : size_t { kWeb = 0, kApp = 1, kPos = 2, kEmail = 3 };

}  // namespace

EventGenerator::EventGenerator(uint64_t seed, size_t target_event_bytes, uint64_t people, double multi_channel_share)
    : rng_(seed),
      seed_(seed),
      target_event_bytes_(target_event_bytes),
      people_(people < 1 ? 1 : people),
      multi_channel_share_(multi_channel_share),
      clock_ms_(kEpochMs) {}

std::string_view EventGenerator::Pick(const std::string_view* choices, size_t count) {
  return choices[std::uniform_int_distribution<size_t>(0, count - 1)(rng_)];
}

uint64_t EventGenerator::NextPerson() {
  // Zipf-like popularity (exponent 0.8, continuous inverse CDF) over [1, people]: person k is picked
  // with probability proportional to k^-0.8, so a few people are very active and most are seen
  // once or twice, as on a real site.
  constexpr double kExponent = 0.8;
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  const double span = std::pow(static_cast<double>(people_) + 1.0, 1.0 - kExponent) - 1.0;
  const double x = std::pow(1.0 + u * span, 1.0 / (1.0 - kExponent));
  const uint64_t person = static_cast<uint64_t>(x);
  return person < 1 ? 1 : (person > people_ ? people_ : person);
}

std::string_view EventGenerator::ChannelFor(uint64_t person) {
  // Drawn from a hash of the person, so that a person keeps the same channels in every event.
  const uint64_t h = SplitMix64(person ^ 0x5ca1ab1e00000000ULL);
  const uint64_t home_roll = h % 100;
  const size_t home = home_roll < 45 ? kWeb : home_roll < 75 ? kApp : home_roll < 90 ? kPos : kEmail;
  const bool multi = static_cast<double>((h >> 8) % 10'000) < multi_channel_share_ * 10'000;
  if (!multi) return kChannels[home];
  const size_t second = (home + 1 + (h >> 24) % 3) % std::size(kChannels);
  return kChannels[std::uniform_int_distribution<int>(0, 99)(rng_) < 35 ? second : home];
}

std::string EventGenerator::NextEvent() {
  std::string out;
  out.reserve(target_event_bytes_ + 256);
  AppendEvent(out);
  return out;
}

std::string EventGenerator::NextBatch(size_t events) {
  std::string out;
  out.reserve(events * (target_event_bytes_ + 64) + 64);
  out += R"({"batch":[)";
  for (size_t i = 0; i < events; ++i) {
    if (i > 0) out += ',';
    AppendEvent(out);
  }
  out += R"(],"sentAt":")";
  AppendIsoTime(out, clock_ms_);
  out += "\"}";
  return out;
}

void EventGenerator::AppendEvent(std::string& out) {
  const uint64_t sequence = counter_++;
  clock_ms_ += std::uniform_int_distribution<int64_t>(0, 1500)(rng_);
  const uint64_t person = NextPerson();
  channel_ = ChannelFor(person);
  person_ = person;
  const bool web = channel_ == kChannels[kWeb];
  const bool app = channel_ == kChannels[kApp];
  // pos and email events name the customer (loyalty card, recipient); web and app ones only
  // sometimes (signed in) and always carry the browser's or the install's anonymous id.
  const std::string anonymous_id = AnonymousId(person, app ? kApp : kWeb);
  const std::string user_id = "user-" + std::to_string(person);
  const bool identified = !(web || app) || std::uniform_int_distribution<int>(0, 99)(rng_) < 60;
  const size_t locale = std::uniform_int_distribution<size_t>(0, std::size(kLocales) - 1)(rng_);

  // messageId: a per-seed prefix and the sequence, so ids never repeat within a seed.
  const uint64_t prefix = SplitMix64(seed_);
  char message_id[48];
  std::snprintf(message_id, sizeof(message_id), "%08x-%04x-4%03x-b%03x-%012llx", static_cast<unsigned>(prefix >> 32),
                static_cast<unsigned>((prefix >> 16) & 0xffff), static_cast<unsigned>(prefix & 0xfff),
                static_cast<unsigned>((sequence >> 48) & 0xfff),
                static_cast<unsigned long long>(sequence & 0xffffffffffffULL));

  const int roll = std::uniform_int_distribution<int>(0, 99)(rng_);
  std::string head;  // Top-level members before the padded object.
  std::string bag_name;
  std::string bag;   // Members of the padded object, without braces.
  std::string pad_key;
  auto price = [&] {
    const int cents = std::uniform_int_distribution<int>(499, 29999)(rng_);
    return std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") + std::to_string(cents % 100);
  };
  const std::string sku = "SKU-" + std::to_string(std::uniform_int_distribution<int>(10000, 99999)(rng_));

  if (roll < 70) {
    const std::string_view name = Pick(kTrackEvents, std::size(kTrackEvents));
    head = R"("type":"track","event":")" + std::string(name) + "\"";
    bag_name = "properties";
    bag = R"("product_id":")" + sku + R"(","sku":")" + sku + R"(","category":")" +
          std::string(Pick(kCategories, std::size(kCategories))) + R"(","price":)" + price() +
          R"(,"quantity":)" + std::to_string(std::uniform_int_distribution<int>(1, 4)(rng_)) +
          R"(,"currency":"EUR")";
    if (name == "Order Completed") bag += R"(,"order_id":"ord-)" + std::to_string(sequence) + R"(","revenue":)" + price();
    pad_key = "description";
  } else if (roll < 85) {
    const bool page = !app;  // Apps report screens; web pages, POS receipts and email web views are pages.
    if (page) {
      const std::string_view path = Pick(kPages, std::size(kPages));
      head = R"("type":"page","name":")" + std::string(path == "/" ? "Home" : path.substr(1)) + "\"";
      bag = R"("path":")" + std::string(path) + R"(","url":"https://shop.example.com)" + std::string(path) +
            R"(","referrer":"https://www.google.com/","title":"Example Shop")";
    } else {
      head = R"("type":"screen","name":")" + std::string(Pick(kScreens, std::size(kScreens))) + "\"";
      bag = R"("variation":"blue","build":")" + std::to_string(std::uniform_int_distribution<int>(300, 420)(rng_)) +
            "\"";
    }
    bag_name = "properties";
    pad_key = "search";
  } else if (roll < 95) {
    head = R"("type":"identify")";
    bag_name = "traits";
    bag = R"("email":")" + user_id + R"(@example.com","firstName":")" +
          std::string(Pick(kFirstNames, std::size(kFirstNames))) + R"(","plan":")" +
          std::string(Pick(kPlans, std::size(kPlans))) + R"(","phone":"+8210)" +
          std::to_string(20'000'000 + person % 70'000'000) + R"(","createdAt":")";
    AppendIsoTime(bag, kEpochMs - static_cast<int64_t>(person % 1000) * 86'400'000);
    bag += "\"";
    pad_key = "bio";
  } else {
    head = R"("type":"alias","previousId":")" + anonymous_id + "\"";
    bag_name = "context_campaign";  // Replaced below: alias carries no properties, pad the campaign.
    bag = R"("name":"spring-sale","source":"newsletter","medium":"email")";
    pad_key = "content";
  }

  const bool alias = bag_name == "context_campaign";
  std::string event = "{" + head + R"(,"messageId":")" + message_id + "\"";
  if (identified || alias || head.starts_with(R"("type":"identify")")) event += R"(,"userId":")" + user_id + "\"";
  if (!alias && (web || app)) event += R"(,"anonymousId":")" + anonymous_id + "\"";
  event += R"(,"timestamp":")";
  AppendIsoTime(event, clock_ms_);
  event += "\"";
  const size_t library = web ? 0 : app ? 1 + person % 2 : 3;
  std::string context = R"("context":{"library":)" + std::string(kLibraries[library]) +
                        R"(,"ip":"203.0.113.)" + std::to_string(person % 250 + 1) + R"(","locale":")" +
                        std::string(kLocales[locale]) + R"(","timezone":")" + std::string(kTimezones[locale]) +
                        R"(","userAgent":")" + std::string(Pick(kUserAgents, std::size(kUserAgents))) + "\"";
  if (app) context += R"(,"device":{"id":")" + DeviceId(person) + R"(","type":")" + (person % 2 ? "android" : "ios") + "\"}";

  // Pad the bag with words up to the target size.
  const size_t fixed = event.size() + 1 /* "," */ + context.size() + 2 /* "}}" */ +
                       (alias ? std::string_view(R"(,"campaign":{})").size() : 4 + bag_name.size() + 2) + bag.size();
  const size_t pad_overhead = 6 + pad_key.size();  // ,"key":""
  std::string padding;
  if (fixed + pad_overhead < target_event_bytes_) {
    const size_t wanted = target_event_bytes_ - fixed - pad_overhead;
    while (padding.size() < wanted) {
      if (!padding.empty()) padding += ' ';
      padding += Pick(kWords, std::size(kWords));
    }
    padding.resize(wanted);
    if (!padding.empty() && padding.back() == ' ') padding.back() = 's';
    bag += ",\"" + pad_key + R"(":")" + padding + "\"";
  }
  if (alias) {
    context += R"(,"campaign":{)" + bag + "}";
  } else {
    event += ",\"" + bag_name + "\":{" + bag + "}";
  }
  out += event;
  out += ',';
  out += context;
  out += "}}";
}

std::string UuidFromBits(uint64_t high, uint64_t low) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xffff), static_cast<unsigned>(high & 0xfff),
                static_cast<unsigned>(low >> 52), static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return buffer;
}

}  // namespace tessera::tools
