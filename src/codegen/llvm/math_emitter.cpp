// Inline f32 math for kernel intrinsics: Cephes-style range reduction plus
// polynomials (exp, log, tanh), compositions of them (sigmoid, pow) and a
// rational erf. Scalars and vectors alike; no libm calls. Special values:
// exp(+-large) = inf/0, log(0) = -inf, log(x<0) = nan, tanh/erf saturate to +-1,
// NaN in gives NaN out.
#include <cmath>
#include <initializer_list>
#include <limits>

#include "codegen/llvm/kernel_emitter.h"

namespace kiln::codegen {
namespace {

llvm::Value* c(llvm::IRBuilder<>& b, llvm::Value* like, double v) { return llvm::ConstantFP::get(like->getType(), v); }

llvm::Type* int_type_like(llvm::IRBuilder<>& b, llvm::Value* x) {
  if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(x->getType())) {
    return llvm::FixedVectorType::get(b.getInt32Ty(), vt->getNumElements());
  }
  return b.getInt32Ty();
}

llvm::Value* ci(llvm::IRBuilder<>& b, llvm::Type* t, int64_t v) { return llvm::ConstantInt::get(t, v, true); }

llvm::Value* fmuladd(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y, llvm::Value* z) {
  return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {x->getType()}, {x, y, z});
}

// Horner: coeffs[0]*x^(n-1) + ... + coeffs[n-1].
llvm::Value* horner(llvm::IRBuilder<>& b, llvm::Value* x, std::initializer_list<double> coeffs) {
  auto it = coeffs.begin();
  llvm::Value* p = c(b, x, *it++);
  for (; it != coeffs.end(); ++it) p = fmuladd(b, p, x, c(b, x, *it));
  return p;
}

llvm::Value* is_nan(llvm::IRBuilder<>& b, llvm::Value* x) { return b.CreateFCmpUNO(x, x); }

}  // namespace

llvm::Value* emit_exp(llvm::IRBuilder<>& b, llvm::Value* x) {
  // exp(x) = 2^n * exp(r), r = x - n*ln2 (ln2 split in two for exactness).
  llvm::Value* xc = b.CreateMinNum(b.CreateMaxNum(x, c(b, x, -105.0)), c(b, x, 89.0));
  // Round to nearest with the 1.5*2^23 trick: exact and needs no SSE4.1 roundps.
  llvm::Value* magic = c(b, x, 12582912.0);
  llvm::Value* n = b.CreateFSub(fmuladd(b, xc, c(b, x, 1.44269504088896341), magic), magic);
  llvm::Value* r = fmuladd(b, n, c(b, x, -0.693359375), xc);
  r = fmuladd(b, n, c(b, x, 2.12194440e-4), r);
  llvm::Value* p = horner(b, r, {1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2,
                                 1.6666665459E-1, 5.0000001201E-1});
  llvm::Value* y = b.CreateFAdd(fmuladd(b, p, b.CreateFMul(r, r), r), c(b, x, 1.0));
  // 2^n as two factors 2^n1 * 2^n2 so n in [-152, 128] stays in the exponent range.
  llvm::Type* it = int_type_like(b, x);
  llvm::Value* ni = b.CreateFPToSI(n, it);
  llvm::Value* n1 = b.CreateAShr(ni, ci(b, it, 1));
  llvm::Value* n2 = b.CreateSub(ni, n1);
  auto pow2 = [&](llvm::Value* k) {
    return b.CreateBitCast(b.CreateShl(b.CreateAdd(k, ci(b, it, 127)), ci(b, it, 23)), x->getType());
  };
  llvm::Value* result = b.CreateFMul(b.CreateFMul(y, pow2(n1)), pow2(n2));
  return b.CreateSelect(is_nan(b, x), x, result);
}

llvm::Value* emit_log(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Type* it = int_type_like(b, x);
  // Scale subnormals into the normal range first.
  llvm::Value* sub = b.CreateFCmpOLT(x, c(b, x, 1.17549435e-38));
  llvm::Value* xs = b.CreateSelect(sub, b.CreateFMul(x, c(b, x, 8388608.0)), x);
  llvm::Value* eadj = b.CreateSelect(sub, ci(b, it, -23), ci(b, it, 0));
  llvm::Value* bits = b.CreateBitCast(xs, it);
  llvm::Value* e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, ci(b, it, 23)), ci(b, it, 0xff)), ci(b, it, 126));
  e = b.CreateAdd(e, eadj);
  // Mantissa in [0.5, 1).
  llvm::Value* m = b.CreateBitCast(
      b.CreateOr(b.CreateAnd(bits, ci(b, it, static_cast<int32_t>(0x807fffff))), ci(b, it, 0x3f000000)),
      x->getType());
  llvm::Value* lt = b.CreateFCmpOLT(m, c(b, x, 0.707106781186547524));
  e = b.CreateSub(e, b.CreateZExt(lt, it));
  m = b.CreateFAdd(b.CreateFSub(m, c(b, x, 1.0)), b.CreateSelect(lt, m, c(b, x, 0.0)));
  llvm::Value* z = b.CreateFMul(m, m);
  llvm::Value* y = horner(b, m, {7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
                                 1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
                                 3.3333331174E-1});
  y = b.CreateFMul(b.CreateFMul(y, m), z);
  llvm::Value* ef = b.CreateSIToFP(e, x->getType());
  y = fmuladd(b, ef, c(b, x, -2.12194440e-4), y);
  y = fmuladd(b, z, c(b, x, -0.5), y);
  llvm::Value* r = fmuladd(b, ef, c(b, x, 0.693359375), b.CreateFAdd(m, y));
  const double inf = std::numeric_limits<double>::infinity();
  r = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, x, inf)), c(b, x, inf), r);
  r = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, x, 0.0)), c(b, x, -inf), r);
  return b.CreateSelect(b.CreateFCmpULT(x, c(b, x, 0.0)), c(b, x, std::nan("")), r);
}

llvm::Value* emit_tanh(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Value* ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  // |x| < 0.625: odd polynomial (Cephes tanhf).
  llvm::Value* z = b.CreateFMul(x, x);
  llvm::Value* p = horner(b, z, {-5.70498872745E-3, 2.06390887954E-2, -5.37397155531E-2, 1.33314422036E-1,
                                 -3.33332819422E-1});
  llvm::Value* small = fmuladd(b, b.CreateFMul(p, z), x, x);
  // Otherwise 1 - 2 / (exp(2|x|) + 1), which saturates to 1 when exp overflows.
  llvm::Value* e = emit_exp(b, b.CreateFAdd(ax, ax));
  llvm::Value* t = b.CreateFSub(c(b, x, 1.0), b.CreateFDiv(c(b, x, 2.0), b.CreateFAdd(e, c(b, x, 1.0))));
  llvm::Value* large = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, t, x);
  return b.CreateSelect(b.CreateFCmpOLT(ax, c(b, x, 0.625)), small, large);
}

llvm::Value* emit_sigmoid(llvm::IRBuilder<>& b, llvm::Value* x) {
  // e = exp(-|x|) never overflows: 1/(1+e) for x >= 0, e/(1+e) for x < 0 (keeps
  // tiny results like sigmoid(-100) instead of flushing them to 0).
  llvm::Value* e = emit_exp(b, b.CreateFNeg(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x)));
  llvm::Value* num = b.CreateSelect(b.CreateFCmpOLT(x, c(b, x, 0.0)), e, c(b, x, 1.0));
  return b.CreateFDiv(num, b.CreateFAdd(c(b, x, 1.0), e));
}

llvm::Value* emit_erf(llvm::IRBuilder<>& b, llvm::Value* x) {
  // x * P(x^2) / Q(x^2) on [-4, 4] (erf rounds to +-1 in f32 beyond); a few ulp.
  llvm::Value* xc = b.CreateSelect(b.CreateFCmpOGT(x, c(b, x, 4.0)), c(b, x, 4.0), x);
  xc = b.CreateSelect(b.CreateFCmpOLT(xc, c(b, x, -4.0)), c(b, x, -4.0), xc);
  llvm::Value* x2 = b.CreateFMul(xc, xc);
  llvm::Value* num = horner(b, x2, {-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                                    -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                                    -1.60960333262415e-02});
  llvm::Value* den = horner(b, x2, {-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                                    -7.37332916720468e-03, -1.42647390514189e-02});
  llvm::Value* r = b.CreateFMul(xc, b.CreateFDiv(num, den));  // x * (P/Q): no underflow for tiny x
  // Clamp tiny overshoots past +-1 near the ends.
  r = b.CreateMinNum(b.CreateMaxNum(r, c(b, x, -1.0)), c(b, x, 1.0));
  return b.CreateSelect(is_nan(b, x), x, r);
}

llvm::Value* emit_pow(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y) {
  // |x|^y = exp(y * log|x|); negative x: integral y gives the sign of x^y by
  // parity, non-integral y gives NaN. pow(x, 0) = 1, pow(1, y) = 1, y == 2 is x*x.
  llvm::Value* ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value* r = emit_exp(b, b.CreateFMul(y, emit_log(b, ax)));
  // Integral / odd tests without rounding instructions: |y| >= 2^24 is always even.
  llvm::Value* magic = c(b, y, 12582912.0);
  llvm::Value* ay = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, y);
  llvm::Value* big = b.CreateFCmpOGE(ay, c(b, y, 8388608.0));
  llvm::Value* rounded = b.CreateFSub(b.CreateFAdd(ay, magic), magic);
  llvm::Value* integral = b.CreateOr(big, b.CreateFCmpOEQ(rounded, ay));
  llvm::Type* it = int_type_like(b, y);
  llvm::Value* odd_bit = b.CreateAnd(b.CreateFPToSI(b.CreateSelect(big, c(b, y, 0.0), rounded), it), ci(b, it, 1));
  llvm::Value* odd = b.CreateAnd(b.CreateNot(big), b.CreateICmpNE(odd_bit, ci(b, it, 0)));
  llvm::Value* neg = b.CreateFCmpOLT(x, c(b, x, 0.0));
  // Negative zero with odd y keeps its sign too (pow(-0, -1) = -inf).
  llvm::Value* sign_neg = b.CreateICmpSLT(b.CreateBitCast(x, it), ci(b, it, 0));
  llvm::Value* signed_r = b.CreateSelect(b.CreateAnd(sign_neg, odd), b.CreateFNeg(r), r);
  signed_r = b.CreateSelect(b.CreateAnd(neg, b.CreateNot(integral)), c(b, x, std::nan("")), signed_r);
  signed_r = b.CreateSelect(b.CreateFCmpOEQ(y, c(b, y, 2.0)), b.CreateFMul(x, x), signed_r);
  llvm::Value* one = b.CreateOr(b.CreateFCmpOEQ(y, c(b, y, 0.0)), b.CreateFCmpOEQ(x, c(b, x, 1.0)));
  return b.CreateSelect(one, c(b, x, 1.0), signed_r);
}

}  // namespace kiln::codegen
