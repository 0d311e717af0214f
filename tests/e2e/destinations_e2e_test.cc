// Destinations (issue 23), end to end. Delivery is being built: until it is, a configuration with
// destinations is refused at start (exit 2) rather than served while silently sending nothing.

#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

TEST(DestinationsE2eTest, AServerAskedToDeliverIsRefusedUntilDeliveryExists) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  auto server = ServerProcess::Start(
      {.data_dir = data_dir,
       .extra_json = R"("destinations":[{"name":"crm-hook","type":"webhook","url":"https://crm.example/hook",)"
                     R"("secret":"whsec_1","events":{"types":["track"]}}])"});
  ASSERT_FALSE(server.ok()) << "the server must not start";
  const CommandResult result =
      RunCommand(temp.path(), std::string(TESSERA_BINARY) + " serve --config " + data_dir + "/test-config.json", 60);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("destinations"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("whsec_1"), std::string::npos) << "a destination's secret is never printed";
}

}  // namespace
}  // namespace tessera::e2e
