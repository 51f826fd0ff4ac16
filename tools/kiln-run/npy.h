// Reading and writing NumPy .npy files (format 1.0/2.0/3.0, little-endian,
// C order) for `kiln run` inputs and outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace kiln::npy {

// A 64-byte-aligned byte buffer (what the runtime wants for bound tensors).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);
  void* data() const { return ptr_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> ptr_;
  size_t size_ = 0;
};

// The parsed header dictionary of a .npy file.
struct Header {
  std::string descr;           // as written, e.g. "<f4"
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// An array read from a .npy file.
struct Array {
  int32_t dtype = 0;           // kiln_dtype (model_abi.h)
  std::vector<int64_t> shape;
  AlignedBuffer data;
};

// Parses the Python-literal header dict. Returns "" or a message.
std::string parse_header(const std::string& text, Header* out);

// Array::dtype of a .npy file whose descr is "|V1"/"|V2" (void): numpy's name for
// ml_dtypes' bfloat16, float8, float4 and 4-/2-bit integer arrays, which np.save
// writes that way (float8_e5m2 as "<f1"). Such data matches a model tensor of any kiln type of that
// size that numpy itself has no name for (see matches_model_dtype).
constexpr int32_t kRawBytes1 = -1;
constexpr int32_t kRawBytes2 = -2;

// kiln_dtype of a .npy descr ("<f4" -> KILN_F32), kRawBytes1/2 for "V1"/"V2",
// or 0 when unsupported.
int32_t dtype_from_descr(const std::string& descr);
// The .npy descr for a kiln_dtype ("<f4"; "<V2"/"|V1" for the ml_dtypes types:
// np.load gives void arrays, .view(ml_dtypes.bfloat16) names them), or "" when unknown.
std::string descr_from_dtype(int32_t dtype);
// Bytes per element of a kiln_dtype or kRawBytes1/2 (0 when unknown).
size_t dtype_size(int32_t dtype);
// Whether data read as `file_dtype` can feed a model tensor of `model_dtype`.
bool matches_model_dtype(int32_t file_dtype, int32_t model_dtype);
// The float value of element i of an array of `dtype` (for summaries; 0 when unknown).
double element_value(int32_t dtype, const void* data, size_t i);
// "(2, 8)" / "()" / "(3,)": a shape as NumPy prints it.
std::string shape_string(const std::vector<int64_t>& shape);

// Reads `path` (fortran order and big-endian data are refused). Returns "" or a message.
std::string read_npy(const std::string& path, Array* out);

// Writes a C-order little-endian array. Returns "" or a message naming `path`.
std::string write_npy(const std::string& path, int32_t dtype, const std::vector<int64_t>& shape,
                      const void* data, size_t num_bytes);

}  // namespace kiln::npy
