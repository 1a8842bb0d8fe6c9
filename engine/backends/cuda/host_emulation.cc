#include "engine/backends/cuda/host_emulation.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "engine/common/status.h"

#ifndef TENSORD_HOST_CXX
#error "TENSORD_HOST_CXX names the compiler the emulated kernels are built with"
#endif

namespace tensord::cuda {
namespace {

// CUDA's names in host C++. A launch runs its blocks one after another. Without
// __syncthreads, each of a block's threads runs to its end in turn; with it, the block's
// threads are coroutines (ucontext) that a scheduler resumes in turn, each running up to its
// next __syncthreads or its end: a round of them is the barrier. A __shared__ array (a
// function's static) therefore belongs to the running block. One launch at a time
// (HostEmulation::LaunchHandle serializes them): the launch state is the library's statics.
constexpr char kPrelude[] = R"(
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
struct emu_dim3 { unsigned x = 0, y = 0, z = 0; };
static emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
static ucontext_t emu_scheduler;
static ucontext_t emu_threads[1024];
static bool emu_finished[1024];
static void (*emu_kernel)(void**);
static void** emu_args;
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__ __restrict
static inline void __syncthreads() { swapcontext(&emu_threads[threadIdx.x], &emu_scheduler); }
// A block's threads take turns (they switch only at __syncthreads), so atomics are plain.
static inline unsigned long long atomicCAS(unsigned long long* a, unsigned long long expected,
                                           unsigned long long desired) {
  const unsigned long long old = *a;
  if (old == expected) *a = desired;
  return old;
}
static inline unsigned int atomicCAS(unsigned int* a, unsigned int expected,
                                     unsigned int desired) {
  const unsigned int old = *a;
  if (old == expected) *a = desired;
  return old;
}
static inline unsigned long long atomicMin(unsigned long long* a, unsigned long long v) {
  const unsigned long long old = *a;
  if (v < old) *a = v;
  return old;
}
template <class T> static inline T atomicAdd(T* a, T v) {
  const T old = *a;
  *a = old + v;
  return old;
}
static inline double __longlong_as_double(long long v) {
  double d;
  memcpy(&d, &v, sizeof d);
  return d;
}
static inline float __int_as_float(int v) {
  float f;
  memcpy(&f, &v, sizeof f);
  return f;
}
static void emu_thread_main(unsigned t) {
  emu_kernel(emu_args);
  emu_finished[t] = true;  // then back to the scheduler (uc_link)
}
// 0 when the grid ran; ENOMEM when the threads' stacks could not be had (nothing ran).
extern "C" int emu_launch(void (*kernel)(void**), void** args, unsigned blocks, unsigned threads,
                          int cooperative) {
  gridDim = {blocks, 1, 1};
  blockDim = {threads, 1, 1};
  if (!cooperative) {
    for (unsigned b = 0; b < blocks; ++b) {
      blockIdx = {b, 0, 0};
      for (unsigned t = 0; t < threads; ++t) {
        threadIdx = {t, 0, 0};
        kernel(args);
      }
    }
    return 0;
  }
  const size_t stack = 64 * 1024;
  static char* stacks;
  static unsigned stacks_for;
  if (stacks_for < threads) {
    free(stacks);
    stacks = static_cast<char*>(malloc(threads * stack));
    stacks_for = stacks != nullptr ? threads : 0;
    if (stacks == nullptr) return ENOMEM;
  }
  emu_kernel = kernel;
  emu_args = args;
  for (unsigned b = 0; b < blocks; ++b) {
    blockIdx = {b, 0, 0};
    for (unsigned t = 0; t < threads; ++t) {
      getcontext(&emu_threads[t]);
      emu_threads[t].uc_stack.ss_sp = stacks + t * stack;
      emu_threads[t].uc_stack.ss_size = stack;
      emu_threads[t].uc_link = &emu_scheduler;
      makecontext(&emu_threads[t], reinterpret_cast<void (*)()>(emu_thread_main), 1, t);
      emu_finished[t] = false;
    }
    for (unsigned running = threads; running > 0;) {
      for (unsigned t = 0; t < threads; ++t) {
        if (emu_finished[t]) continue;
        threadIdx = {t, 0, 0};
        swapcontext(&emu_scheduler, &emu_threads[t]);
        if (emu_finished[t]) --running;
      }
    }
  }
  return 0;
}
)";

// Calls a kernel with its parameters read from CUDA's argument array, whatever its signature.
constexpr char kWrapperTemplate[] = R"(
#include <type_traits>
#include <utility>
template <class... P, std::size_t... I>
void emu_call(void (*kernel)(P...), void** a, std::index_sequence<I...>) {
  kernel(*static_cast<std::remove_cv_t<std::remove_reference_t<P>>*>(a[I])...);
}
template <class... P> void emu_call(void (*kernel)(P...), void** a) {
  emu_call(kernel, a, std::index_sequence_for<P...>{});
}
)";

// `extern "C" void emu_<name>(void** a)`: calls kernel `name` with its arguments from a.
std::string Wrapper(const std::string& name) {
  return absl::StrCat("extern \"C\" void emu_", name, "(void** a) { emu_call(&", name, ", a); }\n");
}

// The compiler: TENSORD_EMULATION_CXX where set, else the one that built tensord.
std::string Compiler() {
  const char* chosen = std::getenv("TENSORD_EMULATION_CXX");
  return chosen != nullptr && *chosen != '\0' ? chosen : TENSORD_HOST_CXX;
}

using KernelFn = void (*)(void**);
using LaunchFn = int (*)(KernelFn, void**, unsigned, unsigned, int);

}  // namespace

absl::StatusOr<std::unique_ptr<HostEmulation>> HostEmulation::Compile(
    const std::vector<EmulatedSource>& sources) {
  char pattern[] = "/tmp/tensord-emulation-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return absl::InternalError("mkdtemp failed");
  std::unique_ptr<HostEmulation> emulation(new HostEmulation());
  emulation->directory_ = pattern;
  const std::string source_path = emulation->directory_ + "/kernels.cc";
  const std::string library_path = emulation->directory_ + "/kernels.so";
  {
    std::ofstream file(source_path);
    file << kPrelude << kWrapperTemplate;
    for (size_t s = 0; s < sources.size(); ++s) {
      file << "namespace emu_source_" << s << " {\n" << sources[s].source << "\n";
      const bool cooperative = sources[s].source.find("__syncthreads") != std::string::npos;
      for (const std::string& kernel : sources[s].kernels) {
        file << Wrapper(kernel);
        if (cooperative) emulation->cooperative_.insert(kernel);
      }
      file << "}\n";
    }
  }
  // -ffp-contract=off: products are not fused into multiply-adds, as NVRTC is told.
  const std::string command =
      absl::StrCat(Compiler(), " -std=c++20 -O0 -ffp-contract=off -fPIC -shared ", source_path,
                   " -o ", library_path, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("could not run the host compiler");
  std::string log;
  char chunk[4096];
  while (size_t got = fread(chunk, 1, sizeof chunk, pipe)) log.append(chunk, got);
  if (pclose(pipe) != 0) {
    emulation->directory_.clear();  // kept, so that the message's file can be read
    return absl::InvalidArgumentError(absl::StrCat("the host compiler refused the kernels (",
                                                   source_path, "):\n", log.substr(0, 4000)));
  }
  emulation->library_ = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (emulation->library_ == nullptr) return absl::InternalError(dlerror());
  // Loaded: the files can go (the library stays mapped).
  std::error_code ignored;
  std::filesystem::remove_all(emulation->directory_, ignored);
  emulation->directory_.clear();
  return emulation;
}

HostEmulation::~HostEmulation() {
  if (library_ != nullptr) dlclose(library_);
  std::error_code ignored;
  if (!directory_.empty()) std::filesystem::remove_all(directory_, ignored);
}

struct HostEmulation::Entry {
  KernelFn kernel;
  LaunchFn launch;
  bool cooperative;  // its source calls __syncthreads
};

absl::StatusOr<KernelHandle> HostEmulation::Handle(const std::string& name) {
  if (auto it = entries_.find(name); it != entries_.end()) return it->second.get();
  auto kernel = reinterpret_cast<KernelFn>(dlsym(library_, ("emu_" + name).c_str()));
  auto launch = reinterpret_cast<LaunchFn>(dlsym(library_, "emu_launch"));
  if (kernel == nullptr || launch == nullptr) {
    return absl::NotFoundError(absl::StrCat("no emulated kernel '", name, "'"));
  }
  auto& entry = entries_[name];
  entry = std::make_unique<Entry>(Entry{kernel, launch, cooperative_.contains(name)});
  return entry.get();
}

absl::Status HostEmulation::LaunchHandle(KernelHandle kernel, int64_t blocks, int threads,
                                         void** args) {
  if (blocks < 0 || blocks > (int64_t{1} << 31) - 1 || threads <= 0 || threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("a launch of ", blocks, " x ", threads, " threads is not one CUDA takes"));
  }
  const Entry* entry = static_cast<const Entry*>(kernel);
  if (blocks == 0) return absl::OkStatus();
  static std::mutex mu;  // a library's launch state is its own statics
  std::lock_guard<std::mutex> lock(mu);
  const int error = entry->launch(entry->kernel, args, static_cast<unsigned>(blocks),
                                  static_cast<unsigned>(threads), entry->cooperative);
  if (error != 0) {
    return absl::ResourceExhaustedError(absl::StrCat("the CUDA emulator could not make a block's ",
                                                     threads, " threads: ", strerror(error)));
  }
  return absl::OkStatus();
}

absl::Status HostEmulation::Launch(const std::string& name, int64_t blocks, int threads,
                                   void** args) {
  TENSORD_ASSIGN_OR_RETURN(KernelHandle kernel, Handle(name));
  return LaunchHandle(kernel, blocks, threads, args);
}

}  // namespace tensord::cuda
