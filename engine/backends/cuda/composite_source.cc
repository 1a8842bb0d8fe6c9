#include "engine/backends/cuda/composite_source.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/common/status.h"
#include "engine/ops/op_def.h"
#include "engine/ops/scalar/polygamma_text.h"

namespace tensord::cuda {
namespace {

using ExpressionTable = std::map<std::string, std::string>;

// Each fusable op's math in CUDA C++, as its scalar functor (engine/ops/scalar/) computes it:
// FloatExpressions on float32 and float64 (CUDA's math library overloads every function for
// both), IntegerExpressions on the integer dtypes and bool, AnyDtypeExpressions on all. Comparisons
// and predicates give 1 or 0 in T; a condition is true when nonzero, NaN included.
const ExpressionTable& AnyDtypeExpressions() {
  static const auto* table = new ExpressionTable{
      {"maximum", "td_maximum($0, $1)"},
      {"minimum", "td_minimum($0, $1)"},
      {"clip", "td_minimum(td_maximum($0, $1), $2)"},
      {"eq", "T($0 == $1)"},
      {"neq", "T($0 != $1)"},
      {"lt", "T($0 < $1)"},
      {"le", "T($0 <= $1)"},
      {"gt", "T($0 > $1)"},
      {"ge", "T($0 >= $1)"},
      {"switch", "($0 != T(0) ? $1 : $2)"},
      {"fill", "$1"},
  };
  return *table;
}

// NumPy's integer arithmetic wraps: it is done in U (CudaArithmeticType) and converted back to
// T, which keeps the low bits as the host's -fwrapv arithmetic does.
const ExpressionTable& IntegerExpressions() {
  static const auto* table = new ExpressionTable{
      {"add", "T(U($0) + U($1))"},
      {"sub", "T(U($0) - U($1))"},
      {"mul", "T(U($0) * U($1))"},
      {"neg", "T(U(0) - U($0))"},
      {"sqr", "T(U($0) * U($0))"},
      {"abs", "($0 < T(0) ? T(U(0) - U($0)) : $0)"},
      {"sgn", "T(($0 > T(0)) - ($0 < T(0)))"},
      {"pow", "td_ipow<T, U>($0, $1)"},
      {"round_half_to_even", "$0"},
      {"round_half_away_from_zero", "$0"},
      {"isnan", "T(0)"},
      {"isinf", "T(0)"},
      {"int_div", "td_int_floordiv<T, U>($0, $1)"},
      {"mod", "td_int_mod($0, $1)"},
      {"and", "T($0 & $1)"},
      {"or", "T($0 | $1)"},
      {"xor", "T($0 ^ $1)"},
      {"invert", "td_invert($0)"},
  };
  return *table;
}

const ExpressionTable& FloatExpressions() {
  static const auto* table = new ExpressionTable{
      {"add", "($0 + $1)"},
      {"sub", "($0 - $1)"},
      {"mul", "($0 * $1)"},
      {"true_div", "($0 / $1)"},
      {"pow", "pow($0, $1)"},
      {"neg", "(-$0)"},
      {"abs", "fabs($0)"},
      {"sgn", "td_sgn($0)"},
      {"sqr", "($0 * $0)"},
      {"sqrt", "sqrt($0)"},
      {"round_half_to_even", "rint($0)"},
      {"round_half_away_from_zero", "round($0)"},
      {"floor", "floor($0)"},
      {"ceil", "ceil($0)"},
      {"trunc", "trunc($0)"},
      {"exp", "exp($0)"},
      {"exp2", "exp2($0)"},
      {"expm1", "expm1($0)"},
      {"log", "log($0)"},
      {"log1p", "log1p($0)"},
      {"log2", "log2($0)"},
      {"log10", "log10($0)"},
      {"sin", "sin($0)"},
      {"cos", "cos($0)"},
      {"tan", "tan($0)"},
      {"arcsin", "asin($0)"},
      {"arccos", "acos($0)"},
      {"arctan", "atan($0)"},
      {"arctan2", "atan2($0, $1)"},
      {"sinh", "sinh($0)"},
      {"cosh", "cosh($0)"},
      {"tanh", "tanh($0)"},
      {"erf", "erf($0)"},
      {"erfc", "erfc($0)"},
      {"sigmoid", "td_sigmoid($0)"},
      {"softplus", "td_softplus($0)"},
      {"isnan", "T(isnan($0))"},
      {"isinf", "T(isinf($0))"},
      {"int_div", "td_float_floordiv($0, $1)"},
      {"mod", "td_float_mod($0, $1)"},
      {"gamma", "tgamma($0)"},
      {"gammaln", "lgamma($0)"},
      {"psi", "T(tensord_digamma(double($0)))"},
      {"tri_gamma", "T(tensord_trigamma(double($0)))"},
  };
  return *table;
}

// The elementwise ops the fusion pass leaves alone (no opcode) that a lone node of computes on
// the device, by the negative code that stands for each in the provider's programs (never in a
// client's: ParseProgram refuses codes that are no op's).
constexpr const char* kLoneOps[] = {"int_div", "mod",   "and",     "or",  "xor",
                                    "invert",  "gamma", "gammaln", "psi", "tri_gamma"};

// The name of the op `opcode` stands for (a fusion opcode, or a lone op's code), or "".
std::string OpNameOf(int opcode) {
  if (opcode < 0) {
    const int k = -opcode - 1;
    return k < static_cast<int>(std::size(kLoneOps)) ? kLoneOps[k] : "";
  }
  const ops::OpDef* op = ops::Registry::Global().FindByOpcode(opcode);
  return op == nullptr ? "" : op->name;
}

// The helpers the expressions call, written as the scalar functors are (branch-free NaN
// propagation for maximum/minimum, the two-sided sigmoid, the overflow-free softplus).
constexpr char kPrelude[] = R"(
template <class T> __device__ __forceinline__ T td_maximum(T a, T b) {
  return ((a >= b) | (a != a)) ? a : b;
}
template <class T> __device__ __forceinline__ T td_minimum(T a, T b) {
  return ((a <= b) | (a != a)) ? a : b;
}
template <class T> __device__ __forceinline__ T td_sgn(T a) {
  return a != a ? a : a > T(0) ? T(1) : a < T(0) ? T(-1) : a;
}
template <class T> __device__ __forceinline__ T td_sigmoid(T a) {
  if (a >= T(0)) return T(1) / (T(1) + exp(-a));
  const T e = exp(a);
  return e / (T(1) + e);
}
template <class T> __device__ __forceinline__ T td_softplus(T a) {
  return log1p(exp(-fabs(a))) + (a > T(0) ? a : T(0));
}
// NumPy's floor division and remainder (engine/ops/scalar/arithmetic.h): of integers, x // 0
// and x % 0 are 0, and -1 is its own case (the most negative value's quotient wraps); of
// floats, npy_divmod's, the quotient snapped to an integer.
template <class T, class U> __device__ __forceinline__ T td_int_floordiv(T a, T b) {
  if (b == T(0)) return T(0);
  if (T(-1) < T(0) && b == T(-1)) return T(U(0) - U(a));
  T q = T(a / b);
  if (T(a % b) != T(0) && ((a < T(0)) != (b < T(0)))) q = T(q - T(1));
  return q;
}
template <class T> __device__ __forceinline__ T td_int_mod(T a, T b) {
  if (b == T(0) || (T(-1) < T(0) && b == T(-1))) return T(0);
  T r = T(a % b);
  if (r != T(0) && ((r < T(0)) != (b < T(0)))) r = T(r + b);
  return r;
}
template <class T> __device__ __forceinline__ T td_float_divmod(T a, T b, T* modulus) {
  T mod = fmod(a, b);
  if (b == T(0)) {
    *modulus = mod;
    return a / b;
  }
  T div = (a - mod) / b;
  if (mod != T(0)) {
    if ((b < T(0)) != (mod < T(0))) {
      mod += b;
      div -= T(1);
    }
  } else {
    mod = copysign(T(0), b);
  }
  T floordiv;
  if (div != T(0)) {
    floordiv = floor(div);
    if (div - floordiv > T(0.5)) floordiv += T(1);
  } else {
    floordiv = copysign(T(0), a / b);
  }
  *modulus = mod;
  return floordiv;
}
template <class T> __device__ __forceinline__ T td_float_floordiv(T a, T b) {
  T mod;
  return td_float_divmod(a, b, &mod);
}
template <class T> __device__ __forceinline__ T td_float_mod(T a, T b) {
  if (b == T(0)) return fmod(a, b);
  T mod;
  td_float_divmod(a, b, &mod);
  return mod;
}
// ~ on integers, not on bool (logical, as the host's).
__device__ __forceinline__ bool td_invert(bool a) { return !a; }
template <class T> __device__ __forceinline__ T td_invert(T a) { return T(~a); }
template <class T, class U> __device__ __forceinline__ T td_ipow(T a, T b) {
  if (b < T(0)) return a == T(1) ? T(1) : a == T(-1) ? (b % T(2) != T(0) ? T(-1) : T(1)) : T(0);
  T result = T(1), base = a;
  for (T e = b; e > T(0); e >>= 1) {
    if (e & T(1)) result = T(U(result) * U(base));
    base = T(U(base) * U(base));
  }
  return result;
}
)";

// Digamma and trigamma as the host computes them (polygamma_text.h), for a program that calls
// them.
constexpr char kPolygamma[] = TENSORD_POLYGAMMA_SOURCE(
    __device__ inline, __longlong_as_double(0x7ff0000000000000LL), nan(""));

bool CallsPolygamma(const ops::composite::Program& program) {
  const int psi = *LoneOpcode("psi"), tri_gamma = *LoneOpcode("tri_gamma");
  for (const ops::composite::Instr& ins : program.code) {
    if (ins.op == psi || ins.op == tri_gamma) return true;
  }
  return false;
}

// Whether a kernel computing in `dtype` folds by `reduce`: floats by sum, mean, prod, max and
// min; integers by all of those but mean (whose result is a float: the mean of an integer value
// is a float program reading it); bool by all and any.
bool FoldsIn(const std::string& reduce, DType dtype) {
  if (dtype == DType::kBool) return reduce == "all" || reduce == "any";
  const bool fold = reduce == "sum" || reduce == "prod" || reduce == "max" || reduce == "min";
  return fold || (FloatDType(dtype) && reduce == "mean");
}

std::string Register(int r) { return absl::StrCat("r", r); }

// A constant as a C++ literal of exactly its value (hexadecimal floating point).
std::string Literal(double value) {
  // NVRTC has no INFINITY macro: the bits of a double infinity, converted to T.
  if (value != value) return "T(nan(\"\"))";
  if (value == 1.0 / 0.0) return "T(__longlong_as_double(0x7ff0000000000000LL))";
  if (value == -1.0 / 0.0) return "T(-__longlong_as_double(0x7ff0000000000000LL))";
  char text[64];
  std::snprintf(text, sizeof text, "%a", value);
  return absl::StrCat("T(", text, ")");
}

}  // namespace

ops::composite::Program BareProgram(DType dtype) {
  ops::composite::Program p;
  p.dtype = dtype;
  p.num_inputs = 1;
  p.input_read = {true};
  return p;
}

std::optional<int> LoneOpcode(const std::string& op_name) {
  for (size_t k = 0; k < std::size(kLoneOps); ++k) {
    if (op_name == kLoneOps[k]) return -static_cast<int>(k) - 1;
  }
  return std::nullopt;
}

std::string CudaExpression(const std::string& op_name, DType dtype) {
  const ExpressionTable& own = FloatDType(dtype) ? FloatExpressions() : IntegerExpressions();
  if (auto it = own.find(op_name); it != own.end()) return it->second;
  if (auto it = AnyDtypeExpressions().find(op_name); it != AnyDtypeExpressions().end()) {
    return it->second;
  }
  return "";
}

std::string CudaCType(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return "bool";
    case DType::kInt8:
      return "signed char";
    case DType::kInt16:
      return "short";
    case DType::kInt32:
      return "int";
    case DType::kInt64:
      return "long long";
    case DType::kUInt8:
      return "unsigned char";
    case DType::kUInt16:
      return "unsigned short";
    case DType::kUInt32:
      return "unsigned int";
    case DType::kUInt64:
      return "unsigned long long";
    case DType::kFloat32:
      return "float";
    case DType::kFloat64:
      return "double";
    default:
      return "";
  }
}

std::string CudaArithmeticType(DType dtype) {
  if (!IsInteger(dtype) && dtype != DType::kBool) return CudaCType(dtype);
  return DTypeSize(dtype) == 8 ? "unsigned long long" : "unsigned int";
}

namespace {

// Whether `value` converts exactly into integer or bool `dtype`: a constant out of its range
// converts differently on a GPU, which saturates, and on the host. A guard: no integer program
// holds constants today (clients' composites are float, ParseProgram checks; the provider's
// own lone-op programs have none), but a fusion of integer ops would make them.
bool ExactIn(double value, DType dtype) {
  if (value != std::trunc(value)) return false;  // NaN too
  if (dtype == DType::kBool) return value == 0 || value == 1;
  const int bits = static_cast<int>(DTypeSize(dtype)) * 8;
  const bool is_signed = IsSignedInt(dtype);
  return value >= (is_signed ? -std::ldexp(1.0, bits - 1) : 0.0) &&
         value < std::ldexp(1.0, is_signed ? bits - 1 : bits);
}

}  // namespace

bool ComputesIn(const ops::composite::Program& program) {
  if (!program.reduce.empty() && !FoldsIn(program.reduce, program.dtype)) return false;
  if (FloatDType(program.dtype)) return true;
  if (CudaCType(program.dtype).empty()) return false;
  for (double c : program.constants) {
    if (!ExactIn(c, program.dtype)) return false;
  }
  for (const ops::composite::Instr& ins : program.code) {
    if (ins.op == ops::composite::kConst) continue;
    const std::string op = OpNameOf(ins.op);
    if (op.empty() || CudaExpression(op, program.dtype).empty()) return false;
  }
  return true;
}

namespace {

// What every kernel of `program` begins with: the helpers, T, and the parameters' struct.
absl::StatusOr<std::string> Header(const ops::composite::Program& program, int rank,
                                   const std::string& name) {
  const int n = program.num_inputs;
  if (n > kMaxCompositeInputs || rank > kMaxCompositeRank || rank < 0) {
    return absl::UnimplementedError(
        absl::StrCat("a CUDA composite takes at most ", kMaxCompositeInputs, " inputs over ",
                     kMaxCompositeRank, " merged dims; this one has ", n, " over ", rank));
  }
  // A bare value (reduced, or converted to T) is a program of no instructions over one input.
  if (program.code.empty() && n != 1) {
    return InvalidArgument("composite program has no instructions");
  }
  if (!ComputesIn(program)) {
    return InvalidArgument("a CUDA kernel computes in float32 or float64, does integer ",
                           "arithmetic or compares; not this program in ",
                           DTypeName(program.dtype));
  }
  const std::string type = CudaCType(program.dtype);
  const int dims = rank > 0 ? rank : 1;  // a 0-d output is one element over a dim of 1
  std::string out = absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/composite_source.cc).\n", kPrelude,
      CallsPolygamma(program) ? kPolygamma : "", "\ntypedef ", type, " T;\n");
  if (!FloatDType(program.dtype)) {  // IntegerExpressions' U
    absl::StrAppend(&out, "typedef ", CudaArithmeticType(program.dtype), " U;\n");
  }
  absl::StrAppend(&out, "struct ", name, "_params {\n  long long n;\n  long long shape[", dims,
                  "];\n");
  if (n > 0) {
    absl::StrAppend(&out, "  const void* in[", n, "];\n  long long strides[", n, "][", dims,
                    "];\n");
  }
  absl::StrAppend(&out, "};\n\n");
  return out;
}

// The statements computing element i's value (inside a grid-stride loop over i), ending in the
// register named by `*result`.
absl::StatusOr<std::string> ElementBody(const ops::composite::Program& program, int rank,
                                        const OperandTypes& types, std::string* result) {
  const int n = program.num_inputs;
  if (!types.inputs.empty() && static_cast<int>(types.inputs.size()) != n) {
    return InvalidArgument("operand types for ", types.inputs.size(), " inputs of a program of ",
                           n);
  }
  const int dims = rank > 0 ? rank : 1;
  std::string out;
  // Each read input's element offset, from the output index's coordinates.
  std::string offsets;
  for (int k = 0; k < n; ++k) {
    if (program.input_read[k]) absl::StrAppend(&offsets, "    long long o", k, " = 0;\n");
  }
  if (!offsets.empty()) {
    absl::StrAppend(&out, offsets, "    long long rest = i;\n", "    for (int d = ", dims - 1,
                    "; d >= 0; --d) {\n", "      const long long c = rest % p.shape[d];\n",
                    "      rest /= p.shape[d];\n");
    for (int k = 0; k < n; ++k) {
      if (program.input_read[k])
        absl::StrAppend(&out, "      o", k, " += c * p.strides[", k, "][d];\n");
    }
    absl::StrAppend(&out, "    }\n");
  }
  for (int k = 0; k < n; ++k) {
    // An input read for its shape only (a fill's model) is never loaded; one of another dtype
    // is converted to T as the host's cast would.
    const std::string type = CudaCType(types.inputs.empty() ? program.dtype : types.inputs[k]);
    if (type.empty()) return InvalidArgument("a CUDA kernel reads no ", DTypeName(types.inputs[k]));
    absl::StrAppend(&out, "    const T ", Register(k), " = ",
                    program.input_read[k]
                        ? absl::StrCat("T(((const ", type, "*)p.in[", k, "])[o", k, "])")
                        : "T(0)",
                    ";\n");
  }
  for (size_t j = 0; j < program.code.size(); ++j) {
    const ops::composite::Instr& ins = program.code[j];
    std::string value;
    if (ins.op == ops::composite::kConst) {
      value = Literal(program.constants[ins.args[0]]);
    } else {
      const std::string op = OpNameOf(ins.op);
      if (op.empty()) return InvalidArgument("composite opcode ", ins.op, " is not an op");
      value = CudaExpression(op, program.dtype);
      if (value.empty()) {
        return InvalidArgument("op ", op, " (composite opcode ", ins.op, ") has no CUDA form in ",
                               DTypeName(program.dtype));
      }
      value = absl::StrReplaceAll(value, {{"$0", Register(ins.args[0])},
                                          {"$1", ins.args[1] >= 0 ? Register(ins.args[1]) : ""},
                                          {"$2", ins.args[2] >= 0 ? Register(ins.args[2]) : ""}});
    }
    absl::StrAppend(&out, "    const T ", Register(n + static_cast<int>(j)), " = ", value, ";\n");
  }
  *result = Register(n + static_cast<int>(program.code.size()) - 1);  // r0 for a bare value
  return out;
}

constexpr char kGridStride[] =
    "  const long long step = (long long)blockDim.x * gridDim.x;\n"
    "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.n;"
    " i += step) {\n";

// A reduction's accumulator A, its start and its combining step. Floats fold in double (sums and
// products accumulate in float64, as the host's; max and min propagate NaN as maximum and
// minimum do). Integers fold in 64 bits: sums and products in unsigned arithmetic, which wraps
// as the host's fold in T does once the result is narrowed to T (and in any order); max and min
// with T's signedness. all and any fold each element's truth, 0 or 1.
struct Fold {
  const char* acc;
  const char* init;
  const char* combine;  // of a and b
};
absl::StatusOr<Fold> FoldOf(const ops::composite::Program& program) {
  const std::string& reduce = program.reduce;
  if (!FoldsIn(reduce, program.dtype)) {
    return InvalidArgument("a CUDA kernel computing ", DTypeName(program.dtype),
                           " has no reduction '", reduce, "'");
  }
  if (reduce == "all") return Fold{"unsigned long long", "1ULL", "(a & b)"};
  if (reduce == "any") return Fold{"unsigned long long", "0ULL", "(a | b)"};
  if (IsInteger(program.dtype)) {
    const bool is_signed = IsSignedInt(program.dtype);
    const char* wide = is_signed ? "long long" : "unsigned long long";
    if (reduce == "sum") return Fold{"unsigned long long", "0ULL", "(a + b)"};
    if (reduce == "prod") return Fold{"unsigned long long", "1ULL", "(a * b)"};
    if (reduce == "max") {
      return Fold{wide, is_signed ? "(-0x7fffffffffffffffLL - 1)" : "0ULL", "(a >= b ? a : b)"};
    }
    return Fold{wide, is_signed ? "0x7fffffffffffffffLL" : "0xffffffffffffffffULL",
                "(a <= b ? a : b)"};  // min
  }
  if (reduce == "sum" || reduce == "mean") return Fold{"double", "0.0", "(a + b)"};
  if (reduce == "prod") return Fold{"double", "1.0", "(a * b)"};
  if (reduce == "max") {
    return Fold{"double", "-__longlong_as_double(0x7ff0000000000000LL)", "td_maximum(a, b)"};
  }
  return Fold{"double", "__longlong_as_double(0x7ff0000000000000LL)", "td_minimum(a, b)"};  // min
}

}  // namespace

absl::StatusOr<std::string> CompositeSource(const ops::composite::Program& program, int rank,
                                            const std::string& name, const OperandTypes& types) {
  if (!program.reduce.empty()) {
    return absl::UnimplementedError(
        "a reducing composite has its own kernels (CompositeReduceSource)");
  }
  const DType output = types.output == DType::kInvalid ? program.dtype : types.output;
  if (output != program.dtype && output != DType::kBool) {
    return InvalidArgument("a CUDA kernel computing ", DTypeName(program.dtype),
                           " writes it or "
                           "bool, not ",
                           DTypeName(output));
  }
  TENSORD_ASSIGN_OR_RETURN(std::string out, Header(program, rank, name));
  std::string result;
  TENSORD_ASSIGN_OR_RETURN(std::string body, ElementBody(program, rank, types, &result));
  // A bool is whether the value is nonzero (NaN is), as NumPy casts.
  const std::string stored =
      output == DType::kBool ? absl::StrCat("(", result, " != T(0))") : result;
  absl::StrAppend(&out, "extern \"C\" __global__ void ", name, "(", CudaCType(output),
                  "* out, const ", name, "_params p) {\n", kGridStride, body,
                  "    out[i] = ", stored, ";\n  }\n}\n");
  return out;
}

namespace {

// <name>_fold(a, b), the reduction's combining step, and <name>_block(acc), which folds the
// block's threads' values in a fixed tree and gives every thread the result. The block may
// call it again (the axes kernel's loop over outputs): it waits first for every thread to
// have read the previous result.
std::string FoldFunctions(const Fold& fold, const std::string& name) {
  return absl::StrCat(
      "typedef ", fold.acc, " A;\n", "__device__ __forceinline__ A ", name,
      "_fold(A a, A b) { return ", fold.combine, "; }\n", "__device__ __forceinline__ A ", name,
      "_block(A acc) {\n", "  __shared__ A part[", kReduceThreads, "];\n", "  __syncthreads();\n",
      "  part[threadIdx.x] = acc;\n  __syncthreads();\n", "  for (int s = ", kReduceThreads / 2,
      "; s > 0; s >>= 1) {\n", "    if (threadIdx.x < s) part[threadIdx.x] = ", name,
      "_fold(part[threadIdx.x], part[threadIdx.x + s]);\n",
      "    __syncthreads();\n  }\n  return part[0];\n}\n\n");
}

// A folded value as the output's T: a mean divides by the count `count_expr` (0/0 is NaN).
std::string Finished(const ops::composite::Program& program, const std::string& count_expr) {
  return program.reduce == "mean" ? absl::StrCat("T(acc / (double)", count_expr, ")") : "T(acc)";
}

}  // namespace

absl::StatusOr<std::string> CompositeReduceSource(const ops::composite::Program& program, int rank,
                                                  const std::string& name,
                                                  const OperandTypes& types) {
  if (program.reduce.empty()) return InvalidArgument("the program does not reduce");
  TENSORD_ASSIGN_OR_RETURN(Fold fold, FoldOf(program));
  TENSORD_ASSIGN_OR_RETURN(std::string out, Header(program, rank, name));
  std::string result;
  TENSORD_ASSIGN_OR_RETURN(std::string body, ElementBody(program, rank, types, &result));
  absl::StrAppend(&out, FoldFunctions(fold, name), "extern \"C\" __global__ void ", name,
                  "(A* partials, const ", name, "_params p) {\n  A acc = ", fold.init, ";\n",
                  kGridStride, body, "    acc = ", name, "_fold(acc, (A)", result,
                  ");\n  }\n  acc = ", name,
                  "_block(acc);\n  if (threadIdx.x == 0) partials[blockIdx.x] = acc;\n}\n\n");
  absl::StrAppend(&out, "extern \"C\" __global__ void ", name,
                  "_finish(T* out, const A* partials, long long count, long long n) {\n",
                  "  A acc = ", fold.init, ";\n",
                  "  for (long long j = threadIdx.x; j < count; j += blockDim.x) acc = ", name,
                  "_fold(acc, partials[j]);\n  acc = ", name, "_block(acc);\n",
                  "  if (threadIdx.x == 0) out[0] = ", Finished(program, "n"), ";\n}\n");
  return out;
}

absl::StatusOr<std::string> CompositeReduceAxesSource(const ops::composite::Program& program,
                                                      int rank, const std::string& name,
                                                      const OperandTypes& types) {
  if (program.reduce.empty()) return InvalidArgument("the program does not reduce");
  TENSORD_ASSIGN_OR_RETURN(Fold fold, FoldOf(program));
  TENSORD_ASSIGN_OR_RETURN(std::string out, Header(program, rank, name));
  std::string result;
  TENSORD_ASSIGN_OR_RETURN(std::string body, ElementBody(program, rank, types, &result));
  const std::string signature =
      absl::StrCat("(T* out, const ", name, "_params p, long long outputs, long long reduced) {\n");
  // Element (o, r) of the [kept..., reduced...] walk is flat index o * reduced + r.
  const std::string element =
      absl::StrCat("      const long long i = o * reduced + r;\n", body, "      acc = ", name,
                   "_fold(acc, (A)", result, ");\n    }\n");
  absl::StrAppend(&out, FoldFunctions(fold, name));
  // The block's threads walk one output's elements, then fold them in the block's tree.
  absl::StrAppend(&out, "extern \"C\" __global__ void ", name, "_by_block", signature,
                  "  for (long long o = blockIdx.x; o < outputs; o += gridDim.x) {\n",
                  "    A acc = ", fold.init, ";\n",
                  "    for (long long r = threadIdx.x; r < reduced; r += blockDim.x) {\n", element,
                  "    acc = ", name, "_block(acc);\n",
                  "    if (threadIdx.x == 0) out[o] = ", Finished(program, "reduced"),
                  ";\n  }\n}\n\n");
  // One thread walks one output's elements in order.
  absl::StrAppend(&out, "extern \"C\" __global__ void ", name, "_by_thread", signature,
                  "  const long long step = (long long)blockDim.x * gridDim.x;\n",
                  "  for (long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x; "
                  "o < outputs; o += step) {\n",
                  "    A acc = ", fold.init, ";\n",
                  "    for (long long r = 0; r < reduced; ++r) {\n", element,
                  "    out[o] = ", Finished(program, "reduced"), ";\n  }\n}\n");
  return out;
}

}  // namespace tensord::cuda
