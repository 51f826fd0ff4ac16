// TensorType and Tensor: shapes, sizes, constant data access.
#include <cmath>
#include <cstring>
#include <sstream>

#include "base/check.h"
#include "ir/graph.h"

namespace kiln::ir {

int64_t TensorType::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  if (s.empty()) return "scalar";
  std::ostringstream os;
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "x" : "") << s[i];
  return os.str();
}

std::string TensorType::str() const {
  std::ostringstream os;
  os << dtype_name(dtype) << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? "x" : "") << shape[i];
  os << "]";
  return os.str();
}

Tensor::Tensor(TensorType type) : type_(std::move(type)) {
  data_->assign(static_cast<size_t>(type_.num_bytes()), 0);
}

Tensor::Tensor(TensorType type, std::vector<uint8_t> bytes) : type_(std::move(type)) {
  KILN_CHECK(static_cast<int64_t>(bytes.size()) == type_.num_bytes())
      << "tensor " << type_.str() << " given " << bytes.size() << " bytes";
  *data_ = std::move(bytes);
}

double Tensor::get_f64(int64_t i) const {
  switch (type_.dtype) {
    case DType::kF32: return data<float>()[i];
    case DType::kF64: return data<double>()[i];
    case DType::kU8: return data<uint8_t>()[i];
    case DType::kI8: return data<int8_t>()[i];
    case DType::kI32: return data<int32_t>()[i];
    case DType::kI64: return static_cast<double>(data<int64_t>()[i]);
    case DType::kBool: return data<uint8_t>()[i] ? 1.0 : 0.0;
    case DType::kF16: {
      uint16_t h = data<uint16_t>()[i];
      uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
      double v = exp == 0 ? man * (1.0 / (1 << 24))
                 : exp == 31 ? (man ? NAN : INFINITY)
                             : (1.0 + man / 1024.0) * static_cast<double>(1ull << exp) / (1 << 15);
      return sign ? -v : v;
    }
  }
  KILN_UNREACHABLE("bad dtype");
}

int64_t Tensor::get_i64(int64_t i) const {
  switch (type_.dtype) {
    case DType::kI64: return data<int64_t>()[i];
    case DType::kI32: return data<int32_t>()[i];
    case DType::kU8: return data<uint8_t>()[i];
    case DType::kI8: return data<int8_t>()[i];
    case DType::kBool: return data<uint8_t>()[i] ? 1 : 0;
    default: return static_cast<int64_t>(get_f64(i));
  }
}

std::vector<int64_t> Tensor::to_i64_vector() const {
  std::vector<int64_t> v(static_cast<size_t>(type_.num_elements()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = get_i64(static_cast<int64_t>(i));
  return v;
}

Tensor Tensor::from_f32(const Shape& shape, const std::vector<float>& v) {
  Tensor t(TensorType{DType::kF32, shape});
  KILN_CHECK(static_cast<int64_t>(v.size()) == t.type().num_elements()) << "from_f32 size";
  if (!v.empty()) std::memcpy(t.mutable_data<float>(), v.data(), v.size() * sizeof(float));
  return t;
}

Tensor Tensor::from_i64(const Shape& shape, const std::vector<int64_t>& v) {
  Tensor t(TensorType{DType::kI64, shape});
  KILN_CHECK(static_cast<int64_t>(v.size()) == t.type().num_elements()) << "from_i64 size";
  if (!v.empty()) std::memcpy(t.mutable_data<int64_t>(), v.data(), v.size() * sizeof(int64_t));
  return t;
}

}  // namespace kiln::ir
