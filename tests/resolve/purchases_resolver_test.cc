// What the resolver records of purchases (resolve/purchase_recorder.h) and how a space's models are
// fitted on them (resolve/purchase_models.h): `Order Completed` by default, valued by revenue, then
// total, then value; one entry per local day in the space's time zone; another currency counted
// apart; merges adding the days of both people; summaries at a day; fits over every profile.

#include <gtest/gtest.h>

#include "audiences/evaluation.h"
#include "audiences/purchase_traits.h"
#include "audiences/space_audiences.h"
#include "resolve/purchase_models.h"
#include "resolve/purchase_recorder.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers
using profile_store::PurchaseDay;

constexpr int32_t kDay0 = 19'723;  // 2024-01-01, FixedTime(0)'s day.
constexpr int64_t kDay = 86'400;

class PurchasesResolverTest : public ResolverTest {
 protected:
  ingest::CanonicalEvent Order(std::string user, int64_t seconds, std::string properties,
                               std::string name = "Order Completed") {
    ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, "pos", seconds);
    event.user_id = std::move(user);
    event.event = std::move(name);
    event.properties = std::move(properties);
    return event;
  }

  // Customer i buys on day i % 10, then every (i % 7 + 1) weeks while i % 3 != 0, up to day
  // 200 - i, for about i + 10 each time: 40 repeat customers and 20 who bought once.
  std::vector<ingest::CanonicalEvent> SixtyCustomers() {
  std::vector<ingest::CanonicalEvent> events;
  for (int i = 0; i < 60; ++i) {
    const std::string user = "c" + std::to_string(i);
    const int64_t start = (i % 10) * kDay;
    events.push_back(Order(user, start, absl::StrCat(R"({"revenue":)", i + 10, "}")));
    if (i % 3 == 0) continue;
    for (int64_t day = (i % 7 + 1) * 7; day <= 200 - i; day += (i % 7 + 1) * 7) {
      events.push_back(Order(user, start + day * kDay, absl::StrCat(R"({"revenue":)", i + 10 + day % 5, "}")));
    }
  }
    return events;
  }

  Profile ProfileOf(Resolver& resolver, std::string user) {
    std::optional<ProfileId> id = Lookup(resolver, "user_id", std::move(user));
    EXPECT_TRUE(id.has_value());
    std::optional<Profile> profile = id ? StoredProfile(*id) : std::nullopt;
    EXPECT_TRUE(profile.has_value());
    return profile ? *profile : Profile();
  }
};

TEST_F(PurchasesResolverTest, OrdersAreRecordedByDayWithTheFirstValueTheyHave) {
  Append({Order("u1", 3600, R"({"revenue":20,"total":25})"), Order("u1", 7200, R"({"total":5.5})"),
          Order("u1", kDay + 10, R"({"value":"7"})"), Order("u1", 2 * kDay, R"({"coupon":"X"})"),
          Order("u1", 3 * kDay, R"({"revenue":99})", "Product Viewed")});
  auto resolver = NewResolver();
  CatchUp(*resolver);
  const Profile profile = ProfileOf(*resolver, "u1");
  EXPECT_EQ(profile.purchases.days, (std::vector<PurchaseDay>{{kDay0, 2, 25.5}, {kDay0 + 1, 1, 7}, {kDay0 + 2, 1, 0}}))
      << "revenue before total; a numeric string counts; an order without a value is worth 0; other events are none";
}

TEST_F(PurchasesResolverTest, TheSpacesCalendarAndCurrencyDecide) {
  ResolverOptions options;
  PurchaseRules rules;
  rules.events = {"Order Completed", "Purchase"};
  rules.currency = "KRW";
  rules.time_zone = base::TimeZone::Parse("Asia/Seoul");
  options.purchases[std::string(kSpace)] = rules;
  // 15:30 UTC on 2024-01-01 is 00:30 on 2024-01-02 in Seoul.
  Append({Order("u1", 15 * 3600 + 1800, R"({"revenue":10000,"currency":"krw"})"),
          Order("u1", 16 * 3600, R"({"revenue":5,"currency":"USD"})"),
          Order("u1", 17 * 3600, R"({"revenue":2500})", "Purchase")});
  auto resolver = NewResolver(identity::IdentityRules(), options);
  CatchUp(*resolver);
  const Profile profile = ProfileOf(*resolver, "u1");
  EXPECT_EQ(profile.purchases.days, (std::vector<PurchaseDay>{{kDay0 + 1, 2, 12'500}}));
  EXPECT_EQ(profile.purchases.other_currency, 1u);
}

TEST_F(PurchasesResolverTest, AMergeAddsBothPeoplesDays) {
  ingest::CanonicalEvent anonymous = Order("", 100, R"({"revenue":10})");
  anonymous.anonymous_id = "a1";
  ingest::CanonicalEvent identify = Event(ingest::EventType::kIdentify, "web", 5 * kDay);
  identify.user_id = "u1";
  identify.anonymous_id = "a1";
  Append({anonymous, Order("u1", 200, R"({"revenue":1})"), Order("u1", kDay, R"({"revenue":2})"), identify});
  auto resolver = NewResolver();
  CatchUp(*resolver);
  const Profile profile = ProfileOf(*resolver, "u1");
  EXPECT_EQ(profile.purchases.days, (std::vector<PurchaseDay>{{kDay0, 2, 11}, {kDay0 + 1, 1, 2}}));
}

TEST_F(PurchasesResolverTest, SummariesAndTheSpacesFitReadEveryCustomerAtTheDay) {
  std::vector<ingest::CanonicalEvent> events = SixtyCustomers();
  for (int i = 0; i < 10; ++i) {
    events.push_back(Order("late" + std::to_string(i), (151 + i) * kDay, R"({"revenue":1})"));
  }
  Append(events);
  auto resolver = NewResolver();
  CatchUp(*resolver);

  const Profile customer = ProfileOf(*resolver, "c1");  // Days 1, 15, 29, ... (every 2 weeks).
  absl::StatusOr<prediction::CalibrationSummary> summary = audiences::SummarizePurchaseDays(customer.purchases, kDay0 + 50);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->repeat_transactions, 3);  // Days 15, 29, 43.
  EXPECT_DOUBLE_EQ(summary->recency.count(), 6.0);
  EXPECT_DOUBLE_EQ(summary->age.count(), 7.0);
  EXPECT_TRUE(absl::IsNotFound(audiences::SummarizePurchaseDays(customer.purchases, kDay0).status()));

  absl::StatusOr<SpacePurchaseFit> fit = FitSpacePurchases(*store_, kSpace, kDay0 + 150);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->fit.bg_nbd.customers, 60);
  EXPECT_EQ(fit->first_purchase_later, 10);
  EXPECT_EQ(fit->profiles_scanned, 70);
  EXPECT_EQ(fit->fit.bg_nbd.repeat_customers, 40);
  EXPECT_GT(fit->fit.bg_nbd.parameters.r, 0);
  EXPECT_EQ(fit->fit.gamma_gamma.customers, 40);
  EXPECT_EQ(fit->fit.gamma_gamma.left_out_no_repeat, 20);
  // Later customers count once they have bought.
  absl::StatusOr<SpacePurchaseFit> later = FitSpacePurchases(*store_, kSpace, kDay0 + 200);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->fit.bg_nbd.customers, 70);
  // Nobody had bought before 2024.
  EXPECT_TRUE(absl::IsFailedPrecondition(FitSpacePurchases(*store_, kSpace, kDay0 - 1).status()));
}

TEST_F(PurchasesResolverTest, TheSweepFitsTheModelTheComputedTraitsReadAndKeepsItAcrossARestart) {
  std::vector<ingest::CanonicalEvent> events = SixtyCustomers();
  Append(events);
  audiences::SpaceAudiences space(*store_, std::string(kSpace));
  ASSERT_TRUE(space.Load({}, {}).ok());
  ResolverOptions options;
  const base::Timestamp now = FixedTime(210 * kDay);
  options.audiences.clock = [now] { return now; };
  PurchaseRules rules;
  rules.monthly_discount_rate = 0.02;
  options.purchases[std::string(kSpace)] = rules;
  auto resolver = NewResolver(identity::IdentityRules(), options, &space);
  CatchUp(*resolver);
  ASSERT_NE(resolver->audience_maintenance(), nullptr);
  EXPECT_TRUE(resolver->audience_maintenance()->SweepDue()) << "purchases arrived and there is no model";
  ASSERT_TRUE(resolver->EvaluateAudiences().ok());
  const std::shared_ptr<const audiences::PurchaseModelState> model = space.purchase_model();
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->as_of_day, kDay0 + 210);
  EXPECT_DOUBLE_EQ(model->monthly_discount_rate, 0.02);
  EXPECT_NE(model->fit_json.find(R"("customers":60)"), std::string::npos) << model->fit_json;
  EXPECT_EQ(resolver->audience_maintenance()->metrics().refits.load(), 1u);
  EXPECT_FALSE(resolver->audience_maintenance()->SweepDue()) << "fitted; nothing new since";

  // The computed traits read it.
  const Profile customer = ProfileOf(*resolver, "c1");
  const audiences::ComputedTrait* p_alive = space.definitions()->FindComputed("p_alive");
  ASSERT_NE(p_alive, nullptr);
  const std::optional<std::string> value = audiences::ComputedValue(*p_alive, customer, now, space.figures());
  ASSERT_TRUE(value.has_value());
  EXPECT_GT(std::stod(*value), 0);
  EXPECT_LE(std::stod(*value), 1);

  // A restart reads the stored model.
  audiences::SpaceAudiences restarted(*store_, std::string(kSpace));
  ASSERT_TRUE(restarted.LoadStored().ok());
  ASSERT_NE(restarted.purchase_model(), nullptr);
  EXPECT_EQ(restarted.purchase_model()->version, model->version);
  EXPECT_DOUBLE_EQ(restarted.purchase_model()->model.bg_nbd.r, model->model.bg_nbd.r);
  EXPECT_EQ(restarted.purchase_model()->fit_json, model->fit_json);
}

TEST_F(PurchasesResolverTest, TheModelIsFittedAgainOnceTenPercentMorePurchasesArrived) {
  Append(SixtyCustomers());
  audiences::SpaceAudiences space(*store_, std::string(kSpace));
  ASSERT_TRUE(space.Load({}, {}).ok());
  ResolverOptions options;
  options.audiences.clock = [] { return FixedTime(210 * kDay); };
  auto resolver = NewResolver(identity::IdentityRules(), options, &space);
  CatchUp(*resolver);
  ASSERT_TRUE(resolver->EvaluateAudiences().ok());
  ASSERT_NE(space.purchase_model(), nullptr);
  // A small space: a tenth of its orders, not a fixed hundred, brings its next customers in.
  const uint64_t wanted = std::max<uint64_t>(10, space.purchase_model()->orders / 10);
  ASSERT_LT(wanted, 100u) << "the sixty customers' orders";
  std::vector<ingest::CanonicalEvent> more;
  for (uint64_t i = 0; i + 1 < wanted; ++i) more.push_back(Order("new" + std::to_string(i), 205 * kDay, R"({"revenue":3})"));
  Append(more);
  CatchUp(*resolver);
  EXPECT_FALSE(resolver->audience_maintenance()->SweepDue()) << wanted - 1 << " new purchases";
  Append({Order("new-last", 206 * kDay, R"({"revenue":3})")});
  CatchUp(*resolver);
  EXPECT_TRUE(resolver->audience_maintenance()->SweepDue()) << wanted << " new purchases";
  ASSERT_TRUE(resolver->EvaluateAudiences().ok());
  EXPECT_EQ(resolver->audience_maintenance()->metrics().refits.load(), 2u);
}

TEST_F(PurchasesResolverTest, WithoutRepeatCustomersTheSweepTriesAgainOnlyAfterTenPercentMorePurchases) {
  std::vector<ingest::CanonicalEvent> events;
  for (int i = 0; i < 30; ++i) events.push_back(Order("once" + std::to_string(i), i * kDay, R"({"revenue":5})"));
  Append(events);
  audiences::SpaceAudiences space(*store_, std::string(kSpace));
  ASSERT_TRUE(space.Load({}, {}).ok());
  ResolverOptions options;
  options.audiences.clock = [] { return FixedTime(100 * kDay); };
  auto resolver = NewResolver(identity::IdentityRules(), options, &space);
  CatchUp(*resolver);
  AudienceMaintenance& maintenance = *resolver->audience_maintenance();
  ASSERT_TRUE(resolver->EvaluateAudiences().ok());
  EXPECT_EQ(space.purchase_model(), nullptr) << "nobody bought twice: no model";
  EXPECT_EQ(maintenance.metrics().refit_failures.load(), 1u);
  Append({Order("late-a", 50 * kDay, "{}"), Order("late-b", 51 * kDay, "{}"), Order("late-c", 52 * kDay, "{}")});
  CatchUp(*resolver);
  EXPECT_FALSE(maintenance.SweepDue()) << "3 more purchases are not 10% of 30";
  Append({Order("once1", 60 * kDay, R"({"revenue":7})")});
  CatchUp(*resolver);
  EXPECT_TRUE(maintenance.SweepDue());
  ASSERT_TRUE(resolver->EvaluateAudiences().ok());
  ASSERT_NE(space.purchase_model(), nullptr) << "a repeat customer now";
}

TEST_F(PurchasesResolverTest, BuiltInTraitNamesAreNotForDefinitions) {
  audiences::SpaceAudiences space(*store_, std::string(kSpace));
  EXPECT_FALSE(space.Load({{"p_alive", R"({"kind":"count"})"}}, {}).ok());
  ASSERT_TRUE(space.Load({}, {}).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(space.PutComputedTrait("p_alive", R"({"kind":"count"})").status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(space.DeleteComputedTrait("predicted_clv_365d")));
  // Audiences may use them.
  EXPECT_TRUE(space.PutAudience("lapsing", R"({"condition":{"all":[{"computed":"p_alive","op":"lt","value":0.3},)"
                                           R"({"computed":"predicted_clv_365d","op":"gt","value":100000}]}})")
                  .ok());
}

}  // namespace
}  // namespace tessera::resolve
