// The level-3 int8 ConvInteger kernel (ops/int8_conv.h) against an exact
// int64 reference, bit for bit: both forms (dot4 and int16 pairs), the three
// register-tile shapes (AVX2, AVX-512, NEON), run by the kernel-IR interpreter
// (before and after vectorization) and JIT-compiled for each x86 CPU the host
// can run (x86-64-v3 / znver3: AVX2 vpmaddwd and widening; alderlake: AVX-VNNI;
// sapphirerapids: AVX-512 VNNI). Cases cover padding, strides, dilation,
// groups, channel and output-channel tails, batches, uint8/int8 activations and
// weights, nonzero per-channel weight zero points, last tiles of a few
// positions (channels in the lanes) and the 255 x -128 pattern that saturates
// a 16-bit pair sum. The NEON paths run under qemu
// (tests/e2e/test_quantized.py). MatMulInteger with a constant B runs the same
// kernel (as a 1x1 conv over A's rows) and is checked the same way.
#include <algorithm>

#include "../codegen/jit_harness.h"
#include "lower_harness.h"
#include "ops/int8_conv.h"
#include "ops/quant_types.h"
#include "passes/pack_weights.h"
#include "targets/target.h"

namespace kiln::ops::testing {
namespace {

using ir::OpKind;

struct ConvCase {
  std::string name;
  DType xt, wt;
  ir::Shape x, w;  // [N, C, H, W], [M, C/group, kh, kw]
  int64_t group = 1;
  std::vector<int64_t> strides{1, 1}, pads{0, 0, 0, 0}, dil{1, 1};
  int64_t xz = 0;
  std::vector<int64_t> wz{0};  // one value, or one per output channel
  bool saturate = false;       // x at its maximum, w at its minimum everywhere
  bool big = false;            // not on the scalar interpreter (slow at this size)
};

HostTensor from_tensor(const ir::Tensor& t) {
  HostTensor h{t.type(), std::vector<uint8_t>(t.bytes(), t.bytes() + t.num_bytes())};
  h.bytes.resize(h.bytes.size() + 64);
  return h;
}

HostTensor full_range(DType t, const ir::Shape& shape, uint32_t seed, bool extreme_high) {
  int64_t lo = quantized_min(t), hi = quantized_max(t);
  HostTensor h = HostTensor::random(t, shape, seed, static_cast<double>(lo), static_cast<double>(hi) + 1);
  if (extreme_high)
    for (int64_t i = 0; i < h.type.num_elements(); ++i) h.set(i, static_cast<double>(t == DType::kU8 ? hi : lo));
  return h;
}

// The ConvInteger output from int64 accumulation.
std::vector<double> reference(const ConvCase& c, const HostTensor& x, const HostTensor& w) {
  int64_t n = c.x[0], ch = c.x[1], h = c.x[2], wd = c.x[3], m = c.w[0], cg = c.w[1], kh = c.w[2], kw = c.w[3];
  int64_t oh = (h + c.pads[0] + c.pads[2] - c.dil[0] * (kh - 1) - 1) / c.strides[0] + 1;
  int64_t ow = (wd + c.pads[1] + c.pads[3] - c.dil[1] * (kw - 1) - 1) / c.strides[1] + 1;
  std::vector<double> out;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < m; ++oc)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xx = 0; xx < ow; ++xx) {
          int64_t acc = 0, g = oc / (m / c.group), wz = c.wz[c.wz.size() == 1 ? 0 : oc];
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t iy = y * c.strides[0] + i * c.dil[0] - c.pads[0];
                int64_t ix = xx * c.strides[1] + j * c.dil[1] - c.pads[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                int64_t xv = static_cast<int64_t>(x.get(((b * ch + g * cg + ic) * h + iy) * wd + ix)) - c.xz;
                int64_t wv = static_cast<int64_t>(w.get(((oc * cg + ic) * kh + i) * kw + j)) - wz;
                acc += xv * wv;
              }
          EXPECT_TRUE(acc >= INT32_MIN && acc <= INT32_MAX) << c.name << ": the reference overflows int32";
          out.push_back(static_cast<double>(acc));
        }
  return out;
}

std::vector<ConvCase> cases() {
  std::vector<ConvCase> v;
  ConvCase a{"3x3 pad 1, 5 channels, 20 outputs, u8 x s8, x zero point 3", DType::kU8, DType::kI8, {1, 5, 7, 6}, {20, 5, 3, 3}};
  a.pads = {1, 1, 1, 1};
  a.xz = 3;
  v.push_back(a);
  ConvCase b{"1x1 stride 2, groups 2, s8 x u8, per-channel weight zero points", DType::kI8, DType::kU8, {2, 8, 5, 5}, {12, 4, 1, 1}};
  b.group = 2;
  b.strides = {2, 2};
  b.xz = -7;
  b.wz = {128, 120, 131, 0, 255, 128, 1, 128, 128, 77, 128, 200};
  v.push_back(b);
  ConvCase c{"3x3 dilation 2, asymmetric pads, s8 x s8, per-channel zero points", DType::kI8, DType::kI8, {1, 9, 9, 8}, {36, 9, 3, 3}};
  c.pads = {2, 0, 1, 3};
  c.dil = {2, 2};
  c.xz = 5;
  c.wz.clear();
  for (int i = 0; i < 36; ++i) c.wz.push_back(i % 5 - 2);
  v.push_back(c);
  ConvCase d{"255 x -128 everywhere (saturates 16-bit pair sums), 7x7 stride 2", DType::kU8, DType::kI8, {1, 16, 11, 11}, {8, 16, 7, 7}};
  d.strides = {2, 2};
  d.pads = {3, 3, 3, 3};
  d.saturate = true;
  v.push_back(d);
  ConvCase e{"u8 x u8, 1x1, 64 channels", DType::kU8, DType::kU8, {1, 64, 4, 4}, {40, 64, 1, 1}};
  e.xz = 128;
  e.wz = {128};
  v.push_back(e);
  // Last tiles of few positions (channels in the lanes at 16 lanes): 49 = 48 + 1
  // (k steps dealt to 16 accumulators), 196 = 4 * 48 + 4 (4 per position, 2
  // steps each), 50 = 48 + 2 (the 2 k steps: 2), an odd number of k steps (1),
  // and weight zero points that need row sums (the usual tile).
  v.push_back(ConvCase{"7x7 map, 1x1, 64 channels", DType::kU8, DType::kI8, {1, 64, 7, 7}, {16, 64, 1, 1}});
  v.back().xz = 100;
  v.push_back(ConvCase{"14x14 map, 1x1, 32 channels", DType::kU8, DType::kI8, {1, 32, 14, 14}, {8, 32, 1, 1}});
  v.back().xz = 9;
  v.push_back(ConvCase{"5x10 map, 1x1, 8 channels", DType::kU8, DType::kI8, {1, 8, 5, 10}, {8, 8, 1, 1}});
  ConvCase f{"7x7 map, 3x3 pad 1, 20 channels, 12 outputs", DType::kI8, DType::kI8, {1, 20, 7, 7}, {12, 20, 3, 3}};
  f.pads = {1, 1, 1, 1};
  f.xz = -3;
  v.push_back(f);
  ConvCase g{"7x7 map, weight zero point 3", DType::kU8, DType::kI8, {1, 16, 7, 7}, {8, 16, 1, 1}};
  g.wz = {3};
  v.push_back(g);
  // A 1x1 conv with 64 k steps and small weights runs its channel blocks innermost.
  v.push_back(ConvCase{"7x8 map, 1x1, 256 channels (blocks innermost)", DType::kU8, DType::kI8, {1, 256, 7, 8}, {16, 256, 1, 1}});
  v.back().xz = 3;
  // im2cols over 512 KB run in chunks of output rows (the last one shorter).
  ConvCase h{"36x36 map, 3x3 pad 1, 64 channels (chunks of rows)", DType::kU8, DType::kI8, {1, 64, 36, 36}, {4, 64, 3, 3}};
  h.pads = {1, 1, 1, 1};
  h.xz = 7;
  h.big = true;
  v.push_back(h);
  ConvCase k{"stem: 7x7 stride 2 pad 3, 3 channels (chunks of rows)", DType::kU8, DType::kI8, {1, 3, 150, 150}, {4, 3, 7, 7}};
  k.strides = {2, 2};
  k.pads = {3, 3, 3, 3};
  k.xz = 128;
  k.big = true;
  v.push_back(k);
  return v;
}

// One JIT per x86 CPU the host runs (see the file comment).
std::vector<std::pair<std::string, std::unique_ptr<codegen::Jit>>> host_jits() {
  std::vector<std::pair<std::string, std::unique_ptr<codegen::Jit>>> jits;
  for (const std::string& cpu : codegen::testing::runnable_x86_cpus({"x86-64-v3"})) {
    Expected<Target> t = parse_target("llvm -mcpu=" + cpu);
    EXPECT_TRUE(t) << t.status().message();
    if (!t) continue;
    auto jit = codegen::Jit::create(*t);
    EXPECT_TRUE(jit) << jit.status().message();
    if (jit) jits.emplace_back(cpu, std::move(*jit));
  }
  return jits;
}

// `h` as a constant tensor (without the harness's 64 slack bytes).
ir::Tensor constant_of(const HostTensor& h) {
  return ir::Tensor(h.type, std::vector<uint8_t>(h.bytes.begin(), h.bytes.begin() + h.type.num_bytes()));
}

// A one-element or per-channel zero point tensor of type t.
ir::Tensor zero_points(DType t, const ir::Shape& shape, const std::vector<int64_t>& v) {
  ir::Tensor z(ir::TensorType{t, shape});
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == DType::kU8) z.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(v[i]);
    else z.mutable_data<int8_t>()[i] = static_cast<int8_t>(v[i]);
  }
  return z;
}

// Packs `node`'s weights for `opts` and checks the tiled kernel against `want`
// on the interpreters and the JITs of matching vector width.
void check_tiled(ir::Graph& g, ir::Node& node, const HostTensor& x, const std::vector<double>& want,
                 const KernelOptions& opts, const std::string& what,
                 const std::vector<std::pair<std::string, std::unique_ptr<codegen::Jit>>>& jits, bool big = false) {
  passes::pack_weights(g, opts);
  ASSERT_TRUE(node.attrs.has("packed")) << what;
  std::vector<HostTensor> inputs{x};
  for (size_t i = 1; i < node.inputs.size(); ++i) inputs.push_back(from_tensor(*node.inputs[i]->constant));
  auto check = [&](const std::vector<double>& got, const std::string& runner) {
    ASSERT_EQ(got.size(), want.size()) << what << " " << runner;
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << what << " " << runner << ": element " << i;
  };
  if (!big) check(run_node(node, inputs, opts, Runner::kInterpreter), "interpreter");
  check(run_node(node, inputs, opts, Runner::kVectorizedInterpreter), "vectorized interpreter");
  // JIT on the CPUs whose vectors this tile shape is for (4 lanes: 128-bit code on x86-64-v3).
  for (auto& [cpu, jit] : jits)
    if ((opts.f32_lanes == 16) == (cpu == "sapphirerapids"))
      check(run_node(node, inputs, opts, Runner::kJit, jit.get()), "jit " + cpu);
}

TEST(Int8Conv, TiledKernelIsExactOnEveryPath) {
  auto jits = host_jits();
  uint32_t seed = 11;
  for (const ConvCase& c : cases()) {
    HostTensor x = full_range(c.xt, c.x, seed++, c.saturate);
    HostTensor w = full_range(c.wt, c.w, seed++, c.saturate);
    std::vector<double> want = reference(c, x, w);
    for (bool dot4 : {true, false}) {
      for (KernelOptions opts : level3_option_sets()) {
        opts.int8_dot4 = dot4;
        ir::Graph g;
        ir::Value* xv = g.add_input("x", x.type);
        ir::Value* wv = g.add_constant("w", constant_of(w));
        ir::Tensor xz = zero_points(c.xt, {}, {c.xz});
        ir::Tensor wz = zero_points(c.wt, c.wz.size() == 1 ? ir::Shape{} : ir::Shape{c.w[0]}, c.wz);
        ir::Attrs attrs;
        attrs.set("group", c.group).set("strides", c.strides).set("pads", c.pads).set("dilations", c.dil);
        auto node = g.add_node(OpKind::kConvInteger, "conv", {xv, wv, g.add_constant("xz", xz), g.add_constant("wz", wz)},
                               attrs);
        ASSERT_TRUE(node) << node.status().message();
        check_tiled(g, **node, x, want, opts, c.name + (dot4 ? " dot4" : " pairs") + " lanes " +
                                                  std::to_string(opts.f32_lanes), jits, c.big);
      }
    }
  }
}

struct MatMulCase {
  std::string name;
  DType at, bt;
  ir::Shape a;  // [..., M, K] or [K]
  int64_t n;
  int64_t az = 0;
  std::vector<int64_t> bz{0};  // one value, or one per column
};

// A MatMulInteger with a constant B runs the tiled kernel as a 1x1 conv over A's rows.
TEST(Int8MatMul, TiledKernelIsExactOnEveryPath) {
  auto jits = host_jits();
  std::vector<MatMulCase> cases{
      {"one row (a classifier), u8 x s8, 21 columns", DType::kU8, DType::kI8, {1, 70}, 21, 131},
      {"a vector A, s8 x u8, 8 columns", DType::kI8, DType::kU8, {64}, 8, -5, {128}},
      {"batched rows 2x3, u8 x u8, per-column zero points", DType::kU8, DType::kU8, {2, 3, 13}, 5, 7, {1, 128, 255, 0, 9}},
      {"50 rows (tiles and a narrow last tile), s8 x s8", DType::kI8, DType::kI8, {50, 36}, 16, 3, {2}},
  };
  uint32_t seed = 101;
  for (const MatMulCase& c : cases) {
    int64_t k = c.a.back(), rows = ir::TensorType{c.at, c.a}.num_elements() / k;
    HostTensor a = full_range(c.at, c.a, seed++, false);
    HostTensor b = full_range(c.bt, {k, c.n}, seed++, false);
    std::vector<double> want;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < c.n; ++j) {
        int64_t acc = 0, bz = c.bz[c.bz.size() == 1 ? 0 : j];
        for (int64_t i = 0; i < k; ++i)
          acc += (static_cast<int64_t>(a.get(r * k + i)) - c.az) * (static_cast<int64_t>(b.get(i * c.n + j)) - bz);
        want.push_back(static_cast<double>(acc));
      }
    for (bool dot4 : {true, false}) {
      for (KernelOptions opts : level3_option_sets()) {
        opts.int8_dot4 = dot4;
        ir::Graph g;
        ir::Value* av = g.add_input("a", a.type);
        ir::Value* bv = g.add_constant("b", constant_of(b));
        ir::Tensor az = zero_points(c.at, {}, {c.az});
        ir::Tensor bz = zero_points(c.bt, c.bz.size() == 1 ? ir::Shape{} : ir::Shape{c.n}, c.bz);
        auto node = g.add_node(OpKind::kMatMulInteger, "mm", {av, bv, g.add_constant("az", az), g.add_constant("bz", bz)});
        ASSERT_TRUE(node) << node.status().message();
        check_tiled(g, **node, a, want, opts, c.name + (dot4 ? " dot4" : " pairs") + " lanes " +
                                                  std::to_string(opts.f32_lanes), jits);
      }
    }
  }
}

}  // namespace
}  // namespace kiln::ops::testing
