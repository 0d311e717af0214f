// The service channel's connector settings (sources[].connectors.zendesk / freshdesk /
// twilio_voice): defaults, values, and precise errors for each key.

#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "config/config.h"

namespace tessera::config {
namespace {

// The error of a config whose only source has `connectors` as given; "" when it parses.
std::string ConnectorsError(const std::string& connectors) {
  absl::StatusOr<Config> config = ParseConfig(
      R"({"sources": [{"write_key": "k", "channel": "service", "connectors": )" + connectors + "}]}");
  return config.ok() ? "" : std::string(config.status().message());
}

TEST(ServiceConnectorsSectionTest, ServiceIsAChannel) {
  absl::StatusOr<Config> config = ParseConfig(R"({"sources": [{"write_key": "k", "channel": "service"}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->sources[0].channel, "service");
  absl::StatusOr<Config> unknown = ParseConfig(R"({"sources": [{"write_key": "k", "channel": "helpdesk"}]})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("is not one of web, app, pos, email, social, server, service"),
            absl::string_view::npos)
      << unknown.status();
}

TEST(ServiceConnectorsSectionTest, SettingsAreReadWithTheirDefaults) {
  absl::StatusOr<Config> config = ParseConfig(R"({"sources": [
      {"write_key": "k1", "channel": "service", "connectors": {
        "zendesk": {"secret": "zd", "max_age_seconds": 600},
        "freshdesk": {"secret": "fd", "header": "X-Tessera-Secret"},
        "twilio_voice": {"auth_token": "tw", "public_url": "https://cdp.example.com/v1/connectors/service/twilio-voice"}}},
      {"write_key": "k2", "channel": "service", "connectors": {
        "zendesk": {"secret": "zd2"}, "freshdesk": {}, "twilio_voice": {"auth_token": "tw2"}}},
      {"write_key": "k3", "channel": "service"}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  const ConnectorSettings& all = config->sources[0].connectors;
  EXPECT_EQ(all.zendesk_secret, "zd");
  EXPECT_EQ(all.zendesk_max_age_seconds, 600);
  EXPECT_TRUE(all.freshdesk_enabled);
  EXPECT_EQ(all.freshdesk_secret, "fd");
  EXPECT_EQ(all.freshdesk_secret_header, "X-Tessera-Secret");
  EXPECT_EQ(all.twilio_auth_token, "tw");
  EXPECT_EQ(all.twilio_public_url, "https://cdp.example.com/v1/connectors/service/twilio-voice");

  const ConnectorSettings& defaults = config->sources[1].connectors;
  EXPECT_EQ(defaults.zendesk_max_age_seconds, 300) << "five minutes unless configured";
  EXPECT_TRUE(defaults.freshdesk_enabled) << "an empty freshdesk object accepts the write key alone";
  EXPECT_EQ(defaults.freshdesk_secret, "");
  EXPECT_EQ(defaults.freshdesk_secret_header, "X-Webhook-Secret");
  EXPECT_EQ(defaults.twilio_public_url, "") << "rebuilt from the request's headers";

  const ConnectorSettings& none = config->sources[2].connectors;
  EXPECT_EQ(none.zendesk_secret, "");
  EXPECT_FALSE(none.freshdesk_enabled);
  EXPECT_EQ(none.twilio_auth_token, "");
}

TEST(ServiceConnectorsSectionTest, BadSettingsNameTheKey) {
  EXPECT_EQ(
      ConnectorsError(R"({"zendesk": {}})"),
      "sources[0].connectors.zendesk.secret: required (the webhook's signing secret, as Zendesk shows it)");
  EXPECT_NE(ConnectorsError(R"({"zendesk": {"secret": ""}})").find("sources[0].connectors.zendesk.secret"),
            std::string::npos);
  EXPECT_NE(ConnectorsError(R"({"zendesk": {"secret": "s", "max_age_seconds": -1}})")
                .find("sources[0].connectors.zendesk.max_age_seconds"),
            std::string::npos);
  EXPECT_NE(ConnectorsError(R"({"zendesk": {"secret": "s", "max_age_seconds": "300"}})")
                .find("sources[0].connectors.zendesk.max_age_seconds"),
            std::string::npos);
  EXPECT_EQ(ConnectorsError(R"({"zendesk": {"secret": "s", "tolerance": 300}})"),
            "sources[0].connectors.zendesk.tolerance: unknown key (known: secret, max_age_seconds)");

  EXPECT_EQ(
      ConnectorsError(R"({"freshdesk": {"header": "X Secret"}})"),
      "sources[0].connectors.freshdesk.header: \"X Secret\" is not an HTTP header name (letters, digits and "
      "!#$%&'*+-.^_`|~)");
  EXPECT_NE(
      ConnectorsError(R"({"freshdesk": {"secret": ""}})").find("sources[0].connectors.freshdesk.secret"),
      std::string::npos);
  EXPECT_NE(
      ConnectorsError(R"({"freshdesk": true})").find("sources[0].connectors.freshdesk: expected an object"),
      std::string::npos);

  EXPECT_EQ(ConnectorsError(R"({"twilio_voice": {"public_url": "https://a.example/cb"}})"),
            "sources[0].connectors.twilio_voice.auth_token: required (the Twilio account's auth token)");
  EXPECT_EQ(
      ConnectorsError(R"({"twilio_voice": {"auth_token": "t", "public_url": "ftp://a.example/cb"}})"),
      "sources[0].connectors.twilio_voice.public_url: \"ftp://a.example/cb\" must start with https:// (or "
      "http://)");
  EXPECT_EQ(ConnectorsError(R"({"twilio_voice": {"auth_token": "t", "public_url": "https:///cb"}})"),
            "sources[0].connectors.twilio_voice.public_url: \"https:///cb\" has no host");
  EXPECT_EQ(
      ConnectorsError(
          R"({"twilio_voice": {"auth_token": "t", "public_url": "https://a.example/cb?writeKey=k"}})"),
      "sources[0].connectors.twilio_voice.public_url: \"https://a.example/cb?writeKey=k\" must not contain a "
      "query string or fragment: the query of each request is appended to it as Twilio sent it");
  EXPECT_EQ(
      ConnectorsError(R"({"twilio_voice": {"auth_token": "t", "public_url": "https://a.example/c b"}})"),
      "sources[0].connectors.twilio_voice.public_url: \"https://a.example/c b\" must not contain spaces or "
      "control characters");
}

TEST(ServiceConnectorsSectionTest, SecretsStayOutOfErrors) {
  const std::string error =
      ConnectorsError(R"({"twilio_voice": {"auth_token": "tw-s3cret", "public_url": "nope"}})");
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
}

}  // namespace
}  // namespace tessera::config
