// The CUDA composite generator: the source of every fusable op, in both dtypes, compiles with
// NVRTC (no GPU needed), so a codegen error fails CI; and what the source says for a small
// program. Running the kernels needs a GPU (tests/cuda/run-on-gpu.sh).
#include "engine/backends/cuda/composite_source.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>

#include "engine/backends/cuda/nvrtc.h"
#include "engine/ops/op_def.h"

namespace tensord::cuda {
namespace {

using ops::composite::Instr;
using ops::composite::Program;

std::vector<const ops::OpDef*> FusableOps() {
  std::vector<const ops::OpDef*> out;
  for (const ops::OpDef* op : ops::Registry::Global().All()) {
    if (op->scalar && op->scalar->opcode >= 0) out.push_back(op);
  }
  return out;
}

constexpr DType kIntegerDTypes[] = {DType::kInt8,  DType::kInt16,  DType::kInt32,  DType::kInt64,
                                    DType::kUInt8, DType::kUInt16, DType::kUInt32, DType::kUInt64};
constexpr DType kIntegerAndBoolDTypes[] = {DType::kBool,   DType::kInt8,   DType::kInt16,
                                           DType::kInt32,  DType::kInt64,  DType::kUInt8,
                                           DType::kUInt16, DType::kUInt32, DType::kUInt64};

TEST(CompositeSource, EveryFusableOpHasACudaFormForEachDtypeItComputesIn) {
  const auto ops = FusableOps();
  ASSERT_GE(ops.size(), 40u);
  int integer_forms = 0;
  for (const ops::OpDef* op : ops) {
    for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
      EXPECT_NE(CudaExpression(op->name, dtype), "") << op->name << " " << DTypeName(dtype);
    }
    for (DType dtype : kIntegerAndBoolDTypes) {
      if (op->scalar->Loop(dtype) == nullptr) continue;
      EXPECT_NE(CudaExpression(op->name, dtype), "") << op->name << " " << DTypeName(dtype);
      integer_forms += dtype == DType::kInt32;
    }
  }
  EXPECT_GE(integer_forms, 20);  // the arithmetic, comparisons and selections
}

// The lone ops (no fusion opcode) a kernel computes: in every dtype their scalar forms compute
// in, floats but for the bitwise ones (which type inference refuses floats), each compiles; the
// special functions (float only) too, digamma and trigamma with the host's text.
TEST(CompositeSource, LoneOpsCompileWithNvrtcInEveryDtypeTheyComputeIn) {
  int forms = 0;
  for (const char* name :
       {"int_div", "mod", "and", "or", "xor", "invert", "gamma", "gammaln", "psi", "tri_gamma"}) {
    const ops::OpDef* op = ops::Registry::Global().Find(name);
    ASSERT_NE(op, nullptr) << name;
    ASSERT_EQ(op->scalar->opcode, -1) << name << " is fusable: it needs no code of its own";
    const std::optional<int> code = LoneOpcode(name);
    ASSERT_TRUE(code.has_value()) << name;
    EXPECT_LT(*code, 0);
    const std::string op_name = name;
    const bool bitwise =
        op_name == "and" || op_name == "or" || op_name == "xor" || op_name == "invert";
    for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kBool, DType::kInt8, DType::kInt32,
                        DType::kUInt16, DType::kUInt64}) {
      if (op->scalar->Loop(dtype) == nullptr || (bitwise && FloatDType(dtype))) continue;
      Program p;
      p.dtype = dtype;
      p.num_inputs = 2;
      p.input_read = {true, true};
      p.code = {{*code, {0, op->scalar->arity > 1 ? 1 : -1, -1}}};
      ASSERT_TRUE(ComputesIn(p)) << name << " " << DTypeName(dtype);
      auto source = CompositeSource(p, 1, "k");
      ASSERT_TRUE(source.ok()) << source.status();
      NvrtcResult compiled = CompileToPtx(*source, "k.cu", "compute_80");
      ASSERT_TRUE(compiled.ok) << name << " " << DTypeName(dtype) << ":\n" << compiled.log;
      const bool polygamma = op_name == "psi" || op_name == "tri_gamma";
      EXPECT_EQ(source->find("tensord_digamma(double x)") != std::string::npos, polygamma) << name;
      ++forms;
    }
  }
  EXPECT_GE(forms, 33);
  EXPECT_FALSE(LoneOpcode("add").has_value());  // fusable: its opcode
  EXPECT_FALSE(LoneOpcode("dot").has_value());
}

// One program applying every fusable op computing in `dtype` to the three inputs.
Program EveryOp(DType dtype) {
  Program p;
  p.dtype = dtype;
  p.num_inputs = 3;
  p.input_read = {true, true, true};
  for (const ops::OpDef* op : FusableOps()) {
    if (op->scalar->Loop(dtype) == nullptr) continue;
    Instr ins;
    ins.op = op->scalar->opcode;
    for (int a = 0; a < op->scalar->arity; ++a) ins.args[a] = a;
    p.code.push_back(ins);
  }
  return p;
}

TEST(CompositeSource, EveryOpcodeCompilesWithNvrtcInEveryDtypeItComputesIn) {
  std::vector<DType> dtypes = {DType::kFloat32, DType::kFloat64};
  dtypes.insert(dtypes.end(), std::begin(kIntegerAndBoolDTypes), std::end(kIntegerAndBoolDTypes));
  for (DType dtype : dtypes) {
    for (int rank : {0, 2, kMaxCompositeRank}) {
      auto source = CompositeSource(EveryOp(dtype), rank, "every_op");
      ASSERT_TRUE(source.ok()) << source.status();
      NvrtcResult compiled = CompileToPtx(*source, "every_op.cu", "compute_80");
      ASSERT_TRUE(compiled.ok) << DTypeName(dtype) << " rank " << rank << ":\n"
                               << compiled.log << "\n"
                               << *source;
      EXPECT_NE(compiled.ptx.find(".entry every_op"), std::string::npos);
    }
  }
}

TEST(CompositeSource, SaysWhatTheProgramComputes) {
  // fill(i0, (i1 + i2) * 2): i0 is read for its shape only.
  Program p;
  p.dtype = DType::kFloat32;
  p.num_inputs = 3;
  p.input_read = {false, true, true};
  p.constants = {2.0, 0.1};
  p.code = {{ops::composite::Opcode("add"), {1, 2, -1}},
            {ops::composite::kConst, {0, -1, -1}},
            {ops::composite::Opcode("mul"), {3, 4, -1}},
            {ops::composite::Opcode("fill"), {0, 5, -1}}};
  auto source = CompositeSource(p, 1, "k");
  ASSERT_TRUE(source.ok()) << source.status();
  for (const char* line :
       {"typedef float T;", "const T r0 = T(0);", "const T r1 = T(((const float*)p.in[1])[o1]);",
        "const T r3 = (r1 + r2);", "const T r4 = T(0x1p+1);", "const T r5 = (r3 * r4);",
        "const T r6 = r5;", "out[i] = r6;"}) {
    EXPECT_NE(source->find(line), std::string::npos) << line << "\n" << *source;
  }
  EXPECT_EQ(source->find("long long o0"), std::string::npos);  // never loaded
  NvrtcResult compiled = CompileToPtx(*source, "k.cu", "compute_90");
  EXPECT_TRUE(compiled.ok) << compiled.log;
}

// A reducing program's two kernels, for every reduction and dtype, over every opcode.
// Every fold a kernel makes: floats' five, integers' four (a mean of integers is a float
// program), bool's all and any.
std::vector<std::pair<DType, std::string>> EveryFold() {
  std::vector<std::pair<DType, std::string>> folds;
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (const char* reduce : {"sum", "mean", "prod", "max", "min"})
      folds.emplace_back(dtype, reduce);
  }
  for (DType dtype : kIntegerDTypes) {
    for (const char* reduce : {"sum", "prod", "max", "min"}) folds.emplace_back(dtype, reduce);
  }
  folds.emplace_back(DType::kBool, "all");
  folds.emplace_back(DType::kBool, "any");
  return folds;
}

TEST(CompositeSource, ReducingKernelsCompileWithNvrtc) {
  for (const auto& [dtype, reduce] : EveryFold()) {
    Program p = EveryOp(dtype);
    p.reduce = reduce;
    auto source = CompositeReduceSource(p, 2, "every_op");
    ASSERT_TRUE(source.ok()) << source.status();
    NvrtcResult compiled = CompileToPtx(*source, "every_op.cu", "compute_80");
    ASSERT_TRUE(compiled.ok) << DTypeName(dtype) << " " << reduce << ":\n"
                             << compiled.log << "\n"
                             << *source;
    EXPECT_NE(compiled.ptx.find(".entry every_op("), std::string::npos);
    EXPECT_NE(compiled.ptx.find(".entry every_op_finish("), std::string::npos);
  }
  Program integer_mean = BareProgram(DType::kInt32);
  integer_mean.reduce = "mean";
  EXPECT_EQ(CompositeReduceSource(integer_mean, 1, "k").status().code(),
            absl::StatusCode::kInvalidArgument);
  Program elementwise = EveryOp(DType::kFloat32);
  EXPECT_EQ(CompositeReduceAxesSource(elementwise, 1, "k").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompositeReduceSource(elementwise, 1, "k").status().code(),
            absl::StatusCode::kInvalidArgument);
  elementwise.reduce = "median";  // no such fold
  EXPECT_EQ(CompositeReduceSource(elementwise, 1, "k").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The axes kernels, over every opcode and over a bare value (a program of no instructions), for
// every reduction and dtype.
TEST(CompositeSource, AxesReducingKernelsCompileWithNvrtc) {
  for (const auto& [dtype, reduce] : EveryFold()) {
    const Program bare = BareProgram(dtype);
    for (Program p : {bare, EveryOp(dtype)}) {
      p.reduce = reduce;
      auto source = CompositeReduceAxesSource(p, 3, "k");
      ASSERT_TRUE(source.ok()) << source.status();
      NvrtcResult compiled = CompileToPtx(*source, "k.cu", "compute_80");
      ASSERT_TRUE(compiled.ok) << DTypeName(dtype) << " " << reduce << ":\n"
                               << compiled.log << "\n"
                               << *source;
      EXPECT_NE(compiled.ptx.find(".entry k_by_block("), std::string::npos);
      EXPECT_NE(compiled.ptx.find(".entry k_by_thread("), std::string::npos);
    }
    // Elementwise, a bare value is its conversion to T (a cast); of two inputs, nothing.
    EXPECT_TRUE(CompositeSource(bare, 1, "k").ok());
    Program two = bare;
    two.num_inputs = 2;
    two.input_read = {true, true};
    EXPECT_EQ(CompositeSource(two, 1, "k").status().code(), absl::StatusCode::kInvalidArgument);
  }
}

// Inputs of every dtype a kernel reads, converted to T, and bool outputs, through NVRTC; a cast
// (a program of no instructions) too. Float16 and integer outputs are refused.
TEST(CompositeSource, OperandsOfOtherDTypesCompileWithNvrtc) {
  const std::vector<DType> readable = {DType::kBool,    DType::kInt8,   DType::kInt16,
                                       DType::kInt32,   DType::kInt64,  DType::kUInt8,
                                       DType::kUInt16,  DType::kUInt32, DType::kUInt64,
                                       DType::kFloat32, DType::kFloat64};
  Program lt;
  lt.dtype = DType::kFloat64;
  lt.num_inputs = 2;
  lt.input_read = {true, true};
  lt.code = {{ops::composite::Opcode("lt"), {0, 1, -1}}};
  Program cast;
  cast.dtype = DType::kFloat32;
  cast.num_inputs = 1;
  cast.input_read = {true};
  for (DType in : readable) {
    for (DType out : {DType::kFloat64, DType::kBool}) {
      auto source = CompositeSource(lt, 2, "k", {{in, DType::kFloat32}, out});
      ASSERT_TRUE(source.ok()) << source.status();
      NvrtcResult compiled = CompileToPtx(*source, "k.cu", "compute_80");
      ASSERT_TRUE(compiled.ok) << DTypeName(in) << " -> " << DTypeName(out) << ":\n"
                               << compiled.log << "\n"
                               << *source;
    }
    auto source = CompositeSource(cast, 1, "k", {{in}, DType::kInvalid});
    ASSERT_TRUE(source.ok()) << source.status();
    EXPECT_TRUE(CompileToPtx(*source, "k.cu", "compute_80").ok) << DTypeName(in);
  }
  EXPECT_EQ(CompositeSource(lt, 1, "k", {{DType::kFloat16, DType::kFloat64}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompositeSource(lt, 1, "k", {{}, DType::kInt32}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CompositeSource, EveryKindOfConstantCompiles) {
  // NaN, both infinities, -0.0, a denormal and values past float32's range, each used.
  const std::vector<double> constants = {std::nan(""), 1.0 / 0.0, -1.0 / 0.0, -0.0,
                                         4e-320,       1e300,     -1e-300,    0.1};
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    Program p;
    p.dtype = dtype;
    p.num_inputs = 1;
    p.input_read = {true};
    p.constants = constants;
    int last = 0;  // register of the running sum
    for (size_t c = 0; c < constants.size(); ++c) {
      p.code.push_back({ops::composite::kConst, {static_cast<int32_t>(c), -1, -1}});
      const int loaded = p.num_inputs + static_cast<int>(p.code.size()) - 1;
      p.code.push_back({ops::composite::Opcode("add"), {last, loaded, -1}});
      last = p.num_inputs + static_cast<int>(p.code.size()) - 1;
    }
    auto source = CompositeSource(p, 1, "constants");
    ASSERT_TRUE(source.ok()) << source.status();
    NvrtcResult compiled = CompileToPtx(*source, "constants.cu", "compute_80");
    EXPECT_TRUE(compiled.ok) << compiled.log << "\n" << *source;
  }
}

TEST(CompositeSource, ProductsAreNotFusedIntoMultiplyAdds) {
  // a * b + c: the CPU rounds the product first, so must the GPU.
  Program p;
  p.dtype = DType::kFloat32;
  p.num_inputs = 3;
  p.input_read = {true, true, true};
  p.code = {{ops::composite::Opcode("mul"), {0, 1, -1}},
            {ops::composite::Opcode("add"), {3, 2, -1}}};
  auto source = CompositeSource(p, 1, "madd");
  ASSERT_TRUE(source.ok()) << source.status();
  NvrtcResult compiled = CompileToPtx(*source, "madd.cu", "compute_80");
  ASSERT_TRUE(compiled.ok) << compiled.log;
  EXPECT_EQ(compiled.ptx.find("fma."), std::string::npos) << compiled.ptx;
  EXPECT_NE(compiled.ptx.find("mul.rn.f32"), std::string::npos) << compiled.ptx;
}

TEST(CompositeSource, RefusesWhatItCannotGenerate) {
  Program p = EveryOp(DType::kFloat32);
  EXPECT_EQ(CompositeSource(p, kMaxCompositeRank + 1, "k").status().code(),
            absl::StatusCode::kUnimplemented);
  p.reduce = "sum";
  EXPECT_EQ(CompositeSource(p, 1, "k").status().code(), absl::StatusCode::kUnimplemented);
  Program wide;
  wide.dtype = DType::kFloat64;
  wide.num_inputs = kMaxCompositeInputs + 1;
  wide.input_read.assign(wide.num_inputs, true);
  wide.code = {{ops::composite::Opcode("neg"), {0, -1, -1}}};
  EXPECT_EQ(CompositeSource(wide, 1, "k").status().code(), absl::StatusCode::kUnimplemented);
  // An integer or bool program of a float-only op, or one that means (its result would be a
  // float); bool arithmetic (NumPy's: or, and) but no sum.
  Program integer;
  integer.dtype = DType::kInt32;
  integer.num_inputs = 1;
  integer.input_read = {true};
  integer.code = {{ops::composite::Opcode("exp"), {0, -1, -1}}};
  EXPECT_FALSE(ComputesIn(integer));
  EXPECT_EQ(CompositeSource(integer, 1, "k").status().code(), absl::StatusCode::kInvalidArgument);
  integer.code = {{ops::composite::Opcode("neg"), {0, -1, -1}}};
  EXPECT_TRUE(ComputesIn(integer));
  integer.reduce = "sum";
  EXPECT_TRUE(ComputesIn(integer));
  integer.reduce = "mean";
  EXPECT_FALSE(ComputesIn(integer));
  Program logic = integer;
  logic.dtype = DType::kBool;
  logic.reduce = "";
  logic.code = {{ops::composite::Opcode("exp"), {0, -1, -1}}};
  EXPECT_FALSE(ComputesIn(logic));
  logic.code = {{ops::composite::Opcode("add"), {0, 0, -1}}};  // or
  EXPECT_TRUE(ComputesIn(logic));
  logic.reduce = "sum";  // an int64 program reading bools
  EXPECT_FALSE(ComputesIn(logic));
  // A constant an integer dtype holds exactly, and none it does not (a GPU saturates).
  Program offset;
  offset.dtype = DType::kUInt8;
  offset.num_inputs = 1;
  offset.input_read = {true};
  offset.code = {{ops::composite::kConst, {0, -1, -1}},
                 {ops::composite::Opcode("add"), {0, 1, -1}}};
  for (double c : {0.0, 255.0}) {
    offset.constants = {c};
    EXPECT_TRUE(ComputesIn(offset)) << c;
  }
  for (double c : {-1.0, 256.0, 0.5, std::nan("")}) {
    offset.constants = {c};
    EXPECT_FALSE(ComputesIn(offset)) << c;
  }
  offset.dtype = DType::kInt64;
  offset.constants = {-9223372036854775808.0};  // -2^63
  EXPECT_TRUE(ComputesIn(offset));
  offset.constants = {9223372036854775808.0};  // 2^63
  EXPECT_FALSE(ComputesIn(offset));
  // And NVRTC's errors come back as its log.
  NvrtcResult broken =
      CompileToPtx("extern \"C\" __global__ void k() { undefined(); }", "b.cu", "compute_80");
  EXPECT_FALSE(broken.ok);
  EXPECT_NE(broken.log.find("undefined"), std::string::npos) << broken.log;
}

}  // namespace
}  // namespace tensord::cuda
