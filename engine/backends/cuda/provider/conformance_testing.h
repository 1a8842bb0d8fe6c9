// The op conformance suite of a device context: every fusable op the context's provider runs,
// in float32 and float64 (and with an int32 second operand, which the host casts and a CUDA
// kernel converts as it reads it), over broadcasting operands, computed there (inputs moved up,
// result moved down) and on the host, compared elementwise (comparisons' bools exactly).
// cuda_backend_tests runs it on cuda0 (the GPU bundle); engine_unit_tests runs it on a simulated
// device, which checks the suite itself.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/backends/cuda/provider/provider.h"
#include "engine/compile/testing_util.h"
#include "engine/context/context.h"

namespace tensord::cuda::testing {

// Tolerance of a device's result against the host's: the CUDA math library's functions and
// SLEEF's are each within a few ULP of the true value, not of each other.
struct Tolerance {
  double rtol, atol;
};
inline Tolerance ToleranceOf(DType dtype) {
  return dtype == DType::kFloat32 ? Tolerance{2e-5, 1e-6} : Tolerance{1e-12, 1e-14};
}

// Operand k of an op over a (7, 33) output: a matrix, a broadcast row, a broadcast column, each
// over its own range so that domains like log's and arcsin's are met by some of the values,
// and the first values of the first two special: signed zeros, halves (rounding), NaN and
// infinities (their propagation), zero and negative divisors (the second operand).
inline runtime::Tensor Operand(int k, DType dtype) {
  if (dtype == DType::kInt32) {  // -3 .. 3 over the operand's elements, zero included
    runtime::Tensor t(dtype, k == 1 ? runtime::Shape{33} : runtime::Shape{7, 33});
    for (int64_t i = 0; i < t.num_elements(); ++i) t.data<int32_t>()[i] = i % 7 - 3;
    return t;
  }
  const runtime::Shape shapes[] = {{7, 33}, {33}, {7, 1}};
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> specials[] = {
      {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, nan, inf, -inf, 1e-30, -1e-30},
      {0.0, -0.0, -2.0, nan, inf, -inf}};
  runtime::Tensor t(dtype, shapes[k]);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    double v = k == 0   ? -3.0 + 6.0 * i / (t.num_elements() - 1)  // [-3, 3]
               : k == 1 ? 0.1 + 0.8 * i / (t.num_elements() - 1)   // (0, 1)
                        : 1.0 + 2.0 * i / (t.num_elements() - 1);  // [1, 3]
    if (k < 2 && i < static_cast<int64_t>(specials[k].size())) v = specials[k][i];
    if (dtype == DType::kFloat32) {
      t.data<float>()[i] = static_cast<float>(v);
    } else {
      t.data<double>()[i] = v;
    }
  }
  return t;
}

// `op` applied to operands on `where` (a context name of `contexts`, "cpu" for the host), its
// result brought to the host; null (and no failure) when that context's provider does not run
// it there.
inline std::shared_ptr<compile::Executable> Apply(const context::ContextRegistry& contexts,
                                                  const std::string& where, const ops::OpDef& op,
                                                  DType dtype, DType second = DType::kInvalid) {
  auto g = std::make_unique<ir::Graph>();
  std::vector<ir::Variable*> in, placed;
  for (int k = 0; k < op.scalar->arity; ++k) {
    ir::Type type =
        ir::Type::Of(k == 1 && second != DType::kInvalid ? second : dtype, k == 1 ? 1 : 2);
    if (k == 2) type.broadcastable = {false, true};  // the column
    in.push_back(g->AddInput(type, "x"));
    placed.push_back(compile::testing::Node(*g, "transfer", {in.back()}, {{"target", where}}));
  }
  g->inputs() = in;
  ops::NodeBuilder b(*g);
  ir::Variable* out = b.Apply(op.name, placed);
  if (!b.status().ok()) return nullptr;  // no such typing (an integer-only op, say)
  const context::Context* ctx = *contexts.Find(where);
  if (ctx->kind == context::DeviceKind::kCuda && !Supports(*out->owner)) return nullptr;
  g->outputs() = {compile::testing::Node(*g, "transfer", {out}, {{"target", std::string("cpu")}})};
  compile::CompileOptions options;
  options.contexts = &contexts;
  options.context = *contexts.Find("cpu");
  options.optimizer_excluding = {"fusion"};  // each op alone: its own kernel
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, options);
  EXPECT_TRUE(prepared.ok()) << op.name << ": " << prepared.status();
  if (!prepared.ok()) return nullptr;
  auto exe = compile::BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << op.name << ": " << exe.status();
  return exe.ok() ? *exe : nullptr;
}

template <typename T>
int CountMismatchesOf(const runtime::Tensor& got, const runtime::Tensor& want, Tolerance tol,
                      std::string* first) {
  int bad = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double g = got.data<T>()[i], w = want.data<T>()[i];
    const bool same = (std::isnan(g) && std::isnan(w)) || g == w ||
                      std::abs(g - w) <= tol.atol + tol.rtol * std::abs(w);
    if (!same && bad++ == 0) {
      *first =
          "at " + std::to_string(i) + ": " + std::to_string(g) + " vs host " + std::to_string(w);
    }
  }
  return bad;
}

// CountMismatchesOf in `want`'s dtype: float32 and float64 within the dtype's tolerance, bool
// and int32 (a fill of an int32 value) exactly; -1 for another dtype.
inline int CountMismatches(const runtime::Tensor& got, const runtime::Tensor& want,
                           std::string* first) {
  switch (want.dtype()) {
    case DType::kFloat32:
      return CountMismatchesOf<float>(got, want, ToleranceOf(want.dtype()), first);
    case DType::kFloat64:
      return CountMismatchesOf<double>(got, want, ToleranceOf(want.dtype()), first);
    case DType::kBool:
      return CountMismatchesOf<bool>(got, want, Tolerance{0, 0}, first);
    case DType::kInt32:
      return CountMismatchesOf<int32_t>(got, want, Tolerance{0, 0}, first);
    default:
      *first = "an output of dtype " + std::string(DTypeName(want.dtype()));
      return -1;
  }
}

// Runs the suite on context `device` of `contexts`; returns how many ops ran there.
inline int CheckEveryFusableOp(const context::ContextRegistry& contexts,
                               const std::string& device) {
  int ran = 0;
  for (const ops::OpDef* op : ops::Registry::Global().All()) {
    if (!op->scalar || op->scalar->opcode < 0) continue;
    struct Case {
      DType dtype, second;
    };
    std::vector<Case> cases = {{DType::kFloat32, DType::kInvalid},
                               {DType::kFloat64, DType::kInvalid}};
    if (op->scalar->arity >= 2) cases.push_back({DType::kFloat32, DType::kInt32});
    for (const Case& c : cases) {
      const std::string what = std::string(op->name) + " in " + DTypeName(c.dtype) +
                               (c.second == DType::kInvalid ? "" : " with an int32 operand");
      auto there = Apply(contexts, device, *op, c.dtype, c.second);
      if (there == nullptr) continue;
      auto host = Apply(contexts, "cpu", *op, c.dtype, c.second);
      if (host == nullptr) continue;
      std::vector<runtime::Tensor> inputs;
      for (int k = 0; k < op->scalar->arity; ++k) {
        inputs.push_back(Operand(k, k == 1 && c.second != DType::kInvalid ? c.second : c.dtype));
      }
      auto got = there->Run(inputs, {});
      auto want = host->Run(inputs, {});
      EXPECT_TRUE(want.ok()) << what << ": " << want.status();
      EXPECT_TRUE(got.ok()) << what << " on " << device << ": " << got.status();
      if (!want.ok() || !got.ok()) continue;
      const runtime::Tensor& g = got->outputs[0];
      const runtime::Tensor& w = want->outputs[0];
      EXPECT_EQ(g.shape(), w.shape()) << what;
      EXPECT_EQ(g.dtype(), w.dtype()) << what;
      EXPECT_TRUE(g.host_accessible()) << what;
      if (g.shape() != w.shape() || g.dtype() != w.dtype() || !g.host_accessible()) continue;
      std::string first;
      const int bad = CountMismatches(g, w, &first);
      EXPECT_EQ(bad, 0) << what << " on " << device << ": " << bad << " of " << w.num_elements()
                        << " differ, first " << first;
      ++ran;
    }
  }
  return ran;
}

}  // namespace tensord::cuda::testing
