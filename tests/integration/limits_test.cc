// Limits against runaway or hostile use, through the real server: graph size, sessions,
// functions and shared bytes per session (each a RESOURCE_EXHAUSTED naming its flag), and
// compiles that honour their client's deadline.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

namespace v1 = ::tensord::v1;

// x + x + ... + x: a chain of `length` adds over one float64 vector input.
v1::FunctionSpec Chain(int length) {
  v1::FunctionSpec spec;
  v1::Graph* g = spec.mutable_graph();
  auto declare = [g](int64_t id, bool input) {
    v1::Variable* v = g->add_variables();
    v->set_id(id);
    v->mutable_type()->set_dtype(v1::DT_FLOAT64);
    v->mutable_type()->add_broadcastable(false);
    if (input) {
      v->mutable_input();
    } else {
      v->mutable_output();
    }
  };
  declare(1, true);
  for (int i = 0; i < length; ++i) {
    declare(i + 2, false);
    v1::Apply* a = g->add_applies();
    a->set_op("add");
    a->add_inputs(i + 1);
    a->add_inputs(1);
    a->add_outputs(i + 2);
  }
  g->add_inputs(1);
  g->add_outputs(length + 1);
  return spec;
}

class LimitsTest : public LiveServerTest {
 protected:
  static void SetUpTestSuite() {
    StartServer({"--max_graph_nodes=200000", "--max_sessions=6", "--max_functions_per_session=3",
                 "--max_shared_bytes_per_session=4096"});
  }

  grpc::Status Compile(const v1::FunctionSpec& spec, std::chrono::milliseconds timeout,
                       v1::CompileResponse* out = nullptr) {
    v1::CompileRequest req;
    req.set_session_id(session_->id());
    *req.mutable_spec() = spec;
    v1::CompileResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    grpc::Status s = client_->stub().Compile(&ctx, req, &resp);
    if (out != nullptr) *out = resp;
    return s;
  }
};

TEST_F(LimitsTest, GraphsOverMaxGraphNodesAreRefusedBeforeAnyWork) {
  v1::FunctionSpec chain = Chain(200001);  // built before the clock starts: the client's work
  auto start = std::chrono::steady_clock::now();
  grpc::Status s = Compile(chain, std::chrono::seconds(60));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_NE(s.error_message().find("200001 nodes; the limit is 200000 (--max_graph_nodes)"),
            std::string::npos)
      << s.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(LimitsTest, AnAbandonedCompileStopsAndAFreshOneSucceeds) {
  // Long enough that its client gives up first (a few seconds of optimizing on 2 cores).
  v1::FunctionSpec big = Chain(150000);
  grpc::Status s = Compile(big, std::chrono::milliseconds(300));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  // The server stopped compiling for nobody: a small call is answered at once.
  auto start = std::chrono::steady_clock::now();
  v1::CompileResponse small;
  ASSERT_TRUE(Compile(Chain(3), std::chrono::seconds(30), &small).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  // The interrupted build was not cached as a failure: with time, the same graph compiles.
  v1::CompileResponse compiled;
  s = Compile(big, std::chrono::seconds(240), &compiled);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(LimitsTest, SessionsPastMaxSessionsAreRefused) {
  std::vector<Session> extra;
  absl::Status last;
  for (int i = 0; i < 10 && last.ok(); ++i) {
    auto s = client_->OpenSession();
    if (s.ok()) {
      extra.push_back(*std::move(s));
    } else {
      last = s.status();
    }
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  EXPECT_NE(last.message().find("(--max_sessions)"), std::string::npos) << last;
  extra.clear();  // closed: room again
  EXPECT_TRUE(client_->OpenSession().ok());
}

TEST_F(LimitsTest, FunctionsPastTheLimitAreRefusedUntilOneIsReleased) {
  std::vector<v1::CompileResponse> fns(3);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(Compile(Chain(i + 1), std::chrono::seconds(30), &fns[i]).ok());
  grpc::Status s = Compile(Chain(9), std::chrono::seconds(30));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_NE(s.error_message().find("(--max_functions_per_session)"), std::string::npos)
      << s.error_message();
  v1::ReleaseFunctionRequest release;
  release.set_session_id(session_->id());
  release.set_function_id(fns[0].function_id());
  v1::ReleaseFunctionResponse released;
  grpc::ClientContext ctx;
  ASSERT_TRUE(client_->stub().ReleaseFunction(&ctx, release, &released).ok());
  EXPECT_TRUE(Compile(Chain(9), std::chrono::seconds(30)).ok());
}

TEST_F(LimitsTest, SharedBytesPastTheLimitAreRefusedAndNoUpdateIsStored) {
  // 4096 bytes allowed: 256 doubles + 256 doubles fits, one more double does not.
  auto a = session_->CreateShared("a", HostTensor::Vector<double>(std::vector<double>(256, 1)));
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = session_->CreateShared("b", HostTensor::Vector<double>(std::vector<double>(256, 2)));
  ASSERT_TRUE(b.ok()) << b.status();
  auto c = session_->CreateShared("c", HostTensor::Scalar<double>(3));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted) << c.status();
  EXPECT_NE(c.status().message().find("(--max_shared_bytes_per_session)"), std::string::npos);
  // Growing a value by SetShared is refused; shrinking makes room.
  EXPECT_EQ(a->SetValue(HostTensor::Vector<double>(std::vector<double>(257, 1))).code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(a->SetValue(HostTensor::Vector<double>(std::vector<double>(128, 1))).ok());
  // An update that would grow b past the limit stores nothing (neither b nor a).
  GraphBuilder g;
  Var av = a->In(g), bv = b->In(g);
  auto f = session_->Compile(g, {}, {}, {{bv, Concatenate({bv, bv, bv})}, {av, av * 2.0}});
  ASSERT_TRUE(f.ok()) << f.status();
  auto run = f->Run({});
  EXPECT_EQ(run.status().code(), absl::StatusCode::kResourceExhausted) << run.status();
  EXPECT_EQ(b->GetValue()->ToVector<double>()->size(), 256u);
  EXPECT_EQ((*a->GetValue()->ToVector<double>())[0], 1.0);
  // Deleting frees the room.
  ASSERT_TRUE(b->Delete().ok());
  EXPECT_TRUE(session_->CreateShared("c", HostTensor::Scalar<double>(3)).ok());
}

class ReplyLimitTest : public LiveServerTest {
 protected:
  static void SetUpTestSuite() { StartServer({"--max_message_bytes=100000"}); }
};

// A reply over --max_message_bytes is refused before the updates are stored: a client that
// gets the error and retries does not apply them twice.
TEST_F(ReplyLimitTest, AnOversizedReplyStoresNoUpdate) {
  auto counter = session_->CreateShared("n", HostTensor::Scalar<int64_t>(0));
  ASSERT_TRUE(counter.ok()) << counter.status();
  GraphBuilder g;
  Var size = g.Scalar("size", kInt64);
  Var n = counter->In(g);
  auto f =
      session_->Compile(g, {size}, {Arange(g.Literal<int64_t>(0), size, g.Literal<int64_t>(1))},
                        {{n, n + g.Literal<int64_t>(1)}});
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->Run({HostTensor::Scalar<int64_t>(10)}).ok());
  auto big = f->Run({HostTensor::Scalar<int64_t>(50000)});  // 400 KB of int64
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted) << big.status();
  EXPECT_NE(big.status().message().find("no update was stored"), std::string::npos) << big.status();
  EXPECT_EQ(*counter->GetValue()->ToVector<int64_t>(), std::vector<int64_t>{1});
}

}  // namespace
}  // namespace tensord::client
