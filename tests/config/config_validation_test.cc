// Documents ParseConfig must reject, each with the key path and the reason in the error, and how
// errors show the user's text.

#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "config/config.h"

namespace tessera::config {
namespace {

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
                    "connectors, allowed_origins, keep_free_text)"},
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
        InvalidCase{
            "AllowedOriginWithPath",
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

}  // namespace
}  // namespace tessera::config
