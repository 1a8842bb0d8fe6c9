// Parity of reduction type inference: the C++ client's reduction helpers (Sum, Prod, Max, Mean,
// Argmax, MaxAndArgmax ..., typed by the table generated from op_schema.json) against the real
// server's, for every op the server's schema gives a reduction typing, over a seeded sample of
// input dtype x rank 0-3 x broadcastable pattern x axes (none, one, one from the end, several,
// and invalid ones) x the dtype attribute of the ops that accumulate (sum, prod).
//
// As in elementwise_parity_test.cc: cases the client accepts go to the server in one Compile,
// which re-infers every node and refuses a declared type that differs, so a successful compile
// whose output_types are the client's is agreement. Cases the client refuses (out-of-range or
// repeated axes) go one by one as raw applies, which the server must refuse as well.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tensord/client.h"
#include "tensord/ops.h"
#include "tensord/ops_reduce.h"
#include "tests/integration/parity_test_util.h"

namespace tensord::client {
namespace {

namespace v1 = ::tensord::v1;

constexpr uint32_t kSeed = 12;
// Cases per op and (input dtype, rank): every op meets every dtype at every rank, with random
// patterns, axes and dtype attributes; about 1,600 cases over the schema's 12 reductions.
constexpr int kCasesPerDTypeAndRank = 3;
constexpr int kMaxRank = 3;

using Axes = std::vector<int64_t>;

struct Case {
  std::string op;
  v1::TensorType input;
  Axes axes;                          // as the helper is given them; empty: every axis (None)
  DType dtype_attr = v1::DT_INVALID;  // the accumulator of sum and prod; DT_INVALID: none
  int num_outputs = 1;                // the schema's
};

std::string CaseText(const Case& c) {
  std::string text = absl::StrCat(c.op, "(", TypeText(c.input));
  if (!c.axes.empty()) absl::StrAppend(&text, ", axis=[", absl::StrJoin(c.axes, ","), "]");
  if (c.dtype_attr != v1::DT_INVALID) absl::StrAppend(&text, ", dtype=", DTypeName(c.dtype_attr));
  return text + ")";
}

std::string TypesText(const std::vector<v1::TensorType>& types) {
  return absl::StrJoin(types, ", ",
                       [](std::string* out, const v1::TensorType& t) { out->append(TypeText(t)); });
}

// The public helper of each schema reduction, called as a user calls it; `dtype` reaches the
// helpers that take one. A reduction the server adds fails the test until it has a helper here.
using Helper = std::function<std::vector<Var>(Var x, const Axes& axes, DType dtype)>;

const std::map<std::string, Helper>& Helpers() {
  static const auto* helpers = new std::map<std::string, Helper>{
      {"all", [](Var x, const Axes& a, DType) { return std::vector{All(x, a)}; }},
      {"any", [](Var x, const Axes& a, DType) { return std::vector{Any(x, a)}; }},
      {"argmax", [](Var x, const Axes& a, DType) { return std::vector{Argmax(x, a)}; }},
      {"argmin", [](Var x, const Axes& a, DType) { return std::vector{Argmin(x, a)}; }},
      {"max", [](Var x, const Axes& a, DType) { return std::vector{Max(x, a)}; }},
      {"max_and_argmax",
       [](Var x, const Axes& a, DType) {
         auto [max, argmax] = MaxAndArgmax(x, a);
         return std::vector{max, argmax};
       }},
      {"mean", [](Var x, const Axes& a, DType) { return std::vector{Mean(x, a)}; }},
      {"min", [](Var x, const Axes& a, DType) { return std::vector{Min(x, a)}; }},
      {"prod", [](Var x, const Axes& a, DType d) { return std::vector{Prod(x, a, d)}; }},
      {"std", [](Var x, const Axes& a, DType) { return std::vector{Std(x, a)}; }},
      {"sum", [](Var x, const Axes& a, DType d) { return std::vector{Sum(x, a, d)}; }},
      {"var", [](Var x, const Axes& a, DType) { return std::vector{Variance(x, a)}; }},
  };
  return *helpers;
}

std::vector<Var> CallHelper(const Case& c, Var x) {
  return Helpers().at(c.op)(x, c.axes, c.dtype_attr);
}

// Which axes a case passes. The last two are refused by client and server alike.
enum class AxisChoice { kNone, kOne, kOneFromEnd, kSeveral, kOutOfRange, kRepeated };

Axes RandomAxes(std::mt19937& rng, int rank) {
  // Weights per AxisChoice; a choice the rank cannot make weighs nothing (one axis of a 0-d
  // input, several of a vector).
  const std::vector<double> weights = {
      2, rank >= 1 ? 2.0 : 0, rank >= 1 ? 2.0 : 0, rank >= 2 ? 3.0 : 0, 1, rank >= 1 ? 1.0 : 0};
  const auto choice =
      static_cast<AxisChoice>(std::discrete_distribution<int>(weights.begin(), weights.end())(rng));
  auto axis = [&] { return std::uniform_int_distribution<int64_t>(0, rank - 1)(rng); };
  switch (choice) {
    case AxisChoice::kNone:
      return {};
    case AxisChoice::kOne:
      return {axis()};
    case AxisChoice::kOneFromEnd:
      return {axis() - rank};
    case AxisChoice::kSeveral: {
      // Two or more axes in random order, each counted from the front or from the end.
      Axes axes(rank);
      std::iota(axes.begin(), axes.end(), 0);
      std::shuffle(axes.begin(), axes.end(), rng);
      axes.resize(std::uniform_int_distribution<int>(2, rank)(rng));
      for (int64_t& a : axes) {
        if (std::bernoulli_distribution(0.5)(rng)) a -= rank;
      }
      return axes;
    }
    case AxisChoice::kOutOfRange:
      return {std::bernoulli_distribution(0.5)(rng) ? rank : -rank - 1};
    case AxisChoice::kRepeated: {
      const int64_t a = axis();
      return {a, a - rank};
    }
  }
  return {};
}

bool Accumulates(const v1::OpSignature& op) {
  const auto& outputs = op.reduction().outputs();
  return std::find(outputs.begin(), outputs.end(), v1::REDUCED_DTYPE_ACCUMULATE) != outputs.end();
}

std::vector<Case> SampleCases(const std::vector<const v1::OpSignature*>& reductions,
                              std::mt19937& rng) {
  std::vector<Case> cases;
  for (const v1::OpSignature* op : reductions) {
    for (DType dtype : kParityDTypes) {
      for (int rank = 0; rank <= kMaxRank; ++rank) {
        for (int k = 0; k < kCasesPerDTypeAndRank; ++k) {
          Case c{op->name(),
                 {},
                 RandomAxes(rng, rank),
                 v1::DT_INVALID,
                 op->reduction().outputs_size()};
          c.input.set_dtype(dtype);
          for (int d = 0; d < rank; ++d) {
            c.input.add_broadcastable(std::bernoulli_distribution(0.35)(rng));
          }
          if (Accumulates(*op) && std::bernoulli_distribution(0.4)(rng)) {
            c.dtype_attr = RandomParityDType(rng);
          }
          cases.push_back(std::move(c));
        }
      }
    }
  }
  return cases;
}

// The client's answer: the output types the helper gives, or its refusal.
absl::StatusOr<std::vector<v1::TensorType>> ClientAnswer(const Case& c) {
  GraphBuilder g;
  std::vector<v1::TensorType> types;
  for (Var out : CallHelper(c, InputOf(g, c.input))) {
    if (!out.valid()) break;
    types.push_back(out.type());
  }
  if (g.status().ok() && static_cast<int>(types.size()) == c.num_outputs) return types;
  return g.status().ok() ? absl::InternalError("an invalid Var and no error") : g.status();
}

class ReductionParityTest : public ParityTest {
 protected:
  // Compiles the client's graphs of `cases` as one function. Returns the server's output types
  // (the cases' outputs in order), or its error (the first node it disagrees on).
  absl::StatusOr<std::vector<v1::TensorType>> ServerTypes(const std::vector<Case>& cases) {
    GraphBuilder g;
    InputPool pool(g);
    std::vector<Var> outputs;
    for (const Case& c : cases) {
      for (Var out : CallHelper(c, pool.Get(c.input))) outputs.push_back(out);
    }
    return CompiledTypes(g, pool.inputs(), outputs);
  }

  // The server's answer to a node the client refuses, sent with the axes as given. Its declared
  // outputs have one rank more than the input, a type the server never infers for a reduction
  // (see ServerRefusesOnItsOwn).
  absl::Status ServerAnswerToRaw(const Case& c) {
    GraphBuilder g;
    Var x = InputOf(g, c.input);
    AttrMap attrs;
    if (!c.axes.empty()) attrs["axis"] = IntsAttr(c.axes);
    if (c.dtype_attr != v1::DT_INVALID) attrs["dtype"] = DTypeAttr(c.dtype_attr);
    v1::TensorType impossible;
    impossible.set_dtype(kFloat64);
    for (int d = 0; d <= c.input.broadcastable_size(); ++d) impossible.add_broadcastable(false);
    std::vector<Var> out = g.Apply(c.op, {x}, attrs, std::vector(c.num_outputs, impossible));
    return Compile(g, {x}, out).status();
  }
};

TEST_F(ReductionParityTest, ClientTypesEveryCaseAsTheServerDoes) {
  auto info = client_->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  std::vector<const v1::OpSignature*> reductions;
  for (const v1::OpSignature& op : info->op_schema().ops()) {
    if (!op.has_reduction()) continue;
    ASSERT_TRUE(Helpers().count(op.name()))
        << "the schema's reduction '" << op.name() << "' has no C++ helper in this test";
    reductions.push_back(&op);
  }
  ASSERT_FALSE(reductions.empty()) << "the server's schema types no reduction";
  std::mt19937 rng(kSeed);
  const std::vector<Case> cases = SampleCases(reductions, rng);

  std::vector<Case> accepted, refused;
  std::vector<v1::TensorType> client_types;  // the accepted cases' outputs in order
  std::map<std::string, std::set<DType>> accepted_dtypes;
  std::set<std::string> accepted_with_attr;
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<v1::TensorType>> answer = ClientAnswer(c);
    if (answer.ok()) {
      accepted.push_back(c);
      client_types.insert(client_types.end(), answer->begin(), answer->end());
      accepted_dtypes[c.op].insert(c.input.dtype());
      if (c.dtype_attr != v1::DT_INVALID) accepted_with_attr.insert(c.op);
    } else {
      EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument)
          << CaseText(c) << ": " << answer.status();
      refused.push_back(c);
    }
  }
  // The sample must compare every op on every dtype, the dtype attribute where an op takes one,
  // and refusals, or part of the comparison is vacuous.
  for (const v1::OpSignature* op : reductions) {
    EXPECT_EQ(accepted_dtypes[op->name()].size(), std::size(kParityDTypes)) << op->name();
    EXPECT_EQ(accepted_with_attr.count(op->name()), Accumulates(*op) ? 1u : 0u) << op->name();
  }
  ASSERT_FALSE(refused.empty());

  int reported = 0;
  absl::StatusOr<std::vector<v1::TensorType>> server_types = ServerTypes(accepted);
  if (server_types.ok()) {
    ASSERT_EQ(server_types->size(), client_types.size());
    size_t k = 0;
    for (const Case& c : accepted) {
      const std::vector<v1::TensorType> client(client_types.begin() + k,
                                               client_types.begin() + k + c.num_outputs);
      const std::vector<v1::TensorType> server(server_types->begin() + k,
                                               server_types->begin() + k + c.num_outputs);
      k += c.num_outputs;
      const auto same = [](const v1::TensorType& a, const v1::TensorType& b) {
        return a.SerializeAsString() == b.SerializeAsString();
      };
      if (!std::equal(client.begin(), client.end(), server.begin(), same) &&
          reported++ < kMaxReported) {
        ADD_FAILURE() << CaseText(c) << ": client " << TypesText(client) << ", server "
                      << TypesText(server);
      }
    }
  } else {
    // The batch names only the first disagreement: find every one, case by case.
    for (size_t i = 0; i < accepted.size() && reported < kMaxReported; ++i) {
      absl::StatusOr<std::vector<v1::TensorType>> one = ServerTypes({accepted[i]});
      if (!one.ok()) {
        ++reported;
        ADD_FAILURE() << CaseText(accepted[i]) << ": client "
                      << TypesText(*ClientAnswer(accepted[i])) << ", server " << one.status();
      }
    }
    EXPECT_GT(reported, 0) << "the batch failed, no case alone does: " << server_types.status();
  }

  for (size_t i = 0; i < refused.size() && reported < kMaxReported; ++i) {
    const absl::Status server = ServerAnswerToRaw(refused[i]);
    if (!ServerRefusesOnItsOwn(server)) {
      ++reported;
      ADD_FAILURE() << CaseText(refused[i]) << ": client " << ClientAnswer(refused[i]).status()
                    << ", server " << server;
    }
  }
}

}  // namespace
}  // namespace tensord::client
