// Purchase prediction end to end: every transaction of the public CDNOW sample goes in as an
// `Order Completed` event through /v1/batch (user id = the sample id, revenue = the dollars,
// timestamp = the 1997/98 date), and GET /v1/models/purchase?as_of=1997-09-30 must reproduce the
// published BG/NBD and Gamma-Gamma parameters within 1%, and customer 1's predictions the paper's
// 1.226 expected purchases in the next 39 weeks; GET /v1/kpis must count every order and draw the
// paper's tracking plot. The errors of both endpoints are checked too.

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

// Order Completed events of the sample (its README has the source and the reference figures).
std::vector<std::string> CdnowOrders() {
  std::ifstream file(std::string(TESSERA_SHARED_DIR) + "/datasets/cdnow/CDNOW_sample.txt");
  EXPECT_TRUE(file.good()) << "the CDNOW sample beside the repository";
  std::vector<std::string> events;
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string master;
    int sample_id = 0;
    std::string date;
    int cds = 0;
    std::string dollars;
    if (!(fields >> master >> sample_id >> date >> cds >> dollars)) continue;
    events.push_back(absl::StrCat(R"({"type":"track","event":"Order Completed","userId":")", sample_id,
                                  R"(","messageId":"cdnow-)", events.size(), R"(","timestamp":")", date.substr(0, 4),
                                  "-", date.substr(4, 2), "-", date.substr(6, 2), R"(T00:00:00Z","properties":{"revenue":)",
                                  dollars, R"(,"quantity":)", cds, "}}"));
  }
  return events;
}

double Member(simdjson::dom::element object, std::string_view first, std::string_view second) {
  double value = NAN;
  EXPECT_EQ(object[first][second].get(value), simdjson::SUCCESS) << first << "." << second;
  return value;
}

class PredictionE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = ServerProcess::Start({.data_dir = dir_.path()});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
    client_ = std::make_unique<HttpClient>(server_->port(), 60s);
  }

  absl::StatusOr<HttpResponse> Get(const std::string& target, std::string_view key = kReadKey) {
    return client_->Request("GET", target, {}, {{"Authorization", "Bearer " + std::string(key)}});
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(PredictionE2eTest, CdnowThroughTheApiReproducesThePublishedModels) {
  const std::vector<std::string> orders = CdnowOrders();
  ASSERT_EQ(orders.size(), 6919u);
  double expected_revenue = 0;
  for (const std::string& order : orders) {
    const size_t at = order.find(R"("revenue":)") + 10;
    expected_revenue += std::stod(order.substr(at, order.find(',', at) - at));
  }
  for (size_t start = 0; start < orders.size(); start += 500) {
    std::string body = R"({"batch":[)";
    for (size_t i = start; i < std::min(orders.size(), start + 500); ++i) body += (i > start ? "," : "") + orders[i];
    body += "]}";
    auto response = client_->PostJson("/v1/batch", body, kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
  }
  // Applied when the model sees every customer of the sample.
  std::string model;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto response = Get("/v1/models/purchase?as_of=1997-09-30");
        if (!response.ok() || response->status != 200) return false;
        model = response->body;
        return model.find(R"("customers":2357,)") != std::string::npos &&
               model.find(R"("orders":)" + std::to_string(4960)) != std::string::npos;
      },
      120s))
      << model;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(model).get(root), simdjson::SUCCESS) << model;
  EXPECT_EQ(std::string_view(root["as_of"]), "1997-09-30");
  EXPECT_EQ(int64_t(root["repeat_customers"]), 946) << model;
  EXPECT_NEAR(Member(root, "bg_nbd", "r"), 0.243, 0.243 * 0.01);
  EXPECT_NEAR(Member(root, "bg_nbd", "alpha"), 4.414, 4.414 * 0.01);
  EXPECT_NEAR(Member(root, "bg_nbd", "a"), 0.793, 0.793 * 0.01);
  EXPECT_NEAR(Member(root, "bg_nbd", "b"), 2.426, 2.426 * 0.01);
  EXPECT_NEAR(Member(root, "bg_nbd", "log_likelihood"), -9582.4, 0.5);
  EXPECT_NEAR(Member(root, "gamma_gamma", "p"), 6.25, 6.25 * 0.01);
  EXPECT_NEAR(Member(root, "gamma_gamma", "q"), 3.74, 3.74 * 0.01);
  EXPECT_NEAR(Member(root, "gamma_gamma", "gamma"), 15.44, 15.44 * 0.01);
  EXPECT_NEAR(Member(root, "gamma_gamma", "customers"), 946, 0);
  EXPECT_EQ(int64_t(root["gamma_gamma"]["left_out"]["no_repeat_transaction"]), 2357 - 946);

  // A full timestamp counts its whole day: the same fit.
  auto same = Get("/v1/models/purchase?as_of=1997-09-30T08:00:00Z");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->status, 200);
  EXPECT_NE(same->body.find(R"("as_of":"1997-09-30")"), std::string::npos) << same->body;

  // Customer 1: x = 2, t_x = 30.43, T = 38.86 weeks; 1.226 purchases expected in the next 39 weeks.
  auto predictions = Get("/v1/profiles/user_id:1/predictions?as_of=1997-09-30&horizon_days=273");
  ASSERT_TRUE(predictions.ok()) << predictions.status();
  ASSERT_EQ(predictions->status, 200) << predictions->body;
  simdjson::dom::element predicted;
  ASSERT_EQ(parser.parse(predictions->body).get(predicted), simdjson::SUCCESS) << predictions->body;
  EXPECT_NEAR(double(predicted["expected_purchases"]), 1.226, 0.005) << predictions->body;
  EXPECT_EQ(int64_t(predicted["summary"]["repeat_transactions"]), 2);
  EXPECT_NEAR(double(predicted["summary"]["recency_weeks"]), 30.43, 0.01);
  EXPECT_NEAR(double(predicted["summary"]["age_weeks"]), 38.86, 0.01);
  const double p_alive = double(predicted["p_alive"]);
  EXPECT_GT(p_alive, 0);
  EXPECT_LT(p_alive, 1);
  EXPECT_GT(double(predicted["expected_order_value"]), 0);
  EXPECT_GT(double(predicted["clv"]), 0);
  EXPECT_NEAR(double(predicted["model"]["bg_nbd"]["r"]), 0.243, 0.243 * 0.01);

  // The resolver's sweep fits the model of today (the purchases arrived, there was none) and every
  // profile carries the predictive computed traits.
  std::string profile;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto response = Get("/v1/profiles/user_id:1");
        if (!response.ok() || response->status != 200) return false;
        profile = response->body;
        return profile.find(R"("p_alive":)") != std::string::npos;
      },
      60s))
      << profile;
  simdjson::dom::element person;
  ASSERT_EQ(parser.parse(profile).get(person), simdjson::SUCCESS) << profile;
  for (const char* trait : {"p_alive", "expected_purchases_90d", "predicted_clv_365d"}) {
    double value = -1;
    EXPECT_EQ(person["computedTraits"][trait].get(value), simdjson::SUCCESS) << trait << ": " << profile;
    EXPECT_GE(value, 0) << trait;
  }
  auto latest = Get("/v1/models/purchase");
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_EQ(latest->status, 200) << latest->body;
  // The sweep fitted whoever had bought when it ran (the import may still have been arriving).
  simdjson::dom::element swept;
  ASSERT_EQ(parser.parse(latest->body).get(swept), simdjson::SUCCESS) << latest->body;
  EXPECT_GE(int64_t(swept["customers"]), 1);
  EXPECT_LE(int64_t(swept["customers"]), 2357);
  EXPECT_NE(std::string_view(swept["version"]).find('#'), std::string_view::npos) << latest->body;

  // The dashboard's figures of the same data: every order, and the paper's tracking plot with the
  // calibration ending 1997-09-30 (docs/prediction.md, "Cumulative tracking").
  auto kpis = Get("/v1/kpis?from=1997-01-01&to=1998-06-30&granularity=month&model_as_of=1997-09-30");
  ASSERT_TRUE(kpis.ok()) << kpis.status();
  ASSERT_EQ(kpis->status, 200) << kpis->body;
  simdjson::dom::element figures;
  ASSERT_EQ(parser.parse(kpis->body).get(figures), simdjson::SUCCESS) << kpis->body;
  EXPECT_EQ(int64_t(figures["totals"]["orders"]), 6919);
  EXPECT_EQ(int64_t(figures["totals"]["events"]), 6919);
  EXPECT_EQ(int64_t(figures["totals"]["customers"]), 2357);
  EXPECT_EQ(int64_t(figures["totals"]["new_profiles"]), 2357);
  EXPECT_NEAR(double(figures["totals"]["revenue"]), expected_revenue, 0.01);
  EXPECT_EQ(std::string_view(figures["tracking"]["calibration_end"]), "1997-09-30");
  simdjson::dom::array weeks = figures["tracking"]["weeks"];
  ASSERT_EQ(weeks.size(), 78u) << "1997-01-01 to 1998-06-30";
  EXPECT_EQ(std::string_view(weeks.at(38)["start"]), "1997-09-24");
  EXPECT_EQ(int64_t(weeks.at(38)["actual"]), 2457);
  EXPECT_NEAR(double(weeks.at(38)["predicted"]), 2501.5, 2501.5 * 0.005);
  EXPECT_EQ(int64_t(weeks.at(77)["actual"]), 4339);
  EXPECT_NEAR(double(weeks.at(77)["predicted"]), 4165.7, 4165.7 * 0.005);
  uint64_t p_alive_people = 0;
  for (simdjson::dom::element bin : figures["predictions"]["p_alive"].get_array()) p_alive_people += uint64_t(bin["profiles"]);
  EXPECT_EQ(p_alive_people, 2357u) << "every customer has a P(alive)";
  uint64_t rfm_people = 0;
  for (simdjson::dom::element cell : figures["rfm"]["cells"].get_array()) rfm_people += uint64_t(cell["profiles"]);
  EXPECT_EQ(rfm_people, 2357u);

  // Before the first purchase of 1997 nobody is a customer.
  auto early = Get("/v1/models/purchase?as_of=1996-12-31");
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->status, 409) << early->body;
  auto not_yet = Get("/v1/profiles/user_id:1/predictions?as_of=1996-12-31");
  ASSERT_TRUE(not_yet.ok()) << not_yet.status();
  EXPECT_EQ(not_yet->status, 409) << not_yet->body;
}

TEST_F(PredictionE2eTest, BadRequestsGetPreciseErrors) {
  auto bad_date = Get("/v1/models/purchase?as_of=1997-02-30");
  ASSERT_TRUE(bad_date.ok()) << bad_date.status();
  EXPECT_EQ(bad_date->status, 400);
  EXPECT_NE(bad_date->body.find("as_of"), std::string::npos) << bad_date->body;
  auto write_key = Get("/v1/models/purchase", kWriteKey);
  ASSERT_TRUE(write_key.ok()) << write_key.status();
  EXPECT_EQ(write_key->status, 403);
  auto no_key = client_->Request("GET", "/v1/models/purchase");
  ASSERT_TRUE(no_key.ok()) << no_key.status();
  EXPECT_EQ(no_key->status, 401);
  auto unknown = Get("/v1/models/churn");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->status, 404);
  auto space = Get("/v1/models/purchase?space=elsewhere");
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ(space->status, 404);
  auto empty = Get("/v1/models/purchase");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->status, 409) << "no purchase yet: " << empty->body;
  auto post = client_->Request("POST", "/v1/models/purchase", "{}", {{"Authorization", "Bearer " + std::string(kReadKey)}});
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 405);
  // A profile: the horizon must be a number of days.
  auto sent = client_->PostJson("/v1/track", R"({"userId":"u1","event":"Order Completed","properties":{"revenue":5}})",
                                kWriteKey);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto profile = Get("/v1/profiles/user_id:u1");
        return profile.ok() && profile->status == 200;
      },
      30s));
  auto horizon = Get("/v1/profiles/user_id:u1/predictions?horizon_days=0");
  ASSERT_TRUE(horizon.ok()) << horizon.status();
  EXPECT_EQ(horizon->status, 400) << horizon->body;
  EXPECT_NE(horizon->body.find("horizon_days"), std::string::npos) << horizon->body;

  // The dashboard's figures: each bad parameter named; without a model, figures and the reason.
  for (const auto& [target, status, field] : std::vector<std::tuple<std::string, int, std::string>>{
           {"/v1/kpis?from=2025-02-30", 400, "from"},
           {"/v1/kpis?to=yesterday", 400, "to"},
           {"/v1/kpis?from=2025-03-02&to=2025-03-01", 400, "from"},
           {"/v1/kpis?from=1900-01-01&to=2025-03-01", 400, "to"},
           {"/v1/kpis?granularity=year", 400, "granularity"},
           {"/v1/kpis?channel=", 400, "channel"},
           {"/v1/kpis?model_as_of=soon", 400, "model_as_of"},
           {"/v1/kpis?space=elsewhere", 404, "space"}}) {
    auto answer = Get(target);
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->status, status) << target << ": " << answer->body;
    EXPECT_NE(answer->body.find(R"("field":")" + field + '"'), std::string::npos) << target << ": " << answer->body;
  }
  auto kpis_write_key = Get("/v1/kpis", kWriteKey);
  ASSERT_TRUE(kpis_write_key.ok());
  EXPECT_EQ(kpis_write_key->status, 403);
  auto kpis_no_key = client_->Request("GET", "/v1/kpis");
  ASSERT_TRUE(kpis_no_key.ok());
  EXPECT_EQ(kpis_no_key->status, 401);
  auto no_model = Get("/v1/kpis?model_as_of=2000-01-01");
  ASSERT_TRUE(no_model.ok());
  ASSERT_EQ(no_model->status, 200) << no_model->body;
  EXPECT_NE(no_model->body.find(R"("tracking":null)"), std::string::npos) << no_model->body;
  EXPECT_NE(no_model->body.find(R"("model_error":")"), std::string::npos) << no_model->body;
  EXPECT_NE(no_model->body.find(R"("orders":1,)"), std::string::npos) << "u1's order is counted: " << no_model->body;
}

}  // namespace
}  // namespace tessera::e2e
