// The per-op functions behind ops.def: type inference, and lowering to kernel
// IR. Each op family's file (src/ops/<family>.cpp) defines its ops' entries;
// op_table.cpp lists them explicitly (no static registration).
#pragma once

#include <functional>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"
#include "kernel/ir.h"

namespace kiln::ops {

// Knobs that shape generated loops (defaults per kernel level; tuning later).
struct KernelOptions {
  int level = 3;          // 1 plain loops; 2 vectorized + parallel; 3 (4 as 3 for now) register-tiled Conv/MatMul
  int f32_lanes = 8;      // vector width in f32 elements (target vector_bits / 32)
  int vector_registers = 16;  // vector registers for register tiles (AVX2: 16; AVX-512, NEON: 32)
  bool channels_last = false; // --layout NHWC: convolution-type ops compute in NHWC (passes/convert_layout)
  // The level-3 int8 Conv/MatMul kernels' multiply-accumulate: groups of four
  // 8-bit products (AVX-512 VNNI, AVX-VNNI, NEON dotprod: one instruction), or
  // pairs of 16-bit products (operands widened to int16: AVX2/SSE vpmaddwd, NEON smlal).
  bool int8_dot4 = false;
  // The target has fused multiply-add instructions (else Intrinsic::kFma is a libm call).
  bool fma = true;
  bool vectorize() const { return level >= 2; }
  bool parallelize() const { return level >= 2; }
};

// Reads element `idx` (one i64 Expr per dimension of that input) of input `input`.
// The kernel builder decides whether that is a Load or an inlined producer.
using ReadFn = std::function<kir::Expr(int input, const std::vector<kir::Expr>& idx)>;
// Stores `value` as element `idx` of output `output` (possibly through a fused epilogue).
using WriteFn = std::function<kir::Stmt(int output, const std::vector<kir::Expr>& idx, kir::Expr value)>;

struct LowerContext {
  const ir::Node& node;
  KernelOptions opts;
  ReadFn read;
  WriteFn write;
};

// Output types of `node` from its inputs' types and attributes. Errors are
// invalid-input Statuses whose message names the problem (the caller adds the node).
using InferFn = Status (*)(const ir::Node& node, std::vector<ir::TensorType>* outputs);
// Elementwise/Injective ops: the value of output 0 at `out_idx`, as an Expr.
using ElementFn = kir::Expr (*)(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// Complex ops: the loop nest that computes all outputs through ctx.write.
using LowerFn = Expected<kir::Stmt> (*)(const LowerContext& ctx);

struct OpInfo {
  InferFn infer = nullptr;
  ElementFn element = nullptr;  // set for kElementwise and kInjective ops
  LowerFn lower = nullptr;      // set for kComplex ops
};

const OpInfo& op_info(ir::OpKind op);

// Generic lowering for Elementwise/Injective/Reshape ops: a loop nest over the
// output shape (outer loop parallel, inner loop vectorized at level >= 2) that
// writes element(node, idx, read) through ctx.write.
Expected<kir::Stmt> lower_elementwise(const LowerContext& ctx);

// --- helpers shared by op files ---

// Numpy broadcasting of two shapes; error message names both shapes.
Expected<ir::Shape> broadcast_shapes(const ir::Shape& a, const ir::Shape& b);
// The index into an input of shape `in` for output index `out_idx` under
// broadcasting (leading dims dropped, size-1 dims read at 0).
std::vector<kir::Expr> broadcast_index(const std::vector<kir::Expr>& out_idx, const ir::Shape& in);
// Row-major strides of a shape, in elements.
std::vector<int64_t> row_major_strides(const ir::Shape& s);
// sum(idx[i] * strides[i]).
kir::Expr flat_index(const std::vector<kir::Expr>& idx, const ir::Shape& shape);

}  // namespace kiln::ops
