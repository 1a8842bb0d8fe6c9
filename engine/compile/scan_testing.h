// Test support for scan: tensors from literals, scan layouts and nodes (scan_test.cc,
// scan_grad_test.cc, scan_review_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "engine/backends/cpu/broadcast.h"
#include "engine/compile/testing_util.h"
#include "engine/ops/defs/scan_layout.h"

namespace tensord::compile::testing {

using ir::Type;
using ir::Variable;
using runtime::Tensor;

inline Tensor F64(runtime::Shape shape, std::vector<double> v) {
  Tensor t(DType::kFloat64, std::move(shape));
  for (size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
  return t;
}

inline Tensor I64(int64_t v) {
  Tensor t(DType::kInt64, {});
  *t.data<int64_t>() = v;
  return t;
}

inline std::vector<double> Values(const Tensor& t) {
  Tensor c(t.dtype(), t.shape());
  cpu::StridedCopyAny(t, t.strides(), c);
  return std::vector<double>(c.data<double>(), c.data<double>() + c.num_elements());
}

inline ops::ScanLayout Layout(int n_seqs, std::vector<std::vector<int64_t>> taps, int n_nit = 0,
                              int n_shared = 0) {
  ops::ScanLayout l;
  l.n_seqs = n_seqs;
  l.taps = std::move(taps);
  l.n_mit = static_cast<int>(l.taps.size());
  l.n_nit = n_nit;
  l.n_shared = n_shared;
  return l;
}

// A scan node over `inputs` (n_steps first) with `body`; its outputs.
inline std::vector<Variable*> Scan(ir::Graph& g, const ops::ScanLayout& l,
                                   std::vector<Variable*> inputs, std::unique_ptr<ir::Graph> body,
                                   absl::Status* error = nullptr) {
  ops::NodeBuilder b(g);
  auto outs = b.ApplyMulti("scan", std::move(inputs), ops::ScanAttrs(l),
                           {std::shared_ptr<const ir::Graph>(std::move(body))});
  if (error != nullptr) {
    *error = b.status();
  } else {
    EXPECT_TRUE(b.status().ok()) << b.status();
  }
  return outs;
}

// body(x_t, h_prev) = h_prev + x_t: a cumulative sum.
inline std::unique_ptr<ir::Graph> SumBody(DType dtype = DType::kFloat64) {
  auto body = std::make_unique<ir::Graph>();
  auto* x = body->AddInput(Type::Of(dtype, 0), "x_t");
  auto* h = body->AddInput(Type::Of(dtype, 0), "h_prev");
  body->inputs() = {x, h};
  body->outputs() = {Node(*body, "add", {h, x})};
  return body;
}

}  // namespace tensord::compile::testing
