// Integer shape arithmetic evaluated at import time (see shape_eval.h).
#include "frontend/onnx/shape_eval.h"

#include <cstring>

#include "base/check.h"

namespace kiln::frontend {
namespace {

using ir::Shape;
using ir::Tensor;

int64_t product(const Shape& s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to && i < s.size(); ++i) n *= s[i];
  return n;
}

// Row-major strides, in elements.
std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int64_t i = static_cast<int64_t>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

// Copies element `src_i` of `src` to element `dst_i` of `dst` (same dtype).
void copy_element(const Tensor& src, int64_t src_i, Tensor& dst, int64_t dst_i) {
  int size = dtype_size(src.type().dtype);
  std::memcpy(dst.mutable_data<uint8_t>() + dst_i * size, src.bytes() + src_i * size, size);
}

}  // namespace

bool is_foldable(const ir::Value* v) {
  if (!v->is_constant()) return false;
  DType t = v->type.dtype;
  return (t == DType::kI64 || t == DType::kI32) && v->type.num_elements() <= kMaxFoldElements;
}

Tensor make_int_tensor(DType dtype, const Shape& shape, const std::vector<int64_t>& values) {
  Tensor t(ir::TensorType{dtype, shape});
  KILN_CHECK(static_cast<int64_t>(values.size()) == t.type().num_elements()) << "value count mismatch";
  for (size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case DType::kI64: t.mutable_data<int64_t>()[i] = values[i]; break;
      case DType::kI32: t.mutable_data<int32_t>()[i] = static_cast<int32_t>(values[i]); break;
      default: KILN_UNREACHABLE("make_int_tensor of " << dtype_name(dtype));
    }
  }
  return t;
}

Tensor eval_reshape(const Tensor& t, const Shape& shape) {
  ir::TensorType type{t.type().dtype, shape};
  KILN_CHECK(type.num_elements() == t.type().num_elements()) << "reshape changes the element count";
  return Tensor(type, std::vector<uint8_t>(t.bytes(), t.bytes() + t.num_bytes()));
}

Expected<Tensor> eval_binary(ir::OpKind op, const Tensor& a, const Tensor& b) {
  const Shape& sa = a.type().shape;
  const Shape& sb = b.type().shape;
  size_t rank = std::max(sa.size(), sb.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - sa.size() ? 1 : sa[i - (rank - sa.size())];
    int64_t db = i < rank - sb.size() ? 1 : sb[i - (rank - sb.size())];
    if (da != db && da != 1 && db != 1)
      return Status::invalid("shapes " + ir::shape_str(sa) + " and " + ir::shape_str(sb) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  std::vector<int64_t> va = a.to_i64_vector(), vb = b.to_i64_vector();
  std::vector<int64_t> so = strides_of(out);
  int64_t n = product(out, 0, rank);
  std::vector<int64_t> result(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t ia = 0, ib = 0, sta = 1, stb = 1;
    for (int64_t d = static_cast<int64_t>(rank) - 1; d >= 0; --d) {
      int64_t idx = (i / so[d]) % out[d];
      int64_t ad = d - static_cast<int64_t>(rank - sa.size());
      int64_t bd = d - static_cast<int64_t>(rank - sb.size());
      if (ad >= 0) {
        if (sa[ad] != 1) ia += idx * sta;
        sta *= sa[ad];
      }
      if (bd >= 0) {
        if (sb[bd] != 1) ib += idx * stb;
        stb *= sb[bd];
      }
    }
    int64_t x = va[ia], y = vb[ib];
    switch (op) {
      case ir::OpKind::kAdd: result[i] = x + y; break;
      case ir::OpKind::kSub: result[i] = x - y; break;
      case ir::OpKind::kMul: result[i] = x * y; break;
      case ir::OpKind::kDiv:
        if (y == 0) return Status::invalid("integer division by zero in shape arithmetic");
        result[i] = x / y;
        break;
      case ir::OpKind::kMax: result[i] = std::max(x, y); break;
      case ir::OpKind::kMin: result[i] = std::min(x, y); break;
      default: KILN_UNREACHABLE("eval_binary of " << ir::op_name(op));
    }
  }
  return make_int_tensor(a.type().dtype, out, result);
}

Tensor eval_concat(const std::vector<const Tensor*>& parts, int64_t axis) {
  KILN_CHECK(!parts.empty()) << "concat of nothing";
  Shape out = parts[0]->type().shape;
  out[axis] = 0;
  for (const Tensor* p : parts) out[axis] += p->type().shape[axis];
  Tensor result(ir::TensorType{parts[0]->type().dtype, out});
  int64_t outer = product(out, 0, axis);
  int64_t pos = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor* p : parts) {
      int64_t chunk = product(p->type().shape, axis, p->type().shape.size());
      for (int64_t k = 0; k < chunk; ++k) copy_element(*p, o * chunk + k, result, pos++);
    }
  }
  return result;
}

Expected<Tensor> eval_gather(const Tensor& data, const Tensor& indices, int64_t axis) {
  const Shape& ds = data.type().shape;
  Shape out(ds.begin(), ds.begin() + axis);
  for (int64_t d : indices.type().shape) out.push_back(d);
  for (size_t d = axis + 1; d < ds.size(); ++d) out.push_back(ds[d]);
  Tensor result(ir::TensorType{data.type().dtype, out});
  int64_t outer = product(ds, 0, axis), inner = product(ds, axis + 1, ds.size()), dim = ds[axis];
  std::vector<int64_t> idx = indices.to_i64_vector();
  int64_t pos = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j : idx) {
      if (j < -dim || j >= dim)
        return Status::invalid("index " + std::to_string(j) + " is out of range for a dimension of size " +
                               std::to_string(dim));
      if (j < 0) j += dim;
      for (int64_t k = 0; k < inner; ++k) copy_element(data, (o * dim + j) * inner + k, result, pos++);
    }
  }
  return result;
}

Tensor eval_slice(const Tensor& data, const std::vector<int64_t>& starts, const std::vector<int64_t>& steps,
                  const Shape& out_shape) {
  Tensor result(ir::TensorType{data.type().dtype, out_shape});
  std::vector<int64_t> in_strides = strides_of(data.type().shape);
  std::vector<int64_t> out_strides = strides_of(out_shape);
  int64_t n = product(out_shape, 0, out_shape.size());
  for (int64_t i = 0; i < n; ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < out_shape.size(); ++d) {
      int64_t idx = (i / out_strides[d]) % out_shape[d];
      src += (starts[d] + idx * steps[d]) * in_strides[d];
    }
    copy_element(data, src, result, i);
  }
  return result;
}

Tensor eval_cast(const Tensor& t, DType to) {
  Tensor result(ir::TensorType{to, t.type().shape});
  bool exact_ints = !dtype_is_float(to) && !dtype_is_float(t.type().dtype);
  int64_t n = t.type().num_elements();
  for (int64_t i = 0; i < n; ++i) {
    if (exact_ints) {
      result.set_i64(i, t.get_i64(i));
    } else {
      result.set_f64(i, t.get_f64(i));
    }
  }
  return result;
}

}  // namespace kiln::frontend
