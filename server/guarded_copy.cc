#include "server/guarded_copy.h"

#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace tensord::server {
namespace {

// The copy running on this thread, if any. SIGBUS is delivered to the thread that faulted, so
// the handler reads the faulting thread's own guard. Volatile, and fenced around the copy: to
// the compiler nothing reads it between the stores around memcpy, which it would drop.
thread_local sigjmp_buf* volatile current_copy = nullptr;
struct sigaction previous_action;

void OnSigbus(int, siginfo_t*, void*) {
  // memcpy holds no lock and keeps no state, so jumping out of it is safe.
  if (current_copy != nullptr) siglongjmp(*current_copy, 1);
  // Not ours: put the previous handler back; the faulting access runs again and gets it.
  sigaction(SIGBUS, &previous_action, nullptr);
}

void InstallHandler() {
  struct sigaction action = {};
  action.sa_sigaction = OnSigbus;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, &previous_action);
}

}  // namespace

bool GuardedCopy(void* to, const void* from, size_t bytes) {
  static std::once_flag installed;
  std::call_once(installed, InstallHandler);
  sigjmp_buf jumped;
  // Saves the signal mask, so the jump back also unblocks SIGBUS (blocked in its handler).
  if (sigsetjmp(jumped, 1) != 0) {
    current_copy = nullptr;
    return false;
  }
  current_copy = &jumped;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(to, from, bytes);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  current_copy = nullptr;
  return true;
}

}  // namespace tensord::server
