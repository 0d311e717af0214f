// ParseConfig and LoadConfigFile on whole documents: every key read into its field, the defaults,
// edge values, optional sections that stay off, the documented example, and reading files.

#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"

namespace tessera::config {
namespace {

using namespace std::chrono_literals;

// Every key set to something other than its default, so that a key read into the wrong field
// (or not read at all) shows up as a mismatch.
constexpr char kFullConfig[] = R"({
  "listen": {"address": "0.0.0.0", "port": 9090},
  "data_dir": "/var/lib/tessera",
  "sources": [
    {"name": "website", "write_key": "wk_site", "space": "shop-eu_1", "channel": "web"},
    {"write_key": "wk_app", "channel": "app"}
  ],
  "read_keys": ["rk_one", "rk_two"],
  "admin_keys": ["ak_one"],
  "dedup": {"window_seconds": 3600},
  "limits": {"max_event_bytes": 1000, "max_request_bytes": 2000, "max_webhook_bytes": 2500, "max_header_bytes": 3000,
             "read_timeout_ms": 4000, "idle_timeout_ms": 5000, "write_timeout_ms": 6000,
             "max_connections": 7000},
  "group_commit": {"max_batch_events": 100, "max_batch_bytes": 200000, "max_delay_us": 300,
                   "queue_capacity_events": 400},
  "stream": {"max_inflight_frames": 3, "max_inflight_bytes": 65536, "idle_timeout_ms": 1500},
  "threads": {"io": 8},
  "store": {"block_cache_mb": 512, "write_buffer_mb": 16, "sync_writes": false},
  "identity": {"default_phone_region": "GB",
               "rules": [{"type": "user_id", "priority": 100, "limit": 1, "blocked": ["0", "unknown"]},
                         {"type": "email", "priority": -5}],
               "mappings": [{"type": "loyalty_id", "field": "context.traits.loyaltyCard"},
                            {"field": "userId", "type": "customer_no"}],
               "blocked_values": ["guest", ""],
               "blocked_patterns": ["^test.*@example\\.com$", "^0+$"],
               "email_strip_plus_tag": true, "email_strip_gmail_dots": true,
               "resolver_batch_events": 250, "cache_entries": 5000, "profile_cache_entries": 600},
  "shutdown_grace_seconds": 30
})";

TEST(ParseConfigTest, FullFileSetsEveryKey) {
  absl::StatusOr<Config> config = ParseConfig(kFullConfig);
  ASSERT_TRUE(config.ok()) << config.status();

  EXPECT_EQ(config->listen.address, "0.0.0.0");
  EXPECT_EQ(config->listen.port, 9090);
  EXPECT_EQ(config->data_dir, "/var/lib/tessera");

  ASSERT_EQ(config->sources.size(), 2u);
  EXPECT_EQ(config->sources[0].name, "website");
  EXPECT_EQ(config->sources[0].write_key, "wk_site");
  EXPECT_EQ(config->sources[0].space, "shop-eu_1");
  EXPECT_EQ(config->sources[0].channel, "web");
  EXPECT_EQ(config->sources[1].name, "app") << "a source without a name is named after its channel";
  EXPECT_EQ(config->sources[1].write_key, "wk_app");
  EXPECT_EQ(config->sources[1].space, "default");
  EXPECT_EQ(config->sources[1].channel, "app");

  EXPECT_EQ(config->read_keys, (std::vector<std::string>{"rk_one", "rk_two"}));
  EXPECT_EQ(config->admin_keys, (std::vector<std::string>{"ak_one"}));
  EXPECT_EQ(config->dedup_window, 3600s);

  EXPECT_EQ(config->limits.max_event_bytes, 1000u);
  EXPECT_EQ(config->limits.max_request_bytes, 2000u);
  EXPECT_EQ(config->limits.max_webhook_bytes, 2500u);
  EXPECT_EQ(config->limits.max_header_bytes, 3000u);
  EXPECT_EQ(config->limits.read_timeout, 4000ms);
  EXPECT_EQ(config->limits.idle_timeout, 5000ms);
  EXPECT_EQ(config->limits.write_timeout, 6000ms);
  EXPECT_EQ(config->limits.max_connections, 7000u);

  EXPECT_EQ(config->group_commit.max_batch_events, 100u);
  EXPECT_EQ(config->group_commit.max_batch_bytes, 200000u);
  EXPECT_EQ(config->group_commit.max_delay, 300us);
  EXPECT_EQ(config->group_commit.queue_capacity_events, 400u);

  EXPECT_EQ(config->stream.max_inflight_frames, 3u);
  EXPECT_EQ(config->stream.max_inflight_bytes, 65536u);
  EXPECT_EQ(config->stream.idle_timeout, 1500ms);
  EXPECT_EQ(config->threads.io_threads, 8);
  EXPECT_EQ(config->store.block_cache_bytes, size_t{512} << 20) << "block_cache_mb is in mebibytes";
  EXPECT_EQ(config->store.write_buffer_bytes, size_t{16} << 20) << "write_buffer_mb is in mebibytes";
  EXPECT_FALSE(config->store.sync_writes);

  EXPECT_EQ(config->identity.default_phone_region, "GB");
  ASSERT_EQ(config->identity.rules.size(), 2u);
  EXPECT_EQ(config->identity.rules[0].type, "user_id");
  EXPECT_EQ(config->identity.rules[0].priority, 100);
  EXPECT_EQ(config->identity.rules[0].limit, 1);
  EXPECT_EQ(config->identity.rules[0].blocked, (std::vector<std::string>{"0", "unknown"}));
  EXPECT_EQ(config->identity.rules[1].type, "email");
  EXPECT_EQ(config->identity.rules[1].priority, -5);
  EXPECT_EQ(config->identity.rules[1].limit, std::nullopt) << "not given: the built-in rule's limit applies";
  EXPECT_TRUE(config->identity.rules[1].blocked.empty());
  ASSERT_EQ(config->identity.identifier_mappings.size(), 2u);
  EXPECT_EQ(config->identity.identifier_mappings[0].type, "loyalty_id");
  EXPECT_EQ(config->identity.identifier_mappings[0].field, "context.traits.loyaltyCard");
  EXPECT_EQ(config->identity.identifier_mappings[1].type, "customer_no") << "key order does not matter";
  EXPECT_EQ(config->identity.identifier_mappings[1].field, "userId");
  EXPECT_EQ(config->identity.blocked_values, (std::vector<std::string>{"guest", ""}));
  EXPECT_EQ(config->identity.blocked_patterns, (std::vector<std::string>{"^test.*@example\\.com$", "^0+$"}))
      << "patterns are kept as written, after JSON unescaping";
  EXPECT_TRUE(config->identity.email_strip_plus_tag);
  EXPECT_TRUE(config->identity.email_strip_gmail_dots);
  EXPECT_EQ(config->identity.resolver_batch_events, 250u);
  EXPECT_EQ(config->identity.cache_entries, 5000u);
  EXPECT_EQ(config->identity.profile_cache_entries, 600u);

  EXPECT_EQ(config->shutdown_grace, 30s);
}

TEST(ParseConfigTest, EmptyObjectGivesTheHeaderDefaults) {
  absl::StatusOr<Config> config = ParseConfig("{}");
  ASSERT_TRUE(config.ok()) << config.status();
  const Config defaults;

  EXPECT_EQ(config->listen.address, defaults.listen.address);
  EXPECT_EQ(config->listen.port, defaults.listen.port);
  EXPECT_EQ(config->data_dir, defaults.data_dir);
  EXPECT_TRUE(config->sources.empty());
  EXPECT_TRUE(config->read_keys.empty());
  EXPECT_TRUE(config->admin_keys.empty());
  EXPECT_EQ(config->dedup_window, defaults.dedup_window);
  EXPECT_EQ(config->limits.max_event_bytes, defaults.limits.max_event_bytes);
  EXPECT_EQ(config->limits.max_request_bytes, defaults.limits.max_request_bytes);
  EXPECT_EQ(config->limits.max_header_bytes, defaults.limits.max_header_bytes);
  EXPECT_EQ(config->limits.read_timeout, defaults.limits.read_timeout);
  EXPECT_EQ(config->limits.idle_timeout, defaults.limits.idle_timeout);
  EXPECT_EQ(config->limits.write_timeout, defaults.limits.write_timeout);
  EXPECT_EQ(config->limits.max_connections, defaults.limits.max_connections);
  EXPECT_EQ(config->group_commit.max_batch_events, defaults.group_commit.max_batch_events);
  EXPECT_EQ(config->group_commit.max_batch_bytes, defaults.group_commit.max_batch_bytes);
  EXPECT_EQ(config->group_commit.max_delay, defaults.group_commit.max_delay);
  EXPECT_EQ(config->group_commit.queue_capacity_events, defaults.group_commit.queue_capacity_events);
  EXPECT_EQ(config->threads.io_threads, defaults.threads.io_threads);
  EXPECT_EQ(config->store.block_cache_bytes, defaults.store.block_cache_bytes);
  EXPECT_EQ(config->store.write_buffer_bytes, defaults.store.write_buffer_bytes);
  EXPECT_EQ(config->store.sync_writes, defaults.store.sync_writes);
  EXPECT_EQ(config->identity.default_phone_region, defaults.identity.default_phone_region);
  EXPECT_TRUE(config->identity.rules.empty());
  EXPECT_TRUE(config->identity.identifier_mappings.empty());
  EXPECT_TRUE(config->identity.blocked_values.empty());
  EXPECT_TRUE(config->identity.blocked_patterns.empty());
  EXPECT_EQ(config->identity.email_strip_plus_tag, defaults.identity.email_strip_plus_tag);
  EXPECT_EQ(config->identity.email_strip_gmail_dots, defaults.identity.email_strip_gmail_dots);
  EXPECT_EQ(config->identity.resolver_batch_events, defaults.identity.resolver_batch_events);
  EXPECT_EQ(config->identity.cache_entries, defaults.identity.cache_entries);
  EXPECT_EQ(config->identity.profile_cache_entries, defaults.identity.profile_cache_entries);
  EXPECT_EQ(config->shutdown_grace, defaults.shutdown_grace);
}

TEST(ParseConfigTest, DefaultsMatchTheDocumentedValues) {
  // docs/config.md quotes these numbers; this keeps the two from drifting apart.
  const Config defaults;
  EXPECT_EQ(defaults.listen.port, 8080);
  EXPECT_EQ(defaults.limits.max_event_bytes, 32768u);
  EXPECT_EQ(defaults.limits.max_request_bytes, 512000u);
  EXPECT_EQ(defaults.limits.max_header_bytes, 16384u);
  EXPECT_EQ(defaults.group_commit.max_batch_bytes, 33554432u);
  EXPECT_EQ(defaults.store.block_cache_bytes, 256u << 20);
  EXPECT_EQ(defaults.store.write_buffer_bytes, 64u << 20);
  EXPECT_EQ(defaults.dedup_window, 86400s);
  EXPECT_FALSE(defaults.identity.email_strip_plus_tag);
  EXPECT_FALSE(defaults.identity.email_strip_gmail_dots);
  EXPECT_EQ(defaults.identity.resolver_batch_events, 10000u);
  EXPECT_EQ(defaults.identity.cache_entries, 1000000u);
  EXPECT_EQ(defaults.identity.profile_cache_entries, 100000u);
}

TEST(ParseConfigTest, EdgeValuesAreAccepted) {
  absl::StatusOr<Config> config = ParseConfig(R"({
    "listen": {"port": 0},
    "threads": {"io": 256},
    "group_commit": {"max_delay_us": 0},
    "limits": {"max_event_bytes": 500, "max_request_bytes": 500},
    "identity": {"rules": [{"type": "a", "limit": 0, "priority": -2147483648}]},
    "shutdown_grace_seconds": 0
  })");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen.port, 0) << "port 0 asks for an ephemeral port";
  EXPECT_EQ(config->threads.io_threads, 256);
  EXPECT_EQ(config->identity.rules[0].priority, -2147483648LL);
  EXPECT_EQ(config->shutdown_grace, 0s);

  config = ParseConfig(R"({"listen": {"port": 65535}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen.port, 65535);

  config = ParseConfig(
      R"({"identity": {"resolver_batch_events": 1, "cache_entries": 1000, "profile_cache_entries": 100}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->identity.resolver_batch_events, 1u);
  EXPECT_EQ(config->identity.cache_entries, 1000u);
  EXPECT_EQ(config->identity.profile_cache_entries, 100u);

  config = ParseConfig(R"({"identity": {"resolver_batch_events": 100000, "cache_entries": 4000000000}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->identity.resolver_batch_events, 100000u);
  EXPECT_EQ(config->identity.cache_entries, 4000000000u);
}

TEST(ParseConfigTest, RetentionIsOffByDefaultAndReadInSeconds) {
  absl::StatusOr<Config> defaults = ParseConfig("{}");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->retention.events, 0s) << "events are kept forever unless configured";
  EXPECT_EQ(defaults->retention.interval, 3600s);
  absl::StatusOr<Config> config =
      ParseConfig(R"({"retention": {"events_seconds": 31536000, "interval_seconds": 60}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->retention.events, 31536000s);
  EXPECT_EQ(config->retention.interval, 60s);
  absl::StatusOr<Config> bad = ParseConfig(R"({"retention": {"interval_seconds": 0}})");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("retention.interval_seconds"));
  bad = ParseConfig(R"({"retention": {"events_days": 30}})");
  EXPECT_FALSE(bad.ok()) << "an unknown key must not silently keep events forever";
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("retention.events_days"));
}

TEST(ParseConfigTest, TlsIsOffUnlessConfigured) {
  absl::StatusOr<Config> plain = ParseConfig("{}");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->tls.has_value());
  absl::StatusOr<Config> tls =
      ParseConfig(R"({"tls": {"cert_file": "/etc/tessera/cert.pem", "key_file": "k.pem"}})");
  ASSERT_TRUE(tls.ok()) << tls.status();
  ASSERT_TRUE(tls->tls.has_value());
  EXPECT_EQ(tls->tls->cert_file, "/etc/tessera/cert.pem");
  EXPECT_EQ(tls->tls->key_file, "k.pem");
  EXPECT_EQ(tls->tls->min_version, "1.2");
}

TEST(ParseConfigTest, DocumentedExampleIsValid) {
  // docs/config.md ends with a complete example file; it must stay accepted as the code changes.
  std::filesystem::path doc = std::filesystem::path(TESSERA_SOURCE_DIR) / "docs" / "config.md";
  std::ifstream file(doc);
  ASSERT_TRUE(file.good()) << "cannot open " << doc;
  std::stringstream contents;
  contents << file.rdbuf();
  std::string text = contents.str();
  size_t start = text.rfind("```json\n");
  ASSERT_NE(start, std::string::npos) << "no json example in " << doc;
  start += 8;
  size_t end = text.find("```", start);
  ASSERT_NE(end, std::string::npos);

  absl::StatusOr<Config> config = ParseConfig(text.substr(start, end - start));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->sources.size(), 5u);
  EXPECT_EQ(config->sources[2].connectors.shopify_secret, "shpss_change_me");
  ASSERT_TRUE(config->sources[2].connectors.csv.has_value()) << "the example shows a CSV mapping on \"shop\"";
  EXPECT_EQ(config->sources[2].connectors.csv->receipt_id, "Receipt");
  EXPECT_EQ(config->sources[2].connectors.csv->decimal_separator, ',');
  EXPECT_EQ(config->identity.rules.size(), 2u);
  EXPECT_EQ(config->identity.identifier_mappings.size(), 2u);
  EXPECT_EQ(config->identity.blocked_patterns.size(), 1u);
  EXPECT_EQ(config->computed_traits.size(), 2u);
  EXPECT_EQ(config->audiences.size(), 2u);
}

// LoadConfigFile touches the file system; each test gets its own directory.
class LoadConfigFileTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "tessera_config_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << "mkdtemp failed";
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string WriteFile(const std::string& name, const std::string& contents) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << contents;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(LoadConfigFileTest, ReadsAValidFile) {
  std::string path = WriteFile("tessera.json", kFullConfig);
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen.port, 9090);
}

TEST_F(LoadConfigFileTest, MissingFileIsNotFoundAndNamesThePath) {
  std::string path = (dir_ / "absent.json").string();
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound) << config.status();
  EXPECT_NE(config.status().message().find(path), absl::string_view::npos) << config.status();
}

TEST_F(LoadConfigFileTest, DirectoryIsAnErrorNamingThePath) {
  absl::StatusOr<Config> config = LoadConfigFile(dir_.string());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(dir_.string()), absl::string_view::npos) << config.status();
}

TEST_F(LoadConfigFileTest, UnreadableFileIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files regardless of their mode";
  std::string path = WriteFile("secret.json", "{}");
  std::filesystem::permissions(path, std::filesystem::perms::none);
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kPermissionDenied) << config.status();
  EXPECT_NE(config.status().message().find(path), absl::string_view::npos) << config.status();
}

TEST_F(LoadConfigFileTest, InvalidContentNamesTheFileAndTheKey) {
  std::string path = WriteFile("bad.json", R"({"listen": {"prot": 80}})");
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), path + ": listen.prot: unknown key (known: address, port)");
}

}  // namespace
}  // namespace tessera::config
