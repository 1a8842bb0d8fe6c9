// profile_memory: peaks computed from a real run's recorded outputs, checked against the
// buffer sizes worked out by hand, and Theano's Memory Profile text.
#include "server/memory_profile.h"

#include <gtest/gtest.h>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/ops/node_builder.h"
#include "engine/passes/pipeline.h"
#include "server/profile.h"

namespace tensord::server {
namespace {

using runtime::Tensor;

constexpr int64_t kN = 1000;        // elements
constexpr int64_t kBytes = kN * 8;  // one float64 vector

// add(neg(exp(x)), x) with no optimizer pass, so each node is one instruction with an output
// buffer of its own (no fusion, no inplace); with `keep`, Theano's allow_gc=False.
std::shared_ptr<compile::Executable> BuildChain(bool keep = false) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  g->inputs() = {x};
  ops::NodeBuilder b(*g);
  g->outputs() = {b.Add(b.Neg(b.Apply("exp", {x})), x)};
  EXPECT_TRUE(b.status().ok()) << b.status();
  compile::CompileOptions options;
  options.optimizer_excluding = passes::Pipeline::AllPassNames();
  options.keep_intermediates = keep;
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, options);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  auto exe = compile::BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return *exe;
}

compile::RunTrace RunRecorded(const compile::Executable& exe) {
  Tensor x(DType::kFloat64, {kN});
  for (int64_t i = 0; i < kN; ++i) x.data<double>()[i] = 0.001 * i;
  compile::RunTrace trace;
  trace.record_memory = true;
  auto result = exe.Run({x}, {}, &trace);
  EXPECT_TRUE(result.ok()) << result.status();
  return trace;
}

TEST(MemoryProfile, PeaksOfAChainWithAndWithoutFreeingIntermediates) {
  for (bool keep : {false, true}) {
    auto exe = BuildChain(keep);
    ASSERT_EQ(exe->instructions().size(), 3u);
    compile::RunTrace trace = RunRecorded(*exe);
    ASSERT_EQ(trace.outputs.size(), 3u);
    for (const auto& outs : trace.outputs) {
      ASSERT_EQ(outs.size(), 1u);
      EXPECT_EQ(outs[0].kind, 'c');
      EXPECT_EQ(outs[0].bytes, kBytes);
      EXPECT_EQ(OutputShapes(outs), "[(1000,)]");
      EXPECT_EQ(OutputKinds(outs), "c");
    }
    ASSERT_EQ(trace.bound_buffers.size(), 1u);
    RunMemory m = MeasureRunMemory(*exe, trace);
    // Dropped after its last reader: exp's buffer goes once neg ran, neg's once add ran; at
    // most x plus two intermediates are alive at once.
    EXPECT_EQ(m.peak_bytes_with_gc, 3 * kBytes);
    // x, exp, neg and add all alive at the end of the run.
    EXPECT_EQ(m.peak_bytes_without_gc, 4 * kBytes);
    EXPECT_EQ(m.peak_bytes, keep ? 4 * kBytes : 3 * kBytes) << keep;
    EXPECT_EQ(m.peak_bytes_without_inplace, m.peak_bytes);
  }
}

// A run that drops its intermediates hands a dropped buffer's address out again: the replay
// counts it as a new buffer, not as the old one still alive.
TEST(MemoryProfile, AnAddressHandedOutAgainIsANewBuffer) {
  auto exe = BuildChain();
  int x = 0, exp = 0, neg = 0;  // their addresses stand for buffers
  compile::RunTrace trace;
  trace.duration_ns = {1, 1, 1};
  trace.bound_buffers = {{&x, kBytes}};
  auto made = [](const void* buffer) {
    compile::OutputMemory m;
    m.buffer = buffer;
    m.buffer_bytes = m.bytes = kBytes;
    return std::vector<compile::OutputMemory>{m};
  };
  trace.outputs = {made(&exp), made(&neg), made(&exp)};  // add got exp's block back
  RunMemory m = MeasureRunMemory(*exe, trace);
  EXPECT_EQ(m.peak_bytes_with_gc, 3 * kBytes);
  EXPECT_EQ(m.peak_bytes_without_gc, 4 * kBytes);
  // As inplace would: add writes into neg's buffer, which dies with it.
  trace.outputs[2] = made(&neg);
  trace.outputs[2][0].kind = 'i';
  m = MeasureRunMemory(*exe, trace);
  EXPECT_EQ(m.peak_bytes_with_gc, 3 * kBytes);
  EXPECT_EQ(m.peak_bytes_without_gc, 3 * kBytes);
  EXPECT_EQ(m.peak_bytes_without_inplace, 3 * kBytes);  // exp is dead by then: x, neg, add
}

// A chain of inplace outputs: without inplace each is a buffer of its own, and a view of the
// last keeps that one alive after its slot is dropped, however the earlier ones die.
TEST(MemoryProfile, AViewOfTheLastOfAnInplaceChainKeepsItsBufferAlive) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  g->inputs() = {x};
  ops::NodeBuilder b(*g);
  // exp, neg (inplace), abs (inplace), a view of abs (sqr stands for it), then a new buffer.
  g->outputs() = {b.Apply("exp", {b.Apply("sqr", {b.Apply("abs", {b.Neg(b.Apply("exp", {x}))})})})};
  ASSERT_TRUE(b.status().ok()) << b.status();
  compile::CompileOptions options;
  options.optimizer_excluding = passes::Pipeline::AllPassNames();
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, options);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  auto exe = compile::BuildExecutable(*std::move(prepared));
  ASSERT_TRUE(exe.ok()) << exe.status();
  ASSERT_EQ((*exe)->instructions().size(), 5u);
  int x_buffer = 0, e = 0, w = 0;
  compile::RunTrace trace;
  trace.duration_ns = {1, 1, 1, 1, 1};
  trace.bound_buffers = {{&x_buffer, kBytes}};
  auto output = [](const void* buffer, char kind, int64_t bytes) {
    compile::OutputMemory m;
    m.buffer = buffer;
    m.buffer_bytes = m.bytes = bytes;
    m.kind = kind;
    return std::vector<compile::OutputMemory>{m};
  };
  trace.outputs = {output(&e, 'c', kBytes), output(&e, 'i', kBytes), output(&e, 'i', kBytes),
                   output(&e, 'v', kBytes), output(&w, 'c', 10 * kBytes)};
  RunMemory m = MeasureRunMemory(**exe, trace);
  // When the last node runs: x, abs's own buffer (the view holds it) and the new one.
  EXPECT_EQ(m.peak_bytes_without_inplace, 12 * kBytes);
  EXPECT_EQ(m.peak_bytes, 12 * kBytes);  // x, the one shared buffer, the new one
}

// Without inplace, a view of an inplace output is a view of that output's own buffer, not a
// new one; a view of a buffer the run did not make (a constant's) creates nothing.
TEST(MemoryProfile, ViewsOfInplaceOutputsAndOfConstantsCreateNothing) {
  auto exe = BuildChain(/*keep=*/true);  // without gc: every buffer created counts
  int x = 0, exp = 0, constant = 0;
  compile::RunTrace trace;
  trace.duration_ns = {1, 1, 1};
  trace.bound_buffers = {{&x, kBytes}};
  auto output = [](const void* buffer, char kind) {
    compile::OutputMemory m;
    m.buffer = buffer;
    m.buffer_bytes = m.bytes = kBytes;
    m.kind = kind;
    return std::vector<compile::OutputMemory>{m};
  };
  // neg writes into exp's buffer; add is a view of neg's result.
  trace.outputs = {output(&exp, 'c'), output(&exp, 'i'), output(&exp, 'v')};
  RunMemory m = MeasureRunMemory(*exe, trace);
  EXPECT_EQ(m.peak_bytes, 2 * kBytes);
  EXPECT_EQ(m.peak_bytes_without_inplace, 3 * kBytes);  // x, exp and neg's own
  EXPECT_EQ(m.peak_bytes_with_gc, 2 * kBytes);
  trace.outputs = {output(&exp, 'c'), output(&constant, 'v'), output(&constant, 'v')};
  m = MeasureRunMemory(*exe, trace);
  EXPECT_EQ(m.peak_bytes, 2 * kBytes);
  EXPECT_EQ(m.peak_bytes_without_inplace, 2 * kBytes);
}

TEST(MemoryProfile, WithoutRecordingTheTraceHasNoOutputs) {
  auto exe = BuildChain();
  Tensor x(DType::kFloat64, {kN});
  compile::RunTrace trace;
  ASSERT_TRUE(exe->Run({x}, {}, &trace).ok());
  EXPECT_TRUE(trace.outputs.empty());
  EXPECT_TRUE(trace.bound_buffers.empty());
}

TEST(MemoryProfile, ProfileReportsPeaksPerContextInTheanosLayout) {
  auto exe = BuildChain();
  FunctionProfile profile(exe->instructions().size(), {true, "dev0", "cpu"});
  for (int run = 0; run < 2; ++run) profile.Record(RunRecorded(*exe), 1000, exe.get());
  v1::GetProfileResponse p;
  profile.Fill("chain", *exe, 0, false, &p);
  EXPECT_TRUE(p.profile_memory());
  ASSERT_EQ(p.memory_size(), 1);
  EXPECT_EQ(p.memory(0).context(), "dev0");
  EXPECT_EQ(p.memory(0).device(), "cpu");
  EXPECT_EQ(p.memory(0).peak_bytes(), 3 * kBytes);
  EXPECT_EQ(p.memory(0).peak_bytes_with_gc(), 3 * kBytes);
  EXPECT_EQ(p.memory(0).peak_bytes_without_gc(), 4 * kBytes);
  for (const auto& a : p.applies()) {
    EXPECT_EQ(a.output_bytes(), kBytes);
    EXPECT_EQ(a.output_shapes(), "[(1000,)]");
    EXPECT_EQ(a.output_kinds(), "c");
  }
  const std::string& s = p.summary();
  // 24000 B and 32000 B rounded to KB as Theano rounds.
  EXPECT_NE(s.find("Memory Profile\n(Sparse variables are ignored)\n---\n"
                   "    Max peak memory with current setting\n        dev0 (cpu): 23KB\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("    Max peak memory if allow_gc=False (linker don't make a difference)\n"
                   "        dev0 (cpu): 31KB\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("    <Sum apply outputs (bytes)> <Apply outputs shape> <created/inplace/view> "
                   "<Apply node>\n\n"),
            std::string::npos);
  EXPECT_NE(s.find("          8000B  [(1000,)] c " + exe->instructions()[0].theano_label + "\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("   ... (remaining 0 Apply account for    0B/24000B ((0.00%)) of the Apply"),
            std::string::npos)
      << s;
  // The memory section follows the Apply table.
  EXPECT_LT(s.find("Apply\n------\n"), s.find("Memory Profile"));

  profile.Reset();
  v1::GetProfileResponse reset;
  profile.Fill("chain", *exe, 0, false, &reset);
  EXPECT_EQ(reset.memory(0).peak_bytes(), 0);
}

TEST(MemoryProfile, SmallOutputsAreSummarizedAndAbsentWithoutProfileMemory) {
  auto exe = BuildChain();
  FunctionProfile plain(exe->instructions().size());
  plain.Record(RunRecorded(*exe), 1000, exe.get());
  v1::GetProfileResponse p;
  plain.Fill("chain", *exe, 0, false, &p);
  EXPECT_FALSE(p.profile_memory());
  EXPECT_EQ(p.memory_size(), 0);
  EXPECT_EQ(p.summary().find("Memory Profile"), std::string::npos);

  v1::GetProfileResponse small;
  small.set_profile_memory(true);
  auto* c = small.add_memory();
  c->set_context("cpu");
  c->set_peak_bytes(1536);
  for (int i = 0; i < 2; ++i) {
    auto* a = small.add_applies();
    a->set_label("a" + std::to_string(i));
    a->set_output_bytes(100);
  }
  std::string s = MemorySummary(small);
  EXPECT_NE(s.find("    Max peak memory with current setting\n        CPU: 2KB\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("   ... (remaining 2 Apply account for  200B/200B ((100.00%)) of the Apply"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("    All Apply nodes have output sizes that take less than 1024B.\n"),
            std::string::npos);
}

TEST(MemoryProfile, SummaryHasValidateAndLinkerTimes) {
  auto exe = BuildChain();
  EXPECT_GT(exe->linker_ns(), 0);
  EXPECT_GT(exe->validate_ns(), 0);
  EXPECT_LE(exe->validate_ns() + exe->linker_ns() + exe->optimizer_ns(), exe->compile_ns());
  FunctionProfile profile(exe->instructions().size());
  v1::GetProfileResponse p;
  profile.Fill("chain", *exe, 0, false, &p);
  EXPECT_EQ(p.validate_ns(), exe->validate_ns());
  EXPECT_EQ(p.linker_ns(), exe->linker_ns());
  EXPECT_NE(p.summary().find("    Theano Optimizer time: "), std::string::npos);
  EXPECT_NE(p.summary().find("\n       Theano validate time: "), std::string::npos);
  EXPECT_NE(
      p.summary().find("\n    Theano Linker time (includes C, CUDA code generation/compiling): "),
      std::string::npos);
}

}  // namespace
}  // namespace tensord::server
