// ONNX math ops composed from core elementwise ops and reductions: the
// activations (Elu .. Gelu, PRelu), Sign/IsNaN/IsInf, the hyperbolic functions
// through Exp/Log/Sqrt, Xor, Mod, and ReduceL1/L2/LogSum/LogSumExp/Prod/SumSquare.
// float16 activations and Mod are computed in float32 and rounded once.
#include <algorithm>
#include <cmath>
#include <limits>

#include "base/check.h"
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

// Emits the helper nodes of one ONNX node's expansion under fresh suffixes.
class Composer {
 public:
  explicit Composer(NodeContext& ctx) : ctx_(ctx) {}
  Expected<Value*> op(OpKind op, std::vector<Value*> ins, ir::Attrs attrs = {}) {
    return ctx_.add(op, std::move(ins), std::move(attrs), "c" + std::to_string(n_++));
  }
  // A scalar constant of v's dtype.
  Value* k(const Value* like, double v) { return ctx_.scalar(like->type.dtype, v, "k" + std::to_string(n_++)); }

 private:
  NodeContext& ctx_;
  int n_ = 0;
};

#define KILN_LET(var, expr) KILN_ASSIGN_OR_RETURN(Value * var, expr)

// `v` cast to `to` (itself when it has that type already).
Expected<Value*> cast(NodeContext& ctx, Value* v, DType to, const std::string& suffix) {
  if (v->type.dtype == to) return v;
  return ctx.add(OpKind::kCast, {v}, ir::Attrs().set("to", static_cast<int64_t>(to)), suffix);
}

Status need_float(NodeContext& ctx, const Value* x) {
  if (!dtype_is_float(x->type.dtype)) return ctx.error("needs a float input, got " + x->type.str());
  return Status::ok();
}

// The sorted, distinct axes of a reduction (attribute before opset 18, input
// after), or nullopt-like empty with *noop set when it reduces nothing.
Status reduce_axes(NodeContext& ctx, const Value* x, std::vector<int64_t>* axes, bool* noop) {
  *noop = false;
  if (ctx.opset() >= 18) {
    if (ctx.has_input(1)) {
      const ir::Tensor* t = ctx.constant_input(1);
      if (!t) return ctx.unsupported("a non-constant axes input");
      *axes = t->to_i64_vector();
    }
  } else {
    *axes = ctx.attr_ints("axes");
  }
  if (axes->empty()) {
    if (ctx.attr_int("noop_with_empty_axes", 0) != 0) {
      *noop = true;
      return Status::ok();
    }
    for (int64_t a = 0; a < x->type.rank(); ++a) axes->push_back(a);
  }
  for (int64_t& a : *axes) {
    auto n = normalize_axis(a, x->type.rank());
    if (!n) return ctx.error("axis " + std::to_string(a) + " is out of range for input " + x->type.str());
    a = *n;
  }
  std::sort(axes->begin(), axes->end());
  axes->erase(std::unique(axes->begin(), axes->end()), axes->end());
  return Status::ok();
}

}  // namespace

Status map_reduce_composed(NodeContext& ctx) {
  Value* x = ctx.input(0);
  const std::string& type = ctx.op_type();
  std::vector<int64_t> axes;
  bool noop = false;
  if (x->type.dtype == DType::kF16) return ctx.unsupported("a float16 input");
  KILN_RETURN_IF_ERROR(reduce_axes(ctx, x, &axes, &noop));
  int64_t keepdims = ctx.attr_int("keepdims", 1);
  Composer c(ctx);
  ir::Attrs attrs;
  attrs.set("axes", axes).set("keepdims", keepdims);
  auto reduce = [&](OpKind op, Value* v, ir::Attrs a) -> Expected<Value*> {
    if (noop) return v;
    return c.op(op, {v}, std::move(a));
  };
  Value* y = nullptr;
  if (type == "ReduceL1") {
    KILN_LET(a, c.op(OpKind::kAbs, {x}));
    KILN_ASSIGN_OR_RETURN(y, reduce(OpKind::kReduceSum, a, attrs));
  } else if (type == "ReduceL2" || type == "ReduceSumSquare") {
    KILN_LET(sq, c.op(OpKind::kMul, {x, x}));
    KILN_ASSIGN_OR_RETURN(y, reduce(OpKind::kReduceSum, sq, attrs));
    if (type == "ReduceL2") {
      KILN_RETURN_IF_ERROR(need_float(ctx, x));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kSqrt, {y}));
    }
  } else if (type == "ReduceLogSum") {
    KILN_RETURN_IF_ERROR(need_float(ctx, x));
    KILN_LET(s, reduce(OpKind::kReduceSum, x, attrs));
    KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kLog, {s}));
  } else if (type == "ReduceLogSumExp") {
    KILN_RETURN_IF_ERROR(need_float(ctx, x));
    // log(sum(exp(x - m))) + m with m the maximum, unless the reduced set is
    // empty (the sum is 0, the result -inf) or nothing is reduced.
    int64_t count = 1;
    for (int64_t a : axes) count *= x->type.shape[a];
    if (noop || count == 0) {
      KILN_LET(e, c.op(OpKind::kExp, {x}));
      KILN_LET(s, reduce(OpKind::kReduceSum, e, attrs));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kLog, {s}));
    } else {
      ir::Attrs kept;
      kept.set("axes", axes).set("keepdims", int64_t{1});
      KILN_LET(m, c.op(OpKind::kReduceMax, {x}, kept));
      KILN_LET(d, c.op(OpKind::kSub, {x, m}));
      KILN_LET(e, c.op(OpKind::kExp, {d}));
      KILN_LET(s, c.op(OpKind::kReduceSum, {e}, attrs));
      KILN_LET(l, c.op(OpKind::kLog, {s}));
      KILN_LET(mr, ctx.reshape(m, l->type.shape, "max_reshaped"));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kAdd, {l, mr}));
    }
  } else {  // ReduceProd
    KILN_ASSIGN_OR_RETURN(y, reduce(OpKind::kReduceProd, x, attrs));
  }
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_mod(NodeContext& ctx) {
  int64_t fmod = ctx.attr_int("fmod", 0);
  Value* a = ctx.input(0);
  Value* b = ctx.input(1);
  if (dtype_is_float(a->type.dtype) && fmod == 0) return ctx.error("Mod of floats needs fmod=1");
  // float16: fmod of the float32 values is exact, so rounding it once is too.
  bool half = a->type.dtype == DType::kF16 && b->type.dtype == DType::kF16;
  if (half) {
    KILN_ASSIGN_OR_RETURN(a, cast(ctx, a, DType::kF32, "a_f32"));
    KILN_ASSIGN_OR_RETURN(b, cast(ctx, b, DType::kF32, "b_f32"));
  }
  KILN_LET(y, ctx.add(OpKind::kMod, {a, b}, ir::Attrs().set("fmod", fmod), half ? "f32" : ""));
  if (half) {
    KILN_ASSIGN_OR_RETURN(y, cast(ctx, y, DType::kF16, ""));
  }
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_xor(NodeContext& ctx) {
  // a xor b on bools is a != b.
  KILN_LET(eq, ctx.add(OpKind::kEqual, {ctx.input(0), ctx.input(1)}, {}, "eq"));
  KILN_LET(y, ctx.add(OpKind::kNot, {eq}));
  ctx.set_output(0, y);
  return Status::ok();
}

namespace {

// The expansion of the node's op on `x` (float32 for a float16 input).
Expected<Value*> compose_math(NodeContext& ctx, Value* x) {
  const std::string& type = ctx.op_type();
  Composer c(ctx);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  auto zero = [&] { return c.k(x, 0); };
  Value* y = nullptr;
  if (type == "Sign") {
    KILN_LET(pos, c.op(OpKind::kGreater, {x, zero()}));
    KILN_LET(neg, c.op(OpKind::kLess, {x, zero()}));
    KILN_LET(n, c.op(OpKind::kWhere, {neg, c.k(x, -1), zero()}));
    KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kWhere, {pos, c.k(x, 1), n}));
  } else if (type == "IsNaN") {
    KILN_RETURN_IF_ERROR(need_float(ctx, x));
    KILN_LET(eq, c.op(OpKind::kEqual, {x, x}));
    KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kNot, {eq}));
  } else if (type == "IsInf") {
    KILN_RETURN_IF_ERROR(need_float(ctx, x));
    bool pos = ctx.attr_int("detect_positive", 1) != 0, neg = ctx.attr_int("detect_negative", 1) != 0;
    KILN_LET(p, c.op(OpKind::kEqual, {x, c.k(x, kInf)}));
    KILN_LET(n, c.op(OpKind::kEqual, {x, c.k(x, -kInf)}));
    if (pos && neg) {
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kOr, {p, n}));
    } else if (pos || neg) {
      y = pos ? p : n;
    } else {
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kAnd, {p, n}));  // always false
    }
  } else if (type == "ThresholdedRelu") {
    KILN_LET(gt, c.op(OpKind::kGreater, {x, c.k(x, ctx.attr_float("alpha", 1.0))}));
    KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kWhere, {gt, x, zero()}));
  } else if (type == "Shrink") {
    double lambd = ctx.attr_float("lambd", 0.5), bias = ctx.attr_float("bias", 0.0);
    KILN_LET(lo, c.op(OpKind::kLess, {x, c.k(x, -lambd)}));
    KILN_LET(hi, c.op(OpKind::kGreater, {x, c.k(x, lambd)}));
    KILN_LET(plus, c.op(OpKind::kAdd, {x, c.k(x, bias)}));
    KILN_LET(minus, c.op(OpKind::kSub, {x, c.k(x, bias)}));
    KILN_LET(inner, c.op(OpKind::kWhere, {hi, minus, zero()}));
    KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kWhere, {lo, plus, inner}));
  } else if (type == "PRelu") {
    Value* slope = ctx.input(1);
    if (slope->type.dtype == DType::kF16) {
      KILN_ASSIGN_OR_RETURN(slope, cast(ctx, slope, x->type.dtype, "slope_f32"));
    }
    KILN_LET(neg, c.op(OpKind::kLess, {x, zero()}));
    KILN_LET(scaled, c.op(OpKind::kMul, {x, slope}));
    KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kWhere, {neg, scaled, x}));
  } else {
    // The rest are float functions.
    KILN_RETURN_IF_ERROR(need_float(ctx, x));
    auto expm1_scaled = [&](Value* v, double alpha) -> Expected<Value*> {  // alpha * (exp(v) - 1)
      KILN_LET(e, c.op(OpKind::kExp, {v}));
      KILN_LET(d, c.op(OpKind::kSub, {e, c.k(x, 1)}));
      return c.op(OpKind::kMul, {d, c.k(x, alpha)});
    };
    auto softplus = [&](Value* v) -> Expected<Value*> {  // log(exp(v) + 1)
      KILN_LET(e, c.op(OpKind::kExp, {v}));
      KILN_LET(s, c.op(OpKind::kAdd, {e, c.k(x, 1)}));
      return c.op(OpKind::kLog, {s});
    };
    if (type == "Elu" || type == "Selu") {
      bool selu = type == "Selu";
      double alpha = ctx.attr_float("alpha", selu ? 1.67326319217681884765625 : 1.0);
      KILN_LET(neg, c.op(selu ? OpKind::kGreater : OpKind::kLess, {x, zero()}));
      KILN_LET(e, expm1_scaled(x, alpha));
      // Elu: x < 0 ? alpha*(e^x-1) : x.  Selu: gamma * (x > 0 ? x : alpha*(e^x-1)).
      KILN_ASSIGN_OR_RETURN(y, selu ? c.op(OpKind::kWhere, {neg, x, e}) : c.op(OpKind::kWhere, {neg, e, x}));
      if (selu) {
        KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kMul, {y, c.k(x, ctx.attr_float("gamma", 1.05070102214813232421875))}));
      }
    } else if (type == "Celu") {
      double alpha = ctx.attr_float("alpha", 1.0);
      KILN_LET(s, c.op(OpKind::kDiv, {x, c.k(x, alpha)}));
      KILN_LET(e, expm1_scaled(s, alpha));
      KILN_LET(neg, c.op(OpKind::kMin, {e, zero()}));
      KILN_LET(pos, c.op(OpKind::kMax, {x, zero()}));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kAdd, {pos, neg}));
    } else if (type == "Softplus") {
      KILN_ASSIGN_OR_RETURN(y, softplus(x));
    } else if (type == "Softsign") {
      KILN_LET(a, c.op(OpKind::kAbs, {x}));
      KILN_LET(d, c.op(OpKind::kAdd, {a, c.k(x, 1)}));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kDiv, {x, d}));
    } else if (type == "Mish") {
      KILN_LET(sp, softplus(x));
      KILN_LET(t, c.op(OpKind::kTanh, {sp}));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kMul, {x, t}));
    } else if (type == "Swish") {  // x * sigmoid(alpha * x)
      KILN_LET(ax, c.op(OpKind::kMul, {x, c.k(x, ctx.attr_float("alpha", 1.0))}));
      KILN_LET(s, c.op(OpKind::kSigmoid, {ax}));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kMul, {x, s}));
    } else if (type == "Gelu") {
      std::string approx = ctx.attr_string("approximate", "none");
      Value* inner = nullptr;
      if (approx == "tanh") {
        // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
        KILN_LET(x2, c.op(OpKind::kMul, {x, x}));
        KILN_LET(x3, c.op(OpKind::kMul, {x2, x}));
        KILN_LET(t, c.op(OpKind::kMul, {x3, c.k(x, 0.044715)}));
        KILN_LET(s, c.op(OpKind::kAdd, {x, t}));
        KILN_LET(u, c.op(OpKind::kMul, {s, c.k(x, std::sqrt(2.0 / M_PI))}));
        KILN_ASSIGN_OR_RETURN(inner, c.op(OpKind::kTanh, {u}));
      } else if (approx == "none") {
        KILN_LET(u, c.op(OpKind::kMul, {x, c.k(x, M_SQRT1_2)}));
        KILN_ASSIGN_OR_RETURN(inner, c.op(OpKind::kErf, {u}));
      } else {
        return ctx.unsupported("approximate='" + approx + "'");
      }
      KILN_LET(one_plus, c.op(OpKind::kAdd, {inner, c.k(x, 1)}));
      KILN_LET(half_x, c.op(OpKind::kMul, {x, c.k(x, 0.5)}));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kMul, {half_x, one_plus}));
    } else if (type == "Sinh" || type == "Cosh") {
      KILN_LET(e, c.op(OpKind::kExp, {x}));
      KILN_LET(nx, c.op(OpKind::kNeg, {x}));
      KILN_LET(en, c.op(OpKind::kExp, {nx}));
      KILN_LET(s, c.op(type == "Sinh" ? OpKind::kSub : OpKind::kAdd, {e, en}));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kMul, {s, c.k(x, 0.5)}));
    } else if (type == "Asinh") {
      // sign(x) * log(|x| + sqrt(x^2 + 1)): no cancellation for negative x.
      KILN_LET(a, c.op(OpKind::kAbs, {x}));
      KILN_LET(x2, c.op(OpKind::kMul, {x, x}));
      KILN_LET(p, c.op(OpKind::kAdd, {x2, c.k(x, 1)}));
      KILN_LET(r, c.op(OpKind::kSqrt, {p}));
      KILN_LET(s, c.op(OpKind::kAdd, {a, r}));
      KILN_LET(l, c.op(OpKind::kLog, {s}));
      KILN_LET(nl, c.op(OpKind::kNeg, {l}));
      KILN_LET(neg, c.op(OpKind::kLess, {x, zero()}));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kWhere, {neg, nl, l}));
    } else if (type == "Acosh") {
      KILN_LET(x2, c.op(OpKind::kMul, {x, x}));
      KILN_LET(p, c.op(OpKind::kSub, {x2, c.k(x, 1)}));
      KILN_LET(r, c.op(OpKind::kSqrt, {p}));
      KILN_LET(s, c.op(OpKind::kAdd, {x, r}));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kLog, {s}));
    } else if (type == "Atanh") {
      KILN_LET(num, c.op(OpKind::kAdd, {c.k(x, 1), x}));
      KILN_LET(den, c.op(OpKind::kSub, {c.k(x, 1), x}));
      KILN_LET(q, c.op(OpKind::kDiv, {num, den}));
      KILN_LET(l, c.op(OpKind::kLog, {q}));
      KILN_ASSIGN_OR_RETURN(y, c.op(OpKind::kMul, {l, c.k(x, 0.5)}));
    } else {
      KILN_UNREACHABLE("map_math_composed: " << type);
    }
  }
  return y;
}

}  // namespace

Status map_math_composed(NodeContext& ctx) {
  Value* x = ctx.input(0);
  // The expansions use scalar constants of x's type: float16 goes through float32.
  bool half = x->type.dtype == DType::kF16;
  if (half) {
    KILN_ASSIGN_OR_RETURN(x, cast(ctx, x, DType::kF32, "f32"));
  }
  KILN_LET(y, compose_math(ctx, x));
  if (half && y->type.dtype == DType::kF32) {
    KILN_ASSIGN_OR_RETURN(y, cast(ctx, y, DType::kF16, "f16"));
  }
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
