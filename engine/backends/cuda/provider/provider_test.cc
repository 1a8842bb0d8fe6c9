// The CUDA provider's decisions, which need no device: which nodes a cudaN context runs, and the
// launch parameters of a composite kernel from its operands' shapes and strides (the layout
// composite_source.h generates). Launches are tested on a GPU (cuda_backend_tests).
#include "engine/backends/cuda/provider/provider.h"

#include <gtest/gtest.h>

#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/fold_layout.h"
#include "engine/backends/cuda/provider/reduce_axes.h"
#include "engine/compile/scan_testing.h"
#include "engine/compile/testing_util.h"
#include "engine/ops/defs/subtensor.h"
#include "engine/ops/node_builder.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Tensor;

int64_t Op(const std::string& name) { return ops::composite::Opcode(name); }

ir::Attrs Composite(DType dtype, std::vector<int64_t> program, std::string reduce = "") {
  ir::Attrs a{{"dtype", dtype}, {"program", std::move(program)}};
  if (!reduce.empty()) a["reduce"] = std::move(reduce);
  return a;
}

TEST(CudaProvider, RunsTransfersAndElementwiseProgramsComputingInFloat) {
  ir::Graph g;
  const auto f32 = ir::Type::Of(DType::kFloat32, 2), f64 = ir::Type::Of(DType::kFloat64, 2);
  ir::Variable* x = g.AddInput(f32, "x");
  ir::Variable* y = g.AddInput(f32, "y");
  ir::Variable* d = g.AddInput(f64, "d");
  ir::Variable* i = g.AddInput(ir::Type::Of(DType::kInt32, 2), "i");
  auto runs = [](ir::Variable* v) { return Supports(*v->owner); };
  const std::vector<int64_t> exp_add = {Op("exp"), 0, -1, -1, Op("add"), 2, 1, -1};
  EXPECT_TRUE(runs(Node(g, "composite", {x, y}, Composite(DType::kFloat32, exp_add))));
  EXPECT_TRUE(runs(Node(g, "composite", {d, d}, Composite(DType::kFloat64, exp_add))));
  EXPECT_TRUE(runs(Node(g, "exp", {x})));
  EXPECT_TRUE(runs(Node(g, "mul", {d, d})));
  EXPECT_TRUE(runs(Node(g, "transfer", {x}, {{"target", std::string("dev0")}})));
  EXPECT_TRUE(runs(Node(g, "composite", {x, y}, Composite(DType::kFloat32, exp_add, "sum"))));
  EXPECT_TRUE(runs(Node(g, "composite", {d, d}, Composite(DType::kFloat64, exp_add, "max"))));
  // Inputs the host would cast are converted as the kernel reads them; a comparison computes
  // in its operands' dtype and writes bool; a cast to float converts.
  EXPECT_TRUE(runs(Node(g, "composite", {x, i}, Composite(DType::kFloat32, exp_add))));
  EXPECT_TRUE(runs(Node(g, "add", {x, d})));
  EXPECT_TRUE(runs(Node(g, "exp", {i})));
  EXPECT_TRUE(runs(Node(g, "gt", {x, y})));
  EXPECT_TRUE(runs(Node(g, "cast", {i}, {{"dtype", DType::kFloat32}})));
  EXPECT_TRUE(runs(Node(g, "cast", {x}, {{"dtype", DType::kBool}})));
  // Integers are compared (exactly, in any dtype), into bool: an accuracy's neq(argmax, y).
  EXPECT_TRUE(runs(Node(g, "gt", {i, i})));
  ir::Variable* l = g.AddInput(ir::Type::Of(DType::kInt64, 2), "l");
  EXPECT_TRUE(runs(Node(g, "neq", {l, i})));
  // ... but not into a scalar: shape logic, read on the host.
  ir::Variable* n = g.AddInput(ir::Type::Scalar(DType::kInt64), "n");
  EXPECT_FALSE(runs(Node(g, "eq", {n, n})));
  // Integer arithmetic of the fusable ops runs, wrapping as NumPy's (integer_device_test.cc),
  // mixed integer dtypes converted as read; not into a scalar (shape logic).
  EXPECT_TRUE(runs(Node(g, "add", {i, i})));
  EXPECT_TRUE(runs(Node(g, "mul", {l, i})));
  EXPECT_TRUE(runs(Node(g, "pow", {i, i})));
  EXPECT_TRUE(runs(Node(g, "switch", {g.AddInput(ir::Type::Of(DType::kBool, 2), "c"), i, l})));
  EXPECT_FALSE(runs(Node(g, "add", {n, n})));
  // Floor division, remainder (of floats too) and the bitwise ops, which the fusion pass leaves
  // alone, by their own codes.
  for (const char* op : {"int_div", "mod", "and", "or", "xor"}) {
    EXPECT_TRUE(runs(Node(g, op, {i, l}))) << op;
  }
  EXPECT_TRUE(runs(Node(g, "invert", {i})));
  EXPECT_TRUE(runs(Node(g, "mod", {x, y})));
  EXPECT_TRUE(runs(Node(g, "int_div", {d, d})));
  // ... but not a float read as an integer (0.5 is a true condition), nor a condition read
  // narrower (256 as int8 is 0).
  EXPECT_FALSE(runs(Node(g, "switch", {x, i, i})));
  ir::Variable* bytes = g.AddInput(ir::Type::Of(DType::kInt8, 2), "bytes");
  EXPECT_FALSE(runs(Node(g, "switch", {l, bytes, bytes})));
  EXPECT_TRUE(runs(Node(g, "switch", {bytes, l, l})));
  // Integer casts run, wrapping when they narrow; a float into an integer (where a GPU
  // saturates what the host leaves undefined) stays on the host.
  EXPECT_TRUE(runs(Node(g, "cast", {i}, {{"dtype", DType::kInt64}})));
  EXPECT_TRUE(runs(Node(g, "cast", {g.AddInput(ir::Type::Of(DType::kBool, 1), "mask")},
                        {{"dtype", DType::kInt64}})));
  EXPECT_TRUE(runs(Node(g, "cast", {l}, {{"dtype", DType::kInt8}})));
  EXPECT_FALSE(runs(Node(g, "cast", {x}, {{"dtype", DType::kInt64}})));
  // A reduction's input of another dtype stays on the host.
  EXPECT_FALSE(runs(Node(g, "composite", {x, i}, Composite(DType::kFloat32, exp_add, "sum"))));
  EXPECT_TRUE(runs(Node(g, "dot", {x, y})));  // cuBLAS
  EXPECT_TRUE(runs(Node(g, "dot", {d, d})));
  EXPECT_FALSE(runs(Node(g, "dot", {x, d})));  // the host would cast x
  const ir::Attrs contract_rows{{"axes_a", std::vector<int64_t>{1}},
                                {"axes_b", std::vector<int64_t>{1}}};
  EXPECT_TRUE(runs(Node(g, "tensordot", {x, y}, contract_rows)));  // x y^T
  // Blocks of dims at an end of each operand: the product of two matrices; a middle dim not.
  ir::Variable* t3 = g.AddInput(ir::Type::Of(DType::kFloat32, 3), "t3");
  EXPECT_TRUE(runs(Node(g, "dot", {t3, y})));
  // batched_dot of batches of matrices or vectors, either with more dims too; not past the
  // dims a write walks.
  EXPECT_TRUE(runs(Node(g, "batched_dot", {t3, t3})));
  EXPECT_TRUE(
      runs(Node(g, "batched_tensordot", {t3, t3},
                {{"axes_a", std::vector<int64_t>{1, 2}}, {"axes_b", std::vector<int64_t>{2, 1}}})));
  EXPECT_TRUE(runs(Node(g, "batched_dot", {x, y})));
  EXPECT_TRUE(runs(Node(g, "batched_dot", {t3, x})));
  ir::Variable* t4 = g.AddInput(ir::Type::Of(DType::kFloat32, 4), "t4");
  EXPECT_TRUE(runs(Node(g, "batched_dot", {t4, t3})));
  EXPECT_TRUE(runs(Node(g, "batched_dot", {t4, t4})));
  EXPECT_TRUE(runs(Node(g, "batched_dot", {t3, t4})));
  ir::Variable* t9 = g.AddInput(ir::Type::Of(DType::kFloat32, 9), "t9");
  EXPECT_FALSE(runs(Node(g, "batched_dot", {t3, t9})));
  EXPECT_TRUE(
      runs(Node(g, "tensordot", {t3, t3},
                {{"axes_a", std::vector<int64_t>{0, 1}}, {"axes_b", std::vector<int64_t>{0, 1}}})));
  EXPECT_FALSE(
      runs(Node(g, "tensordot", {t3, t3},
                {{"axes_a", std::vector<int64_t>{2}}, {"axes_b", std::vector<int64_t>{1}}})));
  EXPECT_TRUE(runs(Node(g, "dimshuffle", {x}, {{"new_order", std::vector<int64_t>{1, 0}}})));
  ir::Variable* s = g.AddInput(ir::Type::Scalar(DType::kFloat32), "s");
  EXPECT_TRUE(runs(Node(g, "gemm", {x, s, x, y, s})));
  EXPECT_TRUE(runs(Node(g, "dot_composite", {x, y, x},
                        Composite(DType::kFloat32, {Op("tanh"), 0, -1, -1, Op("add"), 2, 1, -1}))));
  // Vectors: matrix-vector, an inner product, an outer product (a tensordot over no axes); not a
  // vector of another dtype, which the host would cast.
  ir::Variable* v = g.AddInput(ir::Type::Of(DType::kFloat32, 1), "v");
  EXPECT_TRUE(runs(Node(g, "dot", {x, v})));
  EXPECT_TRUE(runs(Node(g, "dot", {v, v})));
  const ir::Attrs no_axes = {{"axes_a", std::vector<int64_t>{}},
                             {"axes_b", std::vector<int64_t>{}}};
  EXPECT_TRUE(runs(Node(g, "tensordot", {v, v}, no_axes)));
  EXPECT_FALSE(runs(Node(g, "dot", {x, g.AddInput(ir::Type::Of(DType::kFloat64, 1), "w")})));
  // add(x, y, x) folds left, as on the host. switch's condition is read as T and tested for
  // nonzero.
  EXPECT_TRUE(runs(Node(g, "add", {x, y, x})));
  EXPECT_TRUE(runs(Node(g, "switch", {x, y, x})));
  // ... but not a float64 condition read as float32, which could round a true value to 0.
  EXPECT_FALSE(runs(Node(g, "switch", {d, x, y})));
  // dot_composite's program converts the inputs after the product as it reads them.
  EXPECT_TRUE(
      runs(Node(g, "dot_composite", {x, y, i}, Composite(DType::kFloat32, {Op("add"), 0, 1, -1}))));
  ASSERT_TRUE(MakeNodeKernel(*Node(g, "dot_composite", {x, y, i},
                                   Composite(DType::kFloat32, {Op("add"), 0, 1, -1}))
                                  ->owner,
                             EmulatedRuntime())
                  .ok());
  auto why = DeviceProgram(
      *Node(g, "composite", {x, i}, Composite(DType::kFloat32, exp_add, "sum"))->owner);
  EXPECT_EQ(why.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(why.status().message().find("the host would cast it"), std::string::npos)
      << why.status();
}

TEST(CudaProvider, RunsReductionsOfAFloatValueOverAnyAxes) {
  ir::Graph g;
  ir::Variable* x = g.AddInput(ir::Type::Of(DType::kFloat32, 3), "x");
  ir::Variable* d = g.AddInput(ir::Type::Of(DType::kFloat64, 2), "d");
  ir::Variable* i = g.AddInput(ir::Type::Of(DType::kInt32, 2), "i");
  auto runs = [](ir::Variable* v) { return Supports(*v->owner); };
  const ir::Attrs rows{{"axis", std::vector<int64_t>{-1}}};
  const ir::Attrs outer{{"axis", std::vector<int64_t>{0, 2}}};
  for (const char* op : {"sum", "mean", "max", "min"}) {
    EXPECT_TRUE(runs(Node(g, op, {x}, rows))) << op;
    EXPECT_TRUE(runs(Node(g, op, {x}, outer))) << op;
    EXPECT_TRUE(runs(Node(g, op, {d}))) << op;  // every axis
  }
  EXPECT_TRUE(runs(Node(g, "sum_to_like", {x, g.AddInput(ir::Type::Of(DType::kFloat32, 1), "b")})));
  // A value of another dtype than the float result is converted as read, as the host casts it
  // before folding: a sum into float64, the mean of integers or bools (an accuracy).
  EXPECT_TRUE(
      runs(Node(g, "sum", {x}, {{"axis", std::vector<int64_t>{0}}, {"dtype", DType::kFloat64}})));
  EXPECT_TRUE(runs(Node(g, "mean", {i}, rows)));
  EXPECT_TRUE(runs(Node(g, "mean", {g.AddInput(ir::Type::Of(DType::kBool, 1), "hits")})));
  // Integer folds (wrapping as NumPy's: folded in 64-bit unsigned arithmetic), the int64 sum of
  // a bool mask, all and any of any value; not a float value folded into an integer result.
  for (const char* op : {"sum", "prod", "max", "min"}) EXPECT_TRUE(runs(Node(g, op, {i}, rows)));
  ir::Variable* mask = g.AddInput(ir::Type::Of(DType::kBool, 2), "mask");
  EXPECT_TRUE(runs(Node(g, "sum", {mask})));
  EXPECT_TRUE(runs(Node(g, "all", {x}, rows)));
  EXPECT_TRUE(runs(Node(g, "any", {mask}, rows)));
  EXPECT_FALSE(runs(Node(g, "sum", {x}, {{"dtype", DType::kInt64}})));
  EXPECT_TRUE(runs(Node(g, "prod", {x}, rows)));
  EXPECT_TRUE(runs(Node(g, "argmax", {x}, rows)));  // arg_reduce.h, integers too
  EXPECT_TRUE(runs(Node(g, "argmin", {i})));
  // var and std (moment_kernels.h): of any dtype, ddof and corrected as attributes.
  EXPECT_TRUE(runs(Node(g, "var", {x}, rows)));
  EXPECT_TRUE(runs(Node(g, "std", {i}, {{"ddof", int64_t{1}}, {"corrected", true}})));
  // cumsum / cumprod of floats and of integers (cumop_kernels.h, wrapping as NumPy's).
  EXPECT_TRUE(runs(Node(g, "cumop", {x}, {{"axis", int64_t{1}}, {"mode", std::string("add")}})));
  EXPECT_TRUE(runs(Node(g, "cumop", {i}, {{"mode", std::string("mul")}})));
}

TEST(CudaProvider, DrawsUniformsAndNormalsSortsJoinsAndIncrementsViews) {
  ir::Graph g;
  ir::Variable* state = g.AddInput(ir::Type::Of(DType::kInt32, 2), "state");
  ir::Variable* size = g.AddInput(ir::Type::Of(DType::kInt64, 1), "size");
  ops::NodeBuilder b(g);
  auto sample = [&](const char* op, std::vector<ir::Variable*> extra = {}) {
    std::vector<ir::Variable*> in = {state, size};
    in.insert(in.end(), extra.begin(), extra.end());
    std::vector<ir::Variable*> outs =
        b.ApplyMulti(op, in, {{"dtype", DType::kFloat32}, {"ndim", int64_t{2}}});
    EXPECT_TRUE(b.status().ok()) << b.status();
    return outs[0]->owner;
  };
  for (const char* op : {"mrg_uniform", "random_normal"}) {
    const ir::Apply* node = sample(op);
    EXPECT_TRUE(Supports(*node)) << op;
    EXPECT_EQ(HostInputs(*node), std::vector<int>{1}) << op;  // the size
  }
  // Binomial of one n and one p (a dropout mask), both read on the host with the size; of
  // per-element probabilities, those on the device.
  ir::Variable* n = g.AddInput(ir::Type::Scalar(DType::kInt64), "n");
  ir::Variable* p = g.AddInput(ir::Type::Scalar(DType::kFloat64), "p");
  const ir::Apply* binomial = sample("random_binomial", {n, p});
  EXPECT_TRUE(Supports(*binomial));
  EXPECT_EQ(HostInputs(*binomial), (std::vector<int>{1, 2, 3}));
  const ir::Apply* per_element =
      sample("random_binomial", {n, g.AddInput(ir::Type::Of(DType::kFloat32, 2), "ps")});
  EXPECT_TRUE(Supports(*per_element));
  EXPECT_EQ(HostInputs(*per_element), std::vector<int>{1});
  // Categorical draws from probabilities on the device; the size, n and a population size
  // read on the host, a population vector on the device.
  auto draw = [&](const char* op, std::vector<ir::Variable*> in, ir::Attrs attrs) {
    in.insert(in.begin(), {state, g.AddInput(ir::Type::Of(DType::kInt64, 1), "size")});
    std::vector<ir::Variable*> outs = b.ApplyMulti(op, in, std::move(attrs));
    EXPECT_TRUE(b.status().ok()) << b.status();
    return outs[0]->owner;
  };
  ir::Attrs one_dim = {{"dtype", DType::kInt32}, {"ndim", int64_t{1}}};
  ir::Variable* rows = g.AddInput(ir::Type::Of(DType::kFloat32, 2), "rows");
  const ir::Apply* multinomial = draw("random_multinomial", {n, rows}, one_dim);
  EXPECT_TRUE(Supports(*multinomial));
  EXPECT_EQ(HostInputs(*multinomial), (std::vector<int>{1, 2}));
  const ir::Apply* permutation = draw("random_permutation", {n}, one_dim);
  EXPECT_TRUE(Supports(*permutation));
  EXPECT_EQ(HostInputs(*permutation), (std::vector<int>{1, 2}));
  ir::Attrs replace = one_dim;
  replace["replace"] = false;
  const ir::Apply* of_range = draw("random_choice", {n, rows}, replace);
  EXPECT_TRUE(Supports(*of_range));
  EXPECT_EQ(HostInputs(*of_range), (std::vector<int>{1, 2}));
  ir::Variable* ints = g.AddInput(ir::Type::Of(DType::kInt16, 1), "ints");
  const ir::Apply* of_vector = draw("random_choice", {ints, rows}, replace);
  EXPECT_TRUE(Supports(*of_vector));
  EXPECT_EQ(HostInputs(*of_vector), std::vector<int>{1});
  // A float population into integer samples is the host's (a GPU saturates).
  ir::Variable* floats = g.AddInput(ir::Type::Of(DType::kFloat64, 1), "floats");
  EXPECT_FALSE(Supports(*draw("random_choice", {floats, rows}, replace)));
  for (DType dtype : {DType::kFloat32, DType::kInt8, DType::kUInt64, DType::kBool}) {
    ir::Variable* x = g.AddInput(ir::Type::Of(dtype, 3), "x");
    for (const char* op : {"sort", "argsort"}) {
      EXPECT_TRUE(Supports(*Node(g, op, {x}, {{"axis", int64_t{-2}}})->owner)) << op;
    }
  }
  ir::Variable* wide = g.AddInput(ir::Type::Of(DType::kFloat32, 10), "wide");
  EXPECT_FALSE(Supports(*Node(g, "sort", {wide}, {{"axis", int64_t{0}}})->owner));
  // join of any dtypes (converted as written); inc_subtensor with its index scalars on the host.
  ir::Variable* x = g.AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
  ir::Variable* i = g.AddInput(ir::Type::Of(DType::kInt32, 2), "i");
  EXPECT_TRUE(Supports(*Node(g, "join", {x, i}, {{"axis", int64_t{1}}})->owner));
  EXPECT_FALSE(Supports(*Node(g, "join", {wide, wide}, {{"axis", int64_t{1}}})->owner));
  ir::Variable* k = g.AddInput(ir::Type::Scalar(DType::kInt64), "k");
  const ir::Apply* inc =
      Node(g, "inc_subtensor", {x, g.AddInput(ir::Type::Of(DType::kFloat32, 1), "y"), k},
           {{"idx_list", std::vector<int64_t>{0, ops::subtensor::kIndexSymbolic, 0, 0}},
            {"set_instead_of_inc", false}})
          ->owner;
  EXPECT_TRUE(Supports(*inc));
  EXPECT_EQ(HostInputs(*inc), std::vector<int>{2});
  // A float written into integers stays on the host: a GPU saturates what the host wraps.
  EXPECT_FALSE(
      Supports(*Node(g, "inc_subtensor", {i, g.AddInput(ir::Type::Of(DType::kFloat32, 1), "f"), k},
                     {{"idx_list", std::vector<int64_t>{0, ops::subtensor::kIndexSymbolic, 0, 0}},
                      {"set_instead_of_inc", false}})
                    ->owner));
  // tile, and repeat of one count or a count per entry (read on the host).
  EXPECT_TRUE(Supports(*Node(g, "tile", {x}, {{"reps", std::vector<int64_t>{2, 1, 3}}})->owner));
  const ir::Apply* repeat = Node(g, "repeat", {x, k}, {{"axis", int64_t{1}}})->owner;
  EXPECT_TRUE(Supports(*repeat));
  EXPECT_EQ(HostInputs(*repeat), std::vector<int>{1});
  const ir::Apply* counts =
      Node(g, "repeat", {x, g.AddInput(ir::Type::Of(DType::kInt64, 1), "counts")})->owner;
  EXPECT_TRUE(Supports(*counts));
  EXPECT_EQ(HostInputs(*counts), std::vector<int>{1});
  // alloc: its dims read on the host.
  const ir::Apply* alloc =
      Node(g, "alloc", {g.AddInput(ir::Type::Scalar(DType::kFloat32), "v"), k, k})->owner;
  EXPECT_TRUE(Supports(*alloc));
  EXPECT_EQ(HostInputs(*alloc), (std::vector<int>{1, 2}));
}

// Advanced indexing of any dtype a GPU holds, by integer arrays, masks and slices (the slices'
// symbolic bounds read on the host); not a float y into integers (a GPU saturates what the host
// leaves undefined), or more index arrays than the kernel takes once masks are counted
// by their dims.
TEST(CudaProvider, IndexesByArraysMasksAndSlices) {
  ir::Graph g;
  constexpr int64_t kSymbolic = ops::subtensor::kIndexSymbolic;
  constexpr int64_t kNone = ops::subtensor::kIndexNone;
  ir::Variable* x = g.AddInput(ir::Type::Of(DType::kInt16, 3), "x");
  ir::Variable* f = g.AddInput(ir::Type::Of(DType::kFloat32, 1), "f");
  ir::Variable* i = g.AddInput(ir::Type::Of(DType::kUInt8, 1), "i");
  ir::Variable* m = g.AddInput(ir::Type::Of(DType::kBool, 2), "m");
  ir::Variable* b = g.AddInput(ir::Type::Scalar(DType::kInt64), "b");
  const std::vector<int64_t> slice_mask = {1, kSymbolic, kNone, kNone, 2, 0, 0, 0};
  ir::Variable* read = Node(g, "advanced_subtensor", {x, b, m}, {{"idx_list", slice_mask}});
  EXPECT_TRUE(Supports(*read->owner));
  EXPECT_EQ(HostInputs(*read->owner), std::vector<int>{1});  // the slice's start
  EXPECT_TRUE(Supports(*Node(g, "advanced_subtensor1", {x, i})->owner));
  ir::Attrs inc = {{"idx_list", std::vector<int64_t>{2, 0, 0, 0}}, {"set_instead_of_inc", false}};
  ir::Variable* y16 = g.AddInput(ir::Type::Of(DType::kInt16, 1), "y");
  EXPECT_TRUE(Supports(*Node(g, "advanced_inc_subtensor", {x, y16, i}, inc)->owner));
  EXPECT_FALSE(Supports(*Node(g, "advanced_inc_subtensor", {x, f, i}, inc)->owner));
  // Nine index arrays: a 2-d mask and seven vectors over a value of 9 dims.
  ir::Variable* big = g.AddInput(ir::Type::Of(DType::kFloat32, 9), "big");
  std::vector<ir::Variable*> nine = {big, m};
  std::vector<int64_t> list = {2, 0, 0, 0};
  for (int k = 0; k < 7; ++k) {
    nine.push_back(i);
    list.insert(list.end(), {2, 0, 0, 0});
  }
  EXPECT_FALSE(Supports(*Node(g, "advanced_subtensor", nine, {{"idx_list", list}})->owner));
  nine.pop_back();
  list.resize(list.size() - 4);
  EXPECT_TRUE(Supports(*Node(g, "advanced_subtensor", nine, {{"idx_list", list}})->owner));
}

// Convolution, pooling and batch normalization of operands of the output's dtype (the host
// would cast others); a convolution gradient's spatial shape is read on the host.
TEST(CudaProvider, RunsTheLayersOfOneFloatDType) {
  ir::Graph g;
  ir::Variable* x = g.AddInput(ir::Type::Of(DType::kFloat32, 4), "x");
  ir::Variable* w = g.AddInput(ir::Type::Of(DType::kFloat32, 4), "w");
  ir::Variable* w64 = g.AddInput(ir::Type::Of(DType::kFloat64, 4), "w64");
  ir::Variable* shape = g.AddInput(ir::Type::Of(DType::kInt64, 1), "shape");
  const ir::Attrs conv = {{"border_mode", std::string("valid")},
                          {"pad", std::vector<int64_t>{0, 0}},
                          {"subsample", std::vector<int64_t>{1, 1}},
                          {"filter_dilation", std::vector<int64_t>{1, 1}},
                          {"num_groups", int64_t{1}},
                          {"filter_flip", true}};
  const ir::Apply* forward = Node(g, "conv", {x, w}, conv)->owner;
  EXPECT_TRUE(Supports(*forward));
  EXPECT_TRUE(HostInputs(*forward).empty());
  EXPECT_FALSE(Supports(*Node(g, "conv", {x, w64}, conv)->owner));  // mixed: the host casts
  for (const char* op : {"conv_grad_inputs", "conv_grad_weights"}) {
    const ir::Apply* grad = Node(g, op, {x, w, shape}, conv)->owner;
    EXPECT_TRUE(Supports(*grad)) << op;
    EXPECT_EQ(HostInputs(*grad), std::vector<int>{2}) << op;
  }
  const ir::Attrs pool = {{"ws", std::vector<int64_t>{2, 2}},
                          {"stride", std::vector<int64_t>{2, 2}},
                          {"pad", std::vector<int64_t>{0, 0}},
                          {"ignore_border", true},
                          {"mode", std::string("max")}};
  EXPECT_TRUE(Supports(*Node(g, "pool", {x}, pool)->owner));
  for (const char* op : {"pool_grad", "pool_grad_grad"}) {
    EXPECT_TRUE(Supports(*Node(g, op, {x, x}, pool)->owner)) << op;
  }
  // Batch normalization and its gradient, of one float dtype.
  const ir::Attrs channels = {{"axis", std::vector<int64_t>{0, 2, 3}}, {"epsilon", 1e-4}};
  ops::NodeBuilder b(g);
  std::vector<ir::Variable*> train = b.ApplyMulti("batch_norm_train", {x, x, x}, channels);
  ASSERT_TRUE(b.status().ok()) << b.status();
  EXPECT_TRUE(Supports(*train[0]->owner));
  EXPECT_TRUE(HostInputs(*train[0]->owner).empty());
  std::vector<ir::Variable*> grad = b.ApplyMulti(
      "batch_norm_train_grad", {x, x, x, train[1], train[2]}, {{"axis", channels.at("axis")}});
  ASSERT_TRUE(b.status().ok()) << b.status();
  EXPECT_TRUE(Supports(*grad[0]->owner));
  ir::Variable* x64 = g.AddInput(ir::Type::Of(DType::kFloat64, 4), "x64");
  std::vector<ir::Variable*> mixed = b.ApplyMulti("batch_norm_train", {x, x64, x}, channels);
  ASSERT_TRUE(b.status().ok()) << b.status();
  EXPECT_FALSE(Supports(*mixed[0]->owner));  // the host casts
  // images2neibs and its adjoint, of any dtype a kernel holds; the image shape on the host.
  const ir::Attrs neibs = {{"neib_shape", std::vector<int64_t>{2, 2}},
                           {"neib_step", std::vector<int64_t>{2, 2}},
                           {"mode", std::string("valid")}};
  ir::Variable* ints = g.AddInput(ir::Type::Of(DType::kInt16, 4), "ints");
  const ir::Apply* rows = Node(g, "images2neibs", {ints}, neibs)->owner;
  EXPECT_TRUE(Supports(*rows));
  EXPECT_TRUE(HostInputs(*rows).empty());
  const ir::Apply* images = Node(g, "neibs2images", {rows->outputs[0], shape}, neibs)->owner;
  EXPECT_TRUE(Supports(*images));
  EXPECT_EQ(HostInputs(*images), std::vector<int>{1});
}

// Nodes whose host kernel touches no element run there as the host's kernel, with what it reads
// (a condition, a shape) on the host.
TEST(CudaProvider, RunsIfElseSpecifyShapeAndPrintAsTheHosts) {
  ir::Graph g;
  ir::Variable* x = g.AddInput(ir::Type::Of(DType::kInt8, 2), "x");
  ir::Variable* c = g.AddInput(ir::Type::Scalar(DType::kBool), "c");
  ir::Variable* shape = g.AddInput(ir::Type::Of(DType::kInt64, 1), "shape");
  const ir::Apply* choice = Node(g, "ifelse", {c, x, x})->owner;
  EXPECT_TRUE(Supports(*choice));
  EXPECT_EQ(HostInputs(*choice), std::vector<int>{0});
  const ir::Apply* stated = Node(g, "specify_shape", {x, shape})->owner;
  EXPECT_TRUE(Supports(*stated));
  EXPECT_EQ(HostInputs(*stated), std::vector<int>{1});
  const ir::Apply* shown = Node(g, "print", {x}, {{"message", std::string("x")}})->owner;
  EXPECT_TRUE(Supports(*shown));
  EXPECT_TRUE(HostInputs(*shown).empty());
  for (const ir::Apply* node : {choice, stated, shown}) {
    EXPECT_TRUE(MakeNodeKernel(*node, EmulatedRuntime()).ok()) << node->op;
  }
}

// A scan runs on the device when every node of its body does (its n_steps read on the host).
TEST(CudaProvider, RunsAScanWhoseBodyRunsOnTheDevice) {
  auto body_of = [](const char* op) {
    auto body = std::make_unique<ir::Graph>();
    ir::Variable* x = body->AddInput(ir::Type::Of(DType::kFloat32, 1), "x_t");
    ir::Variable* h = body->AddInput(ir::Type::Of(DType::kFloat32, 1), "h_prev");
    body->inputs() = {x, h};
    ir::Variable* mixed = Node(*body, "add", {h, x});
    // A float truncated into integers (which a GPU saturates) is a host node in the body.
    body->outputs() = {std::string(op) == "truncate"
                           ? Node(*body, "cast",
                                  {Node(*body, "cast", {mixed}, {{"dtype", DType::kInt64}})},
                                  {{"dtype", DType::kFloat32}})
                           : Node(*body, op, {mixed})};
    return body;
  };
  for (const char* op : {"tanh", "truncate"}) {
    ir::Graph g;
    ir::Variable* n = g.AddInput(ir::Type::Scalar(DType::kInt64), "n");
    ir::Variable* xs = g.AddInput(ir::Type::Of(DType::kFloat32, 2), "xs");
    ir::Variable* h0 = g.AddInput(ir::Type::Of(DType::kFloat32, 2), "h0");
    std::vector<ir::Variable*> outs =
        compile::testing::Scan(g, compile::testing::Layout(1, {{-1}}), {n, xs, h0}, body_of(op));
    ASSERT_FALSE(outs.empty());
    EXPECT_EQ(Supports(*outs[0]->owner), std::string(op) == "tanh") << op;
    EXPECT_EQ(HostInputs(*outs[0]->owner), std::vector<int>{0});
  }
}

// A value split for a fold per output: kept dims and reduced ones, each C order and padded in
// front with dims of 1 (stride 0), for a 0-d value, no axes, every axis, and some.
TEST(CudaProvider, FoldLayoutsSplitKeptAndReducedDims) {
  const FoldLayout scalar = MakeFoldLayout({}, {});
  EXPECT_EQ(scalar.outputs, 1);
  EXPECT_EQ(scalar.reduced, 1);
  EXPECT_EQ(scalar.kept_shape, FoldDims({1, 1, 1, 1, 1, 1, 1, 1}));
  const FoldLayout none = MakeFoldLayout({2, 3}, {});
  EXPECT_EQ(none.outputs, 6);
  EXPECT_EQ(none.reduced, 1);
  EXPECT_EQ(none.kept_shape, FoldDims({1, 1, 1, 1, 1, 1, 2, 3}));
  EXPECT_EQ(none.reduced_shape, FoldDims({1, 1, 1, 1, 1, 1, 1, 1}));
  const FoldLayout all = MakeFoldLayout({2, 0, 4}, {0, 1, 2});
  EXPECT_EQ(all.outputs, 1);
  EXPECT_EQ(all.reduced, 0);
  EXPECT_EQ(all.reduced_shape, FoldDims({1, 1, 1, 1, 1, 2, 0, 4}));
  const FoldLayout some = MakeFoldLayout({2, 3, 4, 5}, {0, 2});
  EXPECT_EQ(some.outputs, 15);
  EXPECT_EQ(some.reduced, 8);
  EXPECT_EQ(some.kept_shape, FoldDims({1, 1, 1, 1, 1, 1, 3, 5}));
  EXPECT_EQ(some.reduced_shape, FoldDims({1, 1, 1, 1, 1, 1, 2, 4}));
  FoldDims kept, reduced;
  SplitStrides(some, {60, 20, 5, 1}, &kept, &reduced);
  EXPECT_EQ(kept, FoldDims({0, 0, 0, 0, 0, 0, 20, 1}));
  EXPECT_EQ(reduced, FoldDims({0, 0, 0, 0, 0, 0, 60, 5}));
}

// The layout of a reduction over some dims: the kept dims first, the folded ones after, merged
// where they walk memory uniformly; which kernel, and how many blocks.
TEST(CudaProvider, PlansAReductionAsKeptDimsThenFoldedOnes) {
  ir::Graph g;
  ir::Variable* x = g.AddInput(ir::Type::Of(DType::kFloat32, 3), "x");
  auto reduction =
      AsDeviceReduction(*Node(g, "sum", {x}, {{"axis", std::vector<int64_t>{1}}})->owner);
  ASSERT_TRUE(reduction.has_value());
  Tensor value(DType::kFloat32, {4, 300, 5});
  auto dims = ReducedDims(*reduction, value.shape(), nullptr);
  ASSERT_TRUE(dims.ok()) << dims.status();
  EXPECT_EQ(*dims, (std::vector<bool>{false, true, false}));
  auto plan = PlanAxesReduction(reduction->program, value, *dims);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->outputs, 20);
  EXPECT_EQ(plan->reduced, 300);
  EXPECT_EQ(plan->rank, 3);  // (4, 5, 300): dims 0 and 2 do not merge around the folded one
  const int64_t address = reinterpret_cast<int64_t>(value.raw());
  EXPECT_EQ(plan->params, (std::vector<int64_t>{6000, 4, 5, 300, address, 1500, 1, 5}));
  EXPECT_TRUE(plan->by_block);  // 20 outputs: too few for a thread each
  EXPECT_EQ(plan->blocks, 20);

  // A bias gradient: 512 column sums of (256, 512), a thread each, neighbours reading neighbours.
  Tensor grad(DType::kFloat32, {256, 512});
  plan = PlanAxesReduction(reduction->program, grad, {true, false});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->by_block);
  EXPECT_EQ(plan->blocks, 2);
  // Rows of a softmax's 10 classes: a thread each; rows of 784: a block each.
  plan = PlanAxesReduction(reduction->program, Tensor(DType::kFloat32, {256, 10}), {false, true});
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->by_block);
  plan = PlanAxesReduction(reduction->program, Tensor(DType::kFloat32, {256, 784}), {false, true});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->by_block);
  EXPECT_EQ(plan->blocks, 256);

  // sum_to_like folds the dims broadcasting added, and refuses a gradient the model cannot
  // broadcast to.
  auto to_like = AsDeviceReduction(
      *Node(g, "sum_to_like", {x, g.AddInput(ir::Type::Of(DType::kFloat32, 2), "m")})->owner);
  ASSERT_TRUE(to_like.has_value());
  const runtime::Shape model{300, 1};
  dims = ReducedDims(*to_like, value.shape(), &model);
  ASSERT_TRUE(dims.ok()) << dims.status();
  EXPECT_EQ(*dims, (std::vector<bool>{true, false, true}));
  const runtime::Shape wrong{3, 1};
  EXPECT_EQ(ReducedDims(*to_like, value.shape(), &wrong).status().code(),
            absl::StatusCode::kInvalidArgument);
}

ops::composite::Program AddProgram(int inputs, std::vector<bool> read) {
  ops::composite::Program p;
  p.dtype = DType::kFloat32;
  p.num_inputs = inputs;
  p.code = {{static_cast<int>(Op("add")), {0, 1, -1}}};
  p.input_read = std::move(read);
  return p;
}

TEST(CudaProvider, ParamsMergeWhatEveryOperandWalksUniformly) {
  Tensor a(DType::kFloat32, {4, 6}), b(DType::kFloat32, {4, 6});
  const Tensor* both[] = {&a, &b};
  int rank = 0;
  auto p = CompositeParams(AddProgram(2, {true, true}), both, {4, 6}, &rank);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(rank, 1);  // contiguous: one row of 24
  const auto address = [](const Tensor& t) { return reinterpret_cast<int64_t>(t.raw()); };
  EXPECT_EQ(*p, (std::vector<int64_t>{24, 24, address(a), address(b), 1, 1}));

  // A row broadcast over the rows, and a transposed view: nothing merges.
  Tensor row(DType::kFloat32, {6});
  Tensor t(DType::kFloat32, {6, 4});
  Tensor tv = t.StridedView({4, 6}, {1, 4}, 0);
  const Tensor* mixed[] = {&row, &tv};
  p = CompositeParams(AddProgram(2, {true, true}), mixed, {4, 6}, &rank);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(rank, 2);
  EXPECT_EQ(*p, (std::vector<int64_t>{24, 4, 6, address(row), address(t), 0, 1, 1, 4}));
}

TEST(CudaProvider, ParamsOfOneElementAnUnreadInputAndTooManyDims) {
  Tensor s(DType::kFloat32, {}), model(DType::kFloat32, {1, 1});
  const Tensor* ins[] = {&s, &model};
  int rank = 0;
  // A 0-d output walks one dim of 1; a model read for its shape only has no address.
  auto p = CompositeParams(AddProgram(2, {true, false}), ins, {1, 1}, &rank);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(rank, 1);
  EXPECT_EQ(*p, (std::vector<int64_t>{1, 1, reinterpret_cast<int64_t>(s.raw()), 0, 0, 0}));

  // Nine dims of 2 that a transposition keeps apart: past what one kernel walks.
  runtime::Shape shape(kMaxCompositeRank + 1, 2);
  Tensor base(DType::kFloat32, shape);
  runtime::Strides reversed = base.strides();
  std::reverse(reversed.begin(), reversed.end());
  Tensor transposed = base.StridedView(shape, reversed, 0);
  const Tensor* deep[] = {&base, &transposed};
  p = CompositeParams(AddProgram(2, {true, true}), deep, shape, &rank);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(p.status().message().find("merge to 9"), std::string::npos) << p.status();
}

}  // namespace
}  // namespace tensord::cuda
