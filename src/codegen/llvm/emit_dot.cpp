// kir dot -> LLVM: the integer dot products of the int8 kernels, per ISA, every
// path exact (int32 wrapping), so results never depend on the target:
//   G = 4, 8-bit operands: x86 VNNI vpdpbusd (uint8 x int8; the other sign
//     pairings through a +/-128 offset and a correction dot product), AArch64
//     sdot/udot (+dotprod; mixed signs the same way), otherwise widening
//     multiplies in generic IR (LLVM picks pmovzx/pmaddwd, smull/saddlp).
//   G = 2, int16 operands: x86 pmaddwd (SSE2 / AVX2 / AVX-512BW), otherwise
//     widening multiplies in generic IR (NEON smull/smlal).
// Vectors wider than the native width are split into native chunks.
#include "codegen/llvm/kernel_emitter.h"
#include "llvm/IR/IntrinsicsAArch64.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/MC/MCSubtargetInfo.h"

namespace kiln::codegen {

DotIsa DotIsa::of(const llvm::TargetMachine& tm) {
  DotIsa isa;
  const llvm::MCSubtargetInfo* sti = tm.getMCSubtargetInfo();
  auto has = [&](const char* f) { return sti && sti->checkFeatures(std::string("+") + f); };
  isa.x86 = tm.getTargetTriple().isX86();
  isa.aarch64 = tm.getTargetTriple().isAArch64();
  if (isa.x86) {
    isa.avx2 = has("avx2");
    isa.vector_bits = has("avx512bw") ? 512 : isa.avx2 ? 256 : 128;
    isa.vnni = isa.vector_bits == 512 ? has("avx512vnni") : has("avxvnni") || (has("avx512vnni") && has("avx512vl"));
    isa.vnni_narrow = isa.vnni && (isa.vector_bits < 512 || has("avx512vl") || has("avxvnni"));
  } else if (isa.aarch64) {
    isa.dotprod = has("dotprod");
  }
  return isa;
}

namespace {

// One operand of a dot product as a G*L-lane vector, and whether its elements are signed.
struct Operand {
  llvm::Value* v;
  bool is_signed;
};

// Lanes [first, first + n) of v.
llvm::Value* slice(llvm::IRBuilder<>& b, llvm::Value* v, int first, int n) {
  std::vector<int> mask(n);
  for (int j = 0; j < n; ++j) mask[j] = first + j;
  return b.CreateShuffleVector(v, mask);
}

// Lanes first, first + step, ... (n of them) of v.
llvm::Value* strided(llvm::IRBuilder<>& b, llvm::Value* v, int first, int step, int n) {
  std::vector<int> mask(n);
  for (int j = 0; j < n; ++j) mask[j] = first + j * step;
  return b.CreateShuffleVector(v, mask);
}

// acc + sum over j < g of a[g*i + j] * b[g*i + j], widened to int32 in generic IR.
llvm::Value* generic_dot(llvm::IRBuilder<>& b, llvm::Value* acc, Operand x, Operand y, int g) {
  int lanes = static_cast<int>(llvm::cast<llvm::FixedVectorType>(acc->getType())->getNumElements());
  llvm::Type* wide = llvm::FixedVectorType::get(b.getInt32Ty(), g * lanes);
  llvm::Value* xa = x.is_signed ? b.CreateSExt(x.v, wide) : b.CreateZExt(x.v, wide);
  llvm::Value* ya = y.is_signed ? b.CreateSExt(y.v, wide) : b.CreateZExt(y.v, wide);
  llvm::Value* p = b.CreateMul(xa, ya);
  llvm::Value* r = acc;
  for (int j = 0; j < g; ++j) r = b.CreateAdd(r, strided(b, p, j, g, lanes));
  return r;
}

}  // namespace

llvm::Value* KernelEmitter::emit_dot(const kir::Call* op, const std::vector<llvm::Value*>& args) {
  int lanes = op->type.lanes;
  int g = static_cast<int>(*kir::as_const_int(op->args[3]));
  llvm::Type* elem = g == 2 ? b_.getInt16Ty() : b_.getInt8Ty();
  auto* vec_t = llvm::FixedVectorType::get(elem, g * lanes);
  auto operand = [&](int i) -> Operand {
    kir::Type t = op->args[i].type();
    llvm::Value* v = args[i];
    bool is_signed = t.elem != DType::kU32 && t.elem != DType::kU8;
    if (dtype_size(t.elem) == 4)  // packed groups, one per lane or one for all
      return {b_.CreateBitCast(t.lanes == 1 ? splat(v, lanes) : v, vec_t), is_signed};
    return {v, is_signed};
  };
  Operand x = operand(1), y = operand(2);
  llvm::Value* acc = args[0];
  if (lanes == 1) {
    // Scalar: as one lane of a vector.
    acc = b_.CreateInsertElement(llvm::PoisonValue::get(llvm::FixedVectorType::get(b_.getInt32Ty(), 1)), acc,
                                 uint64_t{0});
  }

  // The native width in int32 lanes, and the instruction for one chunk (null: generic).
  int native = 0;
  std::function<llvm::Value*(llvm::Value*, Operand, Operand)> chunk;
  auto as_i32 = [&](llvm::Value* v, int n) {
    return b_.CreateBitCast(v, llvm::FixedVectorType::get(b_.getInt32Ty(), n));
  };
  // A narrow dot (4 or 8 lanes: int8 conv tiles with channels in the lanes)
  // runs at its own width where the ISA has it.
  auto width = [&](int widest) { return lanes < widest && (lanes == 4 || lanes == 8) ? lanes : widest; };
  if (g == 2 && isa_.x86) {
    native = width(isa_.vector_bits / 32);
    llvm::Intrinsic::ID id = native == 16  ? llvm::Intrinsic::x86_avx512_pmaddw_d_512
                             : native == 8 ? llvm::Intrinsic::x86_avx2_pmadd_wd
                                           : llvm::Intrinsic::x86_sse2_pmadd_wd;
    chunk = [&, id](llvm::Value* a, Operand p, Operand q) {
      return b_.CreateAdd(a, b_.CreateIntrinsic(id, {}, {p.v, q.v}));
    };
  } else if (g == 4 && isa_.x86 && isa_.vnni) {
    native = isa_.vnni_narrow ? width(isa_.vector_bits / 32) : isa_.vector_bits / 32;
    llvm::Intrinsic::ID id = native == 16  ? llvm::Intrinsic::x86_avx512_vpdpbusd_512
                             : native == 8 ? llvm::Intrinsic::x86_avx512_vpdpbusd_256
                                           : llvm::Intrinsic::x86_avx512_vpdpbusd_128;
    chunk = [&, id](llvm::Value* a, Operand p, Operand q) -> llvm::Value* {
      int n = static_cast<int>(llvm::cast<llvm::FixedVectorType>(a->getType())->getNumElements());
      auto dpbusd = [&](llvm::Value* s, llvm::Value* u8, llvm::Value* s8) {
        return b_.CreateIntrinsic(id, {}, {s, as_i32(u8, n), as_i32(s8, n)});
      };
      if (p.is_signed && !q.is_signed) std::swap(p, q);
      if (!p.is_signed && q.is_signed) return dpbusd(a, p.v, q.v);
      llvm::Value* bias = llvm::ConstantInt::get(p.v->getType(), 0x80);
      llvm::Value* ones = llvm::ConstantInt::get(p.v->getType(), 1);
      llvm::Value* zero = llvm::Constant::getNullValue(a->getType());
      llvm::Value* seven = llvm::ConstantInt::get(a->getType(), 7);
      if (!p.is_signed) {
        // u8 x u8: q - 128 is int8; add back 128 * sum(p).
        llvm::Value* r = dpbusd(a, p.v, b_.CreateXor(q.v, bias));
        return b_.CreateAdd(r, b_.CreateShl(dpbusd(zero, p.v, ones), seven));
      }
      // s8 x s8: p + 128 is uint8; take away 128 * sum(q).
      llvm::Value* r = dpbusd(a, b_.CreateXor(p.v, bias), q.v);
      return b_.CreateSub(r, b_.CreateShl(dpbusd(zero, ones, q.v), seven));
    };
  } else if (g == 4 && isa_.aarch64 && isa_.dotprod) {
    native = 4;
    chunk = [&](llvm::Value* a, Operand p, Operand q) -> llvm::Value* {
      auto dot = [&](bool is_signed, llvm::Value* s, llvm::Value* u, llvm::Value* v) {
        llvm::Intrinsic::ID id = is_signed ? llvm::Intrinsic::aarch64_neon_sdot : llvm::Intrinsic::aarch64_neon_udot;
        return b_.CreateIntrinsic(id, {s->getType(), u->getType()}, {s, u, v});
      };
      if (p.is_signed == q.is_signed) return dot(p.is_signed, a, p.v, q.v);
      if (!p.is_signed) std::swap(p, q);  // p int8, q uint8
      // q - 128 is int8: sdot, then add back 128 * sum(p).
      llvm::Value* bias = llvm::ConstantInt::get(q.v->getType(), 0x80);
      llvm::Value* ones = llvm::ConstantInt::get(q.v->getType(), 1);
      llvm::Value* zero = llvm::Constant::getNullValue(a->getType());
      llvm::Value* r = dot(true, a, p.v, b_.CreateXor(q.v, bias));
      return b_.CreateAdd(r, b_.CreateShl(dot(true, zero, p.v, ones), llvm::ConstantInt::get(a->getType(), 7)));
    };
  }

  llvm::Value* r;
  if (!chunk || lanes < native || lanes % native != 0) {
    r = generic_dot(b_, acc, x, y, g);
  } else if (lanes == native) {
    r = chunk(acc, x, y);
  } else {
    std::vector<llvm::Value*> parts;
    for (int c = 0; c < lanes; c += native)
      parts.push_back(chunk(slice(b_, acc, c, native), {slice(b_, x.v, g * c, g * native), x.is_signed},
                            {slice(b_, y.v, g * c, g * native), y.is_signed}));
    r = concat_vectors(b_, parts);
  }
  return lanes == 1 ? b_.CreateExtractElement(r, uint64_t{0}) : r;
}

}  // namespace kiln::codegen
