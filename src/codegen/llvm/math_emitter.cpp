// Inline f32 math for kernel intrinsics: Cephes-style range reduction plus
// polynomials (exp, log, tanh, sin/cos/tan, asin/acos/atan), compositions of
// them (sigmoid, pow) and a rational erf. Scalars and vectors alike; no libm calls. Special values:
// exp(+-large) = inf/0, log(0) = -inf, log(x<0) = nan, tanh/erf saturate to +-1,
// NaN in gives NaN out.
#include <cmath>
#include <initializer_list>
#include <limits>
#include <vector>

#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/Module.h"

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

namespace {

// ---- trigonometry ----
// sin/cos/tan reduce x to r in [-pi/4, pi/4] and a quadrant q (x = q*pi/2 + r
// mod 2pi) in f64, so the f32 polynomials see an r accurate to ~1e-16 for every
// finite x: |x| < 2^24 by Cody-Waite (pi/2 in three parts, the first two of 29
// bits so n*part is exact), larger x = m*2^e exactly through a table of
// (2^e * 2/pi) mod 4 split in a 29-bit head and a tail (Payne-Hanek in one step).

// (2^e * 2/pi) mod 4 for e = 0..105, head (29 significant bits) and tail.
constexpr double kTwoOverPiHi[106] = {
    0.6366197727620602, 1.2732395455241203, 2.5464790910482407, 1.092958178371191, 2.185916356742382,
    0.37183271534740925, 0.7436654306948185, 1.487330861389637, 2.974661722779274, 1.9493234530091286,
    3.898646906018257, 3.7972938120365143, 3.594587616622448, 3.189175233244896, 2.3783504739403725,
    0.7567009404301643, 1.5134018808603287, 3.0268037617206573, 2.0536075308918953, 0.10721505456604064,
    0.21443010913208127, 0.42886021826416254, 0.8577204365283251, 1.7154408730566502, 3.4308817461133003,
    2.86176348477602, 1.7235269732773304, 3.447053946554661, 2.894107900559902, 1.7882157936692238,
    3.5764315873384476, 3.1528631821274757, 2.305726356804371, 0.6114527173340321, 1.2229054346680641,
    2.4458108693361282, 0.8916217461228371, 1.7832434922456741, 3.5664869844913483, 3.1329739689826965,
    2.265947937965393, 0.531895874068141, 1.063791748136282, 2.127583496272564, 0.25516699347645044,
    0.5103339869529009, 1.0206679739058018, 2.0413359478116035, 0.082671889802441, 0.165343779604882,
    0.330687559209764, 0.661375118419528, 1.322750236839056, 2.645500473678112, 1.2910009510815144,
    2.5820019021630287, 1.1640038080513477, 2.3280076161026955, 0.6560152396559715, 1.312030479311943,
    2.624060958623886, 1.2481219172477722, 2.4962438344955444, 0.9924876634031534, 1.9849753268063068,
    3.9699506536126137, 3.9399013072252274, 3.8798026144504547, 3.75960523635149, 3.51921047270298,
    3.03842094540596, 2.07684189081192, 0.1536837792955339, 0.3073675585910678, 0.6147351171821356,
    1.2294702343642712, 2.4589404687285423, 0.9178809318691492, 1.8357618637382984, 3.671523727476597,
    3.3430474549531937, 2.6860949024558067, 1.3721898086369038, 2.7443796172738075, 1.4887592382729053,
    2.9775184765458107, 1.955036949366331, 3.910073898732662, 3.820147804915905, 3.64029560983181,
    3.28059121966362, 2.5611824318766594, 1.1223648712038994, 2.2447297424077988, 0.48945948109030724,
    0.9789189621806145, 1.957837924361229, 3.915675848722458, 3.8313516974449158, 3.6627033948898315,
    3.325406789779663, 2.6508135870099068, 1.3016271702945232, 2.6032543405890465, 1.2065086886286736,
    2.413017377257347};
constexpr double kTwoOverPiLo[106] = {
    -3.944788223297384e-10, -7.889576446594768e-10, -1.5779152893189536e-09, 5.69459719824007e-10,
    1.138919439648014e-09, 4.1519373006507095e-10, 8.303874601301419e-10, 1.6607749202602838e-09,
    3.3215498405205676e-09, -8.074809158826933e-10, -1.6149618317653865e-09, -3.229923663530773e-09,
    9.907332698622821e-10, 1.9814665397245642e-09, -3.4876475174746992e-09, 4.752855619744297e-10,
    9.505711239488593e-10, 1.9011422478977186e-09, -3.648296101128391e-09, -7.884224898682356e-11,
    -1.5768449797364713e-10, -3.1536899594729426e-10, -6.307379918945885e-10, -1.261475983789177e-09,
    -2.522951967578354e-09, 2.4046766617671204e-09, 1.0840630250723266e-09, 2.1681260501446532e-09,
    -3.1143284966345213e-09, 1.2219236036547852e-09, 2.4438472073095704e-09, -2.562886182304687e-09,
    2.3248082323144544e-09, 9.243261661669945e-10, 1.848652332333989e-09, 3.697304664667978e-09,
    -5.597126758787221e-11, -1.1194253517574442e-10, -2.2388507035148884e-10, -4.477701407029777e-10,
    -8.955402814059554e-10, 7.156458641904629e-11, 1.4312917283809259e-10, 2.8625834567618517e-10,
    -3.588058832631081e-10, -7.176117665262162e-10, -1.4352235330524325e-09, -2.870447066104865e-09,
    7.987195913701072e-11, 1.5974391827402145e-10, 3.194878365480429e-10, 6.389756730960858e-10,
    1.2779513461921716e-09, 2.555902692384343e-09, 1.386515086306772e-09, 2.773030172613544e-09,
    1.8207700467651747e-09, 3.6415400935303494e-09, -1.6750040986312977e-10, -3.3500081972625953e-10,
    -6.700016394525191e-10, -1.3400032789050381e-09, -2.6800065578100763e-09, 2.2792233207271882e-10,
    4.5584466414543764e-10, 9.116893282908753e-10, 1.8233786565817506e-09, 3.646757313163501e-09,
    -1.5706597059682562e-10, -3.1413194119365123e-10, -6.282638823873025e-10, -1.256527764774605e-09,
    -1.847490930105135e-10, -3.69498186021027e-10, -7.38996372042054e-10, -1.477992744084108e-09,
    -2.955985488168216e-09, -3.240355286435612e-10, -6.480710572871224e-10, -1.2961421145742448e-09,
    -2.5922842291484896e-09, 2.2660121386268493e-09, 8.067339787917845e-10, 1.613467957583569e-09,
    -4.983543832947761e-10, -9.967087665895522e-10, 1.7318727652828097e-09, 3.4637455305656194e-09,
    -5.230895357925892e-10, -1.0461790715851783e-09, -2.0923581431703566e-09, 3.265864310583115e-09,
    -9.188519757575982e-10, -1.8377039515151963e-09, 4.9882395431521274e-11, 9.976479086304255e-11,
    1.995295817260851e-10, 3.990591634521702e-10, 7.981183269043404e-10, 1.5962366538086808e-09,
    3.1924733076173616e-09, -1.065633981689105e-09, 1.594022335083704e-09, 3.188044670167408e-09,
    -1.0744912565890117e-09, -2.1489825131780233e-09};

llvm::Type* with_elem(llvm::Value* like, llvm::Type* elem) {
  if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(like->getType())) {
    return llvm::FixedVectorType::get(elem, vt->getNumElements());
  }
  return elem;
}

// Round to nearest (ties to even) for |v| < 2^51 without SSE4.1.
llvm::Value* rint_f64(llvm::IRBuilder<>& b, llvm::Value* v) {
  llvm::Value* magic = c(b, v, 6755399441055744.0);  // 1.5 * 2^52
  return b.CreateFSub(b.CreateFAdd(v, magic), magic);
}

// table[idx] per lane (idx: i32 scalar or vector) from a private constant array.
llvm::Value* table_lookup(llvm::IRBuilder<>& b, const char* name, const double* values, size_t n, llvm::Value* idx) {
  llvm::Module* m = b.GetInsertBlock()->getModule();
  llvm::Type* f64 = b.getDoubleTy();
  llvm::GlobalVariable* g = m->getNamedGlobal(name);
  if (!g) {
    auto* at = llvm::ArrayType::get(f64, n);
    std::vector<llvm::Constant*> elems;
    for (size_t i = 0; i < n; ++i) elems.push_back(llvm::ConstantFP::get(f64, values[i]));
    g = new llvm::GlobalVariable(*m, at, /*isConstant=*/true, llvm::GlobalValue::PrivateLinkage,
                                 llvm::ConstantArray::get(at, elems), name);
  }
  llvm::Value* ptr = b.CreateGEP(f64, g, idx);
  if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(idx->getType())) {
    return b.CreateMaskedGather(llvm::FixedVectorType::get(f64, vt->getNumElements()), ptr, llvm::Align(8));
  }
  return b.CreateLoad(f64, ptr);
}

struct Reduced {
  llvm::Value* r;  // f32, |r| <= pi/4 (slightly more for huge x)
  llvm::Value* q;  // i32 quadrant (any integer; only q mod 4 matters)
};

// x must be finite (callers replace inf/NaN by 0 and fix the result after).
Reduced reduce_pio2(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Type* dt = with_elem(x, b.getDoubleTy());
  llvm::Type* it = int_type_like(b, x);
  llvm::Value* xd = b.CreateFPExt(x, dt);
  // |x| < 2^24: n = rint(x * 2/pi), r = x - n*pi/2 in three parts.
  llvm::Value* n = rint_f64(b, b.CreateFMul(xd, c(b, xd, 0.6366197723675814)));
  llvm::Value* r = fmuladd(b, n, c(b, xd, -1.570796325802803), xd);
  r = fmuladd(b, n, c(b, xd, -9.920935808982456e-10), r);
  r = fmuladd(b, n, c(b, xd, 1.2177051777973966e-18), r);
  // |x| >= 2^24: x = m * 2^e with m a 24-bit integer and e in [1, 104]; then
  // x*2/pi mod 4 = m * T[e] mod 4, where m * head is exact.
  llvm::Value* bits = b.CreateBitCast(x, it);
  llvm::Value* e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, ci(b, it, 23)), ci(b, it, 0xff)), ci(b, it, 150));
  e = b.CreateSelect(b.CreateICmpSLT(e, ci(b, it, 0)), ci(b, it, 0), e);
  llvm::Value* m = b.CreateOr(b.CreateAnd(bits, ci(b, it, 0x7fffff)), ci(b, it, 0x800000));
  llvm::Value* md = b.CreateSIToFP(m, dt);
  md = b.CreateSelect(b.CreateICmpSLT(bits, ci(b, it, 0)), b.CreateFNeg(md), md);
  llvm::Value* hi = table_lookup(b, "kiln.two_over_pi_hi", kTwoOverPiHi, 106, e);
  llvm::Value* lo = table_lookup(b, "kiln.two_over_pi_lo", kTwoOverPiLo, 106, e);
  llvm::Value* p = b.CreateFMul(md, hi);
  llvm::Value* n1 = rint_f64(b, p);
  llvm::Value* f = fmuladd(b, md, lo, b.CreateFSub(p, n1));
  llvm::Value* n2 = rint_f64(b, f);
  f = b.CreateFSub(f, n2);
  llvm::Value* big = b.CreateFCmpOGE(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x), c(b, x, 16777216.0));
  r = b.CreateSelect(big, b.CreateFMul(f, c(b, f, 1.5707963267948966)), r);
  n = b.CreateSelect(big, b.CreateFAdd(n1, n2), n);
  return {b.CreateFPTrunc(r, x->getType()), b.CreateFPToSI(n, it)};
}

// Cephes sinf/cosf polynomials on [-pi/4, pi/4].
llvm::Value* sin_poly(llvm::IRBuilder<>& b, llvm::Value* r) {
  llvm::Value* z = b.CreateFMul(r, r);
  llvm::Value* p = horner(b, z, {-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1});
  return fmuladd(b, b.CreateFMul(p, z), r, r);
}
llvm::Value* cos_poly(llvm::IRBuilder<>& b, llvm::Value* r) {
  llvm::Value* z = b.CreateFMul(r, r);
  llvm::Value* p = horner(b, z, {2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002});
  return b.CreateFAdd(fmuladd(b, z, c(b, r, -0.5), b.CreateFMul(b.CreateFMul(p, z), z)), c(b, r, 1.0));
}

llvm::Value* is_finite(llvm::IRBuilder<>& b, llvm::Value* x) {
  const double inf = std::numeric_limits<double>::infinity();
  return b.CreateFCmpOLT(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x), c(b, x, inf));
}

// sin (cos_shift 0) or cos (cos_shift 1): quadrant q+shift picks +-sin(r) or +-cos(r).
llvm::Value* sin_cos(llvm::IRBuilder<>& b, llvm::Value* x, int cos_shift) {
  llvm::Value* finite = is_finite(b, x);
  Reduced red = reduce_pio2(b, b.CreateSelect(finite, x, c(b, x, 0.0)));
  llvm::Type* it = red.q->getType();
  llvm::Value* q = b.CreateAdd(red.q, ci(b, it, cos_shift));
  llvm::Value* odd = b.CreateICmpNE(b.CreateAnd(q, ci(b, it, 1)), ci(b, it, 0));
  llvm::Value* neg = b.CreateICmpNE(b.CreateAnd(q, ci(b, it, 2)), ci(b, it, 0));
  llvm::Value* v = b.CreateSelect(odd, cos_poly(b, red.r), sin_poly(b, red.r));
  v = b.CreateSelect(neg, b.CreateFNeg(v), v);
  if (cos_shift == 0) v = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, x, 0.0)), x, v);  // sin(-0) = -0
  return b.CreateSelect(finite, v, c(b, x, std::nan("")));
}

// Cephes asinf polynomial: asin(t) for |t| <= 0.5.
llvm::Value* asin_poly(llvm::IRBuilder<>& b, llvm::Value* t) {
  llvm::Value* z = b.CreateFMul(t, t);
  llvm::Value* p = horner(b, z, {4.2163199048E-2, 2.4181311049E-2, 4.5470025998E-2, 7.4953002686E-2,
                                 1.6666752422E-1});
  return fmuladd(b, b.CreateFMul(p, z), t, t);
}

}  // namespace

llvm::Value* emit_sin(llvm::IRBuilder<>& b, llvm::Value* x) { return sin_cos(b, x, 0); }
llvm::Value* emit_cos(llvm::IRBuilder<>& b, llvm::Value* x) { return sin_cos(b, x, 1); }

llvm::Value* emit_tan(llvm::IRBuilder<>& b, llvm::Value* x) {
  // Even quadrant: sin(r)/cos(r); odd: -cos(r)/sin(r) (tan's period is pi).
  llvm::Value* finite = is_finite(b, x);
  Reduced red = reduce_pio2(b, b.CreateSelect(finite, x, c(b, x, 0.0)));
  llvm::Type* it = red.q->getType();
  llvm::Value* s = sin_poly(b, red.r);
  llvm::Value* co = cos_poly(b, red.r);
  llvm::Value* odd = b.CreateICmpNE(b.CreateAnd(red.q, ci(b, it, 1)), ci(b, it, 0));
  llvm::Value* v = b.CreateSelect(odd, b.CreateFNeg(b.CreateFDiv(co, s)), b.CreateFDiv(s, co));
  v = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, x, 0.0)), x, v);  // tan(-0) = -0
  return b.CreateSelect(finite, v, c(b, x, std::nan("")));
}

llvm::Value* emit_atan(llvm::IRBuilder<>& b, llvm::Value* x) {
  // Cephes atanf: |x| > tan(3pi/8): pi/2 + atan(-1/|x|); > tan(pi/8): pi/4 + atan((|x|-1)/(|x|+1)).
  llvm::Value* ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value* hi = b.CreateFCmpOGT(ax, c(b, x, 2.414213562373095));
  llvm::Value* mid = b.CreateFCmpOGT(ax, c(b, x, 0.4142135623730950));
  llvm::Value* t = b.CreateSelect(mid, b.CreateFDiv(b.CreateFSub(ax, c(b, x, 1.0)), b.CreateFAdd(ax, c(b, x, 1.0))), ax);
  t = b.CreateSelect(hi, b.CreateFDiv(c(b, x, -1.0), ax), t);
  llvm::Value* y0 = b.CreateSelect(mid, c(b, x, 0.78539816339744830962), c(b, x, 0.0));
  y0 = b.CreateSelect(hi, c(b, x, 1.57079632679489661923), y0);
  llvm::Value* z = b.CreateFMul(t, t);
  llvm::Value* p = horner(b, z, {8.05374449538e-2, -1.38776856032E-1, 1.99777106478E-1, -3.33329491539E-1});
  llvm::Value* y = b.CreateFAdd(y0, fmuladd(b, b.CreateFMul(p, z), t, t));
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, y, x);  // NaN stays NaN
}

llvm::Value* emit_asin(llvm::IRBuilder<>& b, llvm::Value* x) {
  // |x| > 0.5: pi/2 - 2*asin(sqrt((1-|x|)/2)); |x| > 1 gives sqrt(<0) = NaN.
  llvm::Value* ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value* big = b.CreateFCmpOGT(ax, c(b, x, 0.5));
  llvm::Value* s = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, b.CreateFMul(c(b, x, 0.5), b.CreateFSub(c(b, x, 1.0), ax)));
  llvm::Value* p = asin_poly(b, b.CreateSelect(big, s, ax));
  llvm::Value* y = b.CreateSelect(big, fmuladd(b, p, c(b, x, -2.0), c(b, x, 1.57079632679489661923)), p);
  y = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, y, x);
  return b.CreateSelect(b.CreateFCmpUGT(ax, c(b, x, 1.0)), c(b, x, std::nan("")), y);
}

llvm::Value* emit_acos(llvm::IRBuilder<>& b, llvm::Value* x) {
  // x > 0.5: 2*asin(sqrt((1-x)/2)); x < -0.5: pi - 2*asin(sqrt((1+x)/2)); else pi/2 - asin(x).
  llvm::Value* ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value* big = b.CreateFCmpOGT(ax, c(b, x, 0.5));
  llvm::Value* s = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, b.CreateFMul(c(b, x, 0.5), b.CreateFSub(c(b, x, 1.0), ax)));
  llvm::Value* p = asin_poly(b, b.CreateSelect(big, s, x));
  llvm::Value* two_p = b.CreateFAdd(p, p);
  llvm::Value* y = b.CreateFSub(c(b, x, 1.57079632679489661923), p);
  llvm::Value* neg = b.CreateFCmpOLT(x, c(b, x, 0.0));
  y = b.CreateSelect(big, b.CreateSelect(neg, b.CreateFSub(c(b, x, 3.14159265358979323846), two_p), two_p), y);
  return b.CreateSelect(b.CreateFCmpUGT(ax, c(b, x, 1.0)), c(b, x, std::nan("")), y);
}

}  // namespace kiln::codegen
