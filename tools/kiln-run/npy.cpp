// .npy format: magic "\x93NUMPY", version, header length, a Python dict literal
// padded so the data starts at a multiple of 64, then the raw elements.
#include "npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <cmath>

#include "ir/narrow_float.h"
#include "kiln/model_abi.h"

namespace kiln::npy {
namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const int exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0) return (sign ? -1.0f : 1.0f) * std::ldexp(float(mant), -24);
  uint32_t bits = exp == 31 ? sign | 0x7f800000 | (mant << 13)
                            : sign | uint32_t(exp - 15 + 127) << 23 | (mant << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
constexpr size_t kHeaderAlignment = 64;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

size_t skip_blanks(const std::string& s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  return i;
}

// Position right after `'key':` (or "key":), or npos.
size_t find_value(const std::string& s, const std::string& key) {
  for (const char q : {'\'', '"'}) {
    const size_t k = s.find(std::string(1, q) + key + q);
    if (k == std::string::npos) continue;
    size_t i = skip_blanks(s, k + key.size() + 2);
    if (i < s.size() && s[i] == ':') return skip_blanks(s, i + 1);
  }
  return std::string::npos;
}

}  // namespace

AlignedBuffer::AlignedBuffer(size_t bytes) : size_(bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  ptr_.reset(std::aligned_alloc(64, rounded ? rounded : 64));
  if (ptr_ && rounded) std::memset(ptr_.get(), 0, rounded);
}

std::string parse_header(const std::string& text, Header* out) {
  *out = Header();
  size_t i = find_value(text, "descr");
  if (i == std::string::npos || (text[i] != '\'' && text[i] != '"')) return "header has no 'descr'";
  const size_t close = text.find(text[i], i + 1);
  if (close == std::string::npos) return "header has an unterminated 'descr'";
  out->descr = text.substr(i + 1, close - i - 1);
  i = find_value(text, "fortran_order");
  if (i == std::string::npos) return "header has no 'fortran_order'";
  if (text.compare(i, 4, "True") == 0) out->fortran_order = true;
  else if (text.compare(i, 5, "False") != 0) return "header has a malformed 'fortran_order'";
  i = find_value(text, "shape");
  if (i == std::string::npos || text[i] != '(') return "header has no 'shape'";
  ++i;
  for (;;) {
    i = skip_blanks(text, i);
    if (i >= text.size()) return "header has an unterminated 'shape'";
    if (text[i] == ')') break;
    if (text[i] < '0' || text[i] > '9') return "header has a malformed 'shape'";
    int64_t dim = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      dim = dim * 10 + (text[i++] - '0');
      if (dim > (int64_t(1) << 48)) return "header has a dimension too large";
    }
    out->shape.push_back(dim);
    i = skip_blanks(text, i);
    if (i < text.size() && text[i] == ',') ++i;
  }
  return "";
}

int32_t dtype_from_descr(const std::string& d) {
  if (d.size() != 3) return 0;
  const char order = d[0];
  const std::string kind = d.substr(1);
  const bool one_byte = kind == "u1" || kind == "i1" || kind == "b1" || kind == "V1" || kind == "V2" || kind == "f1";
  if (one_byte ? (order != '|' && order != '<' && order != '=') : (order != '<' && order != '='))
    return 0;
  if (kind == "f4") return KILN_F32;
  if (kind == "f8") return KILN_F64;
  if (kind == "f2") return KILN_F16;
  if (kind == "i8") return KILN_I64;
  if (kind == "i4") return KILN_I32;
  if (kind == "i2") return KILN_I16;
  if (kind == "u8") return KILN_U64;
  if (kind == "u4") return KILN_U32;
  if (kind == "u2") return KILN_U16;
  if (kind == "u1") return KILN_U8;
  if (kind == "i1") return KILN_I8;
  if (kind == "b1") return KILN_BOOL;
  if (kind == "V1" || kind == "f1") return kRawBytes1;  // ml_dtypes' float8_e5m2 saves as "<f1"
  if (kind == "V2") return kRawBytes2;
  return 0;
}

std::string descr_from_dtype(int32_t dtype) {
  switch (dtype) {
    case KILN_F32: return "<f4";
    case KILN_F64: return "<f8";
    case KILN_F16: return "<f2";
    case KILN_I64: return "<i8";
    case KILN_I32: return "<i4";
    case KILN_I16: return "<i2";
    case KILN_U64: return "<u8";
    case KILN_U32: return "<u4";
    case KILN_U16: return "<u2";
    case KILN_U8: return "|u1";
    case KILN_I8: return "|i1";
    case KILN_BOOL: return "|b1";
    case KILN_BF16: return "<V2";
    case KILN_F8E4M3FN:
    case KILN_F8E4M3FNUZ:
    case KILN_F8E5M2:
    case KILN_F8E5M2FNUZ:
    case KILN_F8E8M0:
    case KILN_F4E2M1:
    case KILN_I4:
    case KILN_U4:
    case KILN_I2:
    case KILN_U2: return "|V1";
    default: return "";
  }
}

size_t dtype_size(int32_t dtype) {
  switch (dtype) {
    case KILN_F64: case KILN_I64: case KILN_U64: return 8;
    case KILN_F32: case KILN_I32: case KILN_U32: return 4;
    case KILN_F16: case KILN_I16: case KILN_U16: case KILN_BF16: case kRawBytes2: return 2;
    default: return descr_from_dtype(dtype) == "|V1" || dtype == KILN_U8 || dtype == KILN_I8 ||
                    dtype == KILN_BOOL || dtype == kRawBytes1 ? 1 : 0;
  }
}

bool matches_model_dtype(int32_t file_dtype, int32_t model_dtype) {
  if (file_dtype == model_dtype) return true;
  const std::string descr = descr_from_dtype(model_dtype);
  return (file_dtype == kRawBytes1 && descr == "|V1") || (file_dtype == kRawBytes2 && descr == "<V2");
}

double element_value(int32_t dtype, const void* p, size_t i) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  switch (dtype) {
    case KILN_F32: return static_cast<const float*>(p)[i];
    case KILN_F64: return static_cast<const double*>(p)[i];
    case KILN_I64: return double(static_cast<const int64_t*>(p)[i]);
    case KILN_U64: return double(static_cast<const uint64_t*>(p)[i]);
    case KILN_I32: return static_cast<const int32_t*>(p)[i];
    case KILN_U32: return static_cast<const uint32_t*>(p)[i];
    case KILN_I16: return static_cast<const int16_t*>(p)[i];
    case KILN_U16: return static_cast<const uint16_t*>(p)[i];
    case KILN_U8: case KILN_BOOL: return b[i];
    case KILN_I8: return static_cast<const int8_t*>(p)[i];
    case KILN_U4: return b[i] & 0xf;
    case KILN_U2: return b[i] & 0x3;
    case KILN_I4: return static_cast<int8_t>(b[i] << 4) >> 4;
    case KILN_I2: return static_cast<int8_t>(b[i] << 6) >> 6;
    case KILN_F16: return half_to_float(static_cast<const uint16_t*>(p)[i]);
    case KILN_BF16: return kiln::narrow_float_decode(DType::kBF16, static_cast<const uint16_t*>(p)[i]);
    default:
      if (descr_from_dtype(dtype) == "|V1") return kiln::narrow_float_decode(static_cast<DType>(dtype), b[i]);
      return 0;
  }
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::string read_npy(const std::string& path, Array* out) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return "cannot open " + path + ": " + std::strerror(errno);
  unsigned char pre[10];
  if (std::fread(pre, 1, 8, f.get()) != 8 || std::memcmp(pre, kMagic, kMagicBytes) != 0)
    return path + " is not a .npy file (bad magic)";
  const int major = pre[6];
  uint32_t header_len = 0;
  if (major == 1) {
    if (std::fread(pre + 8, 1, 2, f.get()) != 2) return path + " is truncated";
    header_len = pre[8] | (pre[9] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char len4[4];
    if (std::fread(len4, 1, 4, f.get()) != 4) return path + " is truncated";
    header_len = len4[0] | (len4[1] << 8) | (len4[2] << 16) | (uint32_t(len4[3]) << 24);
  } else {
    return path + ": unsupported .npy format version " + std::to_string(major);
  }
  if (header_len > (1u << 24)) return path + ": .npy header is too large";
  std::string text(header_len, '\0');
  if (std::fread(text.data(), 1, header_len, f.get()) != header_len) return path + " is truncated";
  Header h;
  std::string err = parse_header(text, &h);
  if (!err.empty()) return path + ": " + err;
  if (h.fortran_order)
    return path + " is in Fortran order; save it in C order (numpy.ascontiguousarray)";
  out->dtype = dtype_from_descr(h.descr);
  if (out->dtype == 0)
    return path + ": unsupported dtype '" + h.descr +
           "' (supported: <f4 <f8 <f2 <i8 <i4 <i2 <u8 <u4 <u2 |u1 |i1 |b1, and |V1 <V2 for "
           "ml_dtypes' bfloat16/float8/float4/int4/int2 types; little-endian)";
  out->shape = h.shape;
  size_t count = 1;
  for (int64_t d : h.shape) count *= static_cast<size_t>(d);
  const size_t bytes = count * dtype_size(out->dtype);
  out->data = AlignedBuffer(bytes);
  if (out->data.data() == nullptr) return path + ": cannot allocate " + std::to_string(bytes) + " bytes";
  if (std::fread(out->data.data(), 1, bytes, f.get()) != bytes)
    return path + " is truncated: expected " + std::to_string(bytes) + " bytes of data for shape " +
           shape_string(h.shape);
  return "";
}

std::string write_npy(const std::string& path, int32_t dtype, const std::vector<int64_t>& shape,
                      const void* data, size_t num_bytes) {
  const std::string descr = descr_from_dtype(dtype);
  if (descr.empty()) return "cannot write " + path + ": unsupported dtype " + std::to_string(dtype);
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
                     shape_string(shape) + ", }";
  const bool v2 = dict.size() + 11 > 65535;
  const size_t prefix = kMagicBytes + 2 + (v2 ? 4 : 2);
  const size_t total = (prefix + dict.size() + 1 + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string head(kMagic, kMagicBytes);
  head.push_back(char(v2 ? 2 : 1));
  head.push_back(0);
  const size_t n = dict.size();
  head.push_back(char(n & 0xff));
  head.push_back(char((n >> 8) & 0xff));
  if (v2) {
    head.push_back(char((n >> 16) & 0xff));
    head.push_back(char((n >> 24) & 0xff));
  }
  head += dict;
  File f(std::fopen(path.c_str(), "wb"));
  if (!f) return "cannot write " + path + ": " + std::strerror(errno);
  if (std::fwrite(head.data(), 1, head.size(), f.get()) != head.size() ||
      (num_bytes && std::fwrite(data, 1, num_bytes, f.get()) != num_bytes))
    return "cannot write " + path + ": " + std::strerror(errno);
  if (std::fclose(f.release()) != 0) return "cannot write " + path + ": " + std::strerror(errno);
  return "";
}

}  // namespace kiln::npy
