// The destinations section (config/config.h: DestinationConfig): the envelope of each destination
// is read with its defaults, and a destination that could not work is refused naming the key.

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "config/config.h"

namespace tessera::config {
namespace {

constexpr std::string_view kSources =
    R"("sources":[{"name":"web","write_key":"wk_destinations_test","channel":"web"}])";

absl::StatusOr<Config> WithDestinations(const std::string& destinations) {
  return ParseConfig(absl::StrCat("{", std::string(kSources), R"(,"destinations":)", destinations, "}"));
}

TEST(DestinationsSectionTest, TheIssuesExampleIsReadWithDefaults) {
  auto config = WithDestinations(R"([{"name":"crm-hook","type":"webhook","url":"https://crm.example/hook",
      "secret":"whsec_1","events":{"types":["track","identify"]},"audiences":["vip"]}])");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->destinations.size(), 1u);
  const DestinationConfig& hook = config->destinations[0];
  EXPECT_EQ(hook.name, "crm-hook");
  EXPECT_EQ(hook.space, "default");
  EXPECT_EQ(hook.type, "webhook");
  EXPECT_EQ(hook.url, "https://crm.example/hook");
  EXPECT_EQ(hook.secret, "whsec_1");
  EXPECT_EQ(hook.event_types, (std::vector<std::string>{"track", "identify"}));
  EXPECT_EQ(hook.audiences, (std::vector<std::string>{"vip"}));
  EXPECT_EQ(hook.batch_events, 100u);
  EXPECT_EQ(hook.timeout, std::chrono::milliseconds(10'000));
  EXPECT_EQ(hook.options_json, "{}");
  EXPECT_EQ(hook.retry_initial, std::chrono::milliseconds(500));
  EXPECT_EQ(hook.retry_max, std::chrono::milliseconds(60'000));
  EXPECT_EQ(hook.ca_file, "");

  auto tuned = WithDestinations(R"([{"name":"h","type":"webhook","url":"https://a.example","audiences":["a"],
      "retry":{"initial_ms":100,"max_ms":2000},"ca_file":"/etc/tessera/crm-ca.pem"}])");
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ(tuned->destinations[0].retry_initial, std::chrono::milliseconds(100));
  EXPECT_EQ(tuned->destinations[0].retry_max, std::chrono::milliseconds(2000));
  EXPECT_EQ(tuned->destinations[0].ca_file, "/etc/tessera/crm-ca.pem");
}

TEST(DestinationsSectionTest, ProviderOptionsAreKeptForActivationToCheck) {
  auto config = WithDestinations(R"([{"name":"meta","type":"meta_custom_audience","audiences":["buyers"],
      "consent":"marketing","options":{"audience_id":"23842", "schema": ["EMAIL","PHONE"]}}])");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->destinations[0].options_json, R"({"audience_id":"23842","schema":["EMAIL","PHONE"]})");
  EXPECT_EQ(config->destinations[0].consent, "marketing");
}

TEST(DestinationsSectionTest, ADestinationThatCouldNotWorkIsRefusedNamingTheKey) {
  struct Case {
    std::string destinations;
    std::string error;
  };
  const Case cases[] = {
      {R"([{"type":"webhook","url":"https://a.example","events":{"types":["track"]}}])", "destinations[0].name: missing"},
      {R"([{"name":"Hook!","type":"webhook","url":"https://a.example","events":{"types":["track"]}}])",
       "destinations[0].name"},
      {R"([{"name":"h","type":"fax","url":"https://a.example","events":{"types":["track"]}}])",
       "destinations[0].type: \"fax\" is not one of"},
      {R"([{"name":"h","type":"webhook","events":{"types":["track"]}}])", "destinations[0].url: missing"},
      {R"([{"name":"h","type":"webhook","url":"ftp://a.example","events":{"types":["track"]}}])",
       "destinations[0].url"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example","events":{"types":["click"]}}])",
       "destinations[0].events.types[0]"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example"}])", "sends nothing"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example","audiences":["vip"],"space":"other"}])",
       "destinations[0].space: \"other\" is the space of no source"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example","audiences":["a"]},
           {"name":"h","type":"nats","url":"nats://127.0.0.1:4222","audiences":["b"]}])",
       "destinations[1].name: \"h\" is used twice"},
      {R"([{"name":"n","type":"nats","audiences":["b"]}])", "destinations[0].url: missing"},
      {R"([{"name":"n","type":"nats","url":"https://a.example","audiences":["b"]}])",
       "destinations[0].url: \"https://a.example\" must start with nats:// (or tls://)"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example","audiences":["a"],"batch_events":0}])",
       "destinations[0].batch_events"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example","audiences":["a"],"retries":3}])",
       "destinations[0]"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example","audiences":["a"],"retry":{"initial_ms":5}}])",
       "destinations[0].retry.initial_ms"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example","audiences":["a"],
           "retry":{"initial_ms":2000,"max_ms":1000}}])",
       "destinations[0].retry.max_ms: must be at least initial_ms"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example","audiences":["a"],"retry":{"jitter":true}}])",
       "destinations[0].retry.jitter"},
      {R"([{"name":"h","type":"webhook","url":"https://a.example","audiences":["a"],"ca_file":""}])",
       "destinations[0].ca_file"},
  };
  for (const Case& test : cases) {
    auto config = WithDestinations(test.destinations);
    ASSERT_FALSE(config.ok()) << test.destinations;
    EXPECT_TRUE(absl::IsInvalidArgument(config.status()));
    EXPECT_NE(config.status().message().find(test.error), std::string::npos)
        << "wanted \"" << test.error << "\" in: " << config.status().message();
  }
}


// Issue 26: which free-text properties of service events a destination is sent. The names are
// checked against ingest's list where tools/ builds the activation::DestinationSpec.
TEST(DestinationsSectionTest, FreeTextIsAListOfNamesAndEmptyByDefault) {
  auto config = WithDestinations(R"([{"name":"crm","type":"webhook","url":"https://crm.example/hook",
      "events":{"types":["track"]},"free_text":["transcript","comment"]},
      {"name":"bi","type":"webhook","url":"https://bi.example/hook","events":{"types":["track"]}}])");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->destinations[0].free_text, (std::vector<std::string>{"transcript", "comment"}));
  EXPECT_TRUE(config->destinations[1].free_text.empty()) << "no free text unless named";

  auto wrong = WithDestinations(R"([{"name":"crm","type":"webhook","url":"https://crm.example/hook",
      "events":{"types":["track"]},"free_text":"transcript"}])");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message().find("destinations[0].free_text: "), 0u) << wrong.status();
}

}  // namespace
}  // namespace tessera::config
