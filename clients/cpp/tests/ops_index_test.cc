// Index specs: idx_list encoding, op choice and output types of the subtensor family.
#include <gtest/gtest.h>

#include <limits>

#include "tensord/graph.h"
#include "tensord/ops.h"
#include "tests/builder_test_util.h"

namespace tensord::client {
namespace {

namespace v1 = ::tensord::v1;
using testing::Bc;
using testing::Ints;
using testing::ProducerOf;

constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
constexpr int64_t kSym = std::numeric_limits<int64_t>::min() + 1;

std::vector<int64_t> IdxList(const GraphBuilder& g, Var v) {
  const auto& values = ProducerOf(g, v)->attrs().at("idx_list").ints().values();
  return {values.begin(), values.end()};
}

TEST(OpsIndex, BasicIndexEncodesIntsSlicesAndSymbolicParts) {
  GraphBuilder g;
  Var x = g.Tensor3("x");
  Var i = g.Scalar("i", kInt32);
  Var a = GetItem(x, {1, Slice(Var(), 3), Slice(Var(), Var(), -1)});
  ASSERT_TRUE(a.valid()) << g.status();
  EXPECT_EQ(ProducerOf(g, a)->op(), "subtensor");
  EXPECT_EQ(IdxList(g, a),
            (std::vector<int64_t>{0, 1, 0, 0, 1, kNone, 3, kNone, 1, kNone, kNone, -1}));
  EXPECT_EQ(a.ndim(), 2);
  Var b = GetItem(x, {Slice(), i});
  EXPECT_EQ(IdxList(g, b), (std::vector<int64_t>{1, kNone, kNone, kNone, 0, kSym, 0, 0}));
  EXPECT_EQ(ProducerOf(g, b)->inputs_size(), 2);
  EXPECT_EQ(ProducerOf(g, b)->inputs(1), i.id());
  EXPECT_EQ(b.ndim(), 2);
  // A constant 0-d Var travels as an attribute.
  Var c = GetItem(x, {g.Literal(2)});
  EXPECT_EQ(IdxList(g, c), (std::vector<int64_t>{0, 2, 0, 0}));
  EXPECT_EQ(Subtensor(x, {Ellipsis(), 0}).ndim(), 2);
  ASSERT_TRUE(g.status().ok()) << g.status();
}

TEST(OpsIndex, SlicesKeepBroadcastableDimsOnlyFromZero) {
  GraphBuilder g;
  Var r = g.Row("r");  // (True, False)
  EXPECT_EQ(Bc(GetItem(r, {Slice()})), (std::vector<bool>{true, false}));
  EXPECT_EQ(Bc(GetItem(r, {Slice(0, 1)})), (std::vector<bool>{true, false}));
  EXPECT_EQ(Bc(GetItem(r, {Slice(1)})), (std::vector<bool>{false, false}));
  EXPECT_EQ(Bc(GetItem(r, {Slice(Var(), g.Scalar("s", kInt64))})),
            (std::vector<bool>{false, false}));
  EXPECT_EQ(Bc(GetItem(r, {Slice(Var(), 0)})), (std::vector<bool>{false, false}));
  EXPECT_EQ(Bc(GetItem(r, {NewAxis(), Slice(), 0})), (std::vector<bool>{true, true}));
  ASSERT_TRUE(g.status().ok()) << g.status();
}

TEST(OpsIndex, AdvancedIndexingChoosesTheOpAndLayout) {
  GraphBuilder g;
  Var x = g.Tensor3("x");
  Var iv = IndexArray(g, {0, 2, 2});
  Var a1 = GetItem(x, {iv});
  EXPECT_EQ(ProducerOf(g, a1)->op(), "advanced_subtensor1");
  EXPECT_EQ(Bc(a1), (std::vector<bool>{false, false, false}));
  EXPECT_EQ(ProducerOf(g, GetItem(x, {iv, Slice(), Slice()}))->op(), "advanced_subtensor1");
  Var m = g.Matrix("m", kInt64);
  // Adjacent arrays: their broadcast dims replace them in place.
  Var adj = GetItem(x, {Slice(), m, iv});
  EXPECT_EQ(ProducerOf(g, adj)->op(), "advanced_subtensor");
  EXPECT_EQ(IdxList(g, adj),
            (std::vector<int64_t>{1, kNone, kNone, kNone, 2, 0, 0, 0, 2, 0, 0, 0}));
  EXPECT_EQ(adj.ndim(), 3);
  // Separated arrays: the index dims come first; ints become 0-d index arrays.
  Var sep = GetItem(x, {iv, Slice(1), 0});
  EXPECT_EQ(IdxList(g, sep), (std::vector<int64_t>{2, 0, 0, 0, 1, 1, kNone, kNone, 2, 0, 0, 0}));
  EXPECT_EQ(Bc(sep), (std::vector<bool>{false, false}));
  Var mask = g.Matrix("mask", kBool);
  Var masked = GetItem(x, {mask});
  EXPECT_EQ(Bc(masked), (std::vector<bool>{false, false}));
  Var forced = AdvancedSubtensor(x, {1});
  EXPECT_EQ(ProducerOf(g, forced)->op(), "advanced_subtensor");
  EXPECT_EQ(forced.ndim(), 2);
  Var t = Take(x, iv, 1);
  EXPECT_EQ(t.ndim(), 3);
  EXPECT_EQ(Take(x, g.Vector("k", kInt32)).ndim(), 1);
  EXPECT_EQ(ProducerOf(g, Take(x, iv, 0))->op(), "advanced_subtensor1");
  ASSERT_TRUE(g.status().ok()) << g.status();
}

TEST(OpsIndex, SetAndIncSubtensorRebuildTheIndex) {
  GraphBuilder g;
  Var x = g.Matrix("x"), y = g.Vector("y");
  Var i = g.Scalar("i", kInt64);
  Var set = SetSubtensor(GetItem(x, {i}), y);
  const v1::Apply* a = ProducerOf(g, set);
  EXPECT_EQ(a->op(), "inc_subtensor");
  EXPECT_TRUE(a->attrs().at("set_instead_of_inc").b());
  EXPECT_EQ(IdxList(g, set), (std::vector<int64_t>{0, kSym, 0, 0}));
  ASSERT_EQ(a->inputs_size(), 3);
  EXPECT_EQ(a->inputs(0), x.id());
  EXPECT_EQ(a->inputs(1), y.id());
  EXPECT_EQ(a->inputs(2), i.id());
  EXPECT_EQ(set.type().SerializeAsString(), x.type().SerializeAsString());
  Var inc1 = IncSubtensor(GetItem(x, {IndexArray(g, {1, 1})}), 1.5);
  EXPECT_EQ(ProducerOf(g, inc1)->op(), "advanced_inc_subtensor1");
  EXPECT_FALSE(ProducerOf(g, inc1)->attrs().at("set_instead_of_inc").b());
  Var inc = IncSubtensor(GetItem(x, {IndexArray(g, {0}), IndexArray(g, {1})}), y);
  EXPECT_EQ(ProducerOf(g, inc)->op(), "advanced_inc_subtensor");
  ASSERT_TRUE(g.status().ok()) << g.status();

  EXPECT_FALSE(SetSubtensor(x, y).valid());                // not a subtensor
  EXPECT_FALSE(SetSubtensor(GetItem(x, {0}), x).valid());  // rank too high
}

TEST(OpsIndex, BadIndicesAreStickyErrors) {
  GraphBuilder g;
  Var x = g.Matrix("x");
  EXPECT_FALSE(GetItem(x, {0, 0, 0}).valid());
  EXPECT_FALSE(GetItem(x, {Ellipsis(), Ellipsis()}).valid());
  EXPECT_FALSE(GetItem(x, {Slice(0, 2, 0)}).valid());
  EXPECT_FALSE(GetItem(x, {Slice(g.Scalar("f"))}).valid());  // float bound
  EXPECT_FALSE(GetItem(x, {g.Vector("fv")}).valid());        // float index array
  EXPECT_FALSE(Subtensor(x, {IndexArray(g, {0})}).valid());
  EXPECT_FALSE(AdvancedSubtensor1(g.Scalar("s"), IndexArray(g, {0})).valid());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tensord::client
