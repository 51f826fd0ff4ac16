// Kernel scratch in the arena: lower/hoist_scratch moves a kernel's large
// top-level allocations into parameters, and passes/plan_memory places them
// beside (never over) the kernel's inputs and result, live for that kernel only.
#include <gtest/gtest.h>

#include "ir/graph.h"
#include "lower/hoist_scratch.h"
#include "passes/materialize_outputs.h"
#include "passes/plan_memory.h"

namespace kiln::lower {
namespace {

using ir::Graph;
using kir::Expr;
using ir::OpKind;
using ir::Value;

TEST(HoistScratch, MovesLargeTopLevelAllocationsToParameters) {
  kir::Buffer in = kir::make_buffer("in", DType::kF32), big = kir::make_buffer("big", DType::kF32);
  kir::Buffer small = kir::make_buffer("small", DType::kF32), big2 = kir::make_buffer("big2", DType::kF64);
  kir::Buffer inner = kir::make_buffer("inner", DType::kF32);
  kir::Stmt work = kir::block({kir::store(big, Expr(int64_t{0}), kir::load(in, Expr(int64_t{0}))),
                               kir::store(small, Expr(int64_t{0}), kir::load(big, Expr(int64_t{0})))});
  // big (64 KB) > small (1 KB) > big2 (80 KB of f64) > a loop whose body allocates (not top level).
  kir::Expr i = kir::var("i");
  kir::Stmt loop = kir::for_loop(i, Expr(int64_t{0}), Expr(int64_t{2}), kir::ForKind::kSerial,
                                 kir::allocate(inner, Expr(int64_t{1} << 20), work));
  Kernel k;
  k.func.name = "k";
  k.func.params = {in};
  k.func.body = kir::allocate(big, Expr(int64_t{16384}),
                              kir::allocate(small, Expr(int64_t{256}), kir::allocate(big2, Expr(int64_t{10240}), loop)));
  hoist_scratch(&k);
  ASSERT_EQ(k.func.params.size(), 3u);
  EXPECT_EQ(k.func.params[1], big);
  EXPECT_EQ(k.func.params[2], big2);
  EXPECT_EQ(k.scratch_bytes, (std::vector<int64_t>{65536, 81920}));
  // What remains: the small allocation around the loop, whose own allocation stays.
  const kir::Allocate* a = k.func.body.as<kir::Allocate>();
  ASSERT_NE(a, nullptr) << kir::to_string(k.func);
  EXPECT_EQ(a->buffer, small);
  EXPECT_NE(a->body.as<kir::For>(), nullptr) << kir::to_string(k.func);
}

TEST(HoistScratch, ArenaScratchIsLiveOnlyDuringItsKernel) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1024}});
  Value* a = *g.add(OpKind::kExp, "a", {x});
  Value* b = *g.add(OpKind::kLog, "b", {a});
  Value* c = *g.add(OpKind::kTanh, "c", {b});
  g.add_output("y", c);
  ASSERT_TRUE(passes::materialize_outputs(g).is_ok());
  std::vector<FusedGroup> groups;
  for (const auto& n : g.nodes()) groups.push_back({{n.get()}});
  ASSERT_EQ(groups.size(), 3u);
  // The middle kernel (a -> b) has two scratch buffers.
  passes::MemoryPlan plan = passes::plan_memory(g, groups, {{}, {8192, 100}, {}});
  ASSERT_EQ(plan.scratch.size(), 3u);
  EXPECT_TRUE(plan.scratch[0].empty());
  ASSERT_EQ(plan.scratch[1].size(), 2u);
  using K = codegen::KernelArg::Kind;
  int64_t ao = plan.location.at(a).value, bo = plan.location.at(b).value;
  auto overlaps = [](int64_t o1, int64_t n1, int64_t o2, int64_t n2) { return o1 < o2 + n2 && o2 < o1 + n1; };
  for (size_t s = 0; s < 2; ++s) {
    const codegen::KernelArg& loc = plan.scratch[1][s];
    EXPECT_EQ(loc.kind, K::kArena);
    EXPECT_EQ(loc.value % passes::kBufferAlignment, 0);
    int64_t n = s == 0 ? 8192 : 100;
    EXPECT_FALSE(overlaps(loc.value, n, ao, 4096)) << "scratch over the kernel's input";
    EXPECT_FALSE(overlaps(loc.value, n, bo, 4096)) << "scratch over the kernel's result";
  }
  EXPECT_FALSE(overlaps(plan.scratch[1][0].value, 8192, plan.scratch[1][1].value, 100));
  // a, b and 8 KB + 128 B of scratch live together; nothing else needs more.
  EXPECT_EQ(plan.arena_bytes, 4096 + 4096 + 8192 + 128);
  // Without scratch the plan is what it was.
  EXPECT_EQ(passes::plan_memory(g, groups).arena_bytes, 2 * 4096);
}

}  // namespace
}  // namespace kiln::lower
