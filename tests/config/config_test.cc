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
#include "absl/strings/str_cat.h"

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
  absl::StatusOr<Config> config = ParseConfig(R"({"retention": {"events_seconds": 31536000, "interval_seconds": 60}})");
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

TEST(ParseConfigTest, MappingsMayStartAtEverySupportedMember) {
  absl::StatusOr<Config> config = ParseConfig(R"({"identity": {"mappings": [
    {"type": "a", "field": "traits.loyalty.card"},
    {"type": "b", "field": "context.traits.loyaltyCard"},
    {"type": "c", "field": "properties.loyalty_id"},
    {"type": "d", "field": "integrations.Salesforce.contactId"},
    {"type": "e", "field": "userId"},
    {"type": "f", "field": "anonymousId"},
    {"type": "g", "field": "event"},
    {"type": "h", "field": "name"},
    {"type": "i", "field": "category"},
    {"type": "j", "field": "groupId"},
    {"type": "k", "field": "previousId"},
    {"type": "l", "field": "messageId"},
    {"type": "c", "field": "properties.card number"},
    {"type": "m", "field": "properties.loyalty_id"}
  ]}})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->identity.identifier_mappings.size(), 14u);
  EXPECT_EQ(config->identity.identifier_mappings[12].field, "properties.card number")
      << "segments are JSON keys and may hold any character but '.'";
}

struct InvalidCase {
  const char* name;
  const char* json;
  const char* expected_message;  // A substring of the error, starting with the key path.
};

class InvalidConfigTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidConfigTest, IsRejectedWithKeyPathAndReason) {
  const InvalidCase& c = GetParam();
  absl::StatusOr<Config> config = ParseConfig(c.json);
  ASSERT_FALSE(config.ok()) << "accepted: " << c.json;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  EXPECT_NE(config.status().message().find(c.expected_message), absl::string_view::npos)
      << "message: " << config.status().message() << "\nexpected to contain: " << c.expected_message;
}

INSTANTIATE_TEST_SUITE_P(
    Validation, InvalidConfigTest,
    testing::Values(
        // Shapes.
        InvalidCase{"TopLevelArray", "[]", "expected a JSON object at the top level, got an array"},
        InvalidCase{"ListenNotObject", R"({"listen": 8080})", "listen: expected an object, got 8080"},
        InvalidCase{"SourcesNotArray", R"({"sources": {}})", "sources: expected an array, got an object"},
        InvalidCase{"SourceNotObject", R"({"sources": ["wk"]})",
                    "sources[0]: expected an object, got \"wk\""},
        InvalidCase{"DataDirEmpty", R"({"data_dir": ""})", "data_dir: expected a non-empty string, got \"\""},
        InvalidCase{"DataDirNumber", R"({"data_dir": 5})", "data_dir: expected a non-empty string, got 5"},
        InvalidCase{"AddressNull", R"({"listen": {"address": null}})",
                    "listen.address: expected a non-empty string, got null"},
        InvalidCase{"SyncWritesString", R"({"store": {"sync_writes": "yes"}})",
                    "store.sync_writes: expected true or false, got \"yes\""},
        // Unknown and repeated keys, at every level.
        InvalidCase{"UnknownTopLevel", R"({"listn": {}})",
                    "listn: unknown key (known: listen, data_dir, sources"},
        InvalidCase{"UnknownInListen", R"({"listen": {"prot": 1}})",
                    "listen.prot: unknown key (known: address, port)"},
        InvalidCase{"UnknownInSource", R"({"sources": [{"write_key": "k", "chanel": "web"}]})",
                    "sources[0].chanel: unknown key (known: name, write_key, space, channel, phone_region, "
                    "connectors, allowed_origins)"},
        InvalidCase{"UnknownInRule", R"({"identity": {"rules": [{"type": "email", "prio": 1}]}})",
                    "identity.rules[0].prio: unknown key (known: type, priority, limit, blocked)"},
        InvalidCase{"UnknownInLimits", R"({"limits": {"max_event_kb": 1}})",
                    "limits.max_event_kb: unknown key"},
        InvalidCase{"UnknownInStore", R"({"store": {"cache_mb": 1}})", "store.cache_mb: unknown key"},
        InvalidCase{"DuplicateKey", R"({"listen": {"port": 1, "port": 2}})", "listen.port: duplicate key"},
        // Numbers.
        InvalidCase{"SizeAsString", R"({"limits": {"max_event_bytes": "32k"}})",
                    "limits.max_event_bytes: expected a positive integer, got \"32k\""},
        InvalidCase{"SizeZero", R"({"limits": {"max_header_bytes": 0}})",
                    "limits.max_header_bytes: expected a positive integer, got 0"},
        InvalidCase{"SizeNegative", R"({"group_commit": {"max_batch_events": -1}})",
                    "group_commit.max_batch_events: expected a positive integer, got -1"},
        InvalidCase{"SizeFraction", R"({"group_commit": {"max_batch_bytes": 1.5}})",
                    "group_commit.max_batch_bytes: expected a positive integer, got 1.5"},
        InvalidCase{"PortWithExponent", R"({"listen": {"port": 8e3}})",
                    "listen.port: expected an integer from 0 to 65535, got 8000 (written with a fraction or "
                    "exponent)"},
        InvalidCase{"QueueZero", R"({"group_commit": {"queue_capacity_events": 0}})",
                    "group_commit.queue_capacity_events: expected a positive integer"},
        InvalidCase{"ConnectionsZero", R"({"limits": {"max_connections": 0}})",
                    "limits.max_connections: expected a positive integer"},
        InvalidCase{"TimeoutZero", R"({"limits": {"read_timeout_ms": 0}})",
                    "limits.read_timeout_ms: expected an integer from 1 to 31536000000, got 0"},
        InvalidCase{"TimeoutHuge", R"({"limits": {"idle_timeout_ms": 99999999999999}})",
                    "limits.idle_timeout_ms: expected an integer from 1 to 31536000000"},
        InvalidCase{"DelayNegative", R"({"group_commit": {"max_delay_us": -1}})",
                    "group_commit.max_delay_us: expected an integer from 0 to"},
        InvalidCase{"DedupZero", R"({"dedup": {"window_seconds": 0}})",
                    "dedup.window_seconds: expected an integer from 1 to 31536000, got 0"},
        InvalidCase{"GraceNegative", R"({"shutdown_grace_seconds": -3})",
                    "shutdown_grace_seconds: expected an integer from 0 to 31536000, got -3"},
        InvalidCase{"CacheZero", R"({"store": {"block_cache_mb": 0}})",
                    "store.block_cache_mb: expected an integer from 1 to"},
        InvalidCase{"WriteBufferOverflows", R"({"store": {"write_buffer_mb": 18446744073709551615}})",
                    "store.write_buffer_mb: expected an integer from 1 to 17592186044415"},
        InvalidCase{"PortTooLarge", R"({"listen": {"port": 65536}})",
                    "listen.port: expected an integer from 0 to 65535, got 65536"},
        InvalidCase{"PortNegative", R"({"listen": {"port": -1}})",
                    "listen.port: expected an integer from 0 to 65535"},
        InvalidCase{"StreamInflightZero", R"({"stream": {"max_inflight_frames": 0}})",
                    "stream.max_inflight_frames: expected an integer from 1 to 1000000, got 0"},
        InvalidCase{"StreamIdleTooShort", R"({"stream": {"idle_timeout_ms": 1}})",
                    "stream.idle_timeout_ms: expected an integer from 2 to"},
        InvalidCase{"AllowedOriginWithPath",
                    R"({"sources": [{"write_key": "k", "allowed_origins": ["https://a.com", "https://b.com/shop"]}]})",
                    "sources[0].allowed_origins[1]: \"https://b.com/shop\" has a path"},
        InvalidCase{"AllowedOriginsNotAList", R"({"sources": [{"write_key": "k", "allowed_origins": "*"}]})",
                    "sources[0].allowed_origins: expected an array"},
        InvalidCase{"ApiOriginNotAnOrigin", R"({"cors": {"api_origins": ["crm.example.com"]}})",
                    "cors.api_origins[0]: \"crm.example.com\" is not an origin"},
        InvalidCase{"CorsUnknownKey", R"({"cors": {"origins": []}})",
                    "cors.origins: unknown key (known: api_origins)"},
        InvalidCase{"PermessageDeflateNotABool", R"({"stream": {"permessage_deflate": "yes"}})",
                    "stream.permessage_deflate: expected true or false"},
        InvalidCase{"StreamUnknownKey", R"({"stream": {"max_frames": 4}})",
                    "stream.max_frames: unknown key (known: max_inflight_frames, max_inflight_bytes, "
                    "idle_timeout_ms, permessage_deflate)"},
        InvalidCase{"IoThreadsZero", R"({"threads": {"io": 0}})",
                    "threads.io: expected an integer from 1 to 256, got 0"},
        InvalidCase{"IoThreadsTooMany", R"({"threads": {"io": 257}})",
                    "threads.io: expected an integer from 1 to 256"},
        InvalidCase{"EventLargerThanRequest", R"({"limits": {"max_event_bytes": 600000}})",
                    "limits.max_event_bytes: 600000 is larger than limits.max_request_bytes (512000)"},
        // Sources and keys.
        InvalidCase{"SourceWithoutWriteKey", R"({"sources": [{"channel": "web"}]})",
                    "sources[0].write_key: required"},
        InvalidCase{"SourceEmptyWriteKey", R"({"sources": [{"write_key": ""}]})",
                    "sources[0].write_key: expected a non-empty string"},
        InvalidCase{"SourceEmptyName", R"({"sources": [{"write_key": "k", "name": ""}]})",
                    "sources[0].name: expected a non-empty string"},
        InvalidCase{"UnknownChannel",
                    R"({"sources": [{"write_key": "a"}, {"write_key": "b", "channel": "tv"}]})",
                    R"(sources[1].channel: "tv" is not one of web, app, pos, email, social, server)"},
        InvalidCase{"SpaceUppercase", R"({"sources": [{"write_key": "a", "space": "Shop"}]})",
                    R"(sources[0].space: "Shop" must be 1 to 64 characters from a-z, 0-9, _ and -)"},
        InvalidCase{"SpaceEmpty", R"({"sources": [{"write_key": "a", "space": ""}]})",
                    "sources[0].space: \"\" must be"},
        InvalidCase{
            "SpaceTooLong",
            R"({"sources": [{"write_key": "a", "space": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]})",
            "sources[0].space: \""},
        InvalidCase{"DuplicateWriteKey",
                    R"({"sources": [{"write_key": "a"}, {"write_key": "b"}, {"write_key": "a"}]})",
                    "sources[2].write_key: same key as sources[0].write_key"},
        InvalidCase{"WriteKeyWithColon", R"({"sources": [{"write_key": "a:b"}]})",
                    "sources[0].write_key: must not contain ':'"},
        InvalidCase{"WriteKeyIsReadKey", R"({"sources": [{"write_key": "k"}], "read_keys": ["x", "k"]})",
                    "sources[0].write_key: same key as read_keys[1]"},
        InvalidCase{"WriteKeyIsAdminKey", R"({"admin_keys": ["k"], "sources": [{"write_key": "k"}]})",
                    "sources[0].write_key: same key as admin_keys[0]"},
        // TLS: both files or none.
        InvalidCase{"TlsWithoutKey", R"({"tls": {"cert_file": "cert.pem"}})",
                    "tls.key_file: required (tls needs cert_file and key_file)"},
        InvalidCase{"TlsWithoutCert", R"({"tls": {"key_file": "key.pem"}})",
                    "tls.cert_file: required (tls needs cert_file and key_file)"},
        InvalidCase{"TlsEmptyPath", R"({"tls": {"cert_file": "", "key_file": "k"}})",
                    "tls.cert_file: expected a non-empty string, got \"\""},
        InvalidCase{"TlsOldVersion", R"({"tls": {"cert_file": "c", "key_file": "k", "min_version": "1.1"}})",
                    "tls.min_version: \"1.1\" must be \"1.2\" or \"1.3\""},
        // Keys given as digests (printf %s wk_secret | sha256sum).
        InvalidCase{"HashedAdminKeyTooShort", R"({"admin_keys": ["ok", "sha256:abc"]})",
                    "admin_keys[1]: expected \"sha256:\" followed by 64 hex digits"},
        InvalidCase{
            "HashedReadKeyUppercase",
            R"({"read_keys": ["sha256:A8F76837DB879E031FB0E76910563245ED2EA766D49CA6D05D8C936D207518DD"]})",
            "read_keys[0]: expected \"sha256:\" followed by 64 hex digits (lowercase"},
        InvalidCase{"HashedWriteKeyNotHex",
                    R"({"sources": [
                        {"write_key": "sha256:z8f76837db879e031fb0e76910563245ed2ea766d49ca6d05d8c936d207518dd"}]})",
                    "sources[0].write_key: expected \"sha256:\" followed by 64 hex digits"},
        InvalidCase{"SameWriteKeyPlainAndHashed",
                    R"({"sources": [{"write_key": "wk_secret"},
                        {"write_key": "sha256:a8f76837db879e031fb0e76910563245ed2ea766d49ca6d05d8c936d207518dd"}]})",
                    "sources[1].write_key: same key as sources[0].write_key"},
        InvalidCase{"HashedWriteKeyIsPlainReadKey",
                    R"({"read_keys": ["wk_secret"],
                        "sources": [
                        {"write_key": "sha256:a8f76837db879e031fb0e76910563245ed2ea766d49ca6d05d8c936d207518dd"}]})",
                    "sources[0].write_key: same key as read_keys[0]"},
        InvalidCase{"ReadKeyEmpty", R"({"read_keys": ["ok", ""]})",
                    "read_keys[1]: expected a non-empty string, got \"\""},
        InvalidCase{"AdminKeyNumber", R"({"admin_keys": [42]})",
                    "admin_keys[0]: expected a non-empty string, got 42"},
        InvalidCase{"ReadKeysNotArray", R"({"read_keys": "k"})", "read_keys: expected an array, got \"k\""},
        // Identity.
        InvalidCase{"PhoneRegionLowercase", R"({"identity": {"default_phone_region": "us"}})",
                    "identity.default_phone_region: \"us\" is not a two-letter uppercase region code"},
        InvalidCase{"PhoneRegionThreeLetters", R"({"identity": {"default_phone_region": "USA"}})",
                    "identity.default_phone_region: \"USA\""},
        InvalidCase{
            "SourcePhoneRegionLowercase", R"({"sources": [{"write_key": "k", "phone_region": "kr"}]})",
            "sources[0].phone_region: \"kr\" is not a two-letter uppercase region code such as \"US\""},
        InvalidCase{"SourcePhoneRegionNumber", R"({"sources": [{"write_key": "k", "phone_region": 82}]})",
                    "sources[0].phone_region: expected a string, got 82"},
        InvalidCase{
            "SourcePhoneRegionsOfOneNameDiffer",
            R"({"sources": [{"write_key": "k1", "channel": "web", "phone_region": "KR"},
                                    {"write_key": "k2", "channel": "web"}]})",
            "sources[1].phone_region: none differs from sources[0].phone_region (\"KR\") of the same source "
            "name \"web\" in space \"default\"; give the sources different names"},
        InvalidCase{"RuleWithoutType", R"({"identity": {"rules": [{"priority": 1}]}})",
                    "identity.rules[0].type: required"},
        InvalidCase{"RuleTypeBad", R"({"identity": {"rules": [{"type": "e-mail"}]}})",
                    "identity.rules[0].type: \"e-mail\" must be 1 to 64 characters from a-z, 0-9 and _"},
        InvalidCase{"RuleTypeDuplicate", R"({"identity": {"rules": [{"type": "email"}, {"type": "email"}]}})",
                    "identity.rules[1].type: \"email\" is already used by identity.rules[0]"},
        InvalidCase{"RuleLimitNegative", R"({"identity": {"rules": [{"type": "email", "limit": -1}]}})",
                    "identity.rules[0].limit: expected an integer from 0 to 2147483647, got -1"},
        InvalidCase{
            "RulePriorityFraction", R"({"identity": {"rules": [{"type": "email", "priority": 0.5}]}})",
            "identity.rules[0].priority: expected an integer from -2147483648 to 2147483647, got 0.5"},
        InvalidCase{"RulePriorityTooLarge",
                    R"({"identity": {"rules": [{"type": "email", "priority": 2147483648}]}})",
                    "identity.rules[0].priority: expected an integer"},
        InvalidCase{
            "UnknownInIdentity", R"({"identity": {"mapping": []}})",
            "identity.mapping: unknown key (known: default_phone_region, rules, mappings, blocked_values, "
            "blocked_patterns, email_strip_plus_tag, email_strip_gmail_dots, resolver_batch_events, "
            "cache_entries, profile_cache_entries)"},
        InvalidCase{"MappingsNotArray", R"({"identity": {"mappings": {"type": "a", "field": "userId"}}})",
                    "identity.mappings: expected an array, got an object"},
        InvalidCase{"MappingNotObject", R"({"identity": {"mappings": ["userId"]}})",
                    "identity.mappings[0]: expected an object, got \"userId\""},
        InvalidCase{"MappingUnknownKey",
                    R"({"identity": {"mappings": [{"type": "a", "field": "userId", "path": "x"}]}})",
                    "identity.mappings[0].path: unknown key (known: type, field)"},
        InvalidCase{"MappingWithoutType", R"({"identity": {"mappings": [{"field": "userId"}]}})",
                    "identity.mappings[0].type: required"},
        InvalidCase{"MappingWithoutField", R"({"identity": {"mappings": [{"type": "loyalty_id"}]}})",
                    "identity.mappings[0].field: required"},
        InvalidCase{
            "MappingTypeBad",
            R"({"identity": {"mappings": [{"type": "Loyalty-ID", "field": "properties.x"}]}})",
            "identity.mappings[0].type: \"Loyalty-ID\" must be 1 to 64 characters from a-z, 0-9 and _"},
        InvalidCase{"MappingTypeEmpty",
                    R"({"identity": {"mappings": [{"type": "", "field": "properties.x"}]}})",
                    "identity.mappings[0].type: \"\" must be 1 to 64 characters"},
        InvalidCase{"MappingTypeNumber",
                    R"({"identity": {"mappings": [{"type": 1, "field": "properties.x"}]}})",
                    "identity.mappings[0].type: expected a string, got 1"},
        InvalidCase{"MappingFieldEmpty", R"({"identity": {"mappings": [{"type": "a", "field": ""}]}})",
                    "identity.mappings[0].field: expected a non-empty string, got \"\""},
        InvalidCase{
            "MappingFieldUnknownRoot",
            R"({"identity": {"mappings": [{"type": "a", "field": "payload.loyalty"}]}})",
            "identity.mappings[0].field: \"payload.loyalty\" must start with one of traits, context, "
            "properties, integrations, userId, anonymousId, event, name, category, groupId, previousId, "
            "messageId"},
        InvalidCase{"MappingFieldRootCase",
                    R"({"identity": {"mappings": [{"type": "a", "field": "Traits.loyalty"}]}})",
                    "identity.mappings[0].field: \"Traits.loyalty\" must start with one of"},
        InvalidCase{"MappingFieldEmptySegment",
                    R"({"identity": {"mappings": [{"type": "a", "field": "context..loyalty"}]}})",
                    "identity.mappings[0].field: \"context..loyalty\" has an empty segment"},
        InvalidCase{"MappingFieldTrailingDot",
                    R"({"identity": {"mappings": [{"type": "a", "field": "properties.x."}]}})",
                    "identity.mappings[0].field: \"properties.x.\" has an empty segment"},
        InvalidCase{"MappingFieldLeadingDot",
                    R"({"identity": {"mappings": [{"type": "a", "field": ".properties.x"}]}})",
                    "identity.mappings[0].field: \".properties.x\" has an empty segment"},
        InvalidCase{
            "MappingFieldArrayIndex",
            R"({"identity": {"mappings": [{"type": "a", "field": "context.externalIds[0].id"}]}})",
            "identity.mappings[0].field: \"context.externalIds[0].id\": array indices are not supported"},
        InvalidCase{"MappingFieldWholeObject",
                    R"({"identity": {"mappings": [{"type": "a", "field": "properties"}]}})",
                    "identity.mappings[0].field: \"properties\" is a whole object; name a member"},
        InvalidCase{"MappingFieldIntoString",
                    R"({"identity": {"mappings": [{"type": "a", "field": "userId.value"}]}})",
                    "identity.mappings[0].field: \"userId.value\": userId is a string and has no members"},
        InvalidCase{
            "MappingDuplicate",
            R"({"identity": {"mappings": [{"type": "a", "field": "userId"}, {"type": "b", "field": "userId"},
                                                   {"type": "a", "field": "userId"}]}})",
            "identity.mappings[2]: same type and field as identity.mappings[0]"},
        InvalidCase{"BlockedValuesNotArray", R"({"identity": {"blocked_values": "guest"}})",
                    "identity.blocked_values: expected an array, got \"guest\""},
        InvalidCase{"BlockedValueNumber", R"({"identity": {"blocked_values": ["guest", 0]}})",
                    "identity.blocked_values[1]: expected a string, got 0"},
        InvalidCase{"BlockedPatternsNotArray", R"({"identity": {"blocked_patterns": "^x$"}})",
                    "identity.blocked_patterns: expected an array, got \"^x$\""},
        InvalidCase{"BlockedPatternInvalid", R"({"identity": {"blocked_patterns": ["^ok$", "^test(.*@x$"]}})",
                    "identity.blocked_patterns[1]: \"^test(.*@x$\" is not a valid regular expression: "},
        InvalidCase{"BlockedPatternBadBracket", R"({"identity": {"blocked_patterns": ["[z-a]"]}})",
                    "identity.blocked_patterns[0]: \"[z-a]\" is not a valid regular expression"},
        InvalidCase{"BlockedPatternEmpty", R"({"identity": {"blocked_patterns": [""]}})",
                    "identity.blocked_patterns[0]: expected a non-empty string, got \"\""},
        InvalidCase{"BlockedPatternNumber", R"({"identity": {"blocked_patterns": [5]}})",
                    "identity.blocked_patterns[0]: expected a non-empty string, got 5"},
        InvalidCase{"StripPlusTagString", R"({"identity": {"email_strip_plus_tag": "true"}})",
                    "identity.email_strip_plus_tag: expected true or false, got \"true\""},
        InvalidCase{"StripGmailDotsNumber", R"({"identity": {"email_strip_gmail_dots": 1}})",
                    "identity.email_strip_gmail_dots: expected true or false, got 1"},
        InvalidCase{"ResolverBatchZero", R"({"identity": {"resolver_batch_events": 0}})",
                    "identity.resolver_batch_events: expected an integer from 1 to 100000, got 0"},
        InvalidCase{"ResolverBatchTooLarge", R"({"identity": {"resolver_batch_events": 100001}})",
                    "identity.resolver_batch_events: expected an integer from 1 to 100000, got 100001"},
        InvalidCase{"ResolverBatchFraction", R"({"identity": {"resolver_batch_events": 10.5}})",
                    "identity.resolver_batch_events: expected an integer from 1 to 100000, got 10.5"},
        InvalidCase{"CacheEntriesTooSmall", R"({"identity": {"cache_entries": 999}})",
                    "identity.cache_entries: expected an integer of at least 1000, got 999"},
        InvalidCase{"CacheEntriesString", R"({"identity": {"cache_entries": "1M"}})",
                    "identity.cache_entries: expected an integer of at least 1000, got \"1M\""},
        InvalidCase{"ProfileCacheEntriesTooSmall", R"({"identity": {"profile_cache_entries": 99}})",
                    "identity.profile_cache_entries: expected an integer of at least 100, got 99"},
        InvalidCase{"ProfileCacheEntriesNegative", R"({"identity": {"profile_cache_entries": -100}})",
                    "identity.profile_cache_entries: expected an integer of at least 100, got -100"},
        InvalidCase{"RuleBlockedNotStrings",
                    R"({"identity": {"rules": [{"type": "email", "blocked": ["a", 1]}]}})",
                    "identity.rules[0].blocked[1]: expected a string, got 1"},
        // POS CSV mapping.
        InvalidCase{"CsvUnknownKey",
                    R"({"sources": [{"write_key": "k", "connectors": {"csv": {"colums": {}}}}]})",
                    "sources[0].connectors.csv.colums: unknown key (known: columns, default_currency"},
        InvalidCase{
            "CsvUnknownColumn",
            R"({"sources": [{"write_key": "k", "connectors": {"csv": {"columns": {"receipt": "R"}}}}]})",
            "sources[0].connectors.csv.columns.receipt: unknown key (known: receipt_id, loyalty_card"},
        InvalidCase{
            "CsvEmptyReceiptColumn",
            R"({"sources": [{"write_key": "k", "connectors": {"csv": {"columns": {"receipt_id": ""}}}}]})",
            "sources[0].connectors.csv.columns.receipt_id: expected a non-empty string, got \"\""},
        InvalidCase{"CsvDecimalSeparator",
                    R"({"sources": [{"write_key": "k", "connectors": {"csv": {"decimal_separator": ";"}}}]})",
                    "sources[0].connectors.csv.decimal_separator: \";\" must be \".\" or \",\""},
        InvalidCase{
            "CsvPerStoreNotBool",
            R"({"sources": [{"write_key": "k", "connectors": {"csv": {"receipt_id_per_store": 1}}}]})",
            "sources[0].connectors.csv.receipt_id_per_store: expected true or false, got 1"},
        InvalidCase{"CsvNotObject", R"({"sources": [{"write_key": "k", "connectors": {"csv": "Receipt"}}]})",
                    "sources[0].connectors.csv: expected an object, got \"Receipt\""},
        // Malformed documents.
        InvalidCase{"Empty", "", "malformed JSON"},
        InvalidCase{"Truncated", R"({"listen": {"port": 80})", "malformed JSON"},
        InvalidCase{"TrailingComma", R"({"data_dir": "x",})", "malformed JSON"},
        InvalidCase{"NotJson", "listen.port = 80", "malformed JSON"}),
    [](const testing::TestParamInfo<InvalidCase>& info) { return std::string(info.param.name); });

TEST(ParseConfigTest, ErrorQuotesUserTextSafely) {
  // A control character in a value must not reach a terminal raw, and a long value is shortened.
  absl::StatusOr<Config> config = ParseConfig(
      "{\"sources\": [{\"write_key\": \"k\", \"channel\": \"w\\u001beb" + std::string(200, 'x') + "\"}]}");
  ASSERT_FALSE(config.ok());
  std::string message(config.status().message());
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
  EXPECT_NE(message.find("\\x1b"), std::string::npos) << message;
  EXPECT_LT(message.size(), 200u) << message;
}

TEST(ParseConfigTest, ErrorsDoNotRepeatSecretKeys) {
  absl::StatusOr<Config> config =
      ParseConfig(R"({"sources": [{"write_key": "s3cret"}, {"write_key": "s3cret"}]})");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().find("s3cret"), absl::string_view::npos) << config.status();
}

TEST(ParseConfigTest, KeysMayBeGivenAsTheirDigest) {
  constexpr char kDigest[] = "sha256:a8f76837db879e031fb0e76910563245ed2ea766d49ca6d05d8c936d207518dd";
  absl::StatusOr<Config> config =
      ParseConfig(absl::StrCat(R"({"sources": [{"write_key": ")", kDigest, R"("}, {"write_key": "wk_plain"}],)",
                               R"("read_keys": ["rk"], "admin_keys": ["ak", "sha256:)", std::string(64, '0'),
                               R"("]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->sources[0].write_key, kDigest) << "the configured text is kept; KeyRegistry reads the digest";
  EXPECT_EQ(config->admin_keys[1], "sha256:" + std::string(64, '0'));
}

TEST(ParseConfigTest, BrowsersMaySendEverywhereAndReadNowhereByDefault) {
  absl::StatusOr<Config> config = ParseConfig(R"({"sources": [{"write_key": "k"},
      {"write_key": "shop", "allowed_origins": ["https://Shop.Example.com", "https://*.brand.kr"]}],
      "cors": {"api_origins": ["https://crm.example.com"]}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->sources[0].allowed_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(config->sources[1].allowed_origins,
            (std::vector<std::string>{"https://shop.example.com", "https://*.brand.kr"}))
      << "kept in canonical lower case";
  EXPECT_EQ(config->cors.api_origins, std::vector<std::string>{"https://crm.example.com"});
  EXPECT_TRUE(ParseConfig("{}")->cors.api_origins.empty());
  EXPECT_TRUE(ParseConfig("{}")->stream.permessage_deflate);
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

TEST(ParseConfigTest, MalformedDigestErrorsDoNotRepeatTheKey) {
  absl::StatusOr<Config> config = ParseConfig(R"({"admin_keys": ["sha256:my-actual-s3cret"]})");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().find("s3cret"), absl::string_view::npos) << config.status();
}

TEST(ParseConfigTest, SourcesCarryTheirConnectorSecrets) {
  absl::StatusOr<Config> config = ParseConfig(R"({"sources": [{"write_key": "k", "channel": "email", "connectors": {
      "shopify": {"secret": "shp"}, "sendgrid": {"public_key": "MFkw"},
      "mailgun": {"signing_key": "mg", "max_age_seconds": 300},
      "meta": {"app_secret": "app", "verify_token": "vt"}}}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  const ConnectorSettings& settings = config->sources[0].connectors;
  EXPECT_EQ(settings.shopify_secret, "shp");
  EXPECT_EQ(settings.sendgrid_public_key, "MFkw");
  EXPECT_EQ(settings.mailgun_signing_key, "mg");
  EXPECT_EQ(settings.mailgun_max_age_seconds, 300);
  EXPECT_EQ(settings.meta_app_secret, "app");
  EXPECT_EQ(settings.meta_verify_token, "vt");

  absl::StatusOr<Config> unknown =
      ParseConfig(R"({"sources": [{"write_key": "k", "connectors": {"shopify": {"secrte": "x"}}}]})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "sources[0].connectors.shopify.secrte: unknown key (known: secret)");
  absl::StatusOr<Config> empty =
      ParseConfig(R"({"sources": [{"write_key": "k", "connectors": {"meta": {"app_secret": ""}}}]})");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("sources[0].connectors.meta.app_secret"), absl::string_view::npos)
      << empty.status();
}

TEST(ParseConfigTest, SourcesCarryTheirCsvMapping) {
  absl::StatusOr<Config> config = ParseConfig(R"({"sources": [{"write_key": "k", "channel": "pos", "connectors": {
      "csv": {"columns": {"receipt_id": "Bon", "loyalty_card": "Karte", "phone": "Tel", "email": "Mail",
                          "amount": "Summe", "currency": "Währung", "store": "Filiale", "timestamp": "Datum"},
              "default_currency": "EUR", "timestamp_format": "%d.%m.%Y %H:%M", "timezone": "+01:00",
              "event_name": "Kassenbon", "decimal_separator": ",", "receipt_id_per_store": true}}},
      {"write_key": "k2", "connectors": {"csv": {"columns": {"email": "email"}}}},
      {"write_key": "k3"}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->sources[0].connectors.csv.has_value());
  const CsvMappingConfig& csv = *config->sources[0].connectors.csv;
  EXPECT_EQ(csv.receipt_id, "Bon");
  EXPECT_EQ(csv.loyalty_card, "Karte");
  EXPECT_EQ(csv.phone, "Tel");
  EXPECT_EQ(csv.email, "Mail");
  EXPECT_EQ(csv.amount, "Summe");
  EXPECT_EQ(csv.currency, "Währung");
  EXPECT_EQ(csv.store, "Filiale");
  EXPECT_EQ(csv.timestamp, "Datum");
  EXPECT_EQ(csv.default_currency, "EUR");
  EXPECT_EQ(csv.timestamp_format, "%d.%m.%Y %H:%M");
  EXPECT_EQ(csv.timezone, "+01:00");
  EXPECT_EQ(csv.event_name, "Kassenbon");
  EXPECT_EQ(csv.decimal_separator, ',');
  EXPECT_TRUE(csv.receipt_id_per_store);

  // Keys left out keep the connector's defaults.
  ASSERT_TRUE(config->sources[1].connectors.csv.has_value());
  const CsvMappingConfig& defaults = *config->sources[1].connectors.csv;
  EXPECT_EQ(defaults.email, "email");
  EXPECT_EQ(defaults.receipt_id, "receipt_id");
  EXPECT_EQ(defaults.timestamp, "timestamp");
  EXPECT_EQ(defaults.timestamp_format, "iso8601");
  EXPECT_EQ(defaults.timezone, "Z");
  EXPECT_EQ(defaults.event_name, "Order Completed");
  EXPECT_EQ(defaults.decimal_separator, '.');
  EXPECT_FALSE(defaults.receipt_id_per_store);
  // No csv object: imports are refused for the source.
  EXPECT_FALSE(config->sources[2].connectors.csv.has_value());
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

TEST(ParseConfigTest, SourcesMayHaveTheirOwnPhoneRegion) {
  absl::StatusOr<Config> config = ParseConfig(R"({"sources": [
    {"name": "kr-app", "write_key": "k1", "channel": "app", "phone_region": "KR"},
    {"name": "kr-app", "write_key": "k2", "channel": "app", "space": "other", "phone_region": "JP"},
    {"name": "web", "write_key": "k3", "channel": "web"}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->sources[0].phone_region, "KR");
  EXPECT_EQ(config->sources[1].phone_region, "JP") << "one name in two spaces names two sources";
  EXPECT_EQ(config->sources[2].phone_region, "") << "unset: the event's hints, then the default region";
}

TEST(ParseConfigTest, DefinitionsKeepTheirJsonWithoutSpace) {
  absl::StatusOr<Config> config = ParseConfig(R"({
    "sources": [{"write_key": "k", "space": "eu"}],
    "computed_traits": [{"space": "eu", "name": "orders", "kind": "count", "event": "Order Completed"}],
    "audiences": [{"space": "eu", "name": "buyers", "description": "d", "condition": {"event": "Order Completed"}}],
    "audience_sweep": {"interval_ms": 1000, "chunk_profiles": 10}})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->computed_traits.size(), 1u);
  EXPECT_EQ(config->computed_traits[0].space, "eu");
  EXPECT_EQ(config->computed_traits[0].name, "orders");
  EXPECT_EQ(config->computed_traits[0].json, R"({"name":"orders","kind":"count","event":"Order Completed"})");
  ASSERT_EQ(config->audiences.size(), 1u);
  // Audience bodies are what PUT /v1/audiences/{name} takes: the name is not part of them.
  EXPECT_EQ(config->audiences[0].json, R"({"description":"d","condition":{"event":"Order Completed"}})");
  EXPECT_EQ(config->audience_sweep.interval, std::chrono::milliseconds(1000));
  EXPECT_EQ(config->audience_sweep.chunk_profiles, 10u);
}

TEST(ParseConfigTest, DefinitionEnvelopesAreChecked) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"sources":[{"write_key":"k"}],"audiences":[{"condition":{}}]})", "audiences[0].name: missing"},
      {R"({"sources":[{"write_key":"k"}],"audiences":[{"name":"a","space":"eu","condition":{}}]})",
       "audiences[0].space: \"eu\" is the space of no source"},
      {R"({"sources":[{"write_key":"k"}],"computed_traits":[{"name":"a","kind":"count"},{"name":"a","kind":"sum"}]})",
       "computed_traits[1].name: \"a\" is already defined by computed_traits[0]"},
      {R"({"sources":[{"write_key":"k"}],"computed_traits":["orders"]})", "computed_traits[0]: expected an object"},
      {R"({"sources":[{"write_key":"k"}],"audience_sweep":{"interval_ms":5}})", "audience_sweep.interval_ms"},
  };
  for (const auto& [json, expected] : cases) {
    absl::StatusOr<Config> config = ParseConfig(json);
    ASSERT_FALSE(config.ok()) << json;
    EXPECT_THAT(std::string(config.status().message()), ::testing::HasSubstr(expected)) << json;
  }
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

namespace tessera::config {
namespace {

TEST(ParseConfigTest, RuleFieldsLeftOutStayUnsetSoTheBuiltInRuleApplies) {
  absl::StatusOr<Config> config = ParseConfig(R"({"identity": {"rules": [{"type": "email", "limit": 2}]}})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->identity.rules.size(), 1u);
  EXPECT_EQ(config->identity.rules[0].limit, std::optional<int>(2));
  EXPECT_EQ(config->identity.rules[0].priority, std::nullopt)
      << "a priority that was not given must not silently become 0";
}

}  // namespace
}  // namespace tessera::config
