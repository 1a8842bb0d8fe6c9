// Starts the real tensord binary on a free loopback port for a test, and stops it after.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tensord::testing {

class ServerProcess {
 public:
  // Extra flags go to the server, e.g. "--contexts=dev0->cpu".
  explicit ServerProcess(std::vector<std::string> flags = {}) {
    char dir_template[] = "/tmp/tensord-test-XXXXXX";
    dir_ = mkdtemp(dir_template);
    std::string port_file = dir_ + "/port";
    std::string metrics_port_file = dir_ + "/metrics_port";
    // Metrics on a free port too: the default 9464 would collide between test servers.
    std::vector<std::string> args = {TENSORD_SERVER_PATH,
                                     "--listen=127.0.0.1:0",
                                     "--port_file=" + port_file,
                                     "--metrics_listen=127.0.0.1:0",
                                     "--metrics_port_file=" + metrics_port_file,
                                     "--log_level=warn"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    for (int i = 0; i < 300 && pid_ > 0 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (!(in >> port_)) port_ = 0;
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;  // exited early
    }
    // The server writes the metrics port before the gRPC one.
    std::ifstream metrics_in(metrics_port_file);
    if (!(metrics_in >> metrics_port_)) metrics_port_ = 0;
  }

  ~ServerProcess() { Stop(); }

  // Sends SIGTERM and returns the exit status (0 after a graceful shutdown).
  int Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    // Also when the server exited early (a test that expects it to refuse its flags).
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
    dir_.clear();
    return exit_status_;
  }

  bool running() const { return pid_ > 0 && port_ > 0; }
  pid_t pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // The Prometheus listener's port; 0 when metrics are disabled.
  int metrics_port() const { return metrics_port_; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
  int exit_status_ = -1;
};

}  // namespace tensord::testing
