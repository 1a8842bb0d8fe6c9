#include "engine/passes/pass_testing.h"

#include <gtest/gtest.h>

#include <cmath>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/backends/cpu/cast.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/frontend/verifier.h"
#include "engine/passes/dce.h"
#include "engine/passes/pipeline.h"

namespace tensord::passes::testing {

using runtime::Tensor;

Built Build(const std::vector<ir::Type>& types, const BuildFn& build,
            const std::vector<std::string>& names) {
  Built out;
  out.graph = std::make_unique<ir::Graph>();
  for (size_t i = 0; i < types.size(); ++i) {
    std::string name = i < names.size() ? names[i] : absl::StrCat("x", i);
    out.inputs.push_back(out.graph->AddInput(types[i], name));
  }
  out.graph->inputs() = out.inputs;
  ops::NodeBuilder b(*out.graph);
  out.graph->outputs() = build(b, out.inputs);
  EXPECT_TRUE(b.status().ok()) << b.status();
  return out;
}

absl::StatusOr<bool> Rewrite(ir::Graph& graph, const std::vector<Pass*>& passes) {
  TENSORD_RETURN_IF_ERROR(ir::Verify(graph));
  bool changed = false;
  for (Pass* pass : passes) {
    TENSORD_ASSIGN_OR_RETURN(bool c, pass->Run(graph));
    changed |= c;
    if (absl::Status s = ir::Verify(graph); !s.ok())
      return Internal("after pass '", pass->name(), "': ", s.message());
  }
  TENSORD_RETURN_IF_ERROR(MakeDcePass()->Run(graph).status());
  TENSORD_RETURN_IF_ERROR(ir::Verify(graph));
  return changed;
}

absl::StatusOr<std::vector<Tensor>> EvaluateUnoptimized(std::unique_ptr<ir::Graph> graph,
                                                        const std::vector<Tensor>& inputs) {
  compile::CompileOptions options;
  options.optimizer_excluding = Pipeline::AllPassNames();
  TENSORD_ASSIGN_OR_RETURN(auto prepared,
                           compile::PrepareFunction(std::move(graph), {}, {}, options));
  TENSORD_ASSIGN_OR_RETURN(auto exe, compile::BuildExecutable(std::move(prepared)));
  TENSORD_ASSIGN_OR_RETURN(auto result, exe->Run(inputs, {}));
  return std::move(result.outputs);
}

namespace {

std::string ConstantText(const ir::Variable* v) {
  const Tensor& t = v->constant;
  if (t.ndim() > 0 || t.raw() == nullptr) {
    return absl::StrCat("const", runtime::ShapeString(t.shape()));
  }
  Tensor d;
  if (!cpu::CastInto(t, DType::kFloat64, d).ok()) return "const";
  return absl::StrFormat("%g", *d.data<double>());
}

}  // namespace

std::string Expr(const ir::Variable* v) {
  if (v->owner == nullptr) {
    if (v->source == ir::Source::kConstant) return ConstantText(v);
    return v->name.empty() ? absl::StrCat("v", v->id) : v->name;
  }
  const ir::Apply& a = *v->owner;
  std::string s = a.op;
  if (a.op == "dimshuffle") {
    auto order = ir::GetIntsAttr(a, "new_order");
    std::vector<std::string> parts;
    if (order.ok())
      for (int64_t o : *order) parts.push_back(o < 0 ? "x" : absl::StrCat(o));
    s += "{" + absl::StrJoin(parts, ",") + "}";
  } else if (a.op == "cast") {
    auto to = ir::GetAttr<DType>(a, "dtype");
    if (to.ok()) s += absl::StrCat("{", DTypeName(*to), "}");
  }
  std::vector<std::string> args;
  for (const ir::Variable* in : a.inputs) args.push_back(Expr(in));
  s += "(" + absl::StrJoin(args, ", ") + ")";
  if (a.outputs.size() > 1) s += absl::StrCat(".", v->output_index);
  return s;
}

std::string Exprs(const ir::Graph& graph) {
  std::vector<std::string> parts;
  for (const ir::Variable* o : graph.outputs()) parts.push_back(Expr(o));
  return absl::StrJoin(parts, "; ");
}

Outcome ExpectRewriteKeepsValues(const std::vector<Pass*>& passes,
                                 const std::vector<Tensor>& inputs, const BuildFn& build,
                                 double rtol, std::vector<ir::Type> types) {
  if (types.empty())
    for (const Tensor& t : inputs) types.push_back(ir::Type::Of(t.dtype(), t.ndim()));
  Built before = Build(types, build);
  Built after = Build(types, build);
  Outcome out;
  auto changed = Rewrite(*after.graph, passes);
  EXPECT_TRUE(changed.ok()) << changed.status();
  if (!changed.ok()) return out;
  out.changed = *changed;
  out.expr = Exprs(*after.graph);
  auto want = EvaluateUnoptimized(std::move(before.graph), inputs);
  auto got = EvaluateUnoptimized(std::move(after.graph), inputs);
  EXPECT_TRUE(want.ok()) << want.status();
  EXPECT_TRUE(got.ok()) << got.status() << " for " << out.expr;
  if (!want.ok() || !got.ok()) return out;
  EXPECT_EQ(want->size(), got->size());
  for (size_t i = 0; i < want->size() && i < got->size(); ++i) {
    const Tensor& w = (*want)[i];
    const Tensor& g = (*got)[i];
    EXPECT_EQ(DTypeName(w.dtype()), DTypeName(g.dtype())) << "output " << i << ": " << out.expr;
    EXPECT_EQ(w.shape(), g.shape()) << "output " << i << ": " << out.expr;
    if (w.shape() != g.shape()) continue;
    Tensor wd, gd;
    if (!cpu::CastInto(w, DType::kFloat64, wd).ok() ||
        !cpu::CastInto(g, DType::kFloat64, gd).ok()) {
      ADD_FAILURE() << "output " << i << " cannot be compared";
      continue;
    }
    for (int64_t k = 0; k < wd.num_elements(); ++k) {
      double x = wd.data<double>()[k], y = gd.data<double>()[k];
      if (x == y || (std::isnan(x) && std::isnan(y))) continue;
      EXPECT_LE(std::fabs(x - y), rtol * std::max(std::fabs(x), 1e-30) + 1e-300)
          << "output " << i << " element " << k << ": " << x << " before, " << y << " after "
          << out.expr;
    }
  }
  return out;
}

Tensor MakeTensor(DType dtype, runtime::Shape shape, const std::vector<double>& values) {
  Tensor t(dtype, shape);
  const int64_t n = t.num_elements();
  absl::Status st = DispatchAll(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < n; ++i) t.data<T>()[i] = static_cast<T>(values[i % values.size()]);
    return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  return t;
}

// `rtol`: float32 anywhere in the graph limits every float result to float32's precision.
void ExpectSameValues(const runtime::Tensor& want, const runtime::Tensor& got, double rtol,
                      const std::string& what) {
  ASSERT_EQ(DTypeName(want.dtype()), DTypeName(got.dtype())) << what;
  ASSERT_EQ(want.shape(), got.shape()) << what;
  runtime::Tensor w, g;
  ASSERT_TRUE(cpu::CastInto(want, DType::kFloat64, w).ok());
  ASSERT_TRUE(cpu::CastInto(got, DType::kFloat64, g).ok());
  double scale = 0;
  for (int64_t i = 0; i < w.num_elements(); ++i)
    if (std::isfinite(w.data<double>()[i])) scale = std::max(scale, std::fabs(w.data<double>()[i]));
  for (int64_t i = 0; i < w.num_elements(); ++i) {
    double a = w.data<double>()[i], c = g.data<double>()[i];
    if (a == c || (std::isnan(a) && std::isnan(c))) continue;
    if (!IsFloat(want.dtype())) {
      ADD_FAILURE() << what << ": element " << i << " is " << c << ", want " << a;
      return;
    }
    // The absolute slack admits log1p(tiny) where the naive log(1 + tiny) rounds to 0.
    EXPECT_LE(std::fabs(a - c), rtol * (std::fabs(a) + scale) + 1e-12)
        << what << ": element " << i << " is " << c << ", want " << a;
  }
}

}  // namespace tensord::passes::testing
