#include "engine/passes/placement.h"

#include <gtest/gtest.h>

#include "engine/frontend/theano_names.h"
#include "engine/passes/pass_testing.h"

namespace tensord::passes {
namespace {

using testing::Build;
using testing::Rewrite;

const ir::Type kMatrix = ir::Type::Of(DType::kFloat32, 2);

// cpu, and dev0 and dev1 on simulated devices.
const context::ContextRegistry& TwoDevices() {
  static const context::ContextRegistry* registry =
      context::ContextRegistry::Create("dev0->sim0;dev1->sim1", "cpu")->release();
  return *registry;
}

Placement OnDevices(std::string default_context) {
  Placement p;
  p.contexts = &TwoDevices();
  p.default_context = std::move(default_context);
  p.shared_context = {{"w", "dev1"}};
  return p;
}

// The Theano names of the graph's nodes, outputs first (as debugprint lists them).
std::string Names(const ir::Graph& g) {
  std::string names;
  for (auto it = g.applies().rbegin(); it != g.applies().rend(); ++it)
    absl::StrAppend(&names, names.empty() ? "" : " | ", ir::TheanoOpName(**it));
  return names;
}

std::string Place(ir::Graph& g, Placement p) {
  p.num_outputs = g.outputs().size();
  auto pass = MakePlacementPass(std::move(p));
  absl::StatusOr<bool> changed = Rewrite(g, {pass.get()});
  EXPECT_TRUE(changed.ok()) << changed.status();
  return Names(g);
}

// The seed's `sq = theano.function([a], a ** 2)` with device=cuda: the input goes up, the
// square runs on the device, the result comes back.
TEST(PlacementTest, ADeviceDefaultMovesInputsUpAndOutputsBack) {
  auto built = Build({kMatrix}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Apply("sqr", {in[0]})};
  });
  EXPECT_EQ(Place(*built.graph, OnDevices("dev0")),
            "HostFromGpu(gpuarray) | GpuElemwise{sqr,no_inplace}<gpuarray> | GpuFromHost<dev0>");
}

// A kernel's host inputs (a reshape's shape, read on the host) stay on cpu: only the data goes up.
TEST(PlacementTest, HostInputsStayOnTheHost) {
  auto built = Build({kMatrix, ir::Type::Of(DType::kInt64, 1)}, [](ops::NodeBuilder& b,
                                                                   const auto& in) {
    return std::vector<ir::Variable*>{b.Apply("reshape", {in[0], in[1]}, {{"ndim", int64_t{1}}})};
  });
  Placement p = OnDevices("dev0");
  p.host_inputs = [](const context::Context&, const ir::Apply& a) {
    return a.op == "reshape" ? std::vector<int>{1} : std::vector<int>{};
  };
  EXPECT_EQ(Place(*built.graph, p),
            "HostFromGpu(gpuarray) | Reshape{1}<gpuarray> | GpuFromHost<dev0>");
  const ir::Apply* reshape = nullptr;
  for (const auto& a : built.graph->applies())
    if (a->op == "reshape") reshape = a.get();
  ASSERT_NE(reshape, nullptr);
  EXPECT_EQ(reshape->inputs[1], built.graph->inputs()[1]);  // the shape itself, not moved
  // A shape held on the host by a shared variable does not draw the reshape there.
  auto shared_shape = Build({kMatrix}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* s = b.graph().AddShared(ir::Type::Of(DType::kInt64, 1), "s", "s");
    return std::vector<ir::Variable*>{
        b.Apply("reshape", {b.Apply("sqr", {in[0]}), s}, {{"ndim", int64_t{1}}})};
  });
  p.shared_context["s"] = "cpu";
  EXPECT_EQ(
      Place(*shared_shape.graph, p),
      "HostFromGpu(gpuarray) | Reshape{1}<gpuarray> | GpuElemwise{sqr,no_inplace}<gpuarray> | "
      "GpuFromHost<dev0>");
}

// b = (a ** 2).transfer(None): the output the client put on the device stays there.
TEST(PlacementTest, AnOutputTransferredToADeviceStaysThere) {
  auto built = Build({kMatrix}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Apply("transfer", {b.Apply("sqr", {in[0]})})};
  });
  EXPECT_EQ(Place(*built.graph, OnDevices("dev0")),
            "GpuElemwise{sqr,no_inplace}<gpuarray> | GpuFromHost<dev0>");
}

TEST(PlacementTest, OnTheHostNothingMoves) {
  auto built = Build({kMatrix}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* back = b.Apply("transfer", {in[0]}, {{"target", std::string("cpu")}});
    return std::vector<ir::Variable*>{b.Apply("exp", {back})};
  });
  EXPECT_EQ(Place(*built.graph, OnDevices("cpu")), "Elemwise{exp,no_inplace}");
}

// Shared variables pin their readers; values on two devices meet on the default context.
TEST(PlacementTest, SharedVariablesPinTheirReadersAndDevicesExchangeDirectly) {
  auto built = Build({kMatrix}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* w = b.graph().AddShared(kMatrix, "w", "w");
    ir::Variable* on_w = b.Apply("exp", {w});  // runs on dev1, where w lives
    ir::Variable* x0 = b.Apply("transfer", {in[0]}, {{"target", std::string("dev0")}});
    return std::vector<ir::Variable*>{b.Apply("mul", {on_w, x0})};  // dev1 and dev0 meet on dev0
  });
  const std::string names = Place(*built.graph, OnDevices("dev0"));
  EXPECT_NE(names.find("GpuToGpu<dev0>"), std::string::npos) << names;
  EXPECT_NE(names.find("GpuElemwise{exp,no_inplace}<gpuarray>"), std::string::npos) << names;
  EXPECT_EQ(names.find("GpuFromHost<dev1>"), std::string::npos) << names;
}

// Work on graph inputs alone (x / 255) follows its reader to the weights' device instead of
// pulling the weights to the default context; a shape is read where its input lives.
TEST(PlacementTest, InputPreparationFollowsTheWeightsAndShapesMoveNothing) {
  auto built = Build({kMatrix}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* w = b.graph().AddShared(kMatrix, "w", "w");  // on dev1
    ir::Variable* scaled = b.Div(in[0], b.Constant(255, DType::kFloat32));
    return std::vector<ir::Variable*>{b.Apply("dot", {scaled, w}), b.Shape(in[0])};
  });
  const std::string names = Place(*built.graph, OnDevices("cpu"));
  EXPECT_EQ(names,
            "HostFromGpu(gpuarray) | Shape | dot<gpuarray> | GpuFromHost<dev1> | "
            "Elemwise{true_div,no_inplace}");
}

// One upload per value and context, whether the client wrote it or placement did; an output
// the client transferred stays, the same value as a plain output comes back.
TEST(PlacementTest, OneTransferPerValueAndContext) {
  auto built = Build({kMatrix}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* up = b.Apply("transfer", {in[0]}, {{"target", std::string("dev0")}});
    ir::Variable* y = b.Apply("exp", {up});
    ir::Variable* z = b.Apply("log", {in[0]});  // runs on dev0 (the default), reads in[0] there
    return std::vector<ir::Variable*>{y, b.Apply("transfer", {y}), b.Mul(y, z)};
  });
  const std::string names = Place(*built.graph, OnDevices("dev0"));
  size_t uploads = 0;
  for (size_t at = names.find("GpuFromHost"); at != std::string::npos;
       at = names.find("GpuFromHost", at + 1))
    ++uploads;
  EXPECT_EQ(uploads, 1u) << names;
  EXPECT_EQ(built.graph->outputs()[1]->owner->op, "exp") << names;       // kept on dev0
  EXPECT_EQ(built.graph->outputs()[0]->owner->op, "transfer") << names;  // came back
}

TEST(PlacementTest, AnUnknownContextIsRefusedByName) {
  auto built = Build({kMatrix}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{
        b.Apply("transfer", {in[0]}, {{"target", std::string("dev7")}})};
  });
  Placement p = OnDevices("dev0");
  p.num_outputs = 1;
  auto pass = MakePlacementPass(std::move(p));
  absl::StatusOr<bool> changed = pass->Run(*built.graph);
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(changed.status().message(),
            "unknown context 'dev7' (this server has: cpu, dev0, dev1)");
}

// A device whose provider has no kernel for an op: the compile is refused naming the node, or
// with cpu_fallback the op runs on the host between transfers (as the debugprint shows).
TEST(PlacementTest, AnOpTheDeviceCannotRunIsRefusedOrFallsBackToCpu) {
  auto build = [] {
    return Build({kMatrix}, [](ops::NodeBuilder& b, const auto& in) {
      return std::vector<ir::Variable*>{b.Apply("sqr", {b.Apply("erf", {in[0]})})};
    });
  };
  Placement p = OnDevices("dev0");
  p.runs_on = [](const context::Context&, const ir::Apply& a) { return a.op != "erf"; };
  auto refused = build();
  p.num_outputs = 1;
  absl::StatusOr<bool> changed = MakePlacementPass(p)->Run(*refused.graph);
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(changed.status().message(),
            "op 'erf' in erf(x0) has no kernel on context 'dev0' "
            "(sim0); compile with cpu_fallback to run it on cpu with transfers");
  p.cpu_fallback = true;
  auto fallen_back = build();
  EXPECT_EQ(Place(*fallen_back.graph, p),
            "HostFromGpu(gpuarray) | GpuElemwise{sqr,no_inplace}<gpuarray> | GpuFromHost<dev0> | "
            "Elemwise{erf,no_inplace}");
  // Reading a weight on dev1: erf comes down to cpu, and what reads it is placed as if erf
  // had pinned nothing (the default context, dev0), not kept on the host.
  auto pinned = Build({}, [](ops::NodeBuilder& b, const auto&) {
    ir::Variable* w = b.graph().AddShared(kMatrix, "w", "w");
    return std::vector<ir::Variable*>{b.Apply("sqr", {b.Apply("erf", {w})})};
  });
  EXPECT_EQ(Place(*pinned.graph, p),
            "HostFromGpu(gpuarray) | GpuElemwise{sqr,no_inplace}<gpuarray> | GpuFromHost<dev0> | "
            "Elemwise{erf,no_inplace} | HostFromGpu(gpuarray)");
  // A node of host scalars (arange's bounds) goes to cpu without the flag; its vector moves up.
  p.cpu_fallback = false;
  auto scalars = Build({}, [](ops::NodeBuilder& b, const auto&) {
    ir::Variable* n = b.Constant(5, DType::kInt64);
    ir::Variable* rows =
        b.Apply("arange", {b.Constant(0, DType::kInt64), n, b.Constant(1, DType::kInt64)},
                {{"dtype", DType::kInt64}});
    return std::vector<ir::Variable*>{b.Apply("sqr", {rows})};
  });
  p.runs_on = [](const context::Context&, const ir::Apply& a) { return a.op != "arange"; };
  EXPECT_EQ(Place(*scalars.graph, p),
            "HostFromGpu(gpuarray) | GpuElemwise{sqr,no_inplace}<gpuarray> | GpuFromHost<dev0> | "
            "arange{dtype=int64}");
}

}  // namespace
}  // namespace tensord::passes
