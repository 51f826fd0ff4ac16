// Winograd transforms, weight packing and the level-4 selection rule (see winograd.h).
#include "ops/winograd.h"

#include <cstring>

#include "ops/conv_params.h"

namespace kiln::ops {

const WinogradTransform& winograd_f4x4_3x3() {
  // Cook-Toom on the points 0, 1, -1, 1/2, -2, infinity: A^T[i][j] = p_j^i,
  // G[j][k] = p_j^k / prod_{l != j}(p_j - p_l); B^T solves the identity.
  static const WinogradTransform t = [] {
    WinogradTransform w;
    w.m = 4, w.r = 3, w.alpha = 6;
    w.at = {1, 1, 1,  1,       1,  0,
            0, 1, -1, 0.5,     -2, 0,
            0, 1, 1,  0.25,    4,  0,
            0, 1, -1, 0.125,   -8, 1};
    w.g = {1,          0,         0,
           1.0 / 3,    1.0 / 3,   1.0 / 3,
           -1.0 / 3,   1.0 / 3,   -1.0 / 3,
           -16.0 / 15, -8.0 / 15, -4.0 / 15,
           1.0 / 15,   -2.0 / 15, 4.0 / 15,
           0,          0,         1};
    w.bt = {1, -1.5, -2,   1.5,  1,   0,
            0, -1,   0.5,  2.5,  1,   0,
            0, 1,    -2.5, 0.5,  1,   0,
            0, -2,   -1,   2,    1,   0,
            0, 0.5,  -1,   -0.5, 1,   0,
            0, 1,    -1.5, -2,   1.5, 1};
    return w;
  }();
  return t;
}

const WinogradTransform& winograd_f2x2_3x3() {
  // Lavin & Gray's F(2, 3) on the points 0, 1, -1, infinity.
  static const WinogradTransform t = [] {
    WinogradTransform w;
    w.m = 2, w.r = 3, w.alpha = 4;
    w.at = {1, 1, 1,  0,
            0, 1, -1, -1};
    w.g = {1,   0,    0,
           0.5, 0.5,  0.5,
           0.5, -0.5, 0.5,
           0,   0,    1};
    w.bt = {1, 0,  -1, 0,
            0, 1,  1,  0,
            0, -1, 1,  0,
            0, 1,  0,  -1};
    return w;
  }();
  return t;
}

const WinogradTransform& winograd_transform(int m) {
  KILN_CHECK(m == 2 || m == 4) << "no Winograd transform F(" << m << "x" << m << ", 3x3)";
  return m == 2 ? winograd_f2x2_3x3() : winograd_f4x4_3x3();
}

namespace {
constexpr const char* kLayoutPrefix = "winograd_poi";
}

std::string winograd_layout_name(int64_t nr, int m) {
  return kLayoutPrefix + std::to_string(nr) + "o_f" + std::to_string(m);
}

int winograd_tile(const PackedWeight& w) {
  if (w.layout.rfind(kLayoutPrefix, 0) != 0) return 0;
  size_t f = w.layout.rfind("_f");
  return f == std::string::npos ? 0 : std::atoi(w.layout.c_str() + f + 2);
}

ir::Shape packed_winograd_shape(const ir::Shape& logical, int64_t nr, const WinogradTransform& t) {
  return {int64_t{t.alpha} * t.alpha, (logical[0] + nr - 1) / nr, logical[1], nr};
}

ir::Shape packed_winograd_shape(const PackedWeight& packed) {
  return packed_winograd_shape(packed.logical, packed.block, winograd_transform(winograd_tile(packed)));
}

ir::Tensor pack_winograd_weight(const ir::Tensor& w, int64_t nr, const WinogradTransform& t) {
  const ir::Shape& s = w.type().shape;
  KILN_CHECK(w.type().dtype == DType::kF32 && s.size() == 4 && s[2] == t.r && s[3] == t.r)
      << "pack_winograd_weight: " << w.type().str();
  int64_t k_count = s[0], c_count = s[1], kb_count = (k_count + nr - 1) / nr;
  int a = t.alpha, r = t.r;
  ir::Tensor out(ir::TensorType{DType::kF32, packed_winograd_shape(s, nr, t)});
  float* dst = out.mutable_data<float>();
  std::memset(dst, 0, out.num_bytes());
  const float* src = w.data<float>();
  std::vector<double> gg(a * r), u(a * a);
  for (int64_t k = 0; k < k_count; ++k)
    for (int64_t c = 0; c < c_count; ++c) {
      const float* g = src + (k * c_count + c) * r * r;
      for (int i = 0; i < a; ++i)  // G g
        for (int j = 0; j < r; ++j) {
          double acc = 0;
          for (int l = 0; l < r; ++l) acc += t.g_at(i, l) * g[l * r + j];
          gg[i * r + j] = acc;
        }
      for (int i = 0; i < a; ++i)  // (G g) G^T
        for (int j = 0; j < a; ++j) {
          double acc = 0;
          for (int l = 0; l < r; ++l) acc += gg[i * r + l] * t.g_at(j, l);
          u[i * a + j] = acc;
        }
      int64_t kb = k / nr, lane = k % nr;
      for (int64_t p = 0; p < a * a; ++p)
        dst[((p * kb_count + kb) * c_count + c) * nr + lane] = static_cast<float>(u[p]);
    }
  return out;
}

namespace {

// The selection's cost model, in cycles of one core (docs/performance.md, at
// the top). A network's weights outgrow the caches, so each run reads a
// conv's constant weights (U for Winograd) from memory once.
//  - Winograd F(m x m): the batched GEMMs' multiplies (output channels padded
//    to nr) at two FMA pipes of f32_lanes; the transforms at
//    kTransformCycles per element of V and M (measured the same per element
//    at 8 and 16 lanes: they are loads, stores and adds); U streamed at
//    kStreamBytesPerCycle (its next panel is prefetched, but as few tiles
//    read it, the stream outlasts the multiplies).
//  - Direct: kDirectCost x its multiplies at the same rate, plus half its
//    weights' stream (the level-3 kernels prefetch theirs under more work).
// Fitted on an Intel AVX-512 Xeon at 16 and at 8 lanes (x86-64-v3), ResNet-50
// at level 4, NHWC, 1 thread, per-layer medians in ms (direct, F(4x4), F(2x2)):
//   channels, size     16 lanes           8 lanes
//   64 at 56x56        1.10 0.47 0.74     2.0  0.76 1.25
//   128 at 28x28       1.10 0.46 0.68     2.0  0.75 1.04
//   256 at 14x14       1.12 0.90 0.75     2.24 1.25 1.2
//   512 at 7x7         1.34 2.7  1.6      2.9  2.35 2.05
// The model picks the fastest of each row at both widths, and its 16-lane
// cycles are these times at one clock rate (3.9 GHz) within 7%.
constexpr double kDirectCost = 1.15;
constexpr double kDirectStreamShare = 0.5;
constexpr double kTransformCycles = 0.75;
constexpr double kStreamBytesPerCycle = 4;

double fma_per_cycle(const KernelOptions& opts) { return 2.0 * opts.f32_lanes; }

double direct_cycles(const ConvParams& p, const KernelOptions& opts) {
  double weights = double(p.m) * p.c * 9;
  return kDirectCost * weights * p.n * p.oh * p.ow / fma_per_cycle(opts) +
         kDirectStreamShare * weights * sizeof(float) / kStreamBytesPerCycle;
}

double winograd_cycles(const ConvParams& p, const WinogradTransform& t, const KernelOptions& opts) {
  int64_t nr = register_tile(opts).nr, kp = (p.m + nr - 1) / nr * nr;
  double tiles = double(p.n) * ((p.oh + t.m - 1) / t.m) * ((p.ow + t.m - 1) / t.m);
  double points = double(t.alpha) * t.alpha;
  return points * (tiles * p.c * kp / fma_per_cycle(opts) + kTransformCycles * tiles * (p.c + kp) +
                   double(p.c) * kp * sizeof(float) / kStreamBytesPerCycle);
}

}  // namespace

int conv_winograd_tile(const ir::Node& node, const ConvParams& p, const KernelOptions& opts) {
  if (opts.level < 4 || opts.f32_lanes < 4 || node.inputs[0]->type.dtype != DType::kF32) return 0;
  if (p.kh != 3 || p.kw != 3 || p.sh != 1 || p.sw != 1 || p.dh != 1 || p.dw != 1 || p.group != 1) return 0;
  if (std::optional<PackedWeight> packed = packed_weight(node)) return winograd_tile(*packed);
  if (node.attrs.has(kWinogradTileAttr)) {
    int64_t m = node.attrs.get_int(kWinogradTileAttr, 0);
    KILN_CHECK(m == 0 || m == 2 || m == 4)
        << node.label() << ": " << kWinogradTileAttr << " " << m << " is not 0, 2 or 4";
    return static_cast<int>(m);
  }
  double best = direct_cycles(p, opts);
  int tile = 0;
  for (int m : {4, 2}) {
    double cost = winograd_cycles(p, winograd_transform(m), opts);
    if (cost < best) best = cost, tile = m;
  }
  return tile;
}

}  // namespace kiln::ops
