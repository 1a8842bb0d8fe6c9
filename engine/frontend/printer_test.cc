#include "engine/frontend/printer.h"

#include <gtest/gtest.h>

#include "engine/frontend/theano_names.h"
#include "engine/ops/node_builder.h"

namespace tensord::ir {
namespace {

using runtime::Tensor;

struct Fixture {
  Graph g;
  Variable* x = g.AddInput(Type::Of(DType::kFloat32, 2), "x");
  Variable* y = g.AddInput(Type::Of(DType::kFloat32, 2), "y");
  ops::NodeBuilder b{g};
  Fixture() { g.inputs() = {x, y}; }
};

TEST(DebugPrint, SeedExampleLayout) {
  Fixture f;
  f.g.outputs() = {f.b.Add(f.x, f.y)};
  EXPECT_EQ(DebugPrint(f.g),
            "Elemwise{add,no_inplace} [id A] ''   \n"
            " |x [id B]\n"
            " |y [id C]\n");
  // A compiled function also shows each node's position in the schedule.
  EXPECT_EQ(DebugPrint(f.g, {.print_order = true}),
            "Elemwise{add,no_inplace} [id A] ''   0\n"
            " |x [id B]\n"
            " |y [id C]\n");
}

TEST(DebugPrint, ScanPrintsItsStepFunctionAfterTheGraph) {
  auto body = std::make_shared<Graph>();
  Variable* h = body->AddInput(Type::Of(DType::kFloat32, 0), "h");
  body->inputs() = {h};
  ops::NodeBuilder bb(*body);
  body->outputs() = {bb.Mul(h, h)};
  Graph g;
  Variable* init = g.AddInput(Type::Of(DType::kFloat32, 1), "init");
  ops::NodeBuilder b(g);
  Attrs attrs = {{"n_seqs", int64_t{0}},
                 {"mit_sot_taps", std::vector<int64_t>{-1}},
                 {"mit_sot_tap_counts", std::vector<int64_t>{1}},
                 {"n_nit_sot", int64_t{0}},
                 {"n_shared_outs", int64_t{0}},
                 {"name", std::string("square")}};
  auto outs = b.ApplyMulti("scan", {b.Constant(3, DType::kInt64), init}, attrs, {body});
  ASSERT_TRUE(b.status().ok()) << b.status();
  g.outputs() = outs;
  EXPECT_EQ(DebugPrint(g),
            "for{cpu,square} [id A] ''   \n"
            " |TensorConstant{3} [id B]\n"
            " |init [id C]\n"
            "\n"
            "Inner graphs of the scan ops:\n"
            "\n"
            "for{cpu,square} [id A] ''\n"
            " >Elemwise{mul,no_inplace} [id A] ''   \n"
            " > |h [id B]\n"
            " > |h [id B]\n");
}

TEST(DebugPrint, RepeatedNodesPrintTheirLineOnceMore) {
  Fixture f;
  Variable* s = f.b.Add(f.x, f.y);
  f.g.outputs() = {f.b.Mul(s, s)};
  EXPECT_EQ(DebugPrint(f.g, {.print_order = true}),
            "Elemwise{mul,no_inplace} [id A] ''   1\n"
            " |Elemwise{add,no_inplace} [id B] ''   0\n"
            " | |x [id C]\n"
            " | |y [id D]\n"
            " |Elemwise{add,no_inplace} [id B] ''   0\n");
}

TEST(DebugPrint, CompositeAndInplaceMarkers) {
  // What the seed shows for ((x + y) * x) once fused and made inplace.
  Fixture f;
  Apply* a = f.g.AddApply("composite",
                          {{"expr", std::string("Composite{((i0 + i1) * i0)}")},
                           {"destroy_map", std::vector<int64_t>{0, 0}}},
                          {f.x, f.y}, {Type::Of(DType::kFloat32, 2)});
  f.g.outputs() = {a->outputs[0]};
  EXPECT_EQ(DebugPrint(f.g, {.print_order = true}),
            "Elemwise{Composite{((i0 + i1) * i0)}}[(0, 0)] [id A] ''   0\n"
            " |x [id B]\n"
            " |y [id C]\n");
  Apply* sq = f.g.AddApply("sqr", {{"inplace", int64_t{0}}}, {f.x}, {Type::Of(DType::kFloat32, 2)});
  EXPECT_EQ(TheanoOpName(*sq), "Elemwise{Sqr}[(0, 0)]");
}

TEST(DebugPrint, OpNamesAsTheanoPrintsThem) {
  Fixture f;
  auto name_of = [](Variable* v) { return TheanoOpName(*v->owner); };
  EXPECT_EQ(name_of(f.b.Dimshuffle(f.x, {1, 0})), "InplaceDimShuffle{1,0}");
  EXPECT_EQ(name_of(f.b.Dimshuffle(f.b.Sum(f.x, {0, 1}), {-1})), "InplaceDimShuffle{x}");
  EXPECT_EQ(name_of(f.b.Sum(f.x, {0})), "Sum{axis=[0], acc_dtype=float64}");
  EXPECT_EQ(name_of(f.b.Cast(f.x, DType::kInt32)), "Elemwise{Cast{int32}}");
  EXPECT_EQ(name_of(f.b.Fill(f.x, f.y)), "Elemwise{second,no_inplace}");
  EXPECT_EQ(name_of(f.b.Apply("dot", {f.x, f.y})), "dot");
  EXPECT_EQ(name_of(f.b.Apply("max", {f.x}, {{"axis", std::vector<int64_t>{1}}})), "Max{axis=[1]}");
  EXPECT_EQ(name_of(f.b.ShapeI(f.x, 1)), "Shape_i{1}");
  EXPECT_TRUE(f.b.status().ok()) << f.b.status();
}

TEST(DebugPrint, ConstantsSharedVariablesAndMultipleRoots) {
  Fixture f;
  Variable* w = f.g.AddShared(Type::Of(DType::kFloat32, 2), "shared-7", "W");
  Variable* two = f.b.Constant(2, DType::kFloat32);
  Variable* out = f.b.Mul(f.x, f.b.Dimshuffle(two, {-1, -1}));
  f.g.outputs() = {out};
  Variable* update = f.b.Sub(w, f.x);
  std::string text = DebugPrint(f.g, {.print_order = true, .extra_roots = {update}});
  EXPECT_NE(text.find("   |TensorConstant{2.0} [id D]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Elemwise{sub,no_inplace} [id E] ''   "), std::string::npos) << text;
  EXPECT_NE(text.find(" |W [id F]\n |x [id B]\n"), std::string::npos) << text;
}

TEST(ConstantText, LikeTheanosTensorConstant) {
  Graph g;
  auto constant = [&](DType d, runtime::Shape shape, std::vector<double> values) {
    Tensor t(d, shape);
    for (size_t i = 0; i < values.size(); ++i) {
      if (d == DType::kFloat64) t.data<double>()[i] = values[i];
      if (d == DType::kInt64) t.data<int64_t>()[i] = static_cast<int64_t>(values[i]);
      if (d == DType::kFloat32) t.data<float>()[i] = static_cast<float>(values[i]);
    }
    return ConstantText(*g.AddConstant(t, Type::Of(d, static_cast<int>(shape.size()))));
  };
  EXPECT_EQ(constant(DType::kInt64, {}, {2}), "2");
  EXPECT_EQ(constant(DType::kFloat64, {}, {0.5}), "0.5");
  EXPECT_EQ(constant(DType::kFloat32, {}, {0.1}), "0.1");
  EXPECT_EQ(constant(DType::kFloat64, {3}, {0, 0, 0}), "(3,) of 0.0");
  EXPECT_EQ(constant(DType::kFloat64, {3}, {1, 2, 3.5}), "[1. 2. 3.5]");
  EXPECT_EQ(constant(DType::kInt64, {2, 2}, {1, 2, 3, 4}), "[[1 2]\n [3 4]]");
  // Long texts keep 10 characters at each end, as Theano does.
  EXPECT_EQ(constant(DType::kInt64, {8}, {10, 11, 12, 13, 14, 15, 16, 17}),
            "[10 11 12 .. 15 16 17]");
}

TEST(DotPrint, PydotprintStyle) {
  Fixture f;
  Variable* s = f.b.Add(f.x, f.y);
  f.g.outputs() = {f.b.Apply("exp", {s})};
  std::string dot = DotPrint(f.g);
  EXPECT_EQ(dot.rfind("digraph G {", 0), 0u) << dot;
  EXPECT_NE(dot.find("n0 [label=\"Elemwise{add,no_inplace}\", shape=box"), std::string::npos)
      << dot;
  EXPECT_NE(
      dot.find("[label=\"x TensorType(float32, matrix)\", shape=ellipse, fillcolor=limegreen]"),
      std::string::npos)
      << dot;
  // The intermediate sum is an edge between the two applies; the output has its own node.
  EXPECT_NE(dot.find("n0 -> n1;"), std::string::npos) << dot;
  EXPECT_NE(dot.find("fillcolor=dodgerblue"), std::string::npos) << dot;
  EXPECT_NE(dot.find(" -> n0 [label=1];"), std::string::npos) << dot;
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
}

}  // namespace
}  // namespace tensord::ir
