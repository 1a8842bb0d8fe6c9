// The tensord C++ client in two steps: z = x + y, then gradient descent on a shared variable:
// the server differentiates |w - target|^2 and each call applies w <- w - 0.05 * gradient,
// i.e. w <- w - 0.1 * (w - target), which converges geometrically.
//
//   tensord_example [address]    (default 127.0.0.1:50051)
#include <cstdio>
#include <string>

#include "tensord/client.h"

namespace {

using tensord::client::Client;
using tensord::client::GraphBuilder;
using tensord::client::HostTensor;
using tensord::client::Var;

// Prints the error and returns a failing exit code, so each step stays one line in main.
int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "%s failed: %s\n", what, status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string address = argc > 1 ? argv[1] : "127.0.0.1:50051";
  auto client = Client::Connect(address);
  if (!client.ok()) return Fail("connect", client.status());
  auto info = (*client)->GetServerInfo();
  if (!info.ok()) return Fail("GetServerInfo", info.status());
  std::printf("connected to tensord %s at %s (default context %s, floatX %s)\n",
              info->version().c_str(), address.c_str(), info->default_context().c_str(),
              info->float_x().c_str());
  auto session = (*client)->OpenSession();
  if (!session.ok()) return Fail("OpenSession", session.status());

  // Step 1: z = x + y on two matrices.
  GraphBuilder g;
  Var x = g.Matrix("x"), y = g.Matrix("y");
  Var z = x + y;
  auto add = session->Compile(g, {x, y}, {z});
  if (!add.ok()) return Fail("Compile(x + y)", add.status());
  auto a = HostTensor::Matrix<float>({{1, 2}, {3, 4}});
  auto b = HostTensor::Matrix<float>({{10, 20}, {30, 40}});
  auto sum = add->Run({*a, *b});
  if (!sum.ok()) return Fail("Run(x + y)", sum.status());
  std::printf("\nx =\n%s\ny =\n%s\nx + y =\n%s\n", a->DebugString().c_str(),
              b->DebugString().c_str(), (*sum)[0].DebugString().c_str());

  // Step 2: gradient descent; a shared w moves a tenth of the way to `target` on every call.
  auto w = session->CreateShared("w", HostTensor::Vector<float>({0, 0, 0}));
  if (!w.ok()) return Fail("CreateShared", w.status());
  Var target = g.Vector("target");
  Var wv = w->In(g);
  Var gap = wv - target;
  Var distance = Sum(gap * gap);
  auto grad = session->Grad(distance, {wv});
  if (!grad.ok()) return Fail("Grad", grad.status());
  auto step = session->Compile(g, {target}, {distance}, {{wv, wv - 0.05 * (*grad)[0]}});
  if (!step.ok()) return Fail("Compile(update)", step.status());

  const HostTensor goal = HostTensor::Vector<float>({1, -2, 3});
  std::printf("\ntraining w towards %s\n", goal.DebugString().c_str());
  for (int i = 0; i < 50; ++i) {
    auto out = step->Run({goal});
    if (!out.ok()) return Fail("Run(update)", out.status());
    // The output is the squared distance before this step's update was applied.
    if (i % 10 == 0 || i == 49) {
      std::printf("  step %2d  |w - target|^2 = %.6f\n", i, (*out)[0].ToDoubles()[0]);
    }
  }
  auto final_w = w->GetValue();
  if (!final_w.ok()) return Fail("GetValue", final_w.status());
  std::printf("w after 50 steps = %s (each step keeps 0.9 of the gap: 0.9^50 = 0.005)\n",
              final_w->DebugString().c_str());
  return 0;
}
