// Parity of elementwise type inference: the C++ client's (Elementwise(), typed by the table
// generated from op_schema.json) against the real server's, for every op the server's schema
// types, over a seeded sample of input dtypes x broadcastable patterns x ranks 0-3 (variadic ops
// with 3 inputs).
//
// Cases the client accepts go to the server in one Compile: it re-infers every node and refuses
// a declared type that differs, so a successful compile whose output_types are the client's is
// agreement. Cases the client refuses go one by one as raw applies (no client inference), which
// the server must refuse as well, for the dtypes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tensord/client.h"
#include "tensord/ops.h"
#include "tests/integration/parity_test_util.h"

namespace tensord::client {
namespace {

namespace v1 = ::tensord::v1;

constexpr uint32_t kSeed = 12;
// Cases over all ops: enough for every op to meet most dtype classes, few enough to run in a
// few seconds (the refused ones cost one Compile each).
constexpr int kCases = 3000;

struct Case {
  std::string op;
  std::vector<v1::TensorType> inputs;
};

std::string CaseText(const Case& c) {
  return absl::StrCat(
      c.op, "(",
      absl::StrJoin(c.inputs, ", ",
                    [](std::string* out, const v1::TensorType& t) { out->append(TypeText(t)); }),
      ")");
}

// A random type of `dtype` (a random one when DT_INVALID): rank 0-3, each dim broadcastable or not.
v1::TensorType RandomType(std::mt19937& rng, DType dtype) {
  v1::TensorType t;
  if (dtype == v1::DT_INVALID) {
    dtype = RandomParityDType(rng);
  }
  t.set_dtype(dtype);
  const int rank = std::uniform_int_distribution<int>(0, 3)(rng);
  for (int d = 0; d < rank; ++d) t.add_broadcastable(std::bernoulli_distribution(0.35)(rng));
  return t;
}

// kCases cases spread evenly over the ops the schema types. Each op's first cases give all its
// inputs one dtype, each dtype in turn, so every op meets the refusals that need every input of
// a class (bool - bool, int_div of bools, xor of floats); the rest mix dtypes at random.
std::vector<Case> SampleCases(const v1::OpSchema& schema, std::mt19937& rng) {
  std::vector<const v1::OpSignature*> typed;
  for (const v1::OpSignature& op : schema.ops()) {
    if (op.has_typing()) typed.push_back(&op);
  }
  std::vector<Case> cases;
  if (typed.empty()) return cases;
  for (const v1::OpSignature* op : typed) {
    for (size_t k = 0; k < kCases / typed.size(); ++k) {
      const DType all = k < std::size(kParityDTypes) ? kParityDTypes[k] : v1::DT_INVALID;
      const int n = op->max_inputs() < 0 ? 3
                                         : std::uniform_int_distribution<int>(
                                               op->min_inputs(), op->max_inputs())(rng);
      Case c{op->name(), {}};
      for (int i = 0; i < n; ++i) c.inputs.push_back(RandomType(rng, all));
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

std::vector<Var> InputsOf(GraphBuilder& g, const Case& c) {
  std::vector<Var> inputs;
  for (const v1::TensorType& t : c.inputs) inputs.push_back(InputOf(g, t));
  return inputs;
}

// The client's answer: the output type Elementwise() gives, or its refusal.
absl::StatusOr<v1::TensorType> ClientAnswer(const Case& c) {
  GraphBuilder g;
  Var out = Elementwise(c.op, InputsOf(g, c));
  if (out.valid()) return out.type();
  return g.status().ok() ? absl::InternalError("an invalid Var and no error") : g.status();
}

class ElementwiseParityTest : public ParityTest {
 protected:
  // Compiles the client's graphs of `cases` as one function. Returns the server's output types,
  // or its error (the first node it disagrees on).
  absl::StatusOr<std::vector<v1::TensorType>> ServerTypes(const std::vector<Case>& cases) {
    GraphBuilder g;
    InputPool pool(g);
    std::vector<Var> outputs;
    for (const Case& c : cases) {
      std::vector<Var> ins;
      for (const v1::TensorType& t : c.inputs) ins.push_back(pool.Get(t));
      outputs.push_back(Elementwise(c.op, ins));
    }
    return CompiledTypes(g, pool.inputs(), outputs);
  }

  // The server's answer to a node the client refuses, sent as is (no rank padding). Its declared
  // output has one rank more than any input, a type the server never infers for an elementwise
  // node (see ServerRefusesOnItsOwn).
  absl::Status ServerAnswerToRaw(const Case& c) {
    GraphBuilder g;
    std::vector<Var> inputs = InputsOf(g, c);
    v1::TensorType impossible;
    impossible.set_dtype(kFloat64);
    int rank = 0;
    for (const v1::TensorType& t : c.inputs) rank = std::max(rank, t.broadcastable_size());
    for (int d = 0; d <= rank; ++d) impossible.add_broadcastable(false);
    std::vector<Var> out = g.Apply(c.op, inputs, {}, {impossible});
    return Compile(g, inputs, out).status();
  }
};

TEST_F(ElementwiseParityTest, ClientTypesEveryCaseAsTheServerDoes) {
  auto info = client_->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  std::mt19937 rng(kSeed);
  const std::vector<Case> cases = SampleCases(info->op_schema(), rng);
  ASSERT_GT(cases.size(), 1000u) << "the server's schema types too few ops";

  std::vector<Case> accepted, refused;
  std::vector<v1::TensorType> client_types;
  for (const Case& c : cases) {
    absl::StatusOr<v1::TensorType> answer = ClientAnswer(c);
    if (answer.ok()) {
      accepted.push_back(c);
      client_types.push_back(*answer);
    } else {
      EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument)
          << CaseText(c) << ": " << answer.status();
      refused.push_back(c);
    }
  }
  // Both paths must be exercised, or half of the comparison is vacuous.
  ASSERT_FALSE(accepted.empty());
  ASSERT_FALSE(refused.empty());

  int reported = 0;
  absl::StatusOr<std::vector<v1::TensorType>> server_types = ServerTypes(accepted);
  if (server_types.ok()) {
    ASSERT_EQ(server_types->size(), accepted.size());
    for (size_t i = 0; i < accepted.size() && reported < kMaxReported; ++i) {
      if ((*server_types)[i].SerializeAsString() != client_types[i].SerializeAsString()) {
        ++reported;
        ADD_FAILURE() << CaseText(accepted[i]) << ": client " << TypeText(client_types[i])
                      << ", server " << TypeText((*server_types)[i]);
      }
    }
  } else {
    // The batch names only the first disagreement: find every one, case by case.
    for (size_t i = 0; i < accepted.size() && reported < kMaxReported; ++i) {
      absl::StatusOr<std::vector<v1::TensorType>> one = ServerTypes({accepted[i]});
      if (!one.ok()) {
        ++reported;
        ADD_FAILURE() << CaseText(accepted[i]) << ": client " << TypeText(client_types[i])
                      << ", server " << one.status();
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
