#include "tests/cluster/nats_test_cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cluster/event_stream.h"
#include "cluster/nats_connection.h"

namespace tessera::testing {
namespace {

// `count` distinct ports the kernel had free a moment ago: each is bound to port 0 and read, and
// all are closed only once all are chosen, so no two are the same.
std::vector<int> FreePorts(int count) {
  std::vector<int> ports;
  std::vector<int> sockets;
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      ports.push_back(ntohs(address.sin_port));
    } else {
      ports.push_back(0);
    }
    sockets.push_back(fd);
  }
  for (int fd : sockets) close(fd);
  return ports;
}

std::string NatsServerBinary() {
  for (const char* candidate : {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
    if (access(candidate, X_OK) == 0) return candidate;
  }
  return "nats-server";  // From PATH.
}

}  // namespace

NatsTestCluster::NatsTestCluster(int servers) {
  if (dir_.path().empty()) {
    error_ = "no temporary directory";
    return;
  }
  nodes_.resize(servers);
  const std::vector<int> ports = FreePorts(2 * servers);
  for (int i = 0; i < servers; ++i) {
    nodes_[i].client_port = ports[2 * i];
    nodes_[i].route_port = ports[2 * i + 1];
  }
  for (int i = 0; i < servers; ++i) {
    WriteConfig(i);
    Start(i);
  }
  if (!WaitReady(std::chrono::seconds(30))) {
    error_ = absl::StrCat("JetStream of ", servers, " nats-server(s) not ready within 30 s (logs in ",
                          dir_.path(), ")");
  }
}

NatsTestCluster::~NatsTestCluster() {
  for (int i = 0; i < size(); ++i) {
    if (nodes_[i].pid > 0) {
      kill(nodes_[i].pid, SIGTERM);
      waitpid(nodes_[i].pid, nullptr, 0);
      nodes_[i].pid = -1;
    }
  }
}

std::string NatsTestCluster::store_dir(int server) const {
  return absl::StrCat(dir_.path(), "/n", server + 1);
}

void NatsTestCluster::WriteConfig(int server) {
  Node& node = nodes_[server];
  const std::string name = absl::StrCat("n", server + 1);
  const std::string store = absl::StrCat(dir_.path(), "/", name);
  std::filesystem::create_directories(store);
  node.config_path = absl::StrCat(dir_.path(), "/", name, ".conf");
  std::ofstream config(node.config_path);
  config << "server_name: " << name << "\n"
         << "listen: 127.0.0.1:" << node.client_port << "\n"
         << "jetstream {\n  store_dir: \"" << store << "\"\n  max_memory_store: 64MB\n  max_file_store: 2GB\n"
         // JetStream's own encryption at rest, as docs/encryption.md configures it (a test key).
         << "  cipher: aes\n  key: \"tessera-test-jetstream-key-0123456789abcdef\"\n}\n";
  if (size() > 1) {
    std::vector<std::string> routes;
    for (int other = 0; other < size(); ++other) {
      if (other != server) routes.push_back(absl::StrCat("nats-route://127.0.0.1:", nodes_[other].route_port));
    }
    config << "cluster {\n  name: tessera-test\n  listen: 127.0.0.1:" << node.route_port << "\n  routes: [\n    "
           << absl::StrJoin(routes, "\n    ") << "\n  ]\n}\n";
  }
}

void NatsTestCluster::Start(int server) {
  Node& node = nodes_[server];
  if (node.pid > 0) return;
  // A kill -9 can leave a consumer's meta.inf empty; with `cipher` set, nats-server 2.9.10 (and
  // 2.10.0) then panics decrypting it at every start instead of skipping it as it does for a plain
  // store. The consumer is expendable (followers make theirs anew), so the empty file goes first.
  std::error_code ignored;
  for (auto it = std::filesystem::recursive_directory_iterator(store_dir(server), ignored);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ignored)) {
    if (it->path().filename() == "meta.inf" && it->path().parent_path().parent_path().filename() == "obs" &&
        it->is_regular_file(ignored) && it->file_size(ignored) == 0) {
      std::filesystem::remove(it->path(), ignored);
    }
  }
  const std::string log = absl::StrCat(dir_.path(), "/n", server + 1, ".log");
  const std::string binary = NatsServerBinary();
  pid_t pid = fork();
  if (pid == 0) {
    std::string log_flag = "--log=" + log;
    execlp(binary.c_str(), binary.c_str(), "-c", node.config_path.c_str(), log_flag.c_str(), nullptr);
    _exit(127);
  }
  node.pid = pid;
}

void NatsTestCluster::Kill(int server) {
  Node& node = nodes_[server];
  if (node.pid <= 0) return;
  kill(node.pid, SIGKILL);
  waitpid(node.pid, nullptr, 0);
  node.pid = -1;
}

std::vector<std::string> NatsTestCluster::urls() const {
  std::vector<std::string> all;
  for (int i = 0; i < size(); ++i) all.push_back(url(i));
  return all;
}

std::string NatsTestCluster::url(int server) const {
  return absl::StrCat("nats://127.0.0.1:", nodes_[server].client_port);
}

bool NatsTestCluster::WaitReady(std::chrono::seconds timeout) {
  auto connection = cluster::NatsConnection::Connect({.urls = urls(), .request_timeout = std::chrono::seconds(2)});
  if (!connection.ok()) return false;
  // A stream with as many replicas as servers can be made only once the servers have found each
  // other and elected a JetStream meta leader.
  cluster::EventStream probe(**connection, {.replicas = size()});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe.Ensure("readiness-probe").ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace tessera::testing
