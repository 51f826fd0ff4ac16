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

const WinogradTransform& winograd_transform(int m) {
  KILN_CHECK(m == 4) << "no Winograd transform F(" << m << "x" << m << ", 3x3)";
  return winograd_f4x4_3x3();
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

bool conv_winograd_applies(const ir::Node& node, const ConvParams& p, const KernelOptions& opts) {
  if (opts.level < 4 || opts.f32_lanes < 4 || node.inputs[0]->type.dtype != DType::kF32) return false;
  if (p.kh != 3 || p.kw != 3 || p.sh != 1 || p.sw != 1 || p.dh != 1 || p.dw != 1 || p.group != 1) return false;
  std::optional<PackedWeight> packed = packed_weight(node);
  if (packed && winograd_tile(*packed) == 0) return false;
  // Measured single layers, level 4 vs the level-3 direct kernel, 1 thread
  // (docs/performance.md "Method"): 16 channels gain nothing (the transforms
  // cost as much as the multiplies saved), 24 gain ~25%, 64 and more ~45-60%.
  // U is alpha^2 / 9 = 4x the direct weights and is read once per point for
  // all tiles, so few tiles lose: one tile (outputs up to 4x4) up to 2.5x at
  // 512 channels; 2x2 tiles (5x5 to 8x8, ResNet's last stage) gained ~25% over
  // the Zen4-era direct kernel but lose 1.6-1.9x (512 at 7x7, NCHW and NHWC,
  // Intel AVX-512 host) to the sliding-order direct kernel; 4x4 tiles (256 at
  // 14x14) still gain ~30%. So: at least 3x3 tiles.
  const WinogradTransform& t = winograd_f4x4_3x3();
  int64_t tiles = p.n * ((p.oh + t.m - 1) / t.m) * ((p.ow + t.m - 1) / t.m);
  return p.c >= 24 && p.m >= 24 && tiles >= 9;
}

}  // namespace kiln::ops
