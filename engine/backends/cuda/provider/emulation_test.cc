// The CUDA provider's generated kernels run on the CPU (host_emulation.h) against the host's
// kernels, with the launch parameters and layouts the provider computes for them: every fusable
// op's elementwise kernel in both dtypes, and the reductions (over every dim, and over some in
// both of the axes kernels, whatever their grid). This checks the kernels' indexing, folds and
// synchronization without a GPU; the CUDA math library's rounding is checked on one
// (cuda_backend_tests).
#include <gtest/gtest.h>

#include <random>

#include "absl/strings/str_join.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/host_emulation.h"
#include "engine/backends/cuda/provider/conformance_testing.h"
#include "engine/backends/cuda/provider/provider.h"
#include "engine/backends/cuda/provider/reduce_axes.h"

namespace tensord::cuda::testing {
namespace {

using ops::composite::Program;
using runtime::Tensor;

const context::ContextRegistry& Contexts() {
  static const context::ContextRegistry* contexts =
      context::ContextRegistry::Create("conf0->sim5", "cpu")->release();
  return *contexts;
}

int Mismatches(const Tensor& got, const Tensor& want, std::string* first) {
  return CountMismatches(got, want, first);
}

// A fusable op's kernel as the provider would launch it, and the host's result.
struct ElementwiseCase {
  std::string what;
  std::vector<Tensor> inputs;
  Tensor want;
  std::vector<int64_t> params;
};

TEST(CudaEmulation, EveryFusableOpsKernelMatchesTheHost) {
  std::vector<ElementwiseCase> cases;
  std::vector<EmulatedSource> sources;
  for (const ops::OpDef* op : ops::Registry::Global().All()) {
    if (!op->scalar || op->scalar->opcode < 0) continue;
    for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
      auto host = Apply(Contexts(), "cpu", *op, dtype);
      if (host == nullptr) continue;
      // The node the provider would be given: the suite's operand types, on the device.
      ir::Graph g;
      std::vector<ir::Variable*> in;
      for (int k = 0; k < op->scalar->arity; ++k) {
        ir::Type type = ir::Type::Of(dtype, k == 1 ? 1 : 2);
        if (k == 2) type.broadcastable = {false, true};
        in.push_back(g.AddInput(type, "x"));
      }
      ops::NodeBuilder b(g);
      ir::Variable* out = b.Apply(op->name, in);
      if (!b.status().ok() || !Supports(*out->owner)) continue;
      auto work = DeviceProgram(*out->owner);
      ASSERT_TRUE(work.ok()) << op->name << ": " << work.status();
      ElementwiseCase c;
      c.what = absl::StrCat(op->name, " in ", DTypeName(dtype));
      for (int k = 0; k < op->scalar->arity; ++k) c.inputs.push_back(Operand(k, dtype));
      auto want = host->Run(c.inputs, {});
      ASSERT_TRUE(want.ok()) << c.what << ": " << want.status();
      c.want = want->outputs[0];
      std::vector<const Tensor*> operands;
      for (const Tensor& t : c.inputs) operands.push_back(&t);
      int rank = 0;
      auto params = CompositeParams(work->program, operands, c.want.shape(), &rank);
      ASSERT_TRUE(params.ok()) << c.what << ": " << params.status();
      c.params = *std::move(params);
      const std::string name = absl::StrCat("k", cases.size());
      auto source = CompositeSource(work->program, rank, name, work->types);
      ASSERT_TRUE(source.ok()) << c.what << ": " << source.status();
      sources.push_back({*source, {name}});
      cases.push_back(std::move(c));
    }
  }
  ASSERT_GE(cases.size(), 80u);
  auto emulation = HostEmulation::Compile(sources);
  ASSERT_TRUE(emulation.ok()) << emulation.status();
  for (size_t i = 0; i < cases.size(); ++i) {
    ElementwiseCase& c = cases[i];
    Tensor got(c.want.dtype(), c.want.shape());
    void* out = got.raw();
    void* args[] = {&out, c.params.data()};
    const int64_t blocks = (got.num_elements() + kReduceThreads - 1) / kReduceThreads;
    ASSERT_TRUE((*emulation)->Launch(absl::StrCat("k", i), blocks, 256, args).ok());
    std::string first;
    EXPECT_EQ(Mismatches(got, c.want, &first), 0) << c.what << ": first " << first;
  }
}

// A float value of `shape` with every element distinct, some negative; NaN at `nan_at` if set.
Tensor Values(DType dtype, const runtime::Shape& shape, int64_t nan_at = -1) {
  Tensor t(dtype, shape);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> uniform(-2, 3);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const double v = i == nan_at ? std::nan("") : uniform(rng);
    if (dtype == DType::kFloat32) {
      t.data<float>()[i] = static_cast<float>(v);
    } else {
      t.data<double>()[i] = v;
    }
  }
  return t;
}

// `op` (attrs `attrs`) of `x` (and sum_to_like's model) on the host.
absl::StatusOr<Tensor> OnHost(const std::string& op, const ir::Attrs& attrs, const Tensor& x,
                              const Tensor* model) {
  auto g = std::make_unique<ir::Graph>();
  std::vector<ir::Variable*> in = {g->AddInput(ir::Type::Of(x.dtype(), x.ndim()), "x")};
  if (model != nullptr) in.push_back(g->AddInput(ir::Type::Of(x.dtype(), model->ndim()), "m"));
  g->inputs() = in;
  g->outputs() = {compile::testing::Node(*g, op, in, attrs)};
  compile::CompileOptions options;
  options.contexts = &Contexts();
  options.context = *Contexts().Find("cpu");
  TENSORD_ASSIGN_OR_RETURN(auto prepared, compile::PrepareFunction(std::move(g), {}, {}, options));
  TENSORD_ASSIGN_OR_RETURN(auto exe, compile::BuildExecutable(std::move(prepared)));
  std::vector<Tensor> inputs = {x};
  if (model != nullptr) inputs.push_back(*model);
  TENSORD_ASSIGN_OR_RETURN(auto result, exe->Run(inputs, {}));
  return result.outputs[0];
}

// A reduction over some dims: the device's plan, and the host's result.
struct AxesCase {
  std::string what;
  Tensor x;
  Tensor want;
  AxesReduction plan;
};

TEST(CudaEmulation, ReductionsOverSomeAxesMatchTheHostInBothKernels) {
  struct Spec {
    std::string op;
    runtime::Shape shape;
    std::vector<int64_t> axes;  // empty: sum_to_like
    runtime::Shape model;       // sum_to_like's
    bool transposed = false;    // x a transposed view of its buffer
    int64_t nan_at = -1;
  };
  const std::vector<Spec> specs = {
      {"sum", {6, 300}, {1}, {}},              // long contiguous rows
      {"sum", {300, 70}, {0}, {}},             // a bias gradient: column sums
      {"mean", {700, 3}, {0}, {}},             // few outputs, long strided columns
      {"max", {3, 4, 5}, {0, 2}, {}},          // folds around a kept dim
      {"min", {3, 4, 5}, {1}, {}, false, 17},  // NaN propagates
      {"max", {5, 40}, {1}, {}, false, 81},
      {"mean", {9, 300}, {0}, {}, true},  // a transposed view
      {"sum", {257, 2}, {1}, {}},         // rows of 2
      {"sum", {0, 5}, {0}, {}},           // no elements: 0
      {"mean", {0, 5}, {0}, {}},          // no elements: NaN
      {"sum", {4, 0}, {0}, {}},           // no outputs
      {"sum_to_like", {4, 3, 5}, {}, {3, 1}},
      {"sum_to_like", {2, 1, 6}, {}, {1, 1, 6}},
  };
  std::vector<AxesCase> cases;
  std::vector<EmulatedSource> sources;
  for (const Spec& spec : specs) {
    for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
      AxesCase c;
      c.what = absl::StrCat(spec.op, " of ", runtime::ShapeString(spec.shape), " over axes ",
                            absl::StrJoin(spec.axes, ","), spec.transposed ? " (transposed)" : "",
                            " in ", DTypeName(dtype));
      runtime::Shape stored = spec.shape;
      if (spec.transposed) std::reverse(stored.begin(), stored.end());
      c.x = Values(dtype, stored, spec.nan_at);
      if (spec.transposed) {
        c.x = c.x.StridedView(spec.shape, {c.x.strides()[1], c.x.strides()[0]}, 0);
      }
      ir::Attrs attrs;
      if (!spec.axes.empty()) attrs["axis"] = spec.axes;
      Tensor model(dtype, spec.model);
      const Tensor* model_in = spec.op == "sum_to_like" ? &model : nullptr;
      auto want = OnHost(spec.op, attrs, c.x, model_in);
      ASSERT_TRUE(want.ok()) << c.what << ": " << want.status();
      c.want = *want;

      ir::Graph g;
      std::vector<ir::Variable*> in = {g.AddInput(ir::Type::Of(dtype, c.x.ndim()), "x")};
      if (model_in) in.push_back(g.AddInput(ir::Type::Of(dtype, model.ndim()), "m"));
      ir::Variable* node = compile::testing::Node(g, spec.op, in, attrs);
      ASSERT_TRUE(Supports(*node->owner)) << c.what;
      std::optional<DeviceReduction> reduction = AsDeviceReduction(*node->owner);
      ASSERT_TRUE(reduction.has_value()) << c.what;
      auto dims = ReducedDims(*reduction, c.x.shape(), model_in ? &model.shape() : nullptr);
      ASSERT_TRUE(dims.ok()) << c.what << ": " << dims.status();
      auto plan = PlanAxesReduction(reduction->program, c.x, *dims);
      ASSERT_TRUE(plan.ok()) << c.what << ": " << plan.status();
      c.plan = *std::move(plan);
      EXPECT_EQ(c.plan.outputs, c.want.num_elements()) << c.what;
      const std::string name = absl::StrCat("r", cases.size());
      auto source = CompositeReduceAxesSource(reduction->program, c.plan.rank, name);
      ASSERT_TRUE(source.ok()) << c.what << ": " << source.status();
      sources.push_back({*source, {name + "_by_block", name + "_by_thread"}});
      cases.push_back(std::move(c));
    }
  }
  auto emulation = HostEmulation::Compile(sources);
  ASSERT_TRUE(emulation.ok()) << emulation.status();
  for (size_t i = 0; i < cases.size(); ++i) {
    AxesCase& c = cases[i];
    // The plan's launch, then each kernel on a small grid (its loops stride over the rest).
    struct Launch {
      bool by_block;
      int64_t blocks;
    };
    for (Launch launch :
         {Launch{c.plan.by_block, c.plan.blocks}, Launch{true, 3}, Launch{false, 1}}) {
      Tensor got = Values(c.want.dtype(), c.want.shape());  // garbage to overwrite
      void* out = got.raw();
      void* args[] = {&out, c.plan.params.data(), &c.plan.outputs, &c.plan.reduced};
      const std::string kernel = absl::StrCat("r", i, launch.by_block ? "_by_block" : "_by_thread");
      if (c.plan.outputs == 0) continue;  // nothing to launch: the provider launches nothing
      ASSERT_TRUE((*emulation)->Launch(kernel, launch.blocks, kReduceThreads, args).ok());
      std::string first;
      EXPECT_EQ(Mismatches(got, c.want, &first), 0)
          << c.what << " by " << kernel << " on " << launch.blocks << " blocks: first " << first;
    }
  }
}

TEST(CudaEmulation, ReductionsOverEveryElementMatchTheHost) {
  std::vector<EmulatedSource> sources;
  std::vector<std::pair<std::string, Tensor>> cases;  // (op, value)
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (const char* op : {"sum", "mean", "max", "min"}) {
      Program p;
      p.dtype = dtype;
      p.num_inputs = 1;
      p.input_read = {true};
      p.reduce = op;
      const std::string name = absl::StrCat("a", cases.size());
      auto source = CompositeReduceSource(p, 1, name);
      ASSERT_TRUE(source.ok()) << source.status();
      sources.push_back({*source, {name, name + "_finish"}});
      cases.emplace_back(op, Values(dtype, {5000}));
    }
  }
  auto emulation = HostEmulation::Compile(sources);
  ASSERT_TRUE(emulation.ok()) << emulation.status();
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [op, x] = cases[i];
    auto want = OnHost(op, {}, x, nullptr);
    ASSERT_TRUE(want.ok()) << want.status();
    Program p;
    p.dtype = x.dtype();
    p.num_inputs = 1;
    p.input_read = {true};
    const Tensor* in[] = {&x};
    int rank = 0;
    auto params = CompositeParams(p, in, x.shape(), &rank);
    ASSERT_TRUE(params.ok()) << params.status();
    // ReduceKernel's launch: a block per 256 elements, then one block over their partials.
    int64_t blocks = (x.num_elements() + kReduceThreads - 1) / kReduceThreads, n = x.num_elements();
    Tensor partials(DType::kFloat64, {blocks});
    void* partials_data = partials.raw();
    void* args[] = {&partials_data, params->data()};
    const std::string name = absl::StrCat("a", i);
    ASSERT_TRUE((*emulation)->Launch(name, blocks, kReduceThreads, args).ok());
    Tensor got(x.dtype(), {});
    void* out = got.raw();
    void* finish_args[] = {&out, &partials_data, &blocks, &n};
    ASSERT_TRUE((*emulation)->Launch(name + "_finish", 1, kReduceThreads, finish_args).ok());
    std::string first;
    EXPECT_EQ(Mismatches(got, *want, &first), 0)
        << op << " in " << DTypeName(x.dtype()) << ": " << first;
  }
}

// The device conformance suite (conformance_testing.h) on emu0: the provider's whole path, from
// placement and the transfers through separate memory to its kernels' launches.
TEST(CudaEmulation, EveryFusableOpOnTheEmulatedDeviceMatchesTheHost) {
  static const context::ContextRegistry* contexts =
      context::ContextRegistry::Create("conf_emu->emu0", "cpu")->release();
  EXPECT_GE(CheckEveryFusableOp(*contexts, "conf_emu"), 114);
}

TEST(CudaEmulation, AHostCompilerErrorNamesTheSource) {
  auto broken = HostEmulation::Compile({{"void k() { undefined_name(); }", {}}});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("undefined_name"), std::string::npos) << broken.status();
}

}  // namespace
}  // namespace tensord::cuda::testing
