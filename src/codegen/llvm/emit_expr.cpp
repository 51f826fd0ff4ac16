// Kernel IR expressions -> LLVM values: arithmetic, casts, loads (vector,
// broadcast, gather), ramps and intrinsic calls.
#include "codegen/llvm/kernel_emitter.h"

namespace kiln::codegen {
namespace {

// Integers whose register value is zero-extended (bool: i1, 0 or 1).
bool is_unsigned(DType t) { return dtype_is_unsigned(t) || t == DType::kBool; }

}  // namespace

llvm::Value* KernelEmitter::splat(llvm::Value* v, int lanes) {
  return lanes == 1 ? v : b_.CreateVectorSplat(lanes, v);
}

llvm::Value* KernelEmitter::emit(const kir::Expr& e) {
  KILN_CHECK(e.get()) << "null expression in kernel " << function_->getName().str();
  switch (e.kind()) {
    case kir::NodeKind::kIntImm:
      return llvm::ConstantInt::get(value_type(e.type()), e.as<kir::IntImm>()->value, !e.type().is_bool());
    case kir::NodeKind::kFloatImm: return llvm::ConstantFP::get(value_type(e.type()), e.as<kir::FloatImm>()->value);
    case kir::NodeKind::kVar: {
      auto it = vars_.find(e.get());
      KILN_CHECK(it != vars_.end()) << "variable " << e.as<kir::Var>()->name << " used outside its loop or let in "
                                    << function_->getName().str();
      return it->second;
    }
    case kir::NodeKind::kLoad: return emit_load(e.as<kir::Load>());
    case kir::NodeKind::kBinary:
    case kir::NodeKind::kCall: {
      // Results of a type narrower than its register are brought back to the type.
      llvm::Value* v =
          e.kind() == kir::NodeKind::kBinary ? emit_binary(e.as<kir::Binary>()) : emit_call(e.as<kir::Call>());
      DType t = e.type().elem;
      if (dtype_is_narrow_float(t)) return narrow_round(t, v);
      return wrap_small_int(t, v);
    }
    case kir::NodeKind::kSelect: {
      auto* s = e.as<kir::Select>();
      return b_.CreateSelect(emit(s->cond), emit(s->t), emit(s->f));
    }
    case kir::NodeKind::kCast: return emit_cast(e.as<kir::Cast>());
    case kir::NodeKind::kRamp: return emit_ramp(e.as<kir::Ramp>());
    case kir::NodeKind::kBroadcast: {
      auto* bc = e.as<kir::Broadcast>();
      return splat(emit(bc->value), bc->type.lanes);
    }
    default: KILN_UNREACHABLE("statement kind in an expression");
  }
  return nullptr;
}

llvm::Value* KernelEmitter::emit_binary(const kir::Binary* op) {
  llvm::Value* a = emit(op->a);
  llvm::Value* b = emit(op->b);
  kir::Type t = op->a.type();
  using kir::BinOp;
  if (t.is_float()) {
    switch (op->op) {
      case BinOp::kAdd: return b_.CreateFAdd(a, b);
      case BinOp::kSub: return b_.CreateFSub(a, b);
      case BinOp::kMul: return b_.CreateFMul(a, b);
      case BinOp::kDiv: return b_.CreateFDiv(a, b);
      case BinOp::kMod: {
        // fmod without a libm call: a - trunc(a / b) * b (approximate for huge quotients).
        llvm::Value* q = b_.CreateUnaryIntrinsic(llvm::Intrinsic::trunc, b_.CreateFDiv(a, b));
        return b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {a->getType()}, {b_.CreateFNeg(q), b, a});
      }
      case BinOp::kMin: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, a, b);
      case BinOp::kMax: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, b);
      case BinOp::kEQ: return b_.CreateFCmpOEQ(a, b);
      case BinOp::kNE: return b_.CreateFCmpUNE(a, b);
      case BinOp::kLT: return b_.CreateFCmpOLT(a, b);
      case BinOp::kLE: return b_.CreateFCmpOLE(a, b);
      case BinOp::kGT: return b_.CreateFCmpOGT(a, b);
      case BinOp::kGE: return b_.CreateFCmpOGE(a, b);
      default: KILN_UNREACHABLE("logical op on floats in ") << function_->getName().str();
    }
  }
  bool u = is_unsigned(t.elem);
  switch (op->op) {
    case BinOp::kAdd: return b_.CreateAdd(a, b);
    case BinOp::kSub: return b_.CreateSub(a, b);
    case BinOp::kMul: return b_.CreateMul(a, b);
    case BinOp::kDiv: return u ? b_.CreateUDiv(a, b) : b_.CreateSDiv(a, b);
    case BinOp::kMod: return u ? b_.CreateURem(a, b) : b_.CreateSRem(a, b);
    case BinOp::kMin: return b_.CreateBinaryIntrinsic(u ? llvm::Intrinsic::umin : llvm::Intrinsic::smin, a, b);
    case BinOp::kMax: return b_.CreateBinaryIntrinsic(u ? llvm::Intrinsic::umax : llvm::Intrinsic::smax, a, b);
    case BinOp::kEQ: return b_.CreateICmpEQ(a, b);
    case BinOp::kNE: return b_.CreateICmpNE(a, b);
    case BinOp::kLT: return u ? b_.CreateICmpULT(a, b) : b_.CreateICmpSLT(a, b);
    case BinOp::kLE: return u ? b_.CreateICmpULE(a, b) : b_.CreateICmpSLE(a, b);
    case BinOp::kGT: return u ? b_.CreateICmpUGT(a, b) : b_.CreateICmpSGT(a, b);
    case BinOp::kGE: return u ? b_.CreateICmpUGE(a, b) : b_.CreateICmpSGE(a, b);
    case BinOp::kAnd: return b_.CreateAnd(a, b);
    case BinOp::kOr: return b_.CreateOr(a, b);
    case BinOp::kBitAnd: return b_.CreateAnd(a, b);
    case BinOp::kBitOr: return b_.CreateOr(a, b);
    case BinOp::kBitXor: return b_.CreateXor(a, b);
    case BinOp::kShl:
    case BinOp::kShr: {
      // LLVM shifts by >= the width are poison: out-of-range amounts (negative
      // ones too, compared unsigned) give 0, or the sign fill for signed >>.
      llvm::Value* width = llvm::ConstantInt::get(a->getType(), a->getType()->getScalarSizeInBits());
      llvm::Value* in_range = b_.CreateICmpULT(b, width);
      llvm::Value* zero = llvm::Constant::getNullValue(a->getType());
      if (op->op == BinOp::kShl) return b_.CreateSelect(in_range, b_.CreateShl(a, b_.CreateSelect(in_range, b, zero)), zero);
      if (u) return b_.CreateSelect(in_range, b_.CreateLShr(a, b_.CreateSelect(in_range, b, zero)), zero);
      llvm::Value* last = llvm::ConstantInt::get(a->getType(), a->getType()->getScalarSizeInBits() - 1);
      return b_.CreateAShr(a, b_.CreateSelect(in_range, b, last));
    }
  }
  return nullptr;
}

llvm::Value* KernelEmitter::to_f32(kir::Type from, llvm::Value* v, bool round_odd) {
  llvm::Type* f32t = value_type(kir::Type{DType::kF32, from.lanes});
  if (from.elem == DType::kF64 && round_odd) {
    // Rounded to odd (sticky low bit when inexact): a second rounding to a type
    // with fewer fraction bits is then correct, and no libcall is needed.
    llvm::Type* i32t = value_type(kir::Type{DType::kI32, from.lanes});
    llvm::Value* f = b_.CreateFPTrunc(v, f32t);
    llvm::Value* wide = b_.CreateFPExt(f, v->getType());
    llvm::Value* inexact = b_.CreateFCmpONE(wide, v);
    llvm::Value* bits = b_.CreateBitCast(f, i32t);
    llvm::Value* exp_mask = llvm::ConstantInt::get(i32t, 0x7f800000);
    llvm::Value* finite = b_.CreateICmpNE(b_.CreateAnd(bits, exp_mask), exp_mask);
    // Truncate toward zero first: when float32 rounded away from zero, step back.
    llvm::Value* away = b_.CreateFCmpOGT(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, wide),
                                         b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, v));
    llvm::Value* fix = b_.CreateAnd(b_.CreateAnd(inexact, finite), away);
    bits = b_.CreateSub(bits, b_.CreateZExt(fix, i32t));
    llvm::Value* odd = b_.CreateZExt(b_.CreateAnd(inexact, finite), i32t);
    return b_.CreateBitCast(b_.CreateOr(bits, odd), f32t);
  }
  if (from.is_float()) return b_.CreateFPCast(v, f32t);
  return is_unsigned(from.elem) ? b_.CreateUIToFP(v, f32t) : b_.CreateSIToFP(v, f32t);
}

llvm::Value* KernelEmitter::emit_cast(const kir::Cast* op) {
  llvm::Value* v = emit(op->value);
  kir::Type from = op->value.type(), to = op->type;
  llvm::Type* ty = value_type(to);
  if (to.is_bool()) {
    if (from.is_float()) return b_.CreateFCmpUNE(v, llvm::Constant::getNullValue(v->getType()));
    return b_.CreateICmpNE(v, llvm::Constant::getNullValue(v->getType()));
  }
  if (dtype_is_narrow_float(to.elem)) {
    // Through float32; e8m0 is defined on the float32 value (RNE from float64).
    return narrow_round(to.elem, to_f32(from, v, to.elem != DType::kF8E8M0));
  }
  if (dtype_is_narrow_float(from.elem)) from = kir::Type{DType::kF32, from.lanes};  // its register form
  if (from.elem == DType::kF64 && to.elem == DType::kF16) {
    // f64 -> f16 directly is a libcall (__truncdfhf2) the model cannot rely on.
    return b_.CreateFPTrunc(to_f32(from, v, true), ty);
  }
  if (from.is_float() && to.is_float()) return b_.CreateFPCast(v, ty);
  if (from.is_float()) {
    // Truncates toward zero. Narrow ints go through i32 (uint32 through i64) so
    // out-of-range values wrap, not poison; uint64 above 2^63 through a shift.
    if (to.elem == DType::kU64 && from.elem != DType::kF16) {
      llvm::Value* two63 = llvm::ConstantFP::get(v->getType(), 9223372036854775808.0);
      llvm::Value* lo = b_.CreateFPToSI(v, ty);
      llvm::Value* hi = b_.CreateXor(b_.CreateFPToSI(b_.CreateFSub(v, two63), ty),
                                     llvm::ConstantInt::get(ty, 0x8000000000000000ull));
      return b_.CreateSelect(b_.CreateFCmpOGE(v, two63), hi, lo);
    }
    if (dtype_size(to.elem) < 4 || to.elem == DType::kU32) {
      DType via = to.elem == DType::kU32 ? DType::kI64 : DType::kI32;
      llvm::Type* wide = value_type(kir::Type{via, to.lanes});
      return wrap_small_int(to.elem, b_.CreateTrunc(b_.CreateFPToSI(v, wide), ty));
    }
    return b_.CreateFPToSI(v, ty);
  }
  if (to.is_float()) return is_unsigned(from.elem) ? b_.CreateUIToFP(v, ty) : b_.CreateSIToFP(v, ty);
  return wrap_small_int(to.elem, b_.CreateIntCast(v, ty, !is_unsigned(from.elem)));
}

llvm::Value* KernelEmitter::element_ptr(const kir::Buffer& buf, llvm::Value* index) {
  auto it = buffers_.find(buf.get());
  KILN_CHECK(it != buffers_.end()) << "buffer " << buf->name << " is neither a parameter nor allocated around its use in "
                                   << function_->getName().str();
  return b_.CreateInBoundsGEP(memory_type(buf->elem), it->second, index);
}

namespace {

// The stride of a ramp index with a constant stride in [2, 4], else null.
const int64_t* strided_ramp(const kir::Expr& index) {
  auto* r = index.as<kir::Ramp>();
  const int64_t* st = r ? kir::as_const_int(r->stride) : nullptr;
  return st && *st >= 2 && *st <= 4 ? st : nullptr;
}

}  // namespace

llvm::Value* KernelEmitter::emit_load(const kir::Load* op) {
  llvm::Type* mt = memory_type(op->buffer->elem);
  llvm::Align align(dtype_size(op->buffer->elem));
  int lanes = op->type.lanes;
  llvm::Value* v = nullptr;
  if (lanes == 1) {
    v = b_.CreateAlignedLoad(mt, element_ptr(op->buffer, emit(op->index)), align);
  } else if (auto* r = op->index.as<kir::Ramp>(); r && kir::as_const_int(r->stride) && *kir::as_const_int(r->stride) == 1) {
    llvm::Type* vt = llvm::FixedVectorType::get(mt, lanes);
    v = b_.CreateAlignedLoad(vt, element_ptr(op->buffer, emit(r->base)), align);
  } else if (const int64_t* st = strided_ramp(op->index); st && !op->type.is_bool()) {
    v = emit_strided_load(op, *st);
  } else if (auto* bc = op->index.as<kir::Broadcast>()) {
    llvm::Value* s = b_.CreateAlignedLoad(mt, element_ptr(op->buffer, emit(bc->value)), align);
    return splat(from_memory(op->buffer->elem, s), lanes);
  } else {
    llvm::Value* ptrs = element_ptr(op->buffer, emit(op->index));
    v = b_.CreateMaskedGather(llvm::FixedVectorType::get(mt, lanes), ptrs, align);
  }
  return from_memory(op->buffer->elem, v);
}

// A load of `lanes` elements st apart (st in [2, 4]; stride-2 convs and
// pools): full-width loads covering exactly the spanned elements (the last
// one shifted back to end at the span, overlapping its neighbour), then every
// st-th element by shuffles, instead of a gather. One load of the span's odd
// length (31 floats for 16 lanes) was legalized into a dozen partial loads and
// inserts. Vectors narrower than st lanes load the span itself.
llvm::Value* KernelEmitter::emit_strided_load(const kir::Load* op, int64_t s) {
  llvm::Type* mt = memory_type(op->buffer->elem);
  llvm::Align align(dtype_size(op->buffer->elem));
  int64_t lanes = op->type.lanes, span = (lanes - 1) * s + 1, last = span - lanes;
  llvm::Value* base = emit(op->index.as<kir::Ramp>()->base);
  std::vector<int> mask;
  if (lanes < s) {
    llvm::Type* vt = llvm::FixedVectorType::get(mt, static_cast<unsigned>(span));
    for (int64_t i = 0; i < lanes; ++i) mask.push_back(static_cast<int>(i * s));
    return b_.CreateShuffleVector(b_.CreateAlignedLoad(vt, element_ptr(op->buffer, base), align), mask);
  }
  // Chunk c covers elements [c * lanes, (c + 1) * lanes), the last one [last, span).
  llvm::Type* vt = llvm::FixedVectorType::get(mt, static_cast<unsigned>(lanes));
  llvm::Value* wide = nullptr;
  for (int64_t c = 0; c < s; ++c) {
    int64_t off = c + 1 < s ? c * lanes : last;
    llvm::Value* at = off == 0 ? base : b_.CreateAdd(base, llvm::ConstantInt::get(base->getType(), off));
    llvm::Value* chunk = b_.CreateAlignedLoad(vt, element_ptr(op->buffer, at), align);
    if (c == 0) {
      wide = chunk;
      continue;
    }
    // Append the chunk: both operands widened to (c + 1) * lanes first.
    int64_t n = (c + 1) * lanes;
    std::vector<int> grow_left, grow_right, cat;
    for (int64_t i = 0; i < n; ++i) {
      grow_left.push_back(i < c * lanes ? static_cast<int>(i) : -1);
      grow_right.push_back(i < lanes ? static_cast<int>(i) : -1);
      cat.push_back(static_cast<int>(i < c * lanes ? i : n + i - c * lanes));
    }
    wide = b_.CreateShuffleVector(b_.CreateShuffleVector(wide, grow_left), b_.CreateShuffleVector(chunk, grow_right), cat);
  }
  // Element e = i * s: in the full chunks, or past them in the last chunk.
  for (int64_t i = 0; i < lanes; ++i) {
    int64_t e = i * s;
    mask.push_back(static_cast<int>(e < (s - 1) * lanes ? e : (s - 1) * lanes + e - last));
  }
  return b_.CreateShuffleVector(wide, mask);
}

llvm::Value* KernelEmitter::emit_ramp(const kir::Ramp* op) {
  int lanes = op->type.lanes;
  llvm::Value* base = emit(op->base);
  llvm::Value* stride = emit(op->stride);
  std::vector<llvm::Constant*> steps;
  for (int i = 0; i < lanes; ++i) steps.push_back(llvm::ConstantInt::get(base->getType(), i));
  llvm::Value* offsets = b_.CreateMul(splat(stride, lanes), llvm::ConstantVector::get(steps));
  return b_.CreateAdd(splat(base, lanes), offsets);
}

llvm::Value* KernelEmitter::emit_call(const kir::Call* op) {
  if (op->func == kir::Intrinsic::kPrefetch) {
    // Read, locality 2 (x86 prefetcht1: into L2), data cache; the load is not emitted.
    auto* load = op->args[0].as<kir::Load>();
    llvm::Value* ptr = element_ptr(load->buffer, emit(load->index));
    b_.CreateIntrinsic(llvm::Intrinsic::prefetch, {ptr->getType()}, {ptr, b_.getInt32(0), b_.getInt32(2), b_.getInt32(1)});
    return llvm::Constant::getNullValue(value_type(op->type));
  }
  std::vector<llvm::Value*> args;
  for (auto& a : op->args) args.push_back(emit(a));
  kir::Type t = op->type;
  using kir::Intrinsic;
  switch (op->func) {
    case Intrinsic::kExp:
    case Intrinsic::kLog:
    case Intrinsic::kTanh:
    case Intrinsic::kSigmoid:
    case Intrinsic::kErf:
    case Intrinsic::kSin:
    case Intrinsic::kCos:
    case Intrinsic::kTan:
    case Intrinsic::kAsin:
    case Intrinsic::kAcos:
    case Intrinsic::kAtan:
    case Intrinsic::kPow: {
      // The polynomials are f32: other float types convert around them.
      llvm::Type* f32t = value_type(kir::Type{DType::kF32, t.lanes});
      for (auto& a : args) a = b_.CreateFPCast(a, f32t);
      llvm::Value* r = nullptr;
      switch (op->func) {
        case Intrinsic::kExp: r = emit_exp(b_, args[0]); break;
        case Intrinsic::kLog: r = emit_log(b_, args[0]); break;
        case Intrinsic::kTanh: r = emit_tanh(b_, args[0]); break;
        case Intrinsic::kSigmoid: r = emit_sigmoid(b_, args[0]); break;
        case Intrinsic::kErf: r = emit_erf(b_, args[0]); break;
        case Intrinsic::kSin: r = emit_sin(b_, args[0]); break;
        case Intrinsic::kCos: r = emit_cos(b_, args[0]); break;
        case Intrinsic::kTan: r = emit_tan(b_, args[0]); break;
        case Intrinsic::kAsin: r = emit_asin(b_, args[0]); break;
        case Intrinsic::kAcos: r = emit_acos(b_, args[0]); break;
        case Intrinsic::kAtan: r = emit_atan(b_, args[0]); break;
        default: r = emit_pow(b_, args[0], args[1]); break;
      }
      return b_.CreateFPCast(r, value_type(t));
    }
    case Intrinsic::kSqrt: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, args[0]);
    case Intrinsic::kFloor: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, args[0]);
    case Intrinsic::kCeil: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::ceil, args[0]);
    case Intrinsic::kRoundEven: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, args[0]);
    case Intrinsic::kFma: return b_.CreateIntrinsic(llvm::Intrinsic::fma, {args[0]->getType()}, args);
    case Intrinsic::kAbs:
      if (t.is_float()) return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, args[0]);
      if (is_unsigned(t.elem)) return args[0];
      return b_.CreateIntrinsic(llvm::Intrinsic::abs, {args[0]->getType()}, {args[0], b_.getFalse()});
    case Intrinsic::kNot: return b_.CreateNot(args[0]);
    case Intrinsic::kDot: return emit_dot(op, args);
    case Intrinsic::kPrefetch: break;  // above
  }
  return nullptr;
}

}  // namespace kiln::codegen
