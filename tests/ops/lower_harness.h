// Test harness for op lowerings: lowers a one-node graph to a kernel over flat
// buffers and runs it three ways — the kernel IR interpreter before and after
// the vectorize pass, and the LLVM JIT — at kernel levels 1 and 2 (and level-3
// tile shapes on request), comparing
// every result with a reference computed by the test.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "codegen/codegen.h"
#include "ir/graph.h"
#include "kernel/passes/vectorize.h"
#include "lower/kernel_builder.h"
#include "ops/op_info.h"
#include "kir_interpreter.h"
#include "passes/fuse_elementwise.h"

namespace kiln::ops::testing {

// A host tensor's bytes plus its type.
struct HostTensor {
  ir::TensorType type;
  std::vector<uint8_t> bytes;

  static HostTensor of(DType t, const ir::Shape& shape, const std::vector<double>& values) {
    HostTensor h{ir::TensorType{t, shape}, {}};
    h.bytes.resize(h.type.num_bytes() + 64);  // slack so that a kernel bug reads garbage, not a fault
    KILN_CHECK(static_cast<int64_t>(values.size()) == h.type.num_elements()) << "HostTensor: wrong value count";
    for (size_t i = 0; i < values.size(); ++i) h.set(i, values[i]);
    return h;
  }
  // Uniform random values in [lo, hi) (integers for integer dtypes).
  static HostTensor random(DType t, const ir::Shape& shape, uint32_t seed, double lo = -1, double hi = 1) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    int64_t n = ir::TensorType{t, shape}.num_elements();
    std::vector<double> v(n);
    for (double& x : v) x = dtype_is_float(t) ? dist(gen) : std::floor(dist(gen));
    return of(t, shape, v);
  }
  void set(int64_t i, double v) {
    uint8_t* p = bytes.data() + i * dtype_size(type.dtype);
    switch (type.dtype) {
      case DType::kF32: { float x = static_cast<float>(v); std::memcpy(p, &x, 4); break; }
      case DType::kF64: std::memcpy(p, &v, 8); break;
      case DType::kI64: { int64_t x = static_cast<int64_t>(v); std::memcpy(p, &x, 8); break; }
      case DType::kI32: { int32_t x = static_cast<int32_t>(v); std::memcpy(p, &x, 4); break; }
      case DType::kI8: *p = static_cast<uint8_t>(static_cast<int8_t>(v)); break;
      case DType::kU8: *p = static_cast<uint8_t>(v); break;
      case DType::kBool: *p = v != 0; break;
      default: KILN_UNREACHABLE("HostTensor: dtype");
    }
  }
  double get(int64_t i) const {
    const uint8_t* p = bytes.data() + i * dtype_size(type.dtype);
    switch (type.dtype) {
      case DType::kF32: { float x; std::memcpy(&x, p, 4); return x; }
      case DType::kF64: { double x; std::memcpy(&x, p, 8); return x; }
      case DType::kI64: { int64_t x; std::memcpy(&x, p, 8); return static_cast<double>(x); }
      case DType::kI32: { int32_t x; std::memcpy(&x, p, 4); return x; }
      case DType::kI8: return static_cast<int8_t>(*p);
      case DType::kU8: return *p;
      case DType::kBool: return *p;
      default: KILN_UNREACHABLE("HostTensor: dtype");
    }
  }
  std::vector<double> values() const {
    std::vector<double> v(type.num_elements());
    for (size_t i = 0; i < v.size(); ++i) v[i] = get(i);
    return v;
  }
};

// The node's kernel: parameters are its inputs' buffers, then its outputs'.
inline kir::Func lower_node(const ir::Node& node, const KernelOptions& opts) {
  static int counter = 0;
  kir::Func f;
  f.name = std::string("k_") + ir::op_name(node.op) + "_" + std::to_string(counter++);
  std::vector<kir::Buffer> in_bufs, out_bufs;
  for (size_t i = 0; i < node.inputs.size(); ++i)
    in_bufs.push_back(kir::make_buffer("in" + std::to_string(i), node.inputs[i]->type.dtype));
  for (size_t i = 0; i < node.outputs.size(); ++i)
    out_bufs.push_back(kir::make_buffer("out" + std::to_string(i), node.outputs[i]->type.dtype));
  f.params = in_bufs;
  f.params.insert(f.params.end(), out_bufs.begin(), out_bufs.end());
  ReadFn read = [&node, in_bufs](int i, const std::vector<kir::Expr>& idx) {
    return kir::load(in_bufs[i], flat_index(idx, node.inputs[i]->type.shape));
  };
  WriteFn write = [&node, out_bufs](int o, const std::vector<kir::Expr>& idx, kir::Expr v) {
    return kir::store(out_bufs[o], flat_index(idx, node.outputs[o]->type.shape), v);
  };
  LowerContext ctx{node, opts, read, write};
  Expected<kir::Stmt> body = ir::op_class(node.op) == ir::OpClass::kComplex ? op_info(node.op).lower(ctx)
                                                                            : lower_elementwise(ctx);
  KILN_CHECK(body.has_value()) << body.status().message();
  f.body = *body;
  return f;
}
inline kir::Func lower_node(const ir::Node& node, int level) {
  KernelOptions opts;
  opts.level = level;
  return lower_node(node, opts);
}

// Counts the loops of a kind in a statement (to check schedules).
inline int count_loops(const kir::Stmt& s, kir::ForKind kind) {
  if (!s) return 0;
  switch (s.kind()) {
    case kir::NodeKind::kFor: {
      const kir::For* f = s.as<kir::For>();
      return (f->for_kind == kind) + count_loops(f->body, kind);
    }
    case kir::NodeKind::kBlock: {
      int n = 0;
      for (const kir::Stmt& c : s.as<kir::Block>()->stmts) n += count_loops(c, kind);
      return n;
    }
    case kir::NodeKind::kIfThenElse: {
      const kir::IfThenElse* i = s.as<kir::IfThenElse>();
      return count_loops(i->then_case, kind) + count_loops(i->else_case, kind);
    }
    case kir::NodeKind::kLetStmt: return count_loops(s.as<kir::LetStmt>()->body, kind);
    case kir::NodeKind::kAllocate: return count_loops(s.as<kir::Allocate>()->body, kind);
    default: return 0;
  }
}

inline codegen::Jit* shared_jit() {
  static std::unique_ptr<codegen::Jit> jit = [] {
    auto j = codegen::Jit::create();
    if (!j) ADD_FAILURE() << "no JIT: " << j.status().message();
    return j ? std::move(*j) : nullptr;
  }();
  return jit.get();
}

enum class Runner { kInterpreter, kVectorizedInterpreter, kJit };
inline const char* runner_name(Runner r) {
  return r == Runner::kInterpreter ? "interpreter" : r == Runner::kVectorizedInterpreter ? "vectorized interpreter" : "jit";
}

// Runs the node's kernel on `inputs` and returns output 0's values (the JIT
// runner on `jit`, or on the shared host JIT).
inline std::vector<double> run_node(const ir::Node& node, const std::vector<HostTensor>& inputs,
                                    const KernelOptions& opts, Runner runner, codegen::Jit* jit = nullptr) {
  kir::Func f = lower_node(node, opts);
  if (runner != Runner::kInterpreter) f = kir::vectorize_loops(f);
  std::vector<HostTensor> bufs = inputs;
  for (const ir::Value* o : node.outputs) {
    HostTensor h{o->type, std::vector<uint8_t>(o->type.num_bytes() + 64, 0xEE)};
    bufs.push_back(h);
  }
  if (runner == Runner::kJit) {
    if (!jit) jit = shared_jit();
    if (!jit) return {};
    Status st = jit->add(f);
    EXPECT_TRUE(st.is_ok()) << st.message() << "\n" << kir::to_string(f);
    if (!st.is_ok()) return {};
    std::vector<void*> args;
    for (HostTensor& b : bufs) args.push_back(b.bytes.data());
    st = jit->run(f.name, args);
    EXPECT_TRUE(st.is_ok()) << st.message();
  } else {
    KirInterpreter interp;
    for (size_t i = 0; i < f.params.size(); ++i) interp.bind(f.params[i], bufs[i].bytes.data(), bufs[i].type.num_elements());
    interp.run(f.body);
    for (const std::string& e : interp.errors()) ADD_FAILURE() << runner_name(runner) << ": " << e << "\n" << kir::to_string(f);
  }
  return bufs[node.inputs.size()].values();
}

inline std::vector<double> run_node(const ir::Node& node, const std::vector<HostTensor>& inputs, int level,
                                    Runner runner) {
  KernelOptions opts;
  opts.level = level;
  return run_node(node, inputs, opts, runner);
}

// The runners to use: all three, or without the JIT when the environment sets
// KILN_OPS_TEST_NO_JIT (for working on lowerings while codegen is broken).
inline std::vector<Runner> runners() {
  if (std::getenv("KILN_OPS_TEST_NO_JIT")) return {Runner::kInterpreter, Runner::kVectorizedInterpreter};
  return {Runner::kInterpreter, Runner::kVectorizedInterpreter, Runner::kJit};
}

// Checks output 0 of `node` against `expected` (|got - want| <= tol * max(1, |want|))
// for every runner at each of the kernel options.
inline void check_node_with(const ir::Node& node, const std::vector<HostTensor>& inputs,
                            const std::vector<double>& expected, double tol, const std::vector<KernelOptions>& option_sets) {
  for (const KernelOptions& opts : option_sets) {
    int level = opts.level;
    for (Runner r : runners()) {
      std::vector<double> got = run_node(node, inputs, opts, r);
      ASSERT_EQ(got.size(), expected.size()) << runner_name(r) << " level " << level;
      int bad = 0;
      for (size_t i = 0; i < got.size() && bad < 5; ++i) {
        bool same = std::isnan(expected[i]) ? std::isnan(got[i])
                    : std::isinf(expected[i]) ? got[i] == expected[i]
                                              : std::fabs(got[i] - expected[i]) <= tol * std::max(1.0, std::fabs(expected[i]));
        if (!same) {
          ++bad;
          ADD_FAILURE() << node.label() << " " << runner_name(r) << " level " << level << " lanes " << opts.f32_lanes
                        << ": element " << i << " is " << got[i] << ", want " << expected[i];
        }
      }
    }
  }
}

// Checks output 0 of `node` against `expected` (|got - want| <= tol * max(1, |want|))
// for every runner at levels 1 and 2.
inline void check_node(const ir::Node& node, const std::vector<HostTensor>& inputs, const std::vector<double>& expected,
                       double tol = 1e-5) {
  KernelOptions l1, l2;
  l1.level = 1;
  l2.level = 2;
  check_node_with(node, inputs, expected, tol, {l1, l2});
}

// Level-3 option sets covering the register-tile shapes of the targets:
// AVX2 (8 lanes, 16 registers), AVX-512 (16, 32) and NEON (4, 32).
inline std::vector<KernelOptions> level3_option_sets() {
  std::vector<KernelOptions> sets;
  for (auto [lanes, regs] : {std::pair{8, 16}, std::pair{16, 32}, std::pair{4, 32}}) {
    KernelOptions o;
    o.level = 3;
    o.f32_lanes = lanes;
    o.vector_registers = regs;
    sets.push_back(o);
  }
  return sets;
}

// Row-major multi-index of flat index i in `shape`.
inline std::vector<int64_t> unflatten(int64_t i, const ir::Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  return idx;
}
// Flat index of a multi-index (broadcast: dims of size 1 read 0; leading dims dropped).
inline int64_t flatten_bcast(const std::vector<int64_t>& idx, const ir::Shape& shape) {
  int64_t flat = 0;
  size_t skip = idx.size() - shape.size();
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + (shape[d] == 1 ? 0 : idx[skip + d]);
  return flat;
}

// Elementwise |got - want| <= tol * max(1, |want|), the first few misses reported.
inline void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < want.size() && bad < 5; ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol * std::max(1.0, std::fabs(want[i]))))
      ++bad, ADD_FAILURE() << what << ": element " << i << " is " << got[i] << ", want " << want[i];
}

// Builds `g`'s single fused group at `opts`, runs it with the JIT on `data`
// (graph inputs; constants are added) and returns the values of `result`.
inline std::vector<double> run_group(ir::Graph& g, const ir::Value* result, std::map<const ir::Value*, HostTensor> data,
                              const KernelOptions& opts, const std::string& name, const std::string& expect_group,
                              std::string* kernel_text = nullptr) {
  std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(g);
  EXPECT_EQ(groups.size(), 1u);
  if (groups.size() != 1) return {};
  EXPECT_EQ(lower::describe_group(groups[0]), expect_group);
  Expected<lower::Kernel> k = lower::build_kernel(groups[0], name, opts);
  EXPECT_TRUE(k.has_value()) << k.status().message();
  if (!k) return {};
  if (kernel_text) *kernel_text = kir::to_string(k->func);
  kir::Func f = kir::vectorize_loops(k->func);
  for (const ir::Value* v : k->param_values)
    if (v->is_constant()) {
      const ir::Tensor& t = *v->constant;
      HostTensor h{t.type(), std::vector<uint8_t>(t.bytes(), t.bytes() + t.num_bytes())};
      h.bytes.resize(h.bytes.size() + 64);
      data.emplace(v, std::move(h));
    }
  HostTensor out{result->type, std::vector<uint8_t>(result->type.num_bytes() + 64, 0xEE)};
  std::vector<void*> args;
  for (const ir::Value* v : k->param_values) args.push_back(v == result ? out.bytes.data() : data.at(v).bytes.data());
  codegen::Jit* jit = shared_jit();
  EXPECT_NE(jit, nullptr);
  if (!jit) return {};
  Status st = jit->add(f);
  EXPECT_TRUE(st.is_ok()) << st.message();
  st = jit->run(f.name, args);
  EXPECT_TRUE(st.is_ok()) << st.message();
  return out.values();
}

// A test fixture that builds one-node graphs: node(op, inputs, attrs) adds the
// inputs as graph inputs and returns the node (type inference must succeed).
class OneNodeTest : public ::testing::Test {
 protected:
  const ir::Node& node(ir::OpKind op, const std::vector<HostTensor>& ins, ir::Attrs attrs = {}) {
    std::vector<ir::Value*> vs;
    for (const HostTensor& h : ins) vs.push_back(g_.add_input("x" + std::to_string(g_.inputs().size()), h.type));
    auto n = g_.add_node(op, "t" + std::to_string(count_++), vs, std::move(attrs));
    KILN_CHECK(n.has_value()) << n.status().message();
    return **n;
  }
  ir::Graph g_;
  int count_ = 0;
};

}  // namespace kiln::ops::testing
