#include "engine/backends/cpu/conv_onednn.h"

#include <omp.h>

#include <array>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <unordered_map>

#include "engine/backends/cpu/relu_in_place.h"
#include "engine/ops/scalar/arithmetic.h"
#include "engine/runtime/memory_stats.h"
#include "engine/runtime/parallel.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// Geometries one kernel keeps; a node fed ever-new shapes starts over past this.
constexpr size_t kMaxCachedGeometries = 16;

const dnnl::engine& CpuEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

memory::dims Dims(std::initializer_list<int64_t> front, const std::vector<int64_t>& spatial) {
  memory::dims d(front);
  d.insert(d.end(), spatial.begin(), spatial.end());
  return d;
}

memory::desc Plain(const memory::dims& dims, Tag tag) {
  return memory::desc(dims, memory::data_type::f32, tag);
}

// Our layouts as oneDNN descriptors: (N, C, *spatial) and (OC, C/G, *taps), grouped filters as
// (G, OC/G, C/G, *taps), which is the same memory.
memory::desc ActivationDesc(const std::vector<int64_t>& front, const std::vector<int64_t>& sp) {
  static constexpr Tag kTags[] = {Tag::ncw, Tag::nchw, Tag::ncdhw};
  return Plain(Dims({front[0], front[1]}, sp), kTags[sp.size() - 1]);
}

memory::desc FilterDesc(const ops::ConvGeometry& g) {
  const int nd = static_cast<int>(g.kernel.size());
  if (g.groups == 1) {
    static constexpr Tag kTags[] = {Tag::oiw, Tag::oihw, Tag::oidhw};
    return Plain(Dims({g.out_channels, g.channels}, g.kernel), kTags[nd - 1]);
  }
  static constexpr Tag kTags[] = {Tag::goiw, Tag::goihw, Tag::goidhw};
  return Plain(Dims({g.groups, g.out_channels / g.groups, g.channels / g.groups}, g.kernel),
               kTags[nd - 1]);
}

memory::desc Any(const memory::desc& plain) {
  return memory::desc(plain.dims(), memory::data_type::f32, Tag::any);
}

// Multiply-adds below which a convolution runs on one thread: waking the OpenMP team and
// meeting at its barriers costs more than it saves (a 2x4x8x8 backward-weights took 2-6 ms on
// two threads, 0.1 ms on one).
constexpr int64_t kParallelMultiplyAdds = int64_t{1} << 22;

int Threads(const ops::ConvGeometry& g) {
  double work = static_cast<double>(g.batch) * g.out_channels * (g.channels / g.groups);
  for (size_t d = 0; d < g.kernel.size(); ++d) work *= static_cast<double>(g.kernel[d]) * g.out[d];
  return work < kParallelMultiplyAdds ? 1 : runtime::IntraOpThreads();
}

// The geometry and the team size, which primitives are planned for.
std::vector<int64_t> Key(const ops::ConvGeometry& g, int threads) {
  std::vector<int64_t> k{threads, g.batch, g.channels, g.out_channels, g.groups};
  for (const auto* v : {&g.in, &g.kernel, &g.stride, &g.pad, &g.dilation})
    k.insert(k.end(), v->begin(), v->end());
  return k;
}

// Blocked copies of the operands and result and the primitive's scratchpad: buffers of one
// call, taken from the host allocator's cache, so a steady run neither allocates from the system
// nor faults in fresh pages (a fresh 23 MB buffer costs more to touch than its reorder), and
// nothing stays behind once the call returns (kept per thread, they held each gRPC thread's
// largest convolution's copies for good). They are host memory ("cpu"), never counted against
// a device context's limit.
constexpr int kScratchSlots = 4;

// `out` (N, C, *spatial, plain) = max(`blocked`, 0) exactly as the maximum op computes it (NaN
// kept), from a result in a layout that blocks only the channels (oneDNN's aBcd8b and the
// like, spatial dims dense within a block of channels): the copy oneDNN's reorder would make,
// with relu applied on the way. False (and nothing written) for any other layout.
bool UnblockWithRelu(const memory::desc& md, const float* blocked, float* out) {
  const dnnl_memory_desc_t& d = md.data;
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  if (d.format_kind != dnnl_blocked || b.inner_nblks != 1 || b.inner_idxs[0] != 1 ||
      d.offset0 != 0) {
    return false;
  }
  const int64_t block = b.inner_blks[0], batch = d.dims[0], channels = d.dims[1];
  int64_t plane = 1;
  for (int k = d.ndims - 1; k >= 2; --k) {  // spatial dims dense, innermost last
    if (b.strides[k] != block * plane) return false;
    plane *= d.dims[k];
  }
  const int64_t blocks = (channels + block - 1) / block;
  runtime::ParallelFor(batch * blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t nb = first; nb < last; ++nb) {
      const int64_t n = nb / blocks, cb = nb % blocks;
      const float* src = blocked + n * b.strides[0] + cb * b.strides[1];
      for (int64_t k = 0; k < block && cb * block + k < channels; ++k) {
        float* dst = out + (n * channels + cb * block + k) * plane;
        for (int64_t s = 0; s < plane; ++s)
          dst[s] = scalar::Maximum::Apply(src[s * block + k], 0.f);
      }
    }
  });
  return true;
}

}  // namespace

// One operand or result of the primitive: its argument id, our plain layout, the layout the
// primitive chose, and the reorder between them when they differ.
struct OneDnnConv::Prepared {
  struct Arg {
    int id;
    memory::desc user, chosen;
    std::optional<dnnl::reorder> reorder;  // user -> chosen for inputs, chosen -> user for out
  };
  dnnl::primitive primitive;
  memory::desc scratchpad;
  Arg in[2], out;
};

OneDnnConv::~OneDnnConv() = default;

absl::StatusOr<std::shared_ptr<const OneDnnConv::Prepared>> OneDnnConv::Find(
    const ops::ConvGeometry& g) {
  std::vector<int64_t> key = Key(g, omp_get_max_threads());
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;

  const memory::desc src = ActivationDesc({g.batch, g.channels}, g.in);
  const memory::desc dst = ActivationDesc({g.batch, g.out_channels}, g.out);
  const memory::desc filters = FilterDesc(g);
  memory::dims dilates, pads(g.pad.begin(), g.pad.end());
  for (int64_t d : g.dilation) dilates.push_back(d - 1);  // oneDNN counts the gaps
  const memory::dims strides(g.stride.begin(), g.stride.end());
  const auto algo = dnnl::algorithm::convolution_direct;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // per-call scratch: thread-safe
  const dnnl::engine& engine = CpuEngine();

  // The forward primitive is the backward ones' hint, as oneDNN requires.
  const memory::desc bias = Plain({g.out_channels}, Tag::x);
  const dnnl::convolution_forward::primitive_desc forward(
      bias_ ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, Any(src),
                                              Any(filters), bias, Any(dst), strides, dilates, pads,
                                              pads)
            : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, Any(src),
                                              Any(filters), Any(dst), strides, dilates, pads, pads),
      attr, engine);
  auto prepared = std::make_shared<Prepared>();
  auto arg = [](int id, const memory::desc& user, const memory::desc& chosen, bool input) {
    Prepared::Arg a{id, user, chosen, std::nullopt};
    if (user != chosen) {
      const memory::desc& from = input ? user : chosen;
      const memory::desc& to = input ? chosen : user;
      a.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(CpuEngine(), from, CpuEngine(), to));
    }
    return a;
  };
  switch (kind_) {
    case Kind::kForward:
      prepared->primitive = dnnl::convolution_forward(forward);
      prepared->scratchpad = forward.scratchpad_desc();
      prepared->in[0] = arg(DNNL_ARG_SRC, src, forward.src_desc(), true);
      prepared->in[1] = arg(DNNL_ARG_WEIGHTS, filters, forward.weights_desc(), true);
      prepared->out = arg(DNNL_ARG_DST, dst, forward.dst_desc(), false);
      break;
    case Kind::kBackwardData: {
      const dnnl::convolution_backward_data::primitive_desc pd(
          {algo, Any(src), Any(filters), Any(dst), strides, dilates, pads, pads}, attr, engine,
          forward);
      prepared->primitive = dnnl::convolution_backward_data(pd);
      prepared->scratchpad = pd.scratchpad_desc();
      prepared->in[0] = arg(DNNL_ARG_WEIGHTS, filters, pd.weights_desc(), true);
      prepared->in[1] = arg(DNNL_ARG_DIFF_DST, dst, pd.diff_dst_desc(), true);
      prepared->out = arg(DNNL_ARG_DIFF_SRC, src, pd.diff_src_desc(), false);
      break;
    }
    case Kind::kBackwardWeights: {
      const dnnl::convolution_backward_weights::primitive_desc pd(
          {algo, Any(src), Any(filters), Any(dst), strides, dilates, pads, pads}, attr, engine,
          forward);
      prepared->primitive = dnnl::convolution_backward_weights(pd);
      prepared->scratchpad = pd.scratchpad_desc();
      prepared->in[0] = arg(DNNL_ARG_SRC, src, pd.src_desc(), true);
      prepared->in[1] = arg(DNNL_ARG_DIFF_DST, dst, pd.diff_dst_desc(), true);
      prepared->out = arg(DNNL_ARG_DIFF_WEIGHTS, filters, pd.diff_weights_desc(), false);
      break;
    }
  }
  if (cache_.size() >= kMaxCachedGeometries) cache_.clear();
  cache_.emplace(std::move(key), prepared);
  return prepared;
}

absl::Status OneDnnConv::Run(const ops::ConvGeometry& g, const float* a, const float* b, float* out,
                             const float* bias) {
  // oneDNN runs on this thread's OpenMP team, bounded as every other kernel is; its primitives
  // plan for the team size they are created with, so this comes first.
  omp_set_num_threads(Threads(g));
  try {
    TENSORD_ASSIGN_OR_RETURN(std::shared_ptr<const Prepared> p, Find(g));
    const dnnl::engine& engine = CpuEngine();
    dnnl::stream stream(engine);
    std::array<runtime::Tensor, kScratchSlots> scratch;  // alive until the call returns
    int used = 0;
    auto blocked = [&](const memory::desc& md) -> absl::StatusOr<memory> {
      runtime::Tensor& t = scratch[used++];
      const auto bytes = static_cast<int64_t>(std::max<size_t>(md.get_size(), 1));
      runtime::ScopedMemoryContext host(runtime::MemoryCounterFor("cpu"));
      TENSORD_RETURN_IF_ERROR(t.Reshape(DType::kUInt8, {bytes}));
      return memory(md, engine, t.raw());
    };
    std::unordered_map<int, memory> args;
    const float* inputs[2] = {a, b};
    for (int i = 0; i < 2; ++i) {
      const Prepared::Arg& arg = p->in[i];
      memory user(arg.user, engine, const_cast<float*>(inputs[i]));
      if (!arg.reorder) {
        args.emplace(arg.id, user);
        continue;
      }
      TENSORD_ASSIGN_OR_RETURN(memory chosen, blocked(arg.chosen));
      arg.reorder->execute(stream, user, chosen);
      args.emplace(arg.id, chosen);
    }
    if (bias_) {
      args.emplace(DNNL_ARG_BIAS,
                   memory(Plain({g.out_channels}, Tag::x), engine, const_cast<float*>(bias)));
    }
    memory user_out(p->out.user, engine, out);
    memory result = user_out;
    if (p->out.reorder) {
      TENSORD_ASSIGN_OR_RETURN(result, blocked(p->out.chosen));
    }
    args.emplace(p->out.id, result);
    TENSORD_ASSIGN_OR_RETURN(memory scratchpad, blocked(p->scratchpad));
    args.emplace(DNNL_ARG_SCRATCHPAD, scratchpad);
    p->primitive.execute(stream, args);
    stream.wait();
    const bool unblocked =
        relu_ && p->out.reorder &&
        UnblockWithRelu(p->out.chosen, static_cast<float*>(result.get_data_handle()), out);
    if (p->out.reorder && !unblocked) {
      p->out.reorder->execute(stream, result, user_out);
      stream.wait();
    }
    if (relu_ && !unblocked) {
      ReluInPlace(out, static_cast<int64_t>(p->out.user.get_size() / sizeof(float)));
    }
  } catch (const dnnl::error& e) {
    return Internal("oneDNN convolution failed: ", e.what());
  }
  return absl::OkStatus();
}

}  // namespace tensord::cpu
