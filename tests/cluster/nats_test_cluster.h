#pragma once

// NatsTestCluster: real nats-server processes with JetStream on loopback ports, for the cluster
// tests: three servers in one cluster (or one, standalone), each with its own store directory.
// Servers can be killed with SIGKILL and started again on the same ports and store.
// The binary is nats-server from PATH or /usr/sbin (Debian's package, scripts/install-deps.sh).

#include <sys/types.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/nats_connection.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {

class NatsTestCluster {
 public:
  // Starts `servers` servers (1 or 3) and waits until JetStream has a leader (a replicated stream
  // can be created). Check ok() and error().
  explicit NatsTestCluster(int servers = 3);
  ~NatsTestCluster();
  NatsTestCluster(const NatsTestCluster&) = delete;
  NatsTestCluster& operator=(const NatsTestCluster&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // nats://127.0.0.1:<port> of every server, or of one.
  std::vector<std::string> urls() const;
  std::string url(int server) const;
  int size() const { return static_cast<int>(nodes_.size()); }
  // Where server `server` keeps its JetStream files (encrypted: the config sets a cipher and key).
  std::string store_dir(int server) const;

  void Kill(int server);   // SIGKILL, and reaped.
  void Start(int server);  // Again, on its ports and store.
  // Waits until JetStream takes a replicated stream again (a leader is elected and every running
  // server has caught up enough to be a peer).
  bool WaitReady(std::chrono::seconds timeout);
  bool running(int server) const { return nodes_[server].pid > 0; }

 private:
  struct Node {
    int client_port = 0;
    int route_port = 0;
    std::string config_path;
    pid_t pid = -1;
  };
  void WriteConfig(int server);

  ScopedTempDir dir_;
  std::vector<Node> nodes_;
  std::string error_;
};

// Polls `condition` every 20 ms until it holds (true) or `timeout` passes (false).
inline bool WaitUntil(const std::function<bool()>& condition, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A test suite on one three-server cluster, started once for the suite, with a connection per test
// (nats_) to all of its servers. Every server is running again at the start of each test.
class NatsClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new NatsTestCluster(3); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(cluster_->ok()) << cluster_->error();
    bool restarted = false;
    for (int i = 0; i < cluster_->size(); ++i) {
      if (!cluster_->running(i)) {
        cluster_->Start(i);
        restarted = true;
      }
    }
    if (restarted) {
      ASSERT_TRUE(cluster_->WaitReady(std::chrono::seconds(30))) << "JetStream after restarts";
    }
    // JetStream API calls (making a replicated stream) wait up to 20 s: under a loaded machine a
    // just-restarted cluster can take longer than the 5 s default to answer.
    auto connection =
        cluster::NatsConnection::Connect({.urls = cluster_->urls(), .request_timeout = std::chrono::seconds(20)});
    ASSERT_TRUE(connection.ok()) << connection.status();
    nats_ = *std::move(connection);
    ASSERT_TRUE(nats_->WaitConnected(std::chrono::seconds(10)));
  }

  static inline NatsTestCluster* cluster_ = nullptr;
  std::unique_ptr<cluster::NatsConnection> nats_;
};

}  // namespace tessera::testing
