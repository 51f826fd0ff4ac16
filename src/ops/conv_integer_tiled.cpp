// Level-3 ConvInteger: the register-tiled int8 kernel (see int8_conv.h).
#include <algorithm>

#include "ops/int8_conv.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Expr zero() { return Expr(int64_t{0}); }
Expr i32c(int64_t v) { return kir::make_const(kir::i32(), static_cast<double>(v)); }

// The activations' offset into the dot4 form (int8 -> uint8), and the weights'.
int64_t x_offset(DType x) { return x == DType::kI8 ? 128 : 0; }
int64_t w_offset(DType w) { return w == DType::kU8 ? -128 : 0; }

// The tile shape: nv vectors of output channels (f32_lanes int32 lanes each), mr positions.
struct Int8Tile {
  int64_t nv, mr;
};
Int8Tile int8_tile(const ConvParams& p, const KernelOptions& opts) {
  int64_t lanes = std::max(1, opts.f32_lanes), mg = p.m / p.group;
  int64_t nv = std::clamp<int64_t>((mg + lanes - 1) / lanes, 1, 2);
  int64_t mr = std::clamp<int64_t>((opts.vector_registers - nv - 2) / nv, 1, 14);
  return {nv, mr};
}

class Int8ConvTiler {
 public:
  Int8ConvTiler(const LowerContext& ctx, const ConvParams& p) : ctx_(ctx), p_(p) {
    const ir::Node& node = ctx.node;
    std::optional<PackedWeight> packed = packed_weight(node);
    KILN_CHECK(packed) << node.label() << ": the tiled ConvInteger needs packed weights";
    nr_ = packed->block;
    lanes_ = std::max(1, ctx.opts.f32_lanes);
    group_ = node.inputs[1]->type.dtype == DType::kI16 ? 2 : 4;
    xt_ = node.inputs[0]->type.dtype;
    mg_ = p.m / p.group;
    blocks_ = (mg_ + nr_ - 1) / nr_;
    cq_ = (p.cg + group_ - 1) / group_;
    hp_ = p.h + p.pt + p.pb;
    wp_ = p.w + p.pl + p.pr;
    xz_ = node.inputs[2]->constant->get_i64(0);
    mr_ = int8_tile(p, ctx.opts).mr;
    if (group_ == 4) {
      const ir::Tensor& off = *node.inputs[4]->constant;
      int64_t cols = off.type().shape[1];
      for (int64_t i = 0; i < cols; ++i) row_sums_ = row_sums_ || off.get_i64(cols + i) != 0;
    }
    scratch_ = kir::make_buffer("xq", group_ == 4 ? DType::kU32 : DType::kI32);
  }

  Stmt build() {
    int64_t size = p_.n * p_.group * cq_ * hp_ * wp_;
    return kir::allocate(scratch_, Expr(size), kir::block({repack(), compute()}));
  }

 private:
  // Scratch[n, g, c, ih, iw] (padded coordinates) = the group of channels c*G.. of x.
  Stmt repack() {
    LoopNest nest;
    Expr n = nest.add("n", p_.n);
    Expr gc = nest.add("gc", p_.group * cq_);
    Expr ih = nest.add("ih", hp_);
    Expr grp = p_.group == 1 ? zero() : gc / Expr(cq_);
    Expr c = p_.group == 1 ? gc : gc % Expr(cq_);
    Expr row = ((n * Expr(p_.group * cq_) + gc) * Expr(hp_) + ih) * Expr(wp_);
    auto store = [&](const Expr& iw, bool inside) {
      return kir::store(scratch_, row + iw, pack(n, grp, c, ih - Expr(p_.pt), iw - Expr(p_.pl), inside));
    };
    auto pad_run = [&](const std::string& name, int64_t lo, int64_t hi) {
      return vector_loop(name, lo, hi, lanes_, true, [&](const Expr& iw) { return store(iw, false); });
    };
    Stmt inside_row = kir::block({pad_run("iwl", 0, p_.pl),
                                  vector_loop("iw", p_.pl, p_.pl + p_.w, lanes_, true,
                                              [&](const Expr& iw) { return store(iw, true); }),
                                  pad_run("iwr", p_.pl + p_.w, wp_)});
    Stmt body = inside_row;
    if (p_.pt > 0 || p_.pb > 0)
      body = kir::if_then_else(ih >= Expr(p_.pt) && ih < Expr(p_.pt + p_.h), inside_row, pad_run("iwp", 0, wp_));
    return nest.build(body, ctx_.opts.parallelize());
  }

  // One packed group: channels c*G + j of group grp at input (y, x), or the padding.
  Expr pack(const Expr& n, const Expr& grp, const Expr& c, const Expr& y, const Expr& x, bool inside) {
    Expr packed;
    for (int j = 0; j < group_; ++j) {
      Expr ch = c * Expr(group_) + Expr(j);
      // The element in the kernel's form: uint8 x (+128 for int8) or int16 x - xz; the padding is the zero point.
      Expr pad = group_ == 4 ? i32c(xz_ + x_offset(xt_)) : i32c(0);
      Expr v = pad;
      if (inside) {
        Expr cin = p_.group == 1 ? ch : grp * Expr(p_.cg) + ch;
        bool tail = (j + 1) + (cq_ - 1) * group_ > p_.cg;  // the last group can run past cg
        Expr xv = kir::cast(kir::i32(), ctx_.read(0, {n, tail ? kir::min(cin, Expr(p_.c - 1)) : cin, y, x}));
        v = group_ == 4 ? xv + i32c(x_offset(xt_)) : xv - i32c(xz_);
        if (tail) v = kir::select(ch < Expr(p_.cg), v, pad);
      }
      Expr bits = group_ == 4 ? kir::cast(kir::Type{DType::kU32, 1}, v)
                              : kir::binary(kir::BinOp::kBitAnd, v, i32c(0xffff));
      if (j > 0) bits = kir::binary(kir::BinOp::kShl, bits, kir::make_const(bits.type(), (group_ == 4 ? 8 : 16) * j));
      packed = j == 0 ? bits : kir::binary(kir::BinOp::kBitOr, packed, bits);
    }
    return packed;
  }

  Stmt compute() {
    int64_t positions = p_.oh * p_.ow;
    int64_t tiles = (positions + mr_ - 1) / mr_, q = positions / tiles, r = positions % tiles;
    LoopNest nest;
    n_ = nest.add("n", p_.n);
    Expr gbt = nest.add("gbt", p_.group * blocks_ * tiles);
    Expr gb = tiles == 1 ? gbt : gbt / Expr(tiles);
    Expr t = tiles == 1 ? zero() : gbt % Expr(tiles);
    grp_ = p_.group == 1 ? zero() : gb / Expr(blocks_);
    ob_ = p_.group == 1 ? gb : gb % Expr(blocks_);
    gb_ = gb;
    Stmt body = tile(t * Expr(q), q);
    if (r > 0) body = kir::if_then_else(t < Expr(r), tile(t * Expr(q + 1), q + 1), tile(Expr(r) + t * Expr(q), q));
    return nest.build(body, ctx_.opts.parallelize());
  }

  // The vector load of `lanes` elements of a constant input from flat index `base`.
  Expr input_vector(int input, const Expr& base, int lanes) {
    Expr first = ctx_.read(input, flat_to_index(input, zero()));
    const kir::Load* ld = first.as<kir::Load>();
    KILN_CHECK(ld) << ctx_.node.label() << ": input " << input << " is not a buffer";
    return kir::load(ld->buffer, kir::ramp(base, Expr(int64_t{1}), lanes));
  }
  std::vector<Expr> flat_to_index(int input, const Expr& flat) {
    std::vector<Expr> idx(ctx_.node.inputs[input]->type.rank(), zero());
    if (!idx.empty()) idx.back() = flat;
    return idx;
  }

  // One tile of `rows` positions from p0 and all nr channels of block gb_.
  Stmt tile(const Expr& p0, int64_t rows) {
    int64_t nr = nr_, lanes = lanes_;
    kir::Buffer acc = kir::make_buffer("acc", DType::kI32);
    kir::Buffer rs = kir::make_buffer("rs", DType::kI32);
    std::vector<Expr> base, oh, ow;
    std::vector<std::pair<Expr, Expr>> lets;
    for (int64_t i = 0; i < rows; ++i) {
      Expr p = p0 + Expr(i);
      Expr y = kir::var("oh" + std::to_string(i)), x = kir::var("ow" + std::to_string(i));
      Expr b = kir::var("base" + std::to_string(i));
      lets.push_back({y, p / Expr(p_.ow)});
      lets.push_back({x, p % Expr(p_.ow)});
      lets.push_back({b, y * Expr(p_.sh * wp_) + x * Expr(p_.sw)});
      oh.push_back(y), ow.push_back(x), base.push_back(b);
    }
    Expr ocb = grp_ * Expr(p_.m / p_.group) + ob_ * Expr(nr);  // the block's first channel (may pass M in the tail)
    std::vector<Stmt> init, update, out;
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t v = 0; v < nr / lanes; ++v) {
        Expr a = kir::ramp(Expr(i * nr + v * lanes), Expr(int64_t{1}), static_cast<int>(lanes));
        // dot4: from row 0 of the offsets (indexed by packed channel, so a tail block stays in bounds).
        Expr start = group_ == 4 ? input_vector(4, gb_ * Expr(nr) + Expr(v * lanes), static_cast<int>(lanes))
                                 : kir::broadcast(i32c(0), static_cast<int>(lanes));
        init.push_back(kir::store(acc, a, start));
      }
      if (row_sums_) init.push_back(kir::store(rs, kir::ramp(Expr(i * lanes), Expr(int64_t{1}), lanes),
                                               kir::broadcast(i32c(0), static_cast<int>(lanes))));
    }
    Expr kh = kir::var("kh"), kw = kir::var("kw"), c = kir::var("c");
    Expr xrow = (((n_ * Expr(p_.group) + grp_) * Expr(cq_) + c) * Expr(hp_) + kh * Expr(p_.dh)) * Expr(wp_) +
                kw * Expr(p_.dw);
    Expr wbase = (((gb_ * Expr(p_.kh) + kh) * Expr(p_.kw) + kw) * Expr(cq_) + c) * Expr(nr * group_);
    std::vector<Expr> wvec;
    for (int64_t v = 0; v < nr / lanes; ++v)
      wvec.push_back(input_vector(1, wbase + Expr(v * lanes * group_), static_cast<int>(lanes * group_)));
    Expr ones = kir::broadcast(kir::make_const(kir::Type{DType::kI8, 1}, 1), static_cast<int>(lanes * group_));
    for (int64_t i = 0; i < rows; ++i) {
      Expr xg = kir::load(scratch_, xrow + base[i]);
      for (int64_t v = 0; v < nr / lanes; ++v) {
        Expr a = kir::ramp(Expr(i * nr + v * lanes), Expr(int64_t{1}), static_cast<int>(lanes));
        update.push_back(kir::store(acc, a, kir::call(kir::Intrinsic::kDot, {kir::load(acc, a), xg, wvec[v]})));
      }
      if (row_sums_) {
        Expr a = kir::ramp(Expr(i * lanes), Expr(int64_t{1}), static_cast<int>(lanes));
        update.push_back(kir::store(rs, a, kir::call(kir::Intrinsic::kDot, {kir::load(rs, a), xg, ones})));
      }
    }
    Stmt red = kir::for_loop(c, zero(), Expr(cq_), kir::ForKind::kSerial, kir::block(update));
    red = kir::for_loop(kw, zero(), Expr(p_.kw), kir::ForKind::kSerial, red);
    red = kir::for_loop(kh, zero(), Expr(p_.kh), kir::ForKind::kSerial, red);

    // The epilogue: channel lanes vectorized (the tail block writes only its channels).
    auto write_rows = [&](int64_t width) {
      std::vector<Stmt> rows_out;
      for (auto [off, w] : vector_pieces(width, static_cast<int>(lanes))) {
        for (int64_t i = 0; i < rows; ++i) {
          Expr j = kir::var("j");
          Expr lane = Expr(off) + j;
          Expr oc = ocb + lane;
          Expr value = kir::load(acc, Expr(i * nr + off) + j);
          if (row_sums_) value = value - ctx_.read(4, {Expr(int64_t{1}), gb_ * Expr(nr) + lane}) * kir::load(rs, Expr(i * lanes));
          rows_out.push_back(kir::for_loop(j, zero(), Expr(w), kir::ForKind::kVectorized,
                                           ctx_.write(0, {n_, oc, oh[i], ow[i]}, value)));
        }
      }
      return kir::block(std::move(rows_out));
    };
    int64_t tail = mg_ - (blocks_ - 1) * nr;
    Stmt epilogue = write_rows(nr);
    if (tail != nr) {
      Stmt last = write_rows(tail);
      epilogue = blocks_ == 1 ? last : kir::if_then_else(ob_ == Expr(blocks_ - 1), last, epilogue);
    }
    Stmt body = kir::block({kir::block(init), red, epilogue});
    if (row_sums_) body = kir::allocate(rs, Expr(rows * lanes), body);
    body = kir::allocate(acc, Expr(rows * nr), body);
    for (auto it = lets.rbegin(); it != lets.rend(); ++it) body = kir::let_stmt(it->first, it->second, body);
    return body;
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  int64_t nr_ = 1, lanes_ = 1, mg_ = 1, blocks_ = 1, cq_ = 1, hp_ = 1, wp_ = 1, xz_ = 0, mr_ = 1;
  int group_ = 4;
  DType xt_ = DType::kU8;
  bool row_sums_ = false;
  kir::Buffer scratch_;
  Expr n_, gb_, grp_, ob_;
};

}  // namespace

int int8_group(const KernelOptions& opts) { return opts.int8_dot4 ? 4 : 2; }

bool conv_integer_tiled_applies(const ir::Node& node, const ConvParams& p, const KernelOptions& opts) {
  if (opts.level < 3 || opts.f32_lanes < 4) return false;
  for (int i = 1; i <= 3; ++i)
    if (!node.inputs[i]->is_constant()) return false;
  return p.m / p.group >= 4;
}

int64_t conv_integer_block(const ConvParams& p, const KernelOptions& opts) {
  return int8_tile(p, opts).nv * std::max(1, opts.f32_lanes);
}

std::string conv_integer_layout_name(int64_t nr, int group) {
  return "ohwi" + std::to_string(nr) + "o" + std::to_string(group) + "k";
}

std::string conv_integer_strategy(const PackedWeight& packed) {
  bool dot4 = packed.layout == conv_integer_layout_name(packed.block, 4);
  return std::string("int8 register tiles of ") +
         (dot4 ? "8-bit dot products (VNNI vpdpbusd / NEON sdot, udot)" : "int16 pair products (vpmaddwd / smlal)") +
         ", activations repacked per call, weights packed at compile time (" + packed.layout + ")";
}

PackedConvInteger pack_conv_integer_weight(const ir::Node& node, const ConvParams& p, int64_t nr, int group) {
  const ir::Tensor& w = *node.inputs[1]->constant;
  const ir::Tensor& wz = *node.inputs[3]->constant;
  DType wt = w.type().dtype, xt = node.inputs[0]->type.dtype;
  int64_t xz = node.inputs[2]->constant->get_i64(0) + x_offset(xt);
  int64_t mg = p.m / p.group, blocks = (mg + nr - 1) / nr, cq = (p.cg + group - 1) / group;
  int64_t taps = p.kh * p.kw, k_padded = taps * cq * group;
  ir::Shape shape{p.group * blocks, p.kh, p.kw, cq, nr, group};
  PackedConvInteger out;
  out.weights = ir::Tensor(ir::TensorType{group == 4 ? DType::kI8 : DType::kI16, shape});
  int64_t cols = p.group * blocks * nr;  // packed channel order; the padding channels are 0
  if (group == 4) out.offsets = ir::Tensor(ir::TensorType{DType::kI32, {2, cols}});
  for (int64_t oc = 0; oc < p.m; ++oc) {
    int64_t zero = wz.get_i64(wz.type().num_elements() == 1 ? 0 : oc);
    int64_t g = oc / mg, r = oc % mg, blk = g * blocks + r / nr, j = r % nr;
    int64_t sum = 0;
    for (int64_t y = 0; y < p.kh; ++y)
      for (int64_t x = 0; x < p.kw; ++x)
        for (int64_t ic = 0; ic < cq * group; ++ic) {
          // The value in the kernel's form; a padding channel is the zero point.
          int64_t raw = ic < p.cg ? w.get_i64(((oc * p.cg + ic) * p.kh + y) * p.kw + x) : zero;
          int64_t v = group == 4 ? raw + w_offset(wt) : raw - zero;
          int64_t at = ((((blk * p.kh + y) * p.kw + x) * cq + ic / group) * nr + j) * group + ic % group;
          if (group == 4) out.weights.mutable_data<int8_t>()[at] = static_cast<int8_t>(v);
          else out.weights.mutable_data<int16_t>()[at] = static_cast<int16_t>(v);
          sum += v;
        }
    if (group == 4) {
      int64_t wz4 = zero + w_offset(wt);
      out.offsets.mutable_data<int32_t>()[blk * nr + j] = static_cast<int32_t>(k_padded * xz * wz4 - xz * sum);
      out.offsets.mutable_data<int32_t>()[cols + blk * nr + j] = static_cast<int32_t>(wz4);
    }
  }
  return out;
}

Expected<Stmt> lower_conv_integer_tiled(const LowerContext& ctx, const ConvParams& p) {
  return Int8ConvTiler(ctx, p).build();
}

}  // namespace kiln::ops
