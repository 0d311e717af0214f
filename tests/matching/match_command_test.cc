// `tessera match` end to end: the real binary on a small CSV file in a temporary directory.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

class MatchCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera-match-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // Two people with typos across their records, and a stranger.
    Write("people.csv",
          "customer_id,first_name,surname,dob,email,city,segment\n"
          "c1,Kim,Min-jun,1988-03-02,minjun@example.kr,Seoul,a\n"
          "c2,KIM,MINJUN,02/03/1988,mj.kim@shop.kr,Seoul,b\n"
          "c3,Kim,Minjun,19880302,,seoul,a\n"
          "c4,Robert,Allen,1971-06-24,rob@smith.net,London,a\n"
          "c5,Rob,Alen,1971-06-24,rob@smith.net,Lonon,b\n"
          "c6,Zoe,Quinn,1990-01-01,zq@y.org,Leeds,a\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }
  // Runs tessera with `args` (paths relative to the test directory); returns the exit code.
  int Run(const std::string& args) {
    const std::string command =
        "cd '" + dir_.string() + "' && '" TESSERA_BINARY "' " + args + " >stdout.txt 2>stderr.txt";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::filesystem::path dir_;
};

TEST_F(MatchCommandTest, WritesPairsClustersAndAModelThatCanBeReused) {
  ASSERT_EQ(
      Run("match people.csv --id customer_id --pairs pairs.csv --clusters clusters.csv --model model.json"),
      0)
      << Read("stderr.txt");
  const std::string pairs = Read("pairs.csv");
  EXPECT_TRUE(pairs.starts_with("id_l,id_r,match_probability,match_weight\n")) << pairs;
  EXPECT_NE(pairs.find("c4,c5,"), std::string::npos) << pairs;
  const std::string clusters = Read("clusters.csv");
  ASSERT_TRUE(clusters.starts_with("id,cluster_id\n")) << clusters;
  std::istringstream lines(clusters.substr(clusters.find('\n') + 1));
  std::set<std::string> ids;
  std::string line;
  while (std::getline(lines, line)) ids.insert(line.substr(0, line.find(',')));
  EXPECT_EQ(ids, (std::set<std::string>{"c1", "c2", "c3", "c4", "c5", "c6"})) << "every id once";
  EXPECT_NE(Read("stdout.txt").find("lambda"), std::string::npos) << "the model summary is printed";
  EXPECT_NE(Read("stderr.txt").find("pairs scored"), std::string::npos) << "progress on stderr";
  EXPECT_NE(Read("model.json").find("\"comparisons\""), std::string::npos);

  ASSERT_EQ(Run("match people.csv --id customer_id --pairs again.csv --clusters again_clusters.csv "
                "--model-in model.json"),
            0)
      << Read("stderr.txt");
  EXPECT_EQ(Read("again.csv"), pairs) << "the saved model scores the same";
}

// The benchmark's path (docs/benchmarks.md, row M1) on a small file: generate people with a ground
// truth, match them on one thread and on several, and evaluate the outputs.
TEST_F(MatchCommandTest, SyntheticPeopleMatchTheSameOnAnyThreadCount) {
  ASSERT_EQ(Run("bench match --generate 2000 --seed 5 --out people.csv"), 0) << Read("stderr.txt");
  EXPECT_NE(Read("stdout.txt").find("RESULT records=2000 "), std::string::npos) << Read("stdout.txt");
  const std::string generated = Read("people.csv");
  ASSERT_EQ(Run("bench match --generate 2000 --seed 5 --out again.csv"), 0);
  EXPECT_EQ(Read("again.csv"), generated) << "the generator is deterministic";

  ASSERT_EQ(Run("match people.csv --id id --threads 1 --pairs one.csv --clusters one_clusters.csv"), 0)
      << Read("stderr.txt");
  ASSERT_EQ(Run("match people.csv --id id --threads 3 --pairs three.csv --clusters three_clusters.csv"), 0)
      << Read("stderr.txt");
  EXPECT_EQ(Read("three.csv"), Read("one.csv")) << "pairs.csv depends on the thread count";
  EXPECT_EQ(Read("three_clusters.csv"), Read("one_clusters.csv"))
      << "clusters.csv depends on the thread count";
  EXPECT_NE(Read("stderr.txt").find("3 threads"), std::string::npos) << Read("stderr.txt");

  ASSERT_EQ(Run("bench match --evaluate people.csv --pairs one.csv --clusters one_clusters.csv"), 0)
      << Read("stderr.txt");
  const std::string result = Read("stdout.txt");
  EXPECT_NE(result.find("RESULT records=2000 "), std::string::npos) << result;
  EXPECT_NE(result.find(" blocking_recall="), std::string::npos) << result;
  EXPECT_NE(result.find(" f1="), std::string::npos) << result;
}

TEST_F(MatchCommandTest, BadInputIsExitCodeTwoWithAPreciseError) {
  EXPECT_EQ(Run("match people.csv --id nope --pairs p.csv --clusters c.csv"), 2);
  EXPECT_NE(Read("stderr.txt").find("no id column \"nope\""), std::string::npos) << Read("stderr.txt");
  EXPECT_EQ(Run("match missing.csv --id customer_id --pairs p.csv --clusters c.csv"), 2);
  EXPECT_NE(Read("stderr.txt").find("missing.csv: cannot open"), std::string::npos) << Read("stderr.txt");
  EXPECT_EQ(Run("match people.csv --id customer_id --pairs p.csv"), 2) << "--clusters is required";
  Write("schema.json", "{\"columns\":{\"first_name\":\"shoe_size\"}}");
  EXPECT_EQ(Run("match people.csv --id customer_id --pairs p.csv --clusters c.csv --schema schema.json"), 2);
  EXPECT_NE(Read("stderr.txt").find("unknown kind \"shoe_size\""), std::string::npos) << Read("stderr.txt");
  Write("model.json", "{\"lambda\":0.01,\"comparisons\":[]}");
  EXPECT_EQ(Run("match people.csv --id customer_id --pairs p.csv --clusters c.csv --model-in model.json"), 2)
      << "a model for other columns";
  EXPECT_EQ(Run("match people.csv --id customer_id --pairs p.csv --clusters c.csv --threads two"), 2);
  EXPECT_NE(Read("stderr.txt").find("--threads take non-negative integers"), std::string::npos) << Read("stderr.txt");
  EXPECT_EQ(Run("match people.csv --id customer_id --pairs p.csv --clusters c.csv --cannot-link yes"), 2);
  EXPECT_NE(Read("stderr.txt").find("--cannot-link takes 1 or 0"), std::string::npos) << Read("stderr.txt");
  EXPECT_EQ(Run("bench match --generate many --out x.csv"), 2);
  EXPECT_EQ(Run("bench match --evaluate people.csv --pairs p.csv"), 2) << "--clusters is required";
}

}  // namespace
