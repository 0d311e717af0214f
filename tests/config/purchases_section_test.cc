// The purchases section (config/config.h: PurchaseConfig): defaults, every key read, and settings
// that could not work refused naming the key.

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "config/config.h"

namespace tessera::config {
namespace {

constexpr std::string_view kSources =
    R"("sources":[{"name":"web","write_key":"wk_purchases_test","channel":"web"}])";

absl::StatusOr<Config> WithPurchases(const std::string& purchases) {
  return ParseConfig(absl::StrCat("{", std::string(kSources), R"(,"purchases":)", purchases, "}"));
}

TEST(PurchasesSectionTest, DefaultsAndEveryKey) {
  auto defaults = WithPurchases(R"([{}])");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  ASSERT_EQ(defaults->purchases.size(), 1u);
  const PurchaseConfig& plain = defaults->purchases[0];
  EXPECT_EQ(plain.space, "default");
  EXPECT_EQ(plain.events, (std::vector<std::string>{"Order Completed"}));
  EXPECT_EQ(plain.value_properties,
            (std::vector<std::string>{"properties.revenue", "properties.total", "properties.value"}));
  EXPECT_EQ(plain.currency, "");
  EXPECT_EQ(plain.time_zone, "UTC");
  EXPECT_DOUBLE_EQ(plain.monthly_discount_rate, 0.01);
  EXPECT_EQ(plain.refit_interval, std::chrono::seconds(86'400));

  auto set = WithPurchases(R"([{"space":"default","events":["Purchase"],"value_properties":["properties.amount"],
      "currency":"KRW","time_zone":"Asia/Seoul","monthly_discount_rate":0.02,"refit_interval_seconds":3600}])");
  ASSERT_TRUE(set.ok()) << set.status();
  const PurchaseConfig& korean = set->purchases[0];
  EXPECT_EQ(korean.events, (std::vector<std::string>{"Purchase"}));
  EXPECT_EQ(korean.value_properties, (std::vector<std::string>{"properties.amount"}));
  EXPECT_EQ(korean.currency, "KRW");
  EXPECT_EQ(korean.time_zone, "Asia/Seoul");
  EXPECT_DOUBLE_EQ(korean.monthly_discount_rate, 0.02);
  EXPECT_EQ(korean.refit_interval, std::chrono::seconds(3600));
}

TEST(PurchasesSectionTest, WhatCouldNotWorkIsRefusedByKey) {
  const std::pair<std::string, std::string> cases[] = {
      {R"([{"time_zone":"Mars/Olympus"}])", "purchases[0].time_zone"},
      {R"([{"currency":"won"}])", "purchases[0].currency"},
      {R"([{"value_properties":["revenue"]}])", "purchases[0].value_properties[0]"},
      {R"([{"events":[]}])", "purchases[0].events"},
      {R"([{"monthly_discount_rate":1.5}])", "purchases[0].monthly_discount_rate"},
      {R"([{"refit_interval_seconds":5}])", "purchases[0].refit_interval_seconds"},
      {R"([{"space":"elsewhere"}])", "purchases[0].space"},
      {R"([{},{"space":"default"}])", "purchases[1].space"},
      {R"([{"currency_code":"KRW"}])", "purchases[0].currency_code"},
  };
  for (const auto& [purchases, key] : cases) {
    auto config = WithPurchases(purchases);
    ASSERT_FALSE(config.ok()) << purchases;
    EXPECT_NE(config.status().message().find(key), std::string::npos) << purchases << ": " << config.status();
  }
}

}  // namespace
}  // namespace tessera::config
