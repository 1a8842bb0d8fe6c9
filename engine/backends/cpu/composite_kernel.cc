#include "engine/backends/cpu/composite_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/fold_row.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using ops::composite::Instr;
using ops::composite::kConst;
using ops::composite::Program;
using runtime::Tensor;

constexpr int64_t kChunk = ops::kCompositeChunk;
// Elements per intra-op range: enough work to pay for waking a thread even when the program is
// all cheap arithmetic.
constexpr int64_t kParallelGrain = 32 * kChunk;

template <class T>
ops::ChunkLoop<T> ChunkOf(const ops::ScalarForm& form) {
  if constexpr (std::is_same_v<T, float>) {
    return form.chunk_f32;
  } else {
    return form.chunk_f64;
  }
}
template <class T>
ops::ChunkScalarLoop<T> ChunkScalarOf(const ops::ScalarForm& form) {
  if constexpr (std::is_same_v<T, float>) {
    return form.chunk_scalar_f32;
  } else {
    return form.chunk_scalar_f64;
  }
}

class CompositeKernel final : public CompositeEpilogue {
 public:
  explicit CompositeKernel(Program p)
      : p_(std::move(p)),
        reduce_(p_.reduce == "sum"    ? Reduce::kSum
                : p_.reduce == "mean" ? Reduce::kMean
                : p_.reduce == "max"  ? Reduce::kMax
                : p_.reduce == "min"  ? Reduce::kMin
                                      : Reduce::kNone) {
    // Each instruction's scalar form, looked up once (ParseProgram checked the opcodes).
    for (const Instr& ins : p_.code) {
      forms_.push_back(ins.op == kConst ? nullptr
                                        : &*ops::Registry::Global().FindByOpcode(ins.op)->scalar);
    }
    PlanScratch();
  }

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    if (static_cast<int>(in.size()) != p_.num_inputs) {
      return Internal("composite expects ", p_.num_inputs, " inputs, got ", in.size());
    }
    if (p_.dtype == DType::kFloat32) return RunTyped<float>(in, *out[0], false);
    return RunTyped<double>(in, *out[0], false);
  }

  absl::Status RunInPlace(std::span<const Tensor* const> in, Tensor& out) override {
    if (!p_.reduce.empty()) return Internal("a composite that reduces is no epilogue");
    if (static_cast<int>(in.size()) != p_.num_inputs) {
      return Internal("composite epilogue expects ", p_.num_inputs, " inputs, got ", in.size());
    }
    if (p_.dtype == DType::kFloat32) return RunTyped<float>(in, out, true);
    return RunTyped<double>(in, out, true);
  }

 private:
  // Gives every instruction's result a scratch slot other than its arguments' (so Eval may
  // assume no overlap), reusing the slots of registers no later instruction reads. The last
  // instruction writes the output row itself, or slot `out_slot_` when the output is also an
  // input. Constants get their own slots, filled once per run.
  void PlanScratch() {
    const int n = p_.num_inputs;
    const int count = static_cast<int>(p_.code.size());
    std::vector<int> last_use(n + count, -1);
    for (int j = 0; j < count; ++j) {
      if (p_.code[j].op == kConst) continue;
      for (int32_t a : p_.code[j].args)
        if (a >= 0) last_use[a] = j;
    }
    slot_.assign(count, -1);
    std::vector<int> free;
    auto take = [&] {
      if (free.empty()) return num_slots_++;
      const int s = free.back();
      free.pop_back();
      return s;
    };
    for (int j = 0; j + 1 < count; ++j) {
      const Instr& ins = p_.code[j];
      if (ins.op == kConst) {
        slot_[j] = num_slots_++;
        continue;
      }
      slot_[j] = take();
      for (int32_t a : ins.args) {
        if (a < n || last_use[a] != j || p_.code[a - n].op == kConst) continue;
        const int s = slot_[a - n];
        if (std::find(free.begin(), free.end(), s) == free.end()) free.push_back(s);
      }
      if (last_use[n + j] < 0) free.push_back(slot_[j]);  // never read: reusable at once
    }
    out_slot_ = num_slots_++;
  }

  enum class Reduce { kNone, kSum, kMean, kMax, kMin };  // a mean is a sum divided at the end

  // acc folded with a chunk of m results (in double: sums accumulate as sum's do, and max and
  // min are exact in it).
  template <typename T>
  double FoldChunk(double acc, const T* r, int64_t m) const {
    switch (reduce_) {
      case Reduce::kSum:
      case Reduce::kMean:
        return SumFold::Fold(acc, FoldRow<SumFold, double>(r, m));
      case Reduce::kMax:
        return MaxFold::Fold(acc, FoldRow<MaxFold, double>(r, m));
      case Reduce::kMin:
        return MinFold::Fold(acc, FoldRow<MinFold, double>(r, m));
      case Reduce::kNone:
        break;
    }
    return acc;
  }
  double ReduceInit() const {
    return reduce_ == Reduce::kMax   ? MaxFold::Init<double>()
           : reduce_ == Reduce::kMin ? MinFold::Init<double>()
                                     : 0.0;
  }
  double Combine(double a, double b) const {
    return reduce_ == Reduce::kMax   ? MaxFold::Fold(a, b)
           : reduce_ == Reduce::kMin ? MinFold::Fold(a, b)
                                     : a + b;
  }

  // `given_output`: y is one of the inputs, a block the caller owns (RunInPlace).
  template <typename T>
  absl::Status RunTyped(std::span<const Tensor* const> in, Tensor& y, bool given_output) {
    const int n = p_.num_inputs;
    std::vector<const Tensor*> ins(in.begin(), in.end());
    std::vector<const Shape*> shapes;
    for (const Tensor* t : ins) shapes.push_back(&t->shape());
    TENSORD_ASSIGN_OR_RETURN(Shape shape, BroadcastShapes(shapes));
    const DType dtype = p_.dtype;
    // The output may be one of the inputs' Tensor objects (a donated buffer). It is overwritten
    // in place only when it already is the output's exact contiguous layout and nobody else
    // holds its buffer; otherwise `keep` holds the input while the output gets a new buffer.
    // A reduction writes its one value after every read: it never needs the output in place.
    const bool reducing = reduce_ != Reduce::kNone;
    Tensor keep;
    bool in_place = false;
    if (std::find(ins.begin(), ins.end(), &y) != ins.end()) {
      const bool owned = given_output || (y.buffer() && y.buffer().use_count() == 1 &&
                                          y.raw() == y.buffer()->data());
      in_place =
          !reducing && owned && y.dtype() == dtype && y.shape() == shape && y.is_contiguous();
      if (!in_place) {
        keep = y;
        std::replace(ins.begin(), ins.end(), static_cast<const Tensor*>(&y),
                     static_cast<const Tensor*>(&keep));
      }
    }
    if (given_output && !in_place) {  // a new buffer would leave the product's block unwritten
      return InvalidArgument("dot_composite: its inputs broadcast the product's block (",
                             runtime::ShapeString(y.shape()), ") to ", runtime::ShapeString(shape));
    }
    for (int k = 0; k < n; ++k) {
      if (p_.input_read[k] && ins[k]->dtype() != dtype) {
        return Internal("composite input ", k, " has dtype ", DTypeName(ins[k]->dtype()),
                        ", expected ", DTypeName(dtype));
      }
    }
    if (reducing) {
      TENSORD_RETURN_IF_ERROR(y.Reshape(dtype, {}));
      if (runtime::NumElements(shape) == 0) {
        if (reduce_ == Reduce::kMax || reduce_ == Reduce::kMin) {
          return InvalidArgument(p_.reduce, " of an empty array (shape ",
                                 runtime::ShapeString(shape),
                                 ", reducing zero elements) has no identity");
        }
        // NumPy: the sum of nothing is 0, its mean 0 / 0.
        *y.data<T>() = reduce_ == Reduce::kMean ? std::numeric_limits<T>::quiet_NaN() : T(0);
        return absl::OkStatus();
      }
    } else if (!in_place) {
      TENSORD_RETURN_IF_ERROR(y.Reshape(dtype, shape));
    }
    if (runtime::NumElements(shape) == 0) return absl::OkStatus();

    // Operands are the inputs read for their values; merge dims every operand walks uniformly
    // (the output is contiguous), so contiguous data becomes one long row.
    std::vector<int> operand_input;
    std::vector<Strides> full;
    for (int k = 0; k < n; ++k) {
      if (!p_.input_read[k]) continue;
      operand_input.push_back(k);
      full.push_back(BroadcastStrides(*ins[k], shape));
    }
    const size_t num_ops = operand_input.size();
    MergedDims merged = MergeDims(shape, full);
    const Shape& rows = merged.shape;
    const std::vector<Strides>& strides = merged.strides;

    // Per thread: one gather chunk per operand, then the result slots, kept up to kKeptScratch
    // so steady-state runs do not allocate (a rare larger program gets its own for the run);
    // the registers; and which of them hold one value for the whole chunk (a broadcast
    // operand, a literal), which binary arithmetic then reads as a scalar.
    constexpr size_t kKeptScratch = size_t{1} << 20;
    const size_t need = (num_ops + num_slots_) * kChunk * sizeof(T);
    const int count = static_cast<int>(p_.code.size());
    // An input read for its shape only (a fill's model) is never gathered; its register points
    // at zeros, so that a chunk loop, which loads every argument, reads valid memory.
    static constexpr T kZeros[kChunk] = {};
    struct State {
      std::vector<std::byte> own;
      T* scratch = nullptr;
      std::vector<const T*> reg;
      // A broadcast operand's value is spread over its slot once per value, as far as the
      // chunk reaches: every row of a state is as long, so a value's first chunk is its longest.
      // (Spreading a whole chunk for a row of 10, a (256, 10) softmax's per-row operand, cost 4x
      // the composite's own work.)
      std::vector<const T*> spread;
      std::vector<char> uniform;
      std::vector<T> value;
      double acc = 0;  // a reduction's partial result over this state's rows
    };
    auto start_state = [&](State& st) {
      thread_local std::vector<std::byte> kept;
      std::vector<std::byte>& bytes = need <= kKeptScratch ? kept : st.own;
      if (bytes.size() < need) bytes.resize(need);
      st.scratch = reinterpret_cast<T*>(bytes.data());
      st.reg.assign(n + count, nullptr);
      st.spread.assign(num_ops, nullptr);
      st.uniform.assign(n + count, 0);
      st.value.assign(n + count, T(0));
      st.acc = ReduceInit();
      for (int k = 0; k < n; ++k)
        if (!p_.input_read[k]) st.reg[k] = kZeros;
      for (int j = 0; j < count; ++j) {
        if (p_.code[j].op != kConst) continue;
        const T c = static_cast<T>(p_.constants[p_.code[j].args[0]]);
        st.uniform[n + j] = 1;
        st.value[n + j] = c;
        // The last instruction writes the output itself; the others get a filled slot.
        if (j + 1 < count) std::fill_n(st.scratch + (num_ops + slot_[j]) * kChunk, kChunk, c);
      }
    };

    std::vector<const T*> base(num_ops);
    std::vector<int64_t> step(num_ops);
    for (size_t k = 0; k < num_ops; ++k) {
      base[k] = ins[operand_input[k]]->template data<T>();
      step[k] = strides[k].empty() ? 0 : strides[k].back();
    }
    T* dst = reducing ? nullptr : y.data<T>();
    // Each instruction runs its op's chunk loop (engine/ops/scalar_form.h): the op's own math.
    auto eval = [&](State& st, int j, T* r, int64_t m) {
      const Instr& ins = p_.code[j];
      const ops::ScalarForm& form = *forms_[j];
      const int32_t a = ins.args[0], b = ins.args[1];
      if (form.arity == 2 && st.uniform[a] != st.uniform[b]) {
        const bool first = st.uniform[a];
        ChunkScalarOf<T>(form)(st.reg[first ? b : a], st.value[first ? a : b], first, r, m);
        return;
      }
      auto arg = [&](int k) { return ins.args[k] < 0 ? nullptr : st.reg[ins.args[k]]; };
      ChunkOf<T>(form)(arg(0), arg(1), arg(2), r, m);
    };
    // One row of `len` elements: output from dst + o, operand k from base[k] + off[k].
    auto row = [&](State& st, int64_t len, int64_t o, const int64_t* off) {
      auto gather_slot = [&](size_t k) { return st.scratch + k * kChunk; };
      auto result_slot = [&](int s) { return st.scratch + (num_ops + s) * kChunk; };
      for (int64_t i0 = 0; i0 < len; i0 += kChunk) {
        const int64_t m = std::min(kChunk, len - i0);
        for (size_t k = 0; k < num_ops; ++k) {
          const T* src = base[k] + off[k] + i0 * step[k];
          T* g = gather_slot(k);
          if (step[k] == 1) {
            g = const_cast<T*>(src);  // read in place
          } else if (step[k] == 0) {
            if (st.spread[k] != src) std::fill_n(g, m, *src), st.spread[k] = src;
            st.uniform[operand_input[k]] = 1;
            st.value[operand_input[k]] = *src;
          } else {
            for (int64_t i = 0; i < m; ++i) g[i] = src[i * step[k]];
          }
          st.reg[operand_input[k]] = g;
        }
        for (int j = 0; j < count; ++j) {
          const Instr& ins = p_.code[j];
          const bool last = j == count - 1;
          T* r = !last                  ? result_slot(slot_[j])
                 : in_place || reducing ? result_slot(out_slot_)
                                        : dst + o + i0;
          if (ins.op != kConst) {
            eval(st, j, r, m);
          } else if (last) {
            std::fill_n(r, m, static_cast<T>(p_.constants[ins.args[0]]));
          }
          st.reg[n + j] = r;
        }
        if (in_place) std::copy_n(result_slot(out_slot_), m, dst + o + i0);
        if (reducing) st.acc = FoldChunk(st.acc, result_slot(out_slot_), m);
      }
    };
    if (rows.empty()) {  // one element
      State st;
      start_state(st);
      const std::vector<int64_t> off(num_ops, 0);
      row(st, 1, 0, off.data());
      if (reducing) *y.data<T>() = static_cast<T>(st.acc);  // a mean of one value is the value
      return absl::OkStatus();
    }
    // Big outputs are split along the outermost row dimension over the intra-op threads; each
    // range walks its part of the rows with a state of its own.
    // A reduction's ranges each fold a partial result, combined in range order: the same
    // split (thread count) gives the same bits.
    const int64_t grain = OuterIndicesPerRange(rows, kParallelGrain);
    std::vector<double> partial(reducing ? (rows[0] + grain - 1) / grain : 0, ReduceInit());
    runtime::ParallelFor(rows[0], grain, [&](int64_t begin, int64_t end) {
      State st;
      start_state(st);
      ForEachRowIn(rows, strides, begin, end,
                   [&](int64_t len, int64_t o, const int64_t* off) { row(st, len, o, off); });
      if (reducing) partial[begin / grain] = st.acc;
    });
    if (reducing) {
      double total = ReduceInit();
      for (double p : partial) total = Combine(total, p);
      if (reduce_ == Reduce::kMean) total /= static_cast<double>(runtime::NumElements(shape));
      *y.data<T>() = static_cast<T>(total);
    }
    return absl::OkStatus();
  }

  Program p_;
  Reduce reduce_;
  std::vector<const ops::ScalarForm*> forms_;  // per instruction; null for kConst
  std::vector<int> slot_;                      // per instruction: its scratch slot; -1 for the last
  int out_slot_ = 0;  // the last instruction's result when the output aliases an input
  int num_slots_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeCompositeKernel(Program program) {
  return std::unique_ptr<backends::Kernel>(new CompositeKernel(std::move(program)));
}

std::unique_ptr<CompositeEpilogue> MakeCompositeEpilogue(Program program) {
  return std::make_unique<CompositeKernel>(std::move(program));
}

}  // namespace tensord::cpu
