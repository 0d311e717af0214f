// The sources section: keys given as secrets or digests and kept out of errors, allowed origins
// (with cors.api_origins), connector secrets, CSV mappings and phone regions.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/config.h"

namespace tessera::config {
namespace {

TEST(ParseConfigTest, ErrorsDoNotRepeatSecretKeys) {
  absl::StatusOr<Config> config =
      ParseConfig(R"({"sources": [{"write_key": "s3cret"}, {"write_key": "s3cret"}]})");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().find("s3cret"), absl::string_view::npos) << config.status();
}

TEST(ParseConfigTest, KeysMayBeGivenAsTheirDigest) {
  constexpr char kDigest[] = "sha256:a8f76837db879e031fb0e76910563245ed2ea766d49ca6d05d8c936d207518dd";
  absl::StatusOr<Config> config = ParseConfig(
      absl::StrCat(R"({"sources": [{"write_key": ")", kDigest, R"("}, {"write_key": "wk_plain"}],)",
                   R"("read_keys": ["rk"], "admin_keys": ["ak", "sha256:)", std::string(64, '0'), R"("]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->sources[0].write_key, kDigest)
      << "the configured text is kept; KeyRegistry reads the digest";
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

TEST(ParseConfigTest, MalformedDigestErrorsDoNotRepeatTheKey) {
  absl::StatusOr<Config> config = ParseConfig(R"({"admin_keys": ["sha256:my-actual-s3cret"]})");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().find("s3cret"), absl::string_view::npos) << config.status();
}

TEST(ParseConfigTest, SourcesCarryTheirConnectorSecrets) {
  absl::StatusOr<Config> config =
      ParseConfig(R"({"sources": [{"write_key": "k", "channel": "email", "connectors": {
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
  absl::StatusOr<Config> config =
      ParseConfig(R"({"sources": [{"write_key": "k", "channel": "pos", "connectors": {
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


// Issue 26: a service source keeps the free text of its events only when told to.
TEST(ParseConfigTest, ServiceSourcesKeepFreeTextOnlyWhenTold) {
  absl::StatusOr<Config> config = ParseConfig(R"({"sources": [
    {"name": "helpdesk", "write_key": "k1", "channel": "service", "keep_free_text": true},
    {"name": "calls", "write_key": "k2", "channel": "service"}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->sources[0].keep_free_text);
  EXPECT_FALSE(config->sources[1].keep_free_text) << "off unless configured";

  absl::StatusOr<Config> web =
      ParseConfig(R"({"sources": [{"write_key": "k1", "channel": "web", "keep_free_text": true}]})");
  ASSERT_FALSE(web.ok());
  EXPECT_EQ(web.status().message(),
            "sources[0].keep_free_text: applies to sources of channel \"service\" only (this one is \"web\")");
  EXPECT_TRUE(ParseConfig(R"({"sources": [{"write_key": "k1", "channel": "web", "keep_free_text": false}]})").ok())
      << "false asks for nothing a web source does not do";

  absl::StatusOr<Config> text =
      ParseConfig(R"({"sources": [{"write_key": "k1", "channel": "service", "keep_free_text": "yes"}]})");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message().find("sources[0].keep_free_text: "), 0u) << text.status();
}

}  // namespace
}  // namespace tessera::config
