// ScatterElements and ScatterND: a copy of data with the updates applied in
// order. Attributes: axis:i (non-negative; ScatterElements), reduction:i
// (0 none, 1 add, 2 mul, 3 max, 4 min). Inputs data, indices (int32/int64,
// negative counts from the end), updates. Lowered serially through a local
// copy of the output, so repeated indices combine as ONNX says.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Status check_common(const ir::Node& node, const char* op) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 3, 3));
  const ir::TensorType& data = node.inputs[0]->type;
  const ir::TensorType& indices = node.inputs[1]->type;
  const ir::TensorType& updates = node.inputs[2]->type;
  if (indices.dtype != DType::kI64 && indices.dtype != DType::kI32)
    return Status::invalid(std::string(op) + " indices must be int32 or int64, got " + indices.str());
  if (updates.dtype != data.dtype)
    return Status::invalid(std::string(op) + " updates " + updates.str() + " differ in type from data " + data.str());
  int64_t r = node.attrs.get_int("reduction", 0);
  if (r < 0 || r > 4) return Status::invalid(std::string(op) + " reduction " + std::to_string(r) + " is not 0..4");
  if (r != 0 && data.dtype == DType::kBool) return Status::invalid(std::string(op) + " reductions need a numeric data type");
  return Status::ok();
}

// A loop nest (serial) over `shape` around make(idx).
Stmt serial_nest(const std::string& prefix, const ir::Shape& shape, const std::function<Stmt(const std::vector<Expr>&)>& make) {
  LoopNest nest;
  std::vector<Expr> idx;
  for (size_t d = 0; d < shape.size(); ++d) idx.push_back(nest.add(prefix + std::to_string(d), shape[d]));
  return nest.build(make(idx), false);
}

Expr combine(int64_t reduction, const Expr& old, const Expr& upd) {
  switch (reduction) {
    case 1: return old + upd;
    case 2: return old * upd;
    case 3: return kir::max(old, upd);
    case 4: return kir::min(old, upd);
    default: return upd;
  }
}

// An index value read from `indices`, made non-negative and kept in [0, extent).
Expr normalized(const Expr& raw, int64_t extent) {
  Expr i = raw.type().elem == DType::kI64 ? raw : kir::cast(kir::i64(), raw);
  return clamp_index(kir::select(i < Expr(int64_t{0}), i + Expr(extent), i), extent);
}

// copy data into buf; apply(buf); write buf to the output.
Stmt through_copy(const LowerContext& ctx, const std::function<Stmt(const kir::Buffer&)>& apply) {
  const ir::TensorType& data = ctx.node.inputs[0]->type;
  if (data.num_elements() == 0) return Stmt();
  kir::Buffer buf = kir::make_buffer("scatter", data.dtype);
  Stmt copy = serial_nest("c", data.shape, [&](const std::vector<Expr>& idx) {
    return kir::store(buf, flat_index(idx, data.shape), ctx.read(0, idx));
  });
  Stmt out = serial_nest("o", data.shape, [&](const std::vector<Expr>& idx) {
    return ctx.write(0, idx, kir::load(buf, flat_index(idx, data.shape)));
  });
  return kir::allocate(buf, Expr(data.num_elements()), kir::block({copy, apply(buf), out}));
}

}  // namespace

Status infer_scatter_elements(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_common(node, "ScatterElements"));
  const ir::TensorType& data = node.inputs[0]->type;
  const ir::TensorType& indices = node.inputs[1]->type;
  const ir::TensorType& updates = node.inputs[2]->type;
  if (indices.shape != updates.shape || indices.rank() != data.rank())
    return Status::invalid("ScatterElements indices " + indices.str() + " and updates " + updates.str() +
                           " must have one shape, of the rank of data " + data.str());
  int64_t axis = node.attrs.get_int("axis", 0);
  if (axis < 0 || axis >= data.rank())
    return Status::invalid("ScatterElements axis " + std::to_string(axis) + " is out of range for " + data.str());
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis && indices.shape[d] > data.shape[d])
      return Status::invalid("ScatterElements indices " + indices.str() + " exceed data " + data.str());
  outputs->assign(1, data);
  return Status::ok();
}

// out = data; for each index position p of indices (row-major order):
// out[p with p[axis] = indices[p]] = combine(that, updates[p]).
Expected<Stmt> lower_scatter_elements(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::TensorType& data = node.inputs[0]->type;
  const ir::TensorType& indices = node.inputs[1]->type;
  int64_t axis = node.attrs.get_int("axis", 0);
  int64_t reduction = node.attrs.get_int("reduction", 0);
  return through_copy(ctx, [&](const kir::Buffer& buf) {
    if (indices.num_elements() == 0) return kir::block({});
    return serial_nest("u", indices.shape, [&](const std::vector<Expr>& p) {
      std::vector<Expr> at = p;
      at[axis] = normalized(ctx.read(1, p), data.shape[axis]);
      Expr flat = flat_index(at, data.shape);
      return kir::store(buf, flat, combine(reduction, kir::load(buf, flat), ctx.read(2, p)));
    });
  });
}

Status infer_scatter_nd(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_common(node, "ScatterND"));
  const ir::TensorType& data = node.inputs[0]->type;
  const ir::TensorType& indices = node.inputs[1]->type;
  const ir::TensorType& updates = node.inputs[2]->type;
  if (indices.rank() < 1 || indices.shape.back() > data.rank())
    return Status::invalid("ScatterND indices " + indices.str() + " do not index data " + data.str());
  int64_t k = indices.shape.back();
  ir::Shape want(indices.shape.begin(), indices.shape.end() - 1);
  want.insert(want.end(), data.shape.begin() + k, data.shape.end());
  if (updates.shape != want)
    return Status::invalid("ScatterND updates " + updates.str() + " do not fit indices " + indices.str() + " and data " +
                           data.str());
  outputs->assign(1, data);
  return Status::ok();
}

// out = data; for each index tuple p (row-major), for each trailing position t:
// out[indices[p, :], t] = combine(that, updates[p, t]).
Expected<Stmt> lower_scatter_nd(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::TensorType& data = node.inputs[0]->type;
  const ir::TensorType& indices = node.inputs[1]->type;
  const ir::TensorType& updates = node.inputs[2]->type;
  int64_t reduction = node.attrs.get_int("reduction", 0);
  int64_t k = indices.shape.back();
  int64_t q = indices.rank() - 1;
  return through_copy(ctx, [&](const kir::Buffer& buf) {
    if (updates.num_elements() == 0) return kir::block({});
    return serial_nest("u", updates.shape, [&](const std::vector<Expr>& u) {
      std::vector<Expr> at;
      std::vector<Expr> ii(u.begin(), u.begin() + q);
      ii.push_back(Expr(int64_t{0}));
      for (int64_t j = 0; j < k; ++j) {
        ii.back() = Expr(j);
        at.push_back(normalized(ctx.read(1, ii), data.shape[j]));
      }
      at.insert(at.end(), u.begin() + q, u.end());
      Expr flat = flat_index(at, data.shape);
      return kir::store(buf, flat, combine(reduction, kir::load(buf, flat), ctx.read(2, u)));
    });
  });
}

}  // namespace kiln::ops
