// Register-tile sizing and the packed weight layouts (see weight_layout.h).
#include "ops/weight_layout.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace kiln::ops {

using kir::Expr;

RegisterTile register_tile(const KernelOptions& opts) {
  int lanes = std::max(1, opts.f32_lanes);
  int regs = std::max(8, opts.vector_registers);
  // Two B vectors per row; three with 4-lane vectors and 32 registers (NEON),
  // where two would leave the FMA units waiting on broadcasts.
  int nv = regs >= 32 && lanes <= 4 ? 3 : 2;
  int mr = std::clamp((regs - nv - 1) / nv, 1, 14);
  return {mr, nv * lanes};
}

std::vector<std::pair<int64_t, int64_t>> vector_pieces(int64_t width, int lanes) {
  std::vector<std::pair<int64_t, int64_t>> pieces;
  int64_t off = 0, whole = lanes > 1 ? width / lanes * lanes : width;
  if (whole > 0) pieces.push_back({0, whole}), off = whole;
  for (int64_t p = lanes / 2; p >= 1 && off < width; p /= 2)
    if (width - off >= p) pieces.push_back({off, p}), off += p;
  return pieces;
}

std::optional<PackedWeight> packed_weight(const ir::Node& node) {
  auto it = node.attrs.all().find("packed");
  if (it == node.attrs.all().end()) return std::nullopt;
  PackedWeight p;
  p.layout = std::get<std::string>(it->second);
  p.logical = node.attrs.get_ints("packed_shape");
  size_t i = 0;
  while (i < p.layout.size() && !std::isdigit(static_cast<unsigned char>(p.layout[i]))) ++i;
  for (; i < p.layout.size() && std::isdigit(static_cast<unsigned char>(p.layout[i])); ++i)
    p.block = p.block * 10 + (p.layout[i] - '0');
  KILN_CHECK(p.block > 0) << node.label() << ": packed layout " << p.layout << " has no block size";
  return p;
}

void set_packed_weight(ir::Attrs& attrs, const std::string& layout, const ir::Shape& logical) {
  attrs.set("packed", layout);
  attrs.set("packed_shape", std::vector<int64_t>(logical.begin(), logical.end()));
}

std::string conv_layout_name(int64_t nr) { return "ohwi" + std::to_string(nr) + "o"; }
std::string matmul_layout_name(int64_t nr) { return "kn" + std::to_string(nr) + "n"; }
std::string depthwise_layout_name(int64_t nr) { return "chw" + std::to_string(nr) + "c"; }
std::string gemm_rows_layout_name(int64_t mr) { return "rowtile" + std::to_string(mr); }

ir::Shape packed_conv_shape(const ir::Shape& logical, int64_t group, int64_t nr) {
  int64_t mg = logical[0] / group;
  return {group * ((mg + nr - 1) / nr), logical[2], logical[3], logical[1], nr};
}

ir::Shape packed_conv_shape(const PackedWeight& packed, int64_t group) {
  if (packed.layout == depthwise_layout_name(packed.block)) return packed_conv_shape(packed.logical, 1, packed.block);
  if (packed.layout == gemm_rows_layout_name(packed.block)) {
    const ir::Shape& l = packed.logical;
    return {l[0] * l[1] * l[2] * l[3]};
  }
  return packed_conv_shape(packed.logical, group, packed.block);
}

ir::Shape packed_conv_transpose_shape(const ir::Shape& logical, int64_t group, int64_t nr) {
  return packed_conv_shape({logical[1] * group, logical[0] / group, logical[2], logical[3]}, group, nr);
}

ir::Shape packed_matmul_shape(const ir::Shape& logical, int64_t nr) {
  return {(logical[1] + nr - 1) / nr, logical[0], nr};
}

ir::Tensor pack_conv_weight(const ir::Tensor& w, int64_t group, int64_t nr) {
  const ir::Shape& s = w.type().shape;
  KILN_CHECK(w.type().dtype == DType::kF32 && s.size() == 4) << "pack_conv_weight: " << w.type().str();
  int64_t m = s[0], cg = s[1], kh = s[2], kw = s[3], mg = m / group, ob = (mg + nr - 1) / nr;
  ir::Tensor out(ir::TensorType{DType::kF32, packed_conv_shape(s, group, nr)});
  float* dst = out.mutable_data<float>();
  const float* src = w.data<float>();
  for (int64_t oc = 0; oc < m; ++oc) {
    int64_t g = oc / mg, r = oc % mg, blk = g * ob + r / nr, j = r % nr;
    for (int64_t ic = 0; ic < cg; ++ic)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x)
          dst[(((blk * kh + y) * kw + x) * cg + ic) * nr + j] = src[((oc * cg + ic) * kh + y) * kw + x];
  }
  return out;
}

ir::Tensor pack_matmul_weight(const ir::Tensor& b, int64_t nr) {
  const ir::Shape& s = b.type().shape;
  KILN_CHECK(b.type().dtype == DType::kF32 && s.size() == 2) << "pack_matmul_weight: " << b.type().str();
  int64_t k = s[0], n = s[1];
  ir::Tensor out(ir::TensorType{DType::kF32, packed_matmul_shape(s, nr)});
  float* dst = out.mutable_data<float>();
  const float* src = b.data<float>();
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t c = 0; c < n; ++c) dst[((c / nr) * k + kk) * nr + c % nr] = src[kk * n + c];
  return out;
}

ir::Tensor pack_gemm_rows(const ir::Tensor& w, int64_t group, int64_t mr) {
  const ir::Shape& s = w.type().shape;
  KILN_CHECK(w.type().dtype == DType::kF32 && s.size() == 4 && s[0] % group == 0)
      << "pack_gemm_rows: " << w.type().str() << " group " << group;
  int64_t mg = s[0] / group, k = s[1] * s[2] * s[3];
  GemmPlan t = plan_row_tiles(mg, k, mr);
  ir::Tensor out(ir::TensorType{DType::kF32, {s[0] * k}});
  float* dst = out.mutable_data<float>();
  const float* src = w.data<float>();
  for (int64_t g = 0; g < group; ++g)
    for (int64_t tile = 0, r0 = 0; tile < t.tiles; ++tile) {
      int64_t h = t.tile_q + (tile < t.tile_r ? 1 : 0), base = (g * mg + r0) * k;
      for (int64_t i = 0; i < h; ++i)
        for (int64_t kk = 0; kk < k; ++kk) dst[base + kk * h + i] = src[base + i * k + kk];
      r0 += h;
    }
  return out;
}

ir::Tensor pack_conv_transpose_weight(const ir::Tensor& w, int64_t group, int64_t nr) {
  const ir::Shape& s = w.type().shape;
  KILN_CHECK(w.type().dtype == DType::kF32 && s.size() == 4 && s[0] % group == 0)
      << "pack_conv_transpose_weight: " << w.type().str() << " group " << group;
  // As a Conv's [M, C/group, kh, kw]: element (g*mg + mi, ci) is W[g*cg + ci, mi].
  int64_t c = s[0], mg = s[1], kh = s[2], kw = s[3], cg = c / group, taps = kh * kw;
  ir::Tensor conv(ir::TensorType{DType::kF32, {mg * group, cg, kh, kw}});
  float* dst = conv.mutable_data<float>();
  const float* src = w.data<float>();
  for (int64_t ic = 0; ic < c; ++ic)
    for (int64_t mi = 0; mi < mg; ++mi)
      for (int64_t t = 0; t < taps; ++t)
        dst[(((ic / cg) * mg + mi) * cg + ic % cg) * taps + t] = src[(ic * mg + mi) * taps + t];
  return pack_conv_weight(conv, group, nr);
}

std::vector<Expr> packed_conv_index(const Expr& oc, const Expr& ic, const Expr& kh, const Expr& kw, int64_t mg,
                                    int64_t nr) {
  int64_t ob = (mg + nr - 1) / nr;
  Expr g = oc / Expr(mg), r = oc % Expr(mg);
  return {g * Expr(ob) + r / Expr(nr), kh, kw, ic, r % Expr(nr)};
}

std::vector<Expr> packed_matmul_index(const Expr& k, const Expr& n, int64_t nr) {
  return {n / Expr(nr), k, n % Expr(nr)};
}

}  // namespace kiln::ops
