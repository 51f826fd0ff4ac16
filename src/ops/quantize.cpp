// The elementwise ops of quantized models, with ONNX's rounding (half to even)
// and saturation to the output type's range:
//   QuantizeLinear(x, scale, zero_point): y = saturate(round(x / scale) + zero_point).
//     x and scale are floats (the division runs in the wider of their types),
//     zero_point is uint8/int8 and sets the output type. scale and zero_point
//     broadcast against x: the frontend reshapes per-axis and blocked parameters.
//   DequantizeLinear(x, scale, zero_point) {to}: y = (x - zero_point) * scale.
//     x is uint8/int8/int32 with zero_point of its type; the difference is exact
//     in int32, the product is float32 (float64 for a float64 scale), rounded on
//     its own (never contracted into a following add), then to `to` (a float DType value).
//   Requantize(acc, multiplier, zero_point) {min, max}: the epilogue of the integer
//     Conv/MatMul: y = saturate(round(float32(acc) * multiplier) + zero_point), acc
//     int32, multiplier float32, the output zero_point's type; the optional int
//     attributes min/max narrow the range (a fused Relu or Clip, in output units).
//     With the float attribute dequantize_scale and the int dequantize_zero
//     (passes/lower_qdq: a DequantizeLinear of the result that was its only
//     user), the output is that DequantizeLinear's, float32:
//     (y - dequantize_zero) * dequantize_scale, with no round trip through the
//     integer type: y - z' = saturate(r, lo - z, hi - z) + (z - z') is exact in float32.
//     An accumulator of known range (an integer Conv/MatMul plus constant
//     biases: requantize_in_int32) saturates in int32 after the rounding, the
//     same values with one instruction less per vector.
// NaN saturates to the type's minimum (the comparisons below are false for it).
#include <cmath>

#include "ops/int8_conv.h"
#include "ops/op_families.h"
#include "ops/quant_types.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;

namespace {

bool is_compute_float(DType t) { return t == DType::kF16 || t == DType::kF32 || t == DType::kF64; }

// The wider of two of float16/32/64.
DType wider_float(DType a, DType b) {
  auto rank = [](DType t) { return t == DType::kF64 ? 2 : t == DType::kF32 ? 1 : 0; };
  return rank(a) >= rank(b) ? a : b;
}

// Scale and zero point must broadcast to the input's shape without growing it.
Status check_broadcast(const ir::Node& node, const ir::TensorType& x, int i, const char* what) {
  const ir::TensorType& p = node.inputs[i]->type;
  auto shape = broadcast_shapes(x.shape, p.shape);
  if (!shape || *shape != x.shape)
    return Status::invalid(std::string(ir::op_name(node.op)) + " " + what + " " + p.str() +
                           " does not broadcast to the input " + x.str());
  return Status::ok();
}

Status check_zero_point(const ir::Node& node, int i, const std::string& allowed) {
  const ir::TensorType& z = node.inputs[i]->type;
  if (!is_quantized_type(z.dtype))
    return Status::invalid(std::string(ir::op_name(node.op)) + " zero point " + z.str() + " must be " + allowed);
  return Status::ok();
}

// clamp(v, lo, hi) for a float v; NaN becomes lo. (Strict comparisons: the
// selects are one max and one min instruction on x86; only -0.0 becomes +0.0,
// which every integer conversion that follows reads as 0.)
Expr saturate(Expr v, double lo, double hi) {
  Expr l = kir::make_const(v.type(), lo), h = kir::make_const(v.type(), hi);
  v = kir::select(v > l, v, l);
  return kir::select(v < h, v, h);
}

Expr to_type(DType t, const Expr& e) { return e.type().elem == t ? e : kir::cast(kir::Type{t, 1}, e); }

// QuantizeLinear's x / scale, correctly rounded. With one constant float32
// scale s whose reciprocal is a normal number, on a target with FMA (the node's
// kQuantizeByReciprocal attribute): no division instruction (a
// vector division costs ~10x a multiply, and QuantizeLinear ends every fused
// residual block) but Markstein's exact sequence: y = RN(1/s) (a constant),
// q = RN(x * y) is within an ulp of x / s, the remainder x - q * s is exact by
// FMA, and RN(q + r * y) = RN(x / s). (Where x / s is subnormal the last bit
// may differ; rounded to an integer it is 0 either way.) q is first clamped to
// at most 2^24 (one min, no finiteness test): every x / s above that saturates
// to the maximum either way, and the corrections of a clamped +inf stay
// +inf; a q of -inf or NaN (x = -inf or NaN, x / s overflowing downwards)
// makes the result NaN or -inf, which saturates to the minimum as x / s does.
Expr quotient(const ir::Node& node, const Expr& x, const Expr& s) {
  const ir::Value* scale = node.inputs[1];
  if (x.type().elem != DType::kF32 || !scale->is_constant() || scale->type.num_elements() != 1 ||
      node.attrs.get_int(kQuantizeByReciprocal, 0) != 1)
    return x / s;
  float sv = static_cast<float>(scale->constant->get_f64(0)), yv = 1.0f / sv;
  if (!std::isnormal(sv) || !std::isnormal(yv)) return x / s;
  Expr y = kir::make_const(kir::f32(), yv), neg_s = kir::make_const(kir::f32(), -sv);
  // (x is a chain value the kernel builder binds to a variable or a load: the
  // repeated products are one instruction after LLVM's CSE.)
  Expr big = kir::make_const(kir::f32(), 16777216.0);
  Expr product = x * y;
  Expr q = kir::select(product < big, product, big);
  Expr r = kir::call(kir::Intrinsic::kFma, {q, neg_s, x});
  return kir::call(kir::Intrinsic::kFma, {r, y, q});
}

// A bound on |acc| where the Requantize's accumulator is an integer
// Conv/MatMul's (K products of two 8-bit differences, each at most 255 in
// magnitude) plus constant biases; nullopt where it is not known.
std::optional<double> accumulator_bound(const ir::Value* acc) {
  const ir::Node* n = acc->producer;
  if (!n) return std::nullopt;
  if (n->op == OpKind::kAdd && n->inputs.size() == 2) {
    for (int i = 0; i < 2; ++i) {
      const ir::Value* c = n->inputs[i];
      if (!c->is_constant() || c->type.dtype != DType::kI32) continue;
      std::optional<double> rest = accumulator_bound(n->inputs[1 - i]);
      if (!rest) return std::nullopt;
      double most = 0;
      for (int64_t j = 0; j < c->type.num_elements(); ++j)
        most = std::max(most, std::fabs(static_cast<double>(c->constant->get_i64(j))));
      return *rest + most;
    }
    return std::nullopt;
  }
  int64_t k = 0;
  if (n->op == OpKind::kConvInteger) {
    Expected<ConvParams> p = conv_integer_params(*n);
    if (!p) return std::nullopt;
    k = p->cg * p->kh * p->kw;
  } else if (n->op == OpKind::kMatMulInteger) {
    Expected<MatMulParams> p = matmul_integer_params(*n);
    if (!p) return std::nullopt;
    k = p->k;
  } else {
    return std::nullopt;
  }
  return static_cast<double>(k) * 255.0 * 255.0;
}

// Whether Requantize `node`'s rounded product float32(acc) * multiplier is known
// to stay well inside int32 (|.| < 2^30), so that it saturates as an integer:
// one conversion, the zero point added and the clamp in int32, the narrowing
// saturated (a float clamp costs a min, a max and the zero point's add before
// its conversion: one instruction more per vector).
bool requantize_in_int32(const ir::Node& node) {
  const ir::Value* m = node.inputs[1];
  if (!m->is_constant() || !node.inputs[2]->is_constant()) return false;
  std::optional<double> bound = accumulator_bound(node.inputs[0]);
  if (!bound) return false;
  double most = 0;
  for (int64_t j = 0; j < m->type.num_elements(); ++j) {
    double v = std::fabs(m->constant->get_f64(j));
    if (!std::isfinite(v)) return false;
    most = std::max(most, v);
  }
  // (float32 rounding of acc and of the product adds well under 1 %.)
  return (*bound + 1) * most * 1.01 < 1073741824.0;
}

}  // namespace

Status infer_quantize(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 3, 3));
  const ir::TensorType& x = node.inputs[0]->type;
  const ir::TensorType& s = node.inputs[1]->type;
  const ir::TensorType& z = node.inputs[2]->type;
  std::string name = ir::op_name(node.op);
  KILN_RETURN_IF_ERROR(check_broadcast(node, x, 1, "scale"));
  KILN_RETURN_IF_ERROR(check_broadcast(node, x, 2, "zero point"));
  ir::TensorType out = x;
  switch (node.op) {
    case OpKind::kQuantizeLinear:
      if (!is_compute_float(x.dtype)) return Status::invalid(name + " needs a float input, got " + x.str());
      if (!is_compute_float(s.dtype)) return Status::invalid(name + " scale " + s.str() + " must be a float tensor");
      KILN_RETURN_IF_ERROR(check_zero_point(node, 2, "uint8 or int8"));
      out.dtype = z.dtype;
      break;
    case OpKind::kDequantizeLinear: {
      if (!is_quantized_type(x.dtype) && x.dtype != DType::kI32)
        return Status::invalid(name + " needs a uint8, int8 or int32 input, got " + x.str());
      if (z.dtype != x.dtype)
        return Status::invalid(name + " zero point " + z.str() + " must have the input's type " + dtype_name(x.dtype));
      if (!is_compute_float(s.dtype)) return Status::invalid(name + " scale " + s.str() + " must be a float tensor");
      if (!node.attrs.has("to")) return Status::invalid(name + " needs the attribute 'to'");
      int64_t to = node.attrs.get_int("to");
      DType t = static_cast<DType>(to);
      if (to < 0 || to > 255 || !is_compute_float(t))
        return Status::invalid(name + " output type " + std::to_string(to) + " is not float16, float32 or float64");
      out.dtype = t;
      break;
    }
    case OpKind::kRequantize: {
      if (x.dtype != DType::kI32) return Status::invalid(name + " needs an int32 accumulator, got " + x.str());
      if (s.dtype != DType::kF32) return Status::invalid(name + " multiplier " + s.str() + " must be float32");
      KILN_RETURN_IF_ERROR(check_zero_point(node, 2, "uint8 or int8"));
      int64_t lo = node.attrs.get_int("min", quantized_min(z.dtype));
      int64_t hi = node.attrs.get_int("max", quantized_max(z.dtype));
      if (lo > hi || lo < quantized_min(z.dtype) || hi > quantized_max(z.dtype))
        return Status::invalid(name + " clamp [" + std::to_string(lo) + ", " + std::to_string(hi) +
                               "] is empty or outside the range of " + dtype_name(z.dtype));
      if (node.attrs.has(kDequantizeScale) &&
          (!node.attrs.has(kDequantizeZero) || !node.inputs[2]->is_constant() || z.num_elements() != 1))
        return Status::invalid(name + " with " + kDequantizeScale + " needs " + kDequantizeZero +
                               " and one constant zero point");
      out.dtype = node.attrs.has(kDequantizeScale) ? DType::kF32 : z.dtype;
      break;
    }
    default: KILN_UNREACHABLE("infer_quantize: " << name);
  }
  outputs->assign(1, out);
  return Status::ok();
}

Expr element_quantize(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  auto in = [&](int i) { return read(i, broadcast_index(out_idx, node.inputs[i]->type.shape)); };
  Expr x = in(0), s = in(1), z = in(2);
  DType out = node.outputs[0]->type.dtype;
  switch (node.op) {
    case OpKind::kQuantizeLinear: {
      DType ct = wider_float(x.type().elem, s.type().elem);
      Expr r = kir::call(kir::Intrinsic::kRoundEven, {quotient(node, to_type(ct, x), to_type(ct, s))});
      // Integers below 2^24 are exact in float32; beyond that the sum saturates anyway.
      DType st = ct == DType::kF64 ? DType::kF64 : DType::kF32;
      Expr q = to_type(st, r) + to_type(st, z);
      return to_type(out, saturate(q, quantized_min(out), quantized_max(out)));
    }
    case OpKind::kDequantizeLinear: {
      DType ct = s.type().elem == DType::kF64 ? DType::kF64 : DType::kF32;
      Expr d = to_type(DType::kI32, x) - to_type(DType::kI32, z);
      // The product rounded on its own, as ONNX's value is: codegen must not
      // contract it into an Add that follows (a fused residual
      // DequantizeLinear(a) + DequantizeLinear(b) rounds each product first).
      return to_type(out, kir::call(kir::Intrinsic::kMulRounded, {to_type(ct, d), to_type(ct, s)}));
    }
    case OpKind::kRequantize: {
      Expr r = kir::call(kir::Intrinsic::kRoundEven, {to_type(DType::kF32, x) * s});
      const ir::Attrs& a = node.attrs;
      DType qt = node.inputs[2]->type.dtype;
      double lo = static_cast<double>(a.get_int("min", quantized_min(qt)));
      double hi = static_cast<double>(a.get_int("max", quantized_max(qt)));
      if (!a.has(kDequantizeScale) && requantize_in_int32(node)) {
        // (i + z cannot overflow: |i| < 2^30.)
        Expr zi = to_type(DType::kI32, z), i = to_type(DType::kI32, r);
        Expr l = kir::make_const(kir::i32(), lo), h = kir::make_const(kir::i32(), hi);
        Expr v = i + zi;
        v = kir::select(v > l, v, l);
        return to_type(out, kir::select(v < h, v, h));
      }
      if (!a.has(kDequantizeScale)) return to_type(out, saturate(r + to_type(DType::kF32, z), lo, hi));
      // (y - z') from r: the zero point z is a constant the pass checked.
      double zq = static_cast<double>(node.inputs[2]->constant->get_i64(0));
      double shift = zq - static_cast<double>(a.get_int(kDequantizeZero));
      // Adding the shift also when it is 0 turns a -0.0 from the rounding into
      // +0.0, as the integer y - z' is (LLVM keeps x + 0.0: no nsz flag).
      Expr d = saturate(r, lo - zq, hi - zq) + kir::make_const(kir::f32(), shift);
      return kir::call(kir::Intrinsic::kMulRounded,
                       {d, kir::make_const(kir::f32(), a.get_float(kDequantizeScale))});
    }
    default: break;
  }
  KILN_UNREACHABLE("element_quantize: " << ir::op_name(node.op));
}

}  // namespace kiln::ops
