// Level-3 ConvInteger: the register-tiled int8 kernel (see int8_conv.h).
#include <algorithm>
#include <numeric>

#include "kernel/mutator.h"
#include "ops/int8_conv.h"
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Expr zero() { return Expr(int64_t{0}); }
Expr one() { return Expr(int64_t{1}); }
Expr i32c(int64_t v) { return kir::make_const(kir::i32(), static_cast<double>(v)); }

// The activations' offset into the dot4 form (int8 -> uint8), and the weights'.
int64_t x_offset(DType x) { return x == DType::kI8 ? 128 : 0; }
int64_t w_offset(DType w) { return w == DType::kU8 ? -128 : 0; }

// How far ahead of the k loop the weights are prefetched, in packed groups
// (int32): 8 KB. ResNet-50 int8 at 1 thread: 17.7 -> 15.8 ms (measured the
// same from 2 to 16 KB; without it its last stages' convs wait on DRAM).
constexpr int64_t kWeightPrefetch = 2048;

// The most im2col bytes one chunk of output rows repacks (Int8ConvTiler::build).
// ResNet-50 int8, 1 thread: 0.95 -> 0.92 of ORT's time at 256 or 512 KB (128 KB
// less); 2 threads: each chunk costs two fork-joins, and 512 KB (half the
// chunks of 256) kept 0.93 where 256 KB lost 4 %.
constexpr int64_t kIm2colBytes = 512 * 1024;

// The tile: mr output channels (rows) x nv vectors of output positions.
struct Int8Tile {
  int64_t mr, nv;
};
Int8Tile int8_tile(const KernelOptions& opts) {
  // mr * nv accumulators, nv activation vectors and one broadcast weight group.
  return opts.vector_registers >= 32 ? Int8Tile{8, 3} : Int8Tile{6, 2};
}

class Int8ConvTiler {
 public:
  Int8ConvTiler(const LowerContext& ctx, const ConvParams& p) : ctx_(ctx), p_(p) {
    const ir::Node& node = ctx.node;
    std::optional<PackedWeight> packed = packed_weight(node);
    KILN_CHECK(packed) << node.label() << ": the tiled ConvInteger needs packed weights";
    mr_ = packed->block;
    group_ = packed->layout.find("k4") != std::string::npos ? 4 : 2;
    flat_ = packed->layout == conv_integer_layout_name(mr_, group_, true);
    lanes_ = std::max(1, ctx.opts.f32_lanes);
    width_ = int8_tile(ctx.opts).nv * lanes_;
    xt_ = node.inputs[0]->type.dtype;
    mg_ = p.m / p.group;
    blocks_ = (mg_ + mr_ - 1) / mr_;
    cq_ = (p.cg + group_ - 1) / group_;
    taps_ = p.kh * p.kw;
    // Flat k: one im2col "tap" of the (c, kh, kw) steps.
    if (flat_) cq_ = (p.cg * taps_ + group_ - 1) / group_, taps_ = 1;
    xz_ = node.inputs[2]->constant->get_i64(0);
    if (group_ == 4) {
      const ir::Tensor& off = *node.inputs[4]->constant;
      int64_t cols = off.type().shape[1];
      for (int64_t i = 0; i < cols; ++i) row_sums_ = row_sums_ || off.get_i64(cols + i) != 0;
    }
    matmul_ = node.op == ir::OpKind::kMatMulInteger;
    if (matmul_) lead_ = ir::Shape(node.outputs[0]->type.shape.begin(), node.outputs[0]->type.shape.end() - 1);
    scratch_ = kir::make_buffer("xq", group_ == 4 ? DType::kU32 : DType::kI32);
    xpad_ = kir::make_buffer("xpad", xt_);
  }

  // A map whose im2col outgrows kIm2colBytes runs in chunks of output rows,
  // each repacked then computed while its im2col is in the cache (the
  // chunk's positions a whole number of tiles where that fits).
  Stmt build() {
    int64_t row_bytes = p_.n * p_.group * taps_ * cq_ * p_.ow * 4;
    int64_t chunk = p_.oh;
    if (row_bytes * p_.oh > kIm2colBytes) {
      int64_t fit = std::max<int64_t>(1, kIm2colBytes / row_bytes), whole = width_ / std::gcd(width_, p_.ow);
      chunk = fit >= whole ? fit / whole * whole : fit;
    }
    int64_t chunks = (p_.oh + chunk - 1) / chunk, last = p_.oh - (chunks - 1) * chunk;
    Expr ch = kir::var("chunk");
    row0_ = chunks == 1 ? zero() : ch * Expr(chunk);
    set_rows(chunk);
    int64_t size = p_.n * p_.group * taps_ * cq_ * padded_;
    auto step = [&] { return kir::block({flat_ ? repack_flat() : repack(), compute()}); };
    Stmt body = step();
    if (last != chunk) {
      set_rows(last);
      body = kir::if_then_else(ch == Expr(chunks - 1), step(), body);
    }
    if (chunks > 1) body = kir::for_loop(ch, zero(), Expr(chunks), kir::ForKind::kSerial, body);
    body = kir::allocate(scratch_, Expr(size), body);
    if (flat_) {
      int64_t hp = p_.h + p_.pt + p_.pb, wp = p_.w + p_.pl + p_.pr;
      body = kir::allocate(xpad_, Expr(p_.n * p_.c * hp * wp), kir::block({pad_input(), body}));
    }
    return body;
  }

 private:
  // The chunk's geometry: `rows` output rows, their positions in tiles; a row of
  // the im2col holds the positions the tiles read: the last tile's whole
  // vectors, or only its positions when they run in narrow_tile.
  void set_rows(int64_t rows) {
    rows_ = rows;
    positions_ = rows * p_.ow;
    tiles_ = (positions_ + width_ - 1) / width_;
    int64_t last_cols = positions_ - (tiles_ - 1) * width_, last_nv = (last_cols + lanes_ - 1) / lanes_;
    padded_ = (tiles_ - 1) * width_ + (channels_in_lanes(last_nv, last_cols) ? last_cols : last_nv * lanes_);
  }

  // The im2col of packed groups: xq[n, g, tap, c, position] = the group of input
  // channels c*G.. under that window tap of that output position (the zero
  // point's pattern where the tap falls in the padding).
  Stmt repack() {
    LoopNest nest;
    Expr n = nest.add("n", p_.n);
    Expr gc = nest.add("gc", p_.group * cq_);
    Expr grp = p_.group == 1 ? zero() : gc / Expr(cq_);
    Expr c = p_.group == 1 ? gc : gc % Expr(cq_);
    std::vector<Stmt> taps;
    for (int64_t kh = 0; kh < p_.kh; ++kh) {
      for (int64_t kw = 0; kw < p_.kw; ++kw) {
        Expr oh = kir::var("oh");
        Expr iy = (row0_ + oh) * Expr(p_.sh) + Expr(kh * p_.dh - p_.pt);
        int64_t tap = kh * p_.kw + kw;
        Expr row = (((n * Expr(p_.group) + grp) * Expr(taps_) + Expr(tap)) * Expr(cq_) + c) * Expr(padded_) +
                   oh * Expr(p_.ow);
        auto store = [&](const Expr& ow, bool inside) {
          Expr ix = ow * Expr(p_.sw) + Expr(kw * p_.dw - p_.pl);
          return kir::store(scratch_, row + ow, pack(n, grp, c, iy, ix, inside));
        };
        auto run = [&](const std::string& name, int64_t lo, int64_t hi, bool inside) {
          return vector_run(name, lo, hi, [&](const Expr& ow) { return store(ow, inside); });
        };
        // Output columns whose tap lies inside [0, w): [lo, hi).
        int64_t off = kw * p_.dw - p_.pl;
        int64_t lo = off >= 0 ? 0 : std::min((-off + p_.sw - 1) / p_.sw, p_.ow);
        int64_t hi = p_.w - 1 - off >= 0 ? std::clamp<int64_t>((p_.w - 1 - off) / p_.sw + 1, lo, p_.ow) : lo;
        Stmt inside_row = kir::block({run("owl", 0, lo, false), run("ow", lo, hi, true), run("owr", hi, p_.ow, false)});
        Stmt body = kir::if_then_else(iy >= zero() && iy < Expr(p_.h), inside_row, run("owp", 0, p_.ow, false));
        taps.push_back(kir::for_loop(oh, zero(), Expr(rows_), kir::ForKind::kSerial, body));
      }
    }
    return nest.build(kir::block(std::move(taps)), ctx_.opts.parallelize());
  }

  // make(i) for i in [lo, hi), vectorized: a loop over blocks of 4 vectors,
  // then power-of-two pieces (no scalar tail: rows are short).
  Stmt vector_run(const std::string& name, int64_t lo, int64_t hi, const std::function<Stmt(const Expr&)>& make) {
    std::vector<Stmt> parts;
    int64_t chunk = 4 * lanes_, blocks = (hi - lo) / chunk;
    if (blocks > 0) {
      Expr b = kir::var(name + "_b"), j = kir::var(name + "_v");
      parts.push_back(kir::for_loop(b, zero(), Expr(blocks), kir::ForKind::kSerial,
                                    kir::for_loop(j, zero(), Expr(chunk), kir::ForKind::kVectorized,
                                                  make(Expr(lo) + b * Expr(chunk) + j))));
    }
    int64_t start = lo + blocks * chunk;
    for (auto [off, w] : vector_pieces(hi - start, static_cast<int>(lanes_))) {
      Expr j = kir::var(name + "_p");
      parts.push_back(kir::for_loop(j, zero(), Expr(w), w > 1 ? kir::ForKind::kVectorized : kir::ForKind::kSerial,
                                    make(Expr(start + off) + j)));
    }
    return kir::block(std::move(parts));
  }

  // One packed group: channels c*G + j of group grp at input (y, x), or the padding.
  Expr pack(const Expr& n, const Expr& grp, const Expr& c, const Expr& y, const Expr& x, bool inside) {
    std::vector<Expr> values;
    for (int j = 0; j < group_; ++j) {
      Expr ch = c * Expr(int64_t{group_}) + Expr(int64_t{j});
      Expr v = pad_form();
      if (inside) {
        Expr cin = p_.group == 1 ? ch : grp * Expr(p_.cg) + ch;
        bool tail = (j + 1) + (cq_ - 1) * group_ > p_.cg;  // the last group can run past cg
        v = kernel_form(ctx_.read(0, x_index(n, tail ? kir::min(cin, Expr(p_.c - 1)) : cin, y, x)));
        if (tail) v = kir::select(ch < Expr(p_.cg), v, pad_form());
      }
      values.push_back(v);
    }
    return pack_bits(values);
  }

  // An activation in the kernel's form: uint8 x (+128 for int8) or int16 x - xz.
  Expr kernel_form(const Expr& x) const {
    Expr xv = kir::cast(kir::i32(), x);
    return group_ == 4 ? xv + i32c(x_offset(xt_)) : xv - i32c(xz_);
  }
  // The padding (the zero point) in the kernel's form.
  Expr pad_form() const { return group_ == 4 ? i32c(xz_ + x_offset(xt_)) : i32c(0); }

  // G values in the kernel's form as one packed 32-bit group.
  Expr pack_bits(const std::vector<Expr>& values) const {
    Expr packed;
    for (int j = 0; j < group_; ++j) {
      const Expr& v = values[j];
      Expr bits = group_ == 4 ? kir::cast(kir::Type{DType::kU32, 1}, v)
                              : kir::binary(kir::BinOp::kBitAnd, v, i32c(0xffff));
      if (j > 0) bits = kir::binary(kir::BinOp::kShl, bits, kir::make_const(bits.type(), (group_ == 4 ? 8 : 16) * j));
      packed = j == 0 ? bits : kir::binary(kir::BinOp::kBitOr, packed, bits);
    }
    return packed;
  }

  // Flat k: xpad[n, c, y, x] = the input with its padding made of the zero
  // point, so that the flat im2col reads every element without a check.
  Stmt pad_input() {
    int64_t hp = p_.h + p_.pt + p_.pb, wp = p_.w + p_.pl + p_.pr;
    LoopNest nest;
    Expr n = nest.add("n", p_.n);
    Expr c = nest.add("c", p_.c);
    Expr y = nest.add("y", hp);
    Expr iy = y - Expr(p_.pt), base = ((n * Expr(p_.c) + c) * Expr(hp) + y) * Expr(wp);
    Expr pad = kir::make_const(kir::Type{xt_, 1}, static_cast<double>(xz_));
    auto run = [&](const std::string& name, int64_t lo, int64_t hi, bool inside) {
      return vector_run(name, lo, hi, [&](const Expr& x) {
        return kir::store(xpad_, base + x, inside ? ctx_.read(0, {n, c, iy, x - Expr(p_.pl)}) : pad);
      });
    };
    Stmt inside_row = kir::block({run("xl", 0, p_.pl, false), run("xc", p_.pl, p_.pl + p_.w, true),
                                  run("xr", p_.pl + p_.w, wp, false)});
    Stmt body = kir::if_then_else(iy >= zero() && iy < Expr(p_.h), inside_row, run("xp", 0, wp, false));
    return nest.build(body, ctx_.opts.parallelize());
  }

  // Flat k: xq[n, g, q, position] = elements q*G.. of the window flattened
  // (c, kh, kw), the zero point past its end.
  Stmt repack_flat() {
    int64_t hp = p_.h + p_.pt + p_.pb, wp = p_.w + p_.pl + p_.pr, window = p_.kh * p_.kw;
    LoopNest nest;
    Expr n = nest.add("n", p_.n);
    Expr grp = nest.add("g", p_.group);
    Expr oh = nest.add("oh", rows_);
    Expr y0 = (row0_ + oh) * Expr(p_.sh);
    std::vector<Stmt> steps;
    for (int64_t q = 0; q < cq_; ++q) {
      Expr row = ((n * Expr(p_.group) + grp) * Expr(cq_) + Expr(q)) * Expr(padded_) + oh * Expr(p_.ow);
      steps.push_back(vector_run("ow", 0, p_.ow, [&](const Expr& ow) {
        std::vector<Expr> values;
        for (int64_t j = 0; j < group_; ++j) {
          int64_t e = q * group_ + j, c = e / window, kh = e % window / p_.kw, kw = e % p_.kw;
          if (e >= p_.cg * window) {
            values.push_back(pad_form());
            continue;
          }
          Expr y = y0 + Expr(kh * p_.dh), x = ow * Expr(p_.sw) + Expr(kw * p_.dw);
          values.push_back(kernel_form(kir::load(xpad_, ((n * Expr(p_.c) + grp * Expr(p_.cg) + Expr(c)) * Expr(hp) + y) *
                                                             Expr(wp) + x)));
        }
        return kir::store(scratch_, row + ow, pack_bits(values));
      }));
    }
    return nest.build(kir::block(std::move(steps)), ctx_.opts.parallelize());
  }

  Stmt compute() {
    LoopNest nest;
    n_ = nest.add("n", p_.n);
    // Loop order: with a k loop of at least 64 steps whose activation panel
    // (k steps x tile) fits L1, channel blocks run innermost so that the panel
    // stays in L1 while every block of weights passes over it, for a window
    // (3x3) or a 1x1 conv whose weights stay in L2 (<= 64 KB); otherwise (big
    // panels, short k loops, big 1x1 weights) tiles run innermost: a block's
    // weights stay put and its output rows are written whole. (A short k loop
    // does little per output: the 7x7 stem's 37 flat steps ran 9 % faster
    // writing whole rows than keeping its 7 KB panel, ResNet-50 and MobileNetV2
    // int8 alike; ResNet-50's 1x1 512->128 at 28x28, 128 steps and 64 KB of
    // weights, 3-6 % faster with blocks innermost, 64->256, 16 steps, 5-10 % slower.)
    int64_t gbs = p_.group * blocks_, ksteps = taps_ * cq_;
    bool weights_stay = p_.kh * p_.kw > 1 || gbs * ksteps * mr_ * 4 <= 64 * 1024;
    bool blocks_inner = weights_stay && ksteps >= 64 && ksteps * width_ * 4 <= 32 * 1024;
    Expr idx = nest.add("tile_block", tiles_ * gbs);
    Expr t = blocks_inner ? (gbs == 1 ? idx : idx / Expr(gbs)) : (tiles_ == 1 ? zero() : idx % Expr(tiles_));
    gb_ = blocks_inner ? (gbs == 1 ? zero() : idx % Expr(gbs)) : (tiles_ == 1 ? idx : idx / Expr(tiles_));
    grp_ = p_.group == 1 ? zero() : gb_ / Expr(blocks_);
    ob_ = p_.group == 1 ? gb_ : gb_ % Expr(blocks_);
    // The last tile computes only the vectors its positions need (7x7 maps:
    // 49 positions = 48 + 1 would otherwise cost two whole tiles).
    int64_t last_cols = positions_ - (tiles_ - 1) * width_;
    Stmt body = tile(t, width_ / lanes_, width_);
    if (last_cols != width_) {
      Stmt last = tile(t, (last_cols + lanes_ - 1) / lanes_, last_cols);
      body = tiles_ == 1 ? last : kir::if_then_else(t == Expr(tiles_ - 1), last, body);
    }
    return nest.build(body, ctx_.opts.parallelize());
  }

  // The load of `lanes` consecutive elements of a constant input from flat index `base`.
  Expr input_load(int input, const Expr& base, int lanes) {
    std::vector<Expr> first(ctx_.node.inputs[input]->type.rank(), zero());
    Expr first_load = ctx_.read(input, first);  // (owns the node ld points to)
    const kir::Load* ld = first_load.as<kir::Load>();
    KILN_CHECK(ld) << ctx_.node.label() << ": input " << input << " is not a buffer";
    return kir::load(ld->buffer, lanes == 1 ? base : kir::ramp(base, one(), lanes));
  }

  // Tile t: all mr channels of block gb_ x nv vectors of positions from t *
  // width_, of which the first `cols` are stored.
  Stmt tile(const Expr& t, int64_t nv, int64_t cols) {
    int64_t mr = mr_, lanes = lanes_, stride = nv * lanes_;
    int l = static_cast<int>(lanes);
    Expr p0 = t * Expr(width_);
    kir::Buffer acc = kir::make_buffer("acc", DType::kI32);
    kir::Buffer rs = kir::make_buffer("rs", DType::kI32);
    // The epilogue reads a copy: the accumulators see only whole aligned vectors,
    // which keeps them in registers (LLVM splits an array read at odd widths).
    kir::Buffer res = kir::make_buffer("res", DType::kI32);
    auto at = [&](int64_t i, int64_t v) { return kir::ramp(Expr(i * stride + v * lanes), one(), l); };
    std::vector<Stmt> init, update;
    for (int64_t i = 0; i < mr; ++i) {
      // dot4: from row 0 of the offsets (indexed by packed channel: a tail block stays in bounds).
      Expr start = group_ == 4 ? kir::broadcast(input_load(4, gb_ * Expr(mr) + Expr(i), 1), l)
                               : kir::broadcast(i32c(0), l);
      for (int64_t v = 0; v < nv; ++v) init.push_back(kir::store(acc, at(i, v), start));
    }
    if (row_sums_)
      for (int64_t v = 0; v < nv; ++v)
        init.push_back(kir::store(rs, kir::ramp(Expr(v * lanes), one(), l), kir::broadcast(i32c(0), l)));

    Expr kk = kir::var("k");
    int64_t ksteps = taps_ * cq_;
    Expr xbase = ((n_ * Expr(p_.group) + grp_) * Expr(ksteps) + kk) * Expr(padded_) + p0;
    Expr wbase = (gb_ * Expr(ksteps) + kk) * Expr(mr);
    Expr g = Expr(int64_t{group_});
    Stmt red;
    std::vector<Stmt> copy;
    if (channels_in_lanes(nv, cols)) {
      red = narrow_tile(xbase, wbase, kk, cols, stride, acc, res, &init, &copy);
    } else {
      std::vector<Expr> xv;
      for (int64_t v = 0; v < nv; ++v) xv.push_back(kir::load(scratch_, kir::ramp(xbase + Expr(v * lanes), one(), l)));
      for (int64_t i = 0; i < mr; ++i) {
        Expr w = input_load(1, wbase + Expr(i), 1);
        for (int64_t v = 0; v < nv; ++v)
          update.push_back(
              kir::store(acc, at(i, v), kir::call(kir::Intrinsic::kDot, {kir::load(acc, at(i, v)), xv[v], w, g})));
      }
      if (row_sums_) {
        Expr ones = kir::make_const(kir::Type{DType::kI32, 1}, 0x01010101);
        for (int64_t v = 0; v < nv; ++v) {
          Expr a = kir::ramp(Expr(v * lanes), one(), l);
          update.push_back(kir::store(rs, a, kir::call(kir::Intrinsic::kDot, {kir::load(rs, a), xv[v], ones, g})));
        }
      }
      // The weights stream through once per block (big layers: megabytes, from
      // DRAM): each k step prefetches them kWeightPrefetch groups ahead (past
      // the end it is an address prefetch ignores); a block's later tiles find
      // its weights in the cache, so the lines they ask for are there already.
      Stmt step = kir::let_stmt(kir::var("pf", kir::i32()),
                                kir::call(kir::Intrinsic::kPrefetch, {input_load(1, wbase + Expr(kWeightPrefetch), 1)}),
                                kir::block(update));
      red = kir::for_loop(kk, zero(), Expr(ksteps), kir::ForKind::kSerial, step);
      for (int64_t i = 0; i < mr; ++i)
        for (int64_t v = 0; v < nv; ++v) copy.push_back(kir::store(res, at(i, v), kir::load(acc, at(i, v))));
    }

    // The epilogue: output positions vectorized (contiguous in NCHW); the tail
    // block writes only its channels, the last tile only its positions.
    auto write = [&](int64_t rows, int64_t cols) {
      std::vector<Stmt> out;
      for (int64_t i = 0; i < rows; ++i) {
        Expr oc = grp_ * Expr(mg_) + ob_ * Expr(mr) + Expr(i);
        for (auto [off, w] : vector_pieces(cols, l)) {
          Expr j = kir::var("j");
          Expr p = p0 + Expr(off) + j;
          Expr value = kir::load(res, Expr(i * stride + off) + j);
          if (row_sums_) value = value - input_load(4, Expr(padded_cols()) + gb_ * Expr(mr) + Expr(i), 1) *
                                             kir::load(res, Expr(mr * stride + off) + j);
          out.push_back(kir::for_loop(j, zero(), Expr(w), kir::ForKind::kVectorized, ctx_.write(0, out_index(oc, p), value)));
        }
      }
      return kir::block(std::move(out));
    };
    int64_t last_rows = mg_ - (blocks_ - 1) * mr;
    Stmt epilogue = write(mr, cols);
    if (last_rows != mr) {
      Stmt last = write(last_rows, cols);
      epilogue = blocks_ == 1 ? last : kir::if_then_else(ob_ == Expr(blocks_ - 1), last, epilogue);
    }
    if (row_sums_)  // after the accumulators' copy
      for (int64_t v = 0; v < nv; ++v)
        copy.push_back(kir::store(res, at(mr, v), kir::load(rs, kir::ramp(Expr(v * lanes), one(), l))));
    Stmt body = kir::block({kir::block(init), red, kir::block(copy), epilogue});
    if (row_sums_) body = kir::allocate(rs, Expr(stride), body);
    return kir::allocate(acc, Expr(mr * stride), kir::allocate(res, Expr((mr + 1) * stride), body));
  }

  // Whether a tile of nv vectors, `cols` positions of them used, runs as
  // narrow_tile: fewer dot products (cols per k step instead of mr * nv); the
  // block must be one vector, and no row sums.
  bool channels_in_lanes(int64_t nv, int64_t cols) const {
    return !row_sums_ && mr_ <= lanes_ && (mr_ & (mr_ - 1)) == 0 && cols < mr_ * nv;
  }

  // A tile of few positions (the last one of a 7x7 map: 49 = 48 + 1) with the
  // block's mr channels in the lanes: per k step one weight vector and one dot
  // per position, against the position's group broadcast. The k steps are dealt
  // round-robin to `chains` accumulators per position run side by side (a
  // single one would wait on the dot's latency every step; round-robin keeps
  // the weights one sequential stream: a MatMulInteger's single row reads
  // them from memory), summed at the end, and the
  // sums are stored into res transposed (res[i * stride + j], channel i,
  // position j) for the common epilogue. Appends the accumulators' start to
  // `init` (replacing it) and their copy to `copy`; returns the k loop.
  Stmt narrow_tile(const Expr& xbase, const Expr& wbase, const Expr& kk, int64_t cols, int64_t stride,
                   const kir::Buffer& acc, const kir::Buffer& res, std::vector<Stmt>* init, std::vector<Stmt>* copy) {
    int m = static_cast<int>(mr_);
    // Up to 16 accumulators in flight (the dot's latency times its throughput
    // is ~10 on AVX-512: 4 chains of a 14x14 map's last 4 positions waited on
    // it), the number of chains dividing the k steps.
    int64_t ksteps = taps_ * cq_, chains = 1;
    while (chains * 2 * cols <= 16) chains *= 2;
    while (ksteps % chains) chains /= 2;
    int64_t len = ksteps / chains;
    auto column = [&](int64_t c, int64_t j) { return kir::ramp(Expr((c * cols + j) * mr_), one(), m); };
    init->clear();
    std::vector<Stmt> update;
    for (int64_t c = 0; c < chains; ++c) {
      // dot4: the offsets' row 0 (by packed channel) starts chain 0.
      Expr k = kk * Expr(chains) + Expr(c);
      Expr w = input_load(1, kir::substitute(wbase, kk, k), m);
      for (int64_t j = 0; j < cols; ++j) {
        init->push_back(kir::store(acc, column(c, j), c == 0 && group_ == 4 ? input_load(4, gb_ * Expr(mr_), m)
                                                                            : kir::broadcast(i32c(0), m)));
        Expr x = kir::load(scratch_, kir::substitute(xbase, kk, k) + Expr(j));
        Expr dot = kir::call(kir::Intrinsic::kDot, {kir::load(acc, column(c, j)), x, w, Expr(int64_t{group_})});
        update.push_back(kir::store(acc, column(c, j), dot));
      }
    }
    for (int64_t j = 0; j < cols; ++j) {
      Expr sum = kir::load(acc, column(0, j));
      for (int64_t c = 1; c < chains; ++c) sum = sum + kir::load(acc, column(c, j));
      copy->push_back(kir::store(res, kir::ramp(Expr(j), Expr(stride), m), sum));
    }
    return kir::for_loop(kk, zero(), Expr(len), kir::ForKind::kSerial, kir::block(update));
  }

  // The number of packed channels (a row of the offsets input).
  int64_t padded_cols() const { return p_.group * blocks_ * mr_; }

  // Flat row r of a MatMulInteger as indices over `lead_` (its A's and output's leading dims).
  std::vector<Expr> split_rows(const Expr& r) const {
    std::vector<Expr> idx(lead_.size());
    int64_t stride = 1;
    for (size_t i = lead_.size(); i-- > 0;) {
      Expr q = stride == 1 ? r : r / Expr(stride);
      idx[i] = lead_[i] == 1 ? zero() : i == 0 ? q : q % Expr(lead_[i]);
      stride *= lead_[i];
    }
    return idx;
  }

  // The index of input element (n, c, y, x): a MatMulInteger's A[row x, k c].
  std::vector<Expr> x_index(const Expr& n, const Expr& c, const Expr& y, const Expr& x) const {
    if (!matmul_) return {n, c, y, x};
    std::vector<Expr> idx = split_rows(x);
    idx.push_back(c);
    return idx;
  }

  // The output index of channel oc at position p (of the chunk) of image n_;
  // for a conv, (q / ow, q % ow) of the map's position q flatten back to q:
  // the stores are contiguous.
  std::vector<Expr> out_index(const Expr& oc, const Expr& p) const {
    if (matmul_) {
      std::vector<Expr> idx = split_rows(p);
      idx.push_back(oc);
      return idx;
    }
    Expr q = is_const_zero(row0_) ? p : row0_ * Expr(p_.ow) + p;
    return {n_, oc, p_.oh == 1 ? zero() : p_.ow == 1 ? q : q / Expr(p_.ow),
            p_.ow == 1 ? zero() : p_.oh == 1 ? q : q % Expr(p_.ow)};
  }

  static bool is_const_zero(const Expr& e) {
    const int64_t* v = kir::as_const_int(e);
    return v && *v == 0;
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  int64_t mr_ = 1, lanes_ = 1, width_ = 1, mg_ = 1, blocks_ = 1, cq_ = 1, taps_ = 1, positions_ = 1, tiles_ = 1,
          padded_ = 1, xz_ = 0;
  int group_ = 4;
  DType xt_ = DType::kU8;
  bool row_sums_ = false, matmul_ = false, flat_ = false;
  ir::Shape lead_;  // a MatMulInteger's leading dims (of A and the output)
  int64_t rows_ = 1;   // output rows of the current chunk, from row0_
  Expr row0_;
  kir::Buffer scratch_, xpad_;
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

int64_t conv_integer_block(const KernelOptions& opts) { return int8_tile(opts).mr; }

std::string conv_integer_layout_name(int64_t mr, int group, bool flat) {
  return "o" + std::to_string(mr) + "k" + std::to_string(group) + (flat ? "f" : "");
}

bool conv_integer_flat(const ConvParams& p, int group) {
  int64_t taps = p.kh * p.kw;
  return taps > 1 && (p.cg * taps + group - 1) / group < taps * ((p.cg + group - 1) / group);
}

std::string conv_integer_strategy(const PackedWeight& packed) {
  bool dot4 = packed.layout.find("k4") != std::string::npos;
  return std::string("int8 register tiles of ") +
         (dot4 ? "8-bit dot products (VNNI vpdpbusd / NEON sdot, udot)" : "int16 pair products (vpmaddwd / smlal)") +
         " over a per-call im2col of the activations, weights packed at compile time (" + packed.layout + ")";
}

PackedConvInteger pack_conv_integer_weight(const ir::Node& node, const ConvParams& p, int64_t mr, int group,
                                           bool flat) {
  const ir::Tensor& w = *node.inputs[1]->constant;
  const ir::Tensor& wz = *node.inputs[3]->constant;
  DType wt = w.type().dtype, xt = node.inputs[0]->type.dtype;
  bool matmul = node.op == ir::OpKind::kMatMulInteger;  // B[K, N]: channel ic of output oc at ic * N + oc
  int64_t xz = node.inputs[2]->constant->get_i64(0) + x_offset(xt);
  int64_t mg = p.m / p.group, blocks = (mg + mr - 1) / mr, cq = (p.cg + group - 1) / group;
  int64_t taps = p.kh * p.kw, ksteps = flat ? (p.cg * taps + group - 1) / group : taps * cq, k_padded = ksteps * group;
  int64_t cols = p.group * blocks * mr;  // packed channel order; the padding channels are 0
  PackedConvInteger out;
  out.weights = ir::Tensor(ir::TensorType{DType::kI32, {p.group * blocks, ksteps, mr}});
  if (group == 4) out.offsets = ir::Tensor(ir::TensorType{DType::kI32, {2, cols}});
  uint32_t* dst = reinterpret_cast<uint32_t*>(out.weights.mutable_data<int32_t>());
  for (int64_t oc = 0; oc < p.m; ++oc) {
    int64_t zero = wz.get_i64(wz.type().num_elements() == 1 ? 0 : oc);
    int64_t g = oc / mg, r = oc % mg, blk = g * blocks + r / mr, i = r % mr;
    int64_t sum = 0;
    for (int64_t step = 0; step < ksteps; ++step) {
      uint32_t packed = 0;
      for (int64_t j = 0; j < group; ++j) {
        // Element e of the window, flattened (ic, tap) (flat: steps of G of
        // them; else step = tap * cq + c of channels c * G + j); the value in
        // the kernel's form, the zero point past the channels.
        int64_t e = flat ? step * group + j : step % cq * group + j, tap = flat ? e % taps : step / cq;
        int64_t ic = flat ? e / taps : e;
        int64_t raw = ic >= p.cg ? zero : matmul ? w.get_i64(ic * p.m + oc) : w.get_i64((oc * p.cg + ic) * taps + tap);
        int64_t v = group == 4 ? raw + w_offset(wt) : raw - zero;
        sum += v;
        uint32_t bits = group == 4 ? static_cast<uint8_t>(v) : static_cast<uint16_t>(v);
        packed |= bits << (group == 4 ? 8 * j : 16 * j);
      }
      dst[(blk * ksteps + step) * mr + i] = packed;
    }
    if (group == 4) {
      int64_t wz4 = zero + w_offset(wt);
      out.offsets.mutable_data<int32_t>()[blk * mr + i] = static_cast<int32_t>(k_padded * xz * wz4 - xz * sum);
      out.offsets.mutable_data<int32_t>()[cols + blk * mr + i] = static_cast<int32_t>(wz4);
    }
  }
  return out;
}

Expected<Stmt> lower_conv_integer_tiled(const LowerContext& ctx, const ConvParams& p) {
  return Int8ConvTiler(ctx, p).build();
}

}  // namespace kiln::ops
