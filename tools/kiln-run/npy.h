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

// kiln_dtype of a .npy descr ("<f4" -> KILN_F32), or 0 when unsupported.
int32_t dtype_from_descr(const std::string& descr);
// The .npy descr for a kiln_dtype ("<f4"), or "" when unknown.
std::string descr_from_dtype(int32_t dtype);
// Bytes per element of a kiln_dtype (0 when unknown).
size_t dtype_size(int32_t dtype);
// "(2, 8)" / "()" / "(3,)": a shape as NumPy prints it.
std::string shape_string(const std::vector<int64_t>& shape);

// Reads `path` (fortran order and big-endian data are refused). Returns "" or a message.
std::string read_npy(const std::string& path, Array* out);

// Writes a C-order little-endian array. Returns "" or a message naming `path`.
std::string write_npy(const std::string& path, int32_t dtype, const std::vector<int64_t>& shape,
                      const void* data, size_t num_bytes);

}  // namespace kiln::npy
