// TensorProto -> ir::Tensor: element types, typed repeated fields, raw_data and
// external data files, each checked against dims × element size.
#include "frontend/onnx/tensor.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace kiln::frontend {
namespace {

namespace fs = std::filesystem;
using onnx::TensorProto;

Status tensor_error(const TensorProto& t, const std::string& msg) {
  return Status::invalid("tensor '" + t.name() + "': " + msg);
}

// Appends the elements of a typed repeated field, narrowed to the storage type.
template <typename Storage, typename Field>
std::vector<uint8_t> pack(const Field& field) {
  std::vector<uint8_t> bytes(static_cast<size_t>(field.size()) * sizeof(Storage));
  Storage* out = reinterpret_cast<Storage*>(bytes.data());
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Storage>(field.Get(i));
  return bytes;
}

// The typed-field form of a tensor's data, or nullopt when no typed field holds it.
std::optional<std::vector<uint8_t>> typed_bytes(const TensorProto& t, DType dtype) {
  switch (dtype) {
    case DType::kF32:
      if (t.float_data_size()) return pack<float>(t.float_data());
      break;
    case DType::kF64:
      if (t.double_data_size()) return pack<double>(t.double_data());
      break;
    case DType::kI64:
      if (t.int64_data_size()) return pack<int64_t>(t.int64_data());
      break;
    case DType::kI32:
      if (t.int32_data_size()) return pack<int32_t>(t.int32_data());
      break;
    case DType::kI8:
      if (t.int32_data_size()) return pack<int8_t>(t.int32_data());
      break;
    case DType::kU8:
    case DType::kBool:
      if (t.int32_data_size()) return pack<uint8_t>(t.int32_data());
      break;
    case DType::kI16:
      if (t.int32_data_size()) return pack<int16_t>(t.int32_data());
      break;
    case DType::kU16:
    case DType::kF16:   // IEEE half bits, one per int32
    case DType::kBF16:  // bfloat16 bits, one per int32
      if (t.int32_data_size()) return pack<uint16_t>(t.int32_data());
      break;
    case DType::kU32:
      if (t.uint64_data_size()) return pack<uint32_t>(t.uint64_data());
      break;
    case DType::kU64:
      if (t.uint64_data_size()) return pack<uint64_t>(t.uint64_data());
      break;
    case DType::kF8E4M3FN:  // float8 bits, one per int32
    case DType::kF8E4M3FNUZ:
    case DType::kF8E5M2:
    case DType::kF8E5M2FNUZ:
    case DType::kF8E8M0:
      if (t.int32_data_size()) return pack<uint8_t>(t.int32_data());
      break;
    case DType::kU4:  // packed: see unpack_sub_byte
    case DType::kI4:
    case DType::kF4E2M1:
    case DType::kU2:
    case DType::kI2:
      if (t.int32_data_size()) return pack<uint8_t>(t.int32_data());
      break;
  }
  return std::nullopt;
}

// True when `p` (relative, normalized) has a ".." component.
bool has_parent_component(const fs::path& p) {
  for (const auto& part : p)
    if (part == "..") return true;
  return false;
}

// True when `inner` is `outer` or lies below it (both canonical).
bool is_within(const fs::path& inner, const fs::path& outer) {
  auto [o, i] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return o == outer.end();
}

Expected<int64_t> parse_size(const TensorProto& t, const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    long long v = std::stoll(value, &used);
    if (used == value.size() && v >= 0) return static_cast<int64_t>(v);
  } catch (const std::exception&) {
  }
  return tensor_error(t, "external data " + key + " '" + value + "' is not a non-negative integer");
}

// Reads the bytes of an external-data tensor from the file beside the model.
Expected<std::vector<uint8_t>> read_external(const TensorProto& t, const std::string& model_dir) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset") {
      KILN_ASSIGN_OR_RETURN(offset, parse_size(t, "offset", kv.value()));
    } else if (kv.key() == "length") {
      KILN_ASSIGN_OR_RETURN(length, parse_size(t, "length", kv.value()));
    }
  }
  if (location.empty()) return tensor_error(t, "external data has no location");
  fs::path rel(location);
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    return tensor_error(t, "external data location '" + location +
                               "' is absolute; it must be a path relative to the model's folder");
  if (has_parent_component(rel))
    return tensor_error(t, "external data location '" + location +
                               "' contains '..'; it must stay inside the model's folder");
  std::error_code ec;
  fs::path dir = fs::canonical(fs::path(model_dir.empty() ? "." : model_dir), ec);
  if (ec) return Status::internal("cannot resolve folder '" + model_dir + "': " + ec.message());
  fs::path file = fs::weakly_canonical(dir / rel, ec);
  if (ec || !is_within(file, dir))
    return tensor_error(t, "external data location '" + location + "' resolves outside the model's folder");
  if (!fs::is_regular_file(file, ec))
    return tensor_error(t, "external data file '" + location + "' not found in " + dir.string());
  int64_t file_size = static_cast<int64_t>(fs::file_size(file, ec));
  if (ec) return Status::internal("cannot stat '" + file.string() + "': " + ec.message());
  if (length < 0) length = offset <= file_size ? file_size - offset : 0;
  if (offset > file_size || length > file_size - offset)
    return tensor_error(t, "external data offset " + std::to_string(offset) + " + length " +
                               std::to_string(length) + " is beyond the end of '" + location + "' (" +
                               std::to_string(file_size) + " bytes)");
  std::vector<uint8_t> bytes(static_cast<size_t>(length));
  std::ifstream in(file, std::ios::binary);
  in.seekg(offset);
  if (length > 0) in.read(reinterpret_cast<char*>(bytes.data()), length);
  if (!in) return Status::internal("cannot read '" + file.string() + "'");
  return bytes;
}

}  // namespace

std::optional<DType> dtype_from_onnx(int32_t elem_type) {
  switch (elem_type) {
    case TensorProto::FLOAT: return DType::kF32;
    case TensorProto::DOUBLE: return DType::kF64;
    case TensorProto::INT64: return DType::kI64;
    case TensorProto::INT32: return DType::kI32;
    case TensorProto::INT8: return DType::kI8;
    case TensorProto::UINT8: return DType::kU8;
    case TensorProto::BOOL: return DType::kBool;
    case TensorProto::FLOAT16: return DType::kF16;
    case TensorProto::INT16: return DType::kI16;
    case TensorProto::UINT16: return DType::kU16;
    case TensorProto::UINT32: return DType::kU32;
    case TensorProto::UINT64: return DType::kU64;
    case TensorProto::BFLOAT16: return DType::kBF16;
    default: break;
  }
  // Types newer than the linked onnx headers: ONNX 1.22's TensorProto numbers,
  // which kiln's DType values are.
  switch (elem_type) {
    case 17: return DType::kF8E4M3FN;
    case 18: return DType::kF8E4M3FNUZ;
    case 19: return DType::kF8E5M2;
    case 20: return DType::kF8E5M2FNUZ;
    case 21: return DType::kU4;
    case 22: return DType::kI4;
    case 23: return DType::kF4E2M1;
    case 24: return DType::kF8E8M0;
    case 25: return DType::kU2;
    case 26: return DType::kI2;
    default: return std::nullopt;
  }
}

std::string onnx_type_name(int32_t elem_type) {
  if (TensorProto::DataType_IsValid(elem_type))
    return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(elem_type));
  // Types newer than the linked onnx headers (ONNX 1.22's TensorProto.DataType).
  static const char* const kNewer[] = {"FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4",
                                       "INT4",         "FLOAT4E2M1",     "FLOAT8E8M0", "UINT2",          "INT2"};
  if (elem_type >= 17 && elem_type <= 26) return kNewer[elem_type - 17];
  return "type " + std::to_string(elem_type);
}

Expected<ir::Tensor> tensor_from_proto(const TensorProto& t, const std::string& model_dir) {
  std::optional<DType> dtype = dtype_from_onnx(t.data_type());
  if (!dtype) return tensor_error(t, "element type " + onnx_type_name(t.data_type()) + " is not supported");
  ir::TensorType type{*dtype, {}};
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) return tensor_error(t, "negative dimension " + std::to_string(d));
    if (d > 0 && count > std::numeric_limits<int64_t>::max() / d)
      return tensor_error(t, "dimensions overflow");
    count *= d;
    type.shape.push_back(d);
  }
  // The 4- and 2-bit types are packed in the file (low bits first, the last
  // byte padded) and unpacked here to one element per byte (model_abi.h).
  const int bits = dtype_bits(*dtype);
  const bool packed = bits < 8 && *dtype != DType::kBool;
  const int64_t want = packed ? (count * bits + 7) / 8 : count * dtype_size(*dtype);
  const std::string dims = "[" + ir::shape_str(type.shape) + "] " + dtype_name(*dtype);

  std::vector<uint8_t> bytes;
  if (t.data_location() == TensorProto::EXTERNAL) {
    KILN_ASSIGN_OR_RETURN(bytes, read_external(t, model_dir));
  } else if (t.has_raw_data()) {
    bytes.assign(t.raw_data().begin(), t.raw_data().end());
  } else if (auto typed = typed_bytes(t, *dtype)) {
    bytes = std::move(*typed);
  }
  if (static_cast<int64_t>(bytes.size()) != want) {
    int64_t elems = packed ? static_cast<int64_t>(bytes.size()) * 8 / bits
                           : static_cast<int64_t>(bytes.size()) / dtype_size(*dtype);
    return tensor_error(t, "holds " + std::to_string(bytes.size()) + " bytes (" + std::to_string(elems) +
                               " elements) but its dims " + dims + " need " + std::to_string(want) + " bytes");
  }
  if (packed) {
    std::vector<uint8_t> unpacked(static_cast<size_t>(count));
    const int per_byte = 8 / bits;
    for (int64_t i = 0; i < count; ++i)
      unpacked[i] = static_cast<uint8_t>((bytes[i / per_byte] >> (bits * (i % per_byte))) & ((1 << bits) - 1));
    bytes = std::move(unpacked);
  }
  return ir::Tensor(type, std::move(bytes));
}

}  // namespace kiln::frontend
