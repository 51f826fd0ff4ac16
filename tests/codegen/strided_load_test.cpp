// Vector loads with a small constant stride (stride-2/3 convs and pools) are
// emitted as `stride` contiguous vector loads inside the spanned elements plus
// a shuffle: check the lanes they pick, and that a vector ending at the last
// element reads nothing past it.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "codegen/codegen.h"
#include "kernel/passes/vectorize.h"

namespace kiln::codegen {
namespace {

using kir::Expr;

TEST(StridedLoad, PicksEveryStrideThElement) {
  auto jit = Jit::create();
  ASSERT_TRUE(jit) << jit.status().message();
  for (int64_t stride : {2, 3, 4, 5}) {
    for (int lanes : {2, 4, 8, 16, 32}) {
      kir::Buffer in = kir::make_buffer("in", DType::kF32), out = kir::make_buffer("out", DType::kF32);
      Expr j = kir::var("j");
      kir::Func f;
      f.name = "strided_" + std::to_string(stride) + "_" + std::to_string(lanes);
      f.params = {in, out};
      f.body = kir::for_loop(j, Expr(int64_t{0}), Expr(int64_t{lanes}), kir::ForKind::kVectorized,
                             kir::store(out, j, kir::load(in, Expr(int64_t{1}) + j * Expr(stride))));
      f = kir::vectorize_loops(f);
      ASSERT_TRUE((*jit)->add(f).is_ok());
      // The input ends exactly at the last element read, right before a
      // PROT_NONE page: reading past it would crash the test.
      size_t n = static_cast<size_t>(1 + (lanes - 1) * stride + 1);
      size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
      void* mem = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      ASSERT_NE(mem, MAP_FAILED);
      ASSERT_EQ(mprotect(static_cast<char*>(mem) + page, page, PROT_NONE), 0);
      float* src = reinterpret_cast<float*>(static_cast<char*>(mem) + page) - n;
      std::vector<float> dst(lanes, -1.f);
      for (size_t i = 0; i < n; ++i) src[i] = static_cast<float>(i);
      std::vector<void*> args = {src, dst.data()};
      ASSERT_TRUE((*jit)->run(f.name, args).is_ok());
      munmap(mem, 2 * page);
      for (int l = 0; l < lanes; ++l) EXPECT_EQ(dst[l], static_cast<float>(1 + l * stride)) << f.name << " lane " << l;
    }
  }
}

TEST(StridedLoad, BytesToo) {
  // The int8 kernels' im2col reads uint8 rows at the conv's stride.
  auto jit = Jit::create();
  ASSERT_TRUE(jit) << jit.status().message();
  for (int64_t stride : {2, 3, 4}) {
    kir::Buffer in = kir::make_buffer("in", DType::kU8), out = kir::make_buffer("out", DType::kU8);
    Expr j = kir::var("j");
    kir::Func f;
    f.name = "strided_u8_" + std::to_string(stride);
    f.params = {in, out};
    f.body = kir::for_loop(j, Expr(int64_t{0}), Expr(int64_t{16}), kir::ForKind::kVectorized,
                           kir::store(out, j, kir::load(in, j * Expr(stride))));
    f = kir::vectorize_loops(f);
    ASSERT_TRUE((*jit)->add(f).is_ok());
    std::vector<uint8_t> src(64), dst(16, 0);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(200 + i);
    std::vector<void*> args = {src.data(), dst.data()};
    ASSERT_TRUE((*jit)->run(f.name, args).is_ok());
    for (int l = 0; l < 16; ++l) EXPECT_EQ(dst[l], src[l * stride]) << f.name << " lane " << l;
  }
}

}  // namespace
}  // namespace kiln::codegen
