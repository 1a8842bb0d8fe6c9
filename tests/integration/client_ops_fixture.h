// The fixture of the client op integration tests (client_ops*_test.cc): one real server per
// suite, an Eval helper that compiles and runs a graph, and a tolerant value comparison.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "tensord/client.h"
#include "tensord/ops.h"
#include "tests/integration/live_server_test.h"

namespace tensord::client {

class ClientOpsTest : public LiveServerTest {
 protected:
  // Compiles and runs `outputs`; an empty result (after a test failure) when either fails.
  std::vector<HostTensor> Eval(const GraphBuilder& g, std::vector<Var> inputs,
                               std::vector<Var> outputs, std::vector<HostTensor> values = {}) {
    EXPECT_TRUE(g.status().ok()) << g.status();
    auto f = session_->Compile(g, std::move(inputs), outputs);
    EXPECT_TRUE(f.ok()) << f.status();
    if (!f.ok()) return {};
    auto out = f->Run(std::move(values));
    EXPECT_TRUE(out.ok()) << out.status();
    if (!out.ok()) return {};
    EXPECT_EQ(out->size(), outputs.size());
    for (size_t i = 0; i < out->size() && i < outputs.size(); ++i) {
      EXPECT_EQ((*out)[i].dtype(), outputs[i].dtype()) << "output " << i;
      EXPECT_EQ((*out)[i].ndim(), outputs[i].ndim()) << "output " << i;
    }
    return *std::move(out);
  }
};

using Doubles = std::vector<double>;

inline void ExpectNear(const HostTensor& t, const Doubles& expected,
                       std::vector<int64_t> shape = {}, double tol = 1e-9) {
  if (!shape.empty() || t.ndim() == 0) {
    EXPECT_EQ(t.shape(), shape);
  }
  const Doubles got = t.ToDoubles();
  ASSERT_EQ(got.size(), expected.size()) << t.DebugString();
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "element " << i;
    } else {
      EXPECT_NEAR(got[i], expected[i], tol * std::max(1.0, std::fabs(expected[i])))
          << "element " << i << " of " << t.DebugString();
    }
  }
}

}  // namespace tensord::client
