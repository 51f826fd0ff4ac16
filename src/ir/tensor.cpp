// TensorType and Tensor: shapes, sizes, constant data access.
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "base/check.h"
#include "ir/graph.h"
#include "ir/narrow_float.h"

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

namespace {

// IEEE half bits -> double.
double half_to_double(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  double v = exp == 0 ? man * (1.0 / (1 << 24))
             : exp == 31 ? (man ? NAN : INFINITY)
                         : (1.0 + man / 1024.0) * static_cast<double>(1ull << exp) / (1 << 15);
  return sign ? -v : v;
}

// double -> IEEE half bits, rounded to nearest even (through the exact double).
uint16_t double_to_half(double v) {
  uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  double a = std::fabs(v);
  if (std::isnan(v)) return sign | 0x7e00;
  if (a >= 65520.0) return sign | 0x7c00;  // rounds to inf
  if (a < std::ldexp(1.0, -14)) {
    // Subnormal: a multiple of 2^-24.
    return sign | static_cast<uint16_t>(std::nearbyint(a * std::ldexp(1.0, 24)));
  }
  int e;
  double m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  double frac = std::nearbyint(m * 2048.0);  // 11 significant bits
  if (frac == 2048.0) {
    frac = 1024.0;
    ++e;
  }
  if (e + 14 >= 31) return sign | 0x7c00;
  return sign | static_cast<uint16_t>(((e + 14) << 10) | (static_cast<uint32_t>(frac) - 1024));
}

// Truncates toward zero and wraps into int64 the way a float-to-int cast does
// here (values beyond int64 saturate; NaN is 0).
int64_t float_to_int(double v) {
  if (std::isnan(v)) return 0;
  double t = std::trunc(v);
  if (t >= 9223372036854775808.0) {
    // uint64 range: keep the bit pattern of the unsigned value.
    if (t < 18446744073709551616.0) return static_cast<int64_t>(static_cast<uint64_t>(t));
    return -1;
  }
  if (t < -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(t);
}

}  // namespace

double Tensor::get_f64(int64_t i) const {
  DType t = type_.dtype;
  switch (t) {
    case DType::kF32: return data<float>()[i];
    case DType::kF64: return data<double>()[i];
    case DType::kF16: return half_to_double(data<uint16_t>()[i]);
    case DType::kBF16: return narrow_float_decode(t, data<uint16_t>()[i]);
    case DType::kU64: return static_cast<double>(data<uint64_t>()[i]);
    case DType::kBool: return data<uint8_t>()[i] ? 1.0 : 0.0;
    default:
      if (dtype_is_narrow_float(t)) return narrow_float_decode(t, data<uint8_t>()[i]);
      return static_cast<double>(get_i64(i));
  }
}

int64_t Tensor::get_i64(int64_t i) const {
  switch (type_.dtype) {
    case DType::kI64: return data<int64_t>()[i];
    case DType::kI32: return data<int32_t>()[i];
    case DType::kI16: return data<int16_t>()[i];
    case DType::kU8: return data<uint8_t>()[i];
    case DType::kI8: return data<int8_t>()[i];
    case DType::kU16: return data<uint16_t>()[i];
    case DType::kU32: return data<uint32_t>()[i];
    case DType::kU64: return static_cast<int64_t>(data<uint64_t>()[i]);
    case DType::kBool: return data<uint8_t>()[i] ? 1 : 0;
    case DType::kU4: return data<uint8_t>()[i] & 0xf;
    case DType::kU2: return data<uint8_t>()[i] & 0x3;
    case DType::kI4: return static_cast<int8_t>(data<uint8_t>()[i] << 4) >> 4;
    case DType::kI2: return static_cast<int8_t>(data<uint8_t>()[i] << 6) >> 6;
    default: return float_to_int(get_f64(i));
  }
}

void Tensor::set_i64(int64_t i, int64_t v) {
  DType t = type_.dtype;
  if (dtype_is_float(t)) {
    set_f64(i, static_cast<double>(v));
    return;
  }
  uint8_t* p = mutable_data<uint8_t>() + i * dtype_size(t);
  switch (t) {
    case DType::kBool: *p = v != 0; return;
    case DType::kU4:
    case DType::kI4: *p = static_cast<uint8_t>(v & 0xf); return;
    case DType::kU2:
    case DType::kI2: *p = static_cast<uint8_t>(v & 0x3); return;
    default: break;
  }
  // Two's complement, little-endian: the low dtype_size bytes of v.
  uint64_t u = static_cast<uint64_t>(v);
  for (int b = 0; b < dtype_size(t); ++b) p[b] = static_cast<uint8_t>(u >> (8 * b));
}

void Tensor::set_f64(int64_t i, double v) {
  DType t = type_.dtype;
  switch (t) {
    case DType::kF32: mutable_data<float>()[i] = static_cast<float>(v); return;
    case DType::kF64: mutable_data<double>()[i] = v; return;
    case DType::kF16: mutable_data<uint16_t>()[i] = double_to_half(v); return;
    case DType::kBool: mutable_data<uint8_t>()[i] = v != 0; return;
    default: break;
  }
  if (dtype_is_narrow_float(t)) {
    // float64 -> float32 rounded to odd keeps the second rounding exact; e8m0 is
    // defined on the float32 value (onnx.numpy_helper.to_float8e8m0).
    float f = t == DType::kF8E8M0 ? static_cast<float>(v) : f32_round_odd(v);
    uint32_t bits = narrow_float_encode(t, narrow_float_round(t, f));
    if (dtype_size(t) == 2) {
      mutable_data<uint16_t>()[i] = static_cast<uint16_t>(bits);
    } else {
      mutable_data<uint8_t>()[i] = static_cast<uint8_t>(bits);
    }
    return;
  }
  set_i64(i, float_to_int(v));
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

Tensor Tensor::from_f64(DType dtype, const Shape& shape, const std::vector<double>& v) {
  Tensor t(TensorType{dtype, shape});
  KILN_CHECK(static_cast<int64_t>(v.size()) == t.type().num_elements()) << "from_f64 size";
  for (size_t i = 0; i < v.size(); ++i) t.set_f64(static_cast<int64_t>(i), v[i]);
  return t;
}

Tensor Tensor::from_i64(const Shape& shape, const std::vector<int64_t>& v) {
  Tensor t(TensorType{DType::kI64, shape});
  KILN_CHECK(static_cast<int64_t>(v.size()) == t.type().num_elements()) << "from_i64 size";
  if (!v.empty()) std::memcpy(t.mutable_data<int64_t>(), v.data(), v.size() * sizeof(int64_t));
  return t;
}

}  // namespace kiln::ir
