// Element types narrower than their registers: bfloat16, float8 and float4
// values live in float32 registers (rounded to their type after every
// operation) and in memory as their own bits; the 4- and 2-bit integers live
// in i8 registers, sign- or zero-extended, and in the low bits of a byte.
// The conversions are the algorithm of ir/narrow_float.cpp emitted inline
// (integer and float32 operations, scalar or vector): no libcalls.
#include <cmath>

#include "codegen/llvm/kernel_emitter.h"
#include "ir/narrow_float.h"

namespace kiln::codegen {
namespace {

using Nan = NarrowFloatFormat::Nan;

// The i32 (or <N x i32>) type shaped like float32 value v.
llvm::Type* int_like(llvm::Value* v) { return v->getType()->getWithNewType(llvm::Type::getInt32Ty(v->getContext())); }

}  // namespace

llvm::Value* KernelEmitter::i32_const(llvm::Value* like, uint32_t c) {
  return llvm::ConstantInt::get(int_like(like), c);
}

llvm::Value* KernelEmitter::narrow_round(DType t, llvm::Value* x) {
  llvm::Type* it = int_like(x);
  llvm::Type* ft = x->getType();
  auto c = [&](uint32_t v) { return i32_const(x, v); };
  llvm::Value* u = b_.CreateBitCast(x, it);
  if (t == DType::kF8E8M0) {
    // Round up (a fraction takes the next exponent) with saturation: 2^127 stays.
    llvm::Value* e = b_.CreateAnd(b_.CreateLShr(u, c(23)), c(0xff));
    llvm::Value* has_frac = b_.CreateICmpNE(b_.CreateAnd(u, c(0x7fffff)), c(0));
    llvm::Value* up = b_.CreateAnd(has_frac, b_.CreateICmpNE(e, c(0xfe)));
    llvm::Value* e2 = b_.CreateAdd(e, b_.CreateZExt(up, it));
    llvm::Value* bits = b_.CreateSelect(b_.CreateICmpEQ(e2, c(0)), c(0x00400000), b_.CreateShl(e2, c(23)));
    bits = b_.CreateSelect(b_.CreateICmpEQ(e, c(0xff)), c(0x7fc00000), bits);
    return b_.CreateBitCast(bits, ft);
  }
  const NarrowFloatFormat& f = narrow_float_format(t);
  llvm::Value* sign = b_.CreateAnd(u, c(0x80000000u));
  llvm::Value* a = b_.CreateAnd(u, c(0x7fffffffu));
  // Round the fraction to man_bits, ties to even (a carry moves into the exponent).
  int shift = 23 - f.man_bits;
  llvm::Value* lsb = b_.CreateAnd(b_.CreateLShr(a, c(shift)), c(1));
  llvm::Value* half = b_.CreateAdd(lsb, c((1u << (shift - 1)) - 1));
  llvm::Value* r = b_.CreateAnd(b_.CreateAdd(a, half), c(~((1u << shift) - 1)));
  if (t != DType::kBF16) {
    // Below the smallest normal: float32's own rounding of |x| + 2^k, whose ulp
    // is the subnormal step 2^(min_exp - man_bits).
    llvm::Value* big = llvm::ConstantFP::get(ft, std::ldexp(1.0, f.min_exp() - f.man_bits + 23));
    llvm::Value* ax = b_.CreateBitCast(a, ft);
    llvm::Value* sub = b_.CreateBitCast(b_.CreateFSub(b_.CreateFAdd(ax, big), big), it);
    llvm::Value* is_sub = b_.CreateICmpULT(a, c(static_cast<uint32_t>(127 + f.min_exp()) << 23));
    r = b_.CreateSelect(is_sub, sub, r);
  }
  uint32_t overflow = f.nan == Nan::kIeee ? 0x7f800000u : f.nan == Nan::kNone ? f.max_bits : 0x7fc00000u;
  r = b_.CreateSelect(b_.CreateICmpUGT(r, c(f.max_bits)), c(overflow), r);
  llvm::Value* res = b_.CreateOr(r, sign);
  if (f.nan == Nan::kNegZero) res = b_.CreateSelect(b_.CreateICmpEQ(r, c(0)), c(0), res);
  // NaN stays NaN; float4e2m1 has none: a zero of the opposite sign (as ml_dtypes).
  llvm::Value* nan = f.nan == Nan::kNone ? b_.CreateXor(sign, c(0x80000000u)) : u;
  res = b_.CreateSelect(b_.CreateICmpUGT(a, c(0x7f800000u)), nan, res);
  return b_.CreateBitCast(res, ft);
}

llvm::Value* KernelEmitter::narrow_encode(DType t, llvm::Value* x) {
  llvm::Type* it = int_like(x);
  llvm::Type* mt = x->getType()->getWithNewType(memory_type(t));
  auto c = [&](uint32_t v) { return i32_const(x, v); };
  llvm::Value* u = b_.CreateBitCast(x, it);
  llvm::Value* a = b_.CreateAnd(u, c(0x7fffffffu));
  llvm::Value* is_nan = b_.CreateICmpUGT(a, c(0x7f800000u));
  if (t == DType::kF8E8M0) return b_.CreateTrunc(b_.CreateAnd(b_.CreateLShr(u, c(23)), c(0xff)), mt);
  if (t == DType::kBF16) {
    llvm::Value* nan = b_.CreateOr(b_.CreateAnd(b_.CreateLShr(u, c(16)), c(0x8000)), c(0x7fc0));
    return b_.CreateTrunc(b_.CreateSelect(is_nan, nan, b_.CreateLShr(u, c(16))), mt);
  }
  const NarrowFloatFormat& f = narrow_float_format(t);
  llvm::Value* sign = b_.CreateShl(b_.CreateLShr(u, c(31)), c(f.total_bits() - 1));
  llvm::Value* nrm =
      b_.CreateSub(b_.CreateLShr(a, c(23 - f.man_bits)), c(static_cast<uint32_t>(127 - f.bias) << f.man_bits));
  llvm::Value* scaled = b_.CreateFMul(b_.CreateBitCast(a, x->getType()),
                                      llvm::ConstantFP::get(x->getType(), std::ldexp(1.0, f.man_bits - f.min_exp())));
  llvm::Value* sub = b_.CreateFPToSI(scaled, it);
  llvm::Value* code = b_.CreateSelect(b_.CreateICmpULT(a, c(static_cast<uint32_t>(127 + f.min_exp()) << 23)), sub, nrm);
  if (f.has_inf())
    code = b_.CreateSelect(b_.CreateICmpEQ(a, c(0x7f800000u)), c(((1u << f.exp_bits) - 1) << f.man_bits), code);
  llvm::Value* nan = c(f.nan_code);
  if (f.nan == Nan::kNegZero) {
    code = b_.CreateSelect(b_.CreateICmpEQ(code, c(0)), code, b_.CreateOr(code, sign));
  } else {
    code = b_.CreateOr(code, sign);
    nan = b_.CreateOr(nan, sign);
  }
  if (f.nan != Nan::kNone) code = b_.CreateSelect(is_nan, nan, code);
  return b_.CreateTrunc(code, mt);
}

llvm::Value* KernelEmitter::narrow_decode(DType t, llvm::Value* bits) {
  llvm::Type* it = bits->getType()->getWithNewBitWidth(32);
  llvm::Type* ft = it->getWithNewType(b_.getFloatTy());
  llvm::Value* b = b_.CreateZExt(bits, it);
  auto c = [&](uint32_t v) { return llvm::ConstantInt::get(it, v); };
  if (t == DType::kBF16) return b_.CreateBitCast(b_.CreateShl(b, c(16)), ft);
  if (t == DType::kF8E8M0) {
    llvm::Value* v = b_.CreateSelect(b_.CreateICmpEQ(b, c(0)), c(0x00400000), b_.CreateShl(b, c(23)));
    return b_.CreateBitCast(b_.CreateSelect(b_.CreateICmpEQ(b, c(0xff)), c(0x7fc00000u), v), ft);
  }
  const NarrowFloatFormat& f = narrow_float_format(t);
  int top = f.total_bits() - 1;
  b = b_.CreateAnd(b, c((1u << f.total_bits()) - 1));
  llvm::Value* sign = b_.CreateShl(b_.CreateLShr(b, c(top)), c(31));
  llvm::Value* mag = b_.CreateAnd(b, c((1u << top) - 1));
  llvm::Value* nrm = b_.CreateAdd(b_.CreateShl(mag, c(23 - f.man_bits)), c(static_cast<uint32_t>(127 - f.bias) << 23));
  llvm::Value* step = llvm::ConstantFP::get(ft, std::ldexp(1.0, f.min_exp() - f.man_bits));
  llvm::Value* sub = b_.CreateBitCast(b_.CreateFMul(b_.CreateUIToFP(mag, ft), step), it);
  llvm::Value* v = b_.CreateSelect(b_.CreateICmpULT(mag, c(1u << f.man_bits)), sub, nrm);
  uint32_t exp_ones = ((1u << f.exp_bits) - 1) << f.man_bits;
  switch (f.nan) {
    case Nan::kIeee: {  // exponent all ones: inf, or NaN when the fraction is nonzero
      llvm::Value* frac = b_.CreateShl(b_.CreateAnd(mag, c((1u << f.man_bits) - 1)), c(23 - f.man_bits));
      v = b_.CreateSelect(b_.CreateICmpUGE(mag, c(exp_ones)), b_.CreateOr(c(0x7f800000u), frac), v);
      break;
    }
    case Nan::kAllOnes: v = b_.CreateSelect(b_.CreateICmpEQ(mag, c((1u << top) - 1)), c(0x7fc00000u), v); break;
    case Nan::kNegZero: sign = b_.CreateSelect(b_.CreateICmpEQ(b, c(1u << top)), c(0x7fc00000u), sign); break;
    case Nan::kNone: break;
  }
  return b_.CreateBitCast(b_.CreateOr(v, sign), ft);
}

llvm::Value* KernelEmitter::wrap_small_int(DType t, llvm::Value* v) {
  int bits = dtype_bits(t);
  if (bits >= 8 || t == DType::kBool) return v;
  llvm::Type* ty = v->getType();
  if (dtype_is_unsigned(t)) return b_.CreateAnd(v, llvm::ConstantInt::get(ty, (1u << bits) - 1));
  llvm::Value* s = llvm::ConstantInt::get(ty, 8 - bits);
  return b_.CreateAShr(b_.CreateShl(v, s), s);
}

llvm::Value* KernelEmitter::from_memory(DType t, llvm::Value* v) {
  if (t == DType::kBool) return b_.CreateICmpNE(v, llvm::Constant::getNullValue(v->getType()));
  if (dtype_is_narrow_float(t)) return narrow_decode(t, v);
  return wrap_small_int(t, v);
}

llvm::Value* KernelEmitter::to_memory(DType t, llvm::Value* v) {
  if (t == DType::kBool) return b_.CreateZExt(v, v->getType()->getWithNewBitWidth(8));
  if (dtype_is_narrow_float(t)) return narrow_encode(t, v);
  int bits = dtype_bits(t);
  if (bits < 8) return b_.CreateAnd(v, llvm::ConstantInt::get(v->getType(), (1u << bits) - 1));
  return v;
}

}  // namespace kiln::codegen
