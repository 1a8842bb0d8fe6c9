// A fixed set of threads for the RPCs that compute (Run, Compile, Differentiate). gRPC's
// callback handlers run on a few shared threads; a handler that computes for seconds (a long
// scan) would hold one, and a handful of such runs would leave none for anything else, health
// checks included. Those handlers post their work here and finish their reactor from here.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tensord::server {

class WorkPool {
 public:
  explicit WorkPool(int threads);
  // Runs every task already posted, then joins the threads.
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void Post(std::function<void()> task);
  int threads() const { return static_cast<int>(threads_.size()); }
  // Tasks posted and not yet started (a gauge for operators).
  int queued() const;

 private:
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tensord::server
