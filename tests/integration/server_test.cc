// End to end through the real server: compile, run, shared variables, updates, givens, cache.
#include <gtest/gtest.h>

#include <thread>

#include "tensord/client.h"
#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

class ServerTest : public LiveServerTest {
 protected:
  static void SetUpTestSuite() { StartServer({"--contexts=dev0->cpu"}); }
};

TEST_F(ServerTest, ServerInfoListsContextsAndOps) {
  auto info = client_->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->contexts_size(), 2);
  EXPECT_EQ(info->contexts(0).name(), "cpu");
  EXPECT_EQ(info->contexts(1).name(), "dev0");
  EXPECT_EQ(info->default_context(), "cpu");
  EXPECT_GE(info->ops_size(), 16);
}

TEST_F(ServerTest, AddsMatricesAndCachesTheSecondCompile) {
  GraphBuilder g;
  Var x = g.Matrix("x", kFloat32), y = g.Matrix("y", kFloat32);
  auto f = session_->Compile(g, {x, y}, {x + y});
  ASSERT_TRUE(f.ok()) << f.status();
  auto a = HostTensor::Matrix<float>({{1, 2}, {1, 3}});
  auto b = HostTensor::Matrix<float>({{1, 0}, {3, 4}});
  auto out = f->Run({*a, *b});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*(*out)[0].ToVector<float>(), (std::vector<float>{2, 2, 4, 7}));

  // Same graph from a second builder and a second session: one executable.
  auto other = client_->OpenSession();
  ASSERT_TRUE(other.ok());
  GraphBuilder g2;
  Var p = g2.Matrix("p", kFloat32), q = g2.Matrix("q", kFloat32);
  auto f2 = other->Compile(g2, {p, q}, {p + q});
  ASSERT_TRUE(f2.ok()) << f2.status();
  EXPECT_TRUE(f2->cache_hit());
  EXPECT_EQ(f2->fingerprint(), f->fingerprint());
}

TEST_F(ServerTest, BigTensorsCrossTheWireIntact) {
  // Megabytes each way: the server reads the inputs from gRPC's slices straight into tensors
  // and sends the outputs as their own buffers (server/run_codec.h), a transposed view among
  // them; the reply's buffers outlive the call that made them.
  GraphBuilder g;
  Var x = g.Matrix("x", kFloat32);
  auto f = session_->Compile(g, {x}, {x * 2.0f, x.T(), Sum(x)});
  ASSERT_TRUE(f.ok()) << f.status();
  const int rows = 512, cols = 1000;
  std::vector<std::vector<float>> m(rows, std::vector<float>(cols));
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m[r][c] = static_cast<float>(r * cols + c % 7);
  auto a = HostTensor::Matrix<float>(m);
  ASSERT_TRUE(a.ok());
  for (int call = 0; call < 3; ++call) {
    auto out = f->Run({*a});
    ASSERT_TRUE(out.ok()) << out.status();
    auto doubled = (*out)[0].ToVector<float>();
    auto transposed = (*out)[1].ToVector<float>();
    ASSERT_TRUE(doubled.ok() && transposed.ok());
    ASSERT_EQ(doubled->size(), static_cast<size_t>(rows * cols));
    EXPECT_EQ((*out)[1].shape(), (std::vector<int64_t>{cols, rows}));
    for (int r = 0; r < rows; r += 37) {
      for (int c = 0; c < cols; c += 11) {
        ASSERT_EQ((*doubled)[r * cols + c], 2 * m[r][c]);
        ASSERT_EQ((*transposed)[c * rows + r], m[r][c]);
      }
    }
  }
}

TEST_F(ServerTest, SharedVariableUpdatesAreAppliedAfterEachRun) {
  auto w = session_->CreateShared("w", HostTensor::Scalar<double>(1.0));
  ASSERT_TRUE(w.ok()) << w.status();
  GraphBuilder g;
  Var x = g.Scalar("x", kFloat64);
  Var wv = w->In(g);
  auto f = session_->Compile(g, {x}, {}, {{wv, wv * x}});
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->Run({HostTensor::Scalar<double>(4.0)}).ok());
  ASSERT_TRUE(f->Run({HostTensor::Scalar<double>(0.5)}).ok());
  auto value = w->GetValue();
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value->ToVector<double>(), std::vector<double>{2.0});
  ASSERT_TRUE(w->SetValue(HostTensor::Scalar<double>(3.0)).ok());
  EXPECT_EQ(*w->GetValue()->ToVector<double>(), std::vector<double>{3.0});
}

TEST_F(ServerTest, ListSharedReportsTypesAndShapes) {
  ASSERT_TRUE(session_->CreateShared("v", HostTensor::Vector<float>({1, 2, 3})).ok());
  ASSERT_TRUE(session_->CreateShared("n", HostTensor::Scalar<int64_t>(0)).ok());
  auto all = session_->ListShared();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  for (const Shared& s : *all) {
    if (s.name() == "v") {
      EXPECT_EQ(s.shape(), std::vector<int64_t>{3});
      EXPECT_EQ(s.dtype(), kFloat32);
    } else {
      EXPECT_EQ(s.name(), "n");
      EXPECT_TRUE(s.shape().empty());
      EXPECT_EQ(s.dtype(), kInt64);
    }
  }
}

TEST_F(ServerTest, ConcurrentUpdatesAreSerialized) {
  auto counter = session_->CreateShared("counter", HostTensor::Scalar<int64_t>(0));
  ASSERT_TRUE(counter.ok());
  GraphBuilder g;
  Var c = counter->In(g);
  auto f = session_->Compile(g, {}, {}, {{c, c + g.Literal<int64_t>(1)}});
  ASSERT_TRUE(f.ok()) << f.status();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(f->Run({}).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(*counter->GetValue()->ToVector<int64_t>(), std::vector<int64_t>{200});
}

TEST_F(ServerTest, GivensReplaceAVariable) {
  auto w = session_->CreateShared("w", HostTensor::Vector<float>({1, 2, 3}));
  ASSERT_TRUE(w.ok());
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32), y = g.Vector("y", kFloat32);
  auto f = session_->Compile(g, {y}, {x * y}, {}, {{x, w->In(g)}});
  ASSERT_TRUE(f.ok()) << f.status();
  auto out = f->Run({HostTensor::Vector<float>({2, 2, 2})});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*(*out)[0].ToVector<float>(), (std::vector<float>{2, 4, 6}));
}

TEST_F(ServerTest, ReductionsDotAndReshape) {
  GraphBuilder g;
  Var a = g.Matrix("a", kFloat64);
  Var v = g.Vector("v", kFloat64);
  auto f = session_->Compile(g, {a, v},
                             {Dot(a, v), Sum(a, {0}), Max(a, {1}), Reshape(a, {-1}), Transpose(a)});
  ASSERT_TRUE(f.ok()) << f.status();
  auto m = HostTensor::Matrix<double>({{1, 2, 3}, {4, 5, 6}});
  auto out = f->Run({*m, HostTensor::Vector<double>({1, 0, -1})});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*(*out)[0].ToVector<double>(), (std::vector<double>{-2, -2}));
  EXPECT_EQ(*(*out)[1].ToVector<double>(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(*(*out)[2].ToVector<double>(), (std::vector<double>{3, 6}));
  EXPECT_EQ((*out)[3].shape(), (std::vector<int64_t>{6}));
  EXPECT_EQ(*(*out)[4].ToVector<double>(), (std::vector<double>{1, 4, 2, 5, 3, 6}));
}

TEST_F(ServerTest, DescribeShowsOnlyThisSessionsNames) {
  // Two sessions compile the same function (one cached executable) under different names.
  auto mine = session_->CreateShared("alice_weights", HostTensor::Vector<float>({1, 2}));
  ASSERT_TRUE(mine.ok());
  GraphBuilder g;
  Var x = g.Vector("alice_input", kFloat32);
  auto f = session_->Compile(g, {x}, {x * mine->In(g)});
  ASSERT_TRUE(f.ok()) << f.status();

  auto other = client_->OpenSession();
  ASSERT_TRUE(other.ok());
  auto theirs = other->CreateShared("bob_weights", HostTensor::Vector<float>({3, 4}));
  ASSERT_TRUE(theirs.ok());
  GraphBuilder g2;
  Var y = g2.Vector("bob_input", kFloat32);
  auto f2 = other->Compile(g2, {y}, {y * theirs->In(g2)});
  ASSERT_TRUE(f2.ok()) << f2.status();
  ASSERT_TRUE(f2->cache_hit());

  auto described = f2->Describe();
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_NE(described->debugprint().find("bob_input"), std::string::npos)
      << described->debugprint();
  EXPECT_EQ(described->debugprint().find("alice"), std::string::npos) << described->debugprint();
  for (const auto& v : described->graph().variables()) {
    if (v.has_shared()) {
      EXPECT_EQ(v.shared().id(), theirs->id());
    }
  }
}

TEST_F(ServerTest, RunsOnANamedCpuContext) {
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  FunctionOptions options;
  options.context = "dev0";
  auto f = session_->Compile(g, {x}, {Exp(x)}, {}, {}, options);
  ASSERT_TRUE(f.ok()) << f.status();
  auto out = f->Run({HostTensor::Vector<float>({0})});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*(*out)[0].ToVector<float>(), std::vector<float>{1});
}

}  // namespace
}  // namespace tensord::client
