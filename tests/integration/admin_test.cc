// Admin listing (ListSessions / ListFunctions, tensordctl sessions / functions) against the
// real server, with --enable_admin_rpcs and without it.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

struct CtlResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CtlResult RunCtl(const std::string& address, const std::string& args) {
  CtlResult r;
  std::string command =
      std::string(TENSORDCTL_PATH) + " --address=" + address + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class AdminRpcsTest : public LiveServerTest {
 protected:
  static void SetUpTestSuite() { StartServer({"--enable_admin_rpcs"}); }
};

TEST_F(AdminRpcsTest, ListSessionsAndFunctionsDescribeWhatSessionsHold) {
  ASSERT_TRUE(session_->CreateShared("w", HostTensor::Vector<float>({1, 2, 3})).ok());
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32), y = g.Vector("y", kFloat32);
  FunctionOptions options;
  options.name = "adder";
  options.profile = true;
  auto spec = FunctionSpecBuilder(g).Inputs({x, y}).Outputs({x + y}).Options(options).Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto f = session_->Compile(*spec);
  ASSERT_TRUE(f.ok()) << f.status();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(f->Run({HostTensor::Vector<float>({1}), HostTensor::Vector<float>({2})}).ok());
  }
  auto other = client_->OpenSession();  // another client's session shows up too
  ASSERT_TRUE(other.ok()) << other.status();

  grpc::ClientContext ctx;
  v1::ListSessionsResponse sessions;
  ASSERT_TRUE(client_->stub().ListSessions(&ctx, v1::ListSessionsRequest(), &sessions).ok());
  const v1::SessionSummary* mine = nullptr;
  bool saw_other = false;
  for (const auto& s : sessions.sessions()) {
    if (s.session_id() == session_->id()) mine = &s;
    saw_other |= s.session_id() == other->id();
  }
  EXPECT_TRUE(saw_other);
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(mine->functions(), 1);
  EXPECT_EQ(mine->shared_variables(), 1);
  EXPECT_EQ(mine->shared_bytes(), 12);
  EXPECT_LE(mine->created_unix_s(), mine->last_used_unix_s());
  EXPECT_LE(mine->last_used_unix_s(), UnixNow());
  EXPECT_GT(mine->created_unix_s(), UnixNow() - 600);

  grpc::ClientContext ctx2;
  v1::ListFunctionsRequest request;
  request.set_session_id(session_->id());
  v1::ListFunctionsResponse functions;
  ASSERT_TRUE(client_->stub().ListFunctions(&ctx2, request, &functions).ok());
  ASSERT_EQ(functions.functions_size(), 1);
  const v1::FunctionSummary& fn = functions.functions(0);
  EXPECT_EQ(fn.function_id(), f->id());
  EXPECT_EQ(fn.name(), "adder");
  EXPECT_EQ(fn.fingerprint(), f->fingerprint());
  EXPECT_EQ(fn.calls(), 2);
  EXPECT_EQ(fn.node_count(), f->node_count());
  EXPECT_EQ(fn.context(), "cpu");
  EXPECT_TRUE(fn.profiled());

  CtlResult table = RunCtl(server_->address(), "sessions");
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_EQ(table.output.rfind("SESSION ", 0), 0u) << table.output;
  EXPECT_NE(table.output.find("SHARED BYTES"), std::string::npos) << table.output;
  size_t row = table.output.find(session_->id());
  ASSERT_NE(row, std::string::npos) << table.output;
  std::string line = table.output.substr(row, table.output.find('\n', row) - row);
  EXPECT_NE(line.find("          1       1            12"), std::string::npos) << line;
  EXPECT_NE(table.output.find(other->id()), std::string::npos);

  CtlResult listed = RunCtl(server_->address(), "functions " + session_->id());
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(listed.output.rfind("FUNCTION ", 0), 0u) << listed.output;
  row = listed.output.find(f->id() + " ");
  ASSERT_NE(row, std::string::npos) << listed.output;
  line = listed.output.substr(row, listed.output.find('\n', row) - row);
  EXPECT_NE(line.find("adder"), std::string::npos) << line;
  EXPECT_NE(line.find(f->fingerprint().substr(0, 16)), std::string::npos) << line;
  EXPECT_NE(line.find("       2 "), std::string::npos) << line;
  EXPECT_NE(line.find("cpu       yes"), std::string::npos) << line;
}

TEST_F(AdminRpcsTest, UnknownSessionAndUsageErrors) {
  CtlResult unknown = RunCtl(server_->address(), "functions no-such-session");
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("NOT_FOUND: unknown session 'no-such-session'"), std::string::npos)
      << unknown.output;
  CtlResult empty = RunCtl(server_->address(), "functions ''");
  EXPECT_EQ(empty.exit_code, 1) << empty.output;
  EXPECT_NE(empty.output.find("INVALID_ARGUMENT"), std::string::npos) << empty.output;
  CtlResult arity = RunCtl(server_->address(), "functions");
  EXPECT_EQ(arity.exit_code, 2) << arity.output;
  EXPECT_NE(arity.output.find("wrong number of arguments for functions"), std::string::npos);
  CtlResult extra = RunCtl(server_->address(), "sessions extra");
  EXPECT_EQ(extra.exit_code, 2) << extra.output;
}

// The default server: the listing RPCs refuse, naming the flag, and reveal nothing.
class AdminRpcsOffTest : public LiveServerTest {};

TEST_F(AdminRpcsOffTest, ListingIsPermissionDeniedNamingTheFlag) {
  grpc::ClientContext ctx;
  v1::ListSessionsResponse sessions;
  grpc::Status s = client_->stub().ListSessions(&ctx, v1::ListSessionsRequest(), &sessions);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("--enable_admin_rpcs"), std::string::npos) << s.error_message();
  EXPECT_EQ(sessions.sessions_size(), 0);

  grpc::ClientContext ctx2;
  v1::ListFunctionsRequest request;
  request.set_session_id(session_->id());
  v1::ListFunctionsResponse functions;
  s = client_->stub().ListFunctions(&ctx2, request, &functions);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("ListFunctions is an admin RPC"), std::string::npos);

  CtlResult table = RunCtl(server_->address(), "sessions");
  EXPECT_EQ(table.exit_code, 1) << table.output;
  EXPECT_NE(table.output.find("tensordctl: PERMISSION_DENIED: ListSessions is an admin RPC"),
            std::string::npos)
      << table.output;
  EXPECT_NE(table.output.find("--enable_admin_rpcs"), std::string::npos) << table.output;
  EXPECT_EQ(table.output.find(session_->id()), std::string::npos);
  CtlResult listed = RunCtl(server_->address(), "functions " + session_->id());
  EXPECT_EQ(listed.exit_code, 1) << listed.output;
  EXPECT_NE(listed.output.find("PERMISSION_DENIED"), std::string::npos) << listed.output;
}

}  // namespace
}  // namespace tensord::client
