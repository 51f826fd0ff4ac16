// `kiln run` inputs: parse --input NAME=FILE.npy specs, check each array's dtype
// and shape against the model, or fill every input with seeded random values.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "cli_common.h"
#include "kiln/model_abi.h"

namespace kiln::cli {
namespace {

// The seed used when no --input is given, so repeated runs see the same data.
constexpr uint32_t kRandomSeed = 42;

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = (x >> 16) & 0x8000;
  const int exp = int((x >> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;  // tiny values flush to zero (fine for test data)
  if (exp >= 31) return sign | 0x7c00;
  uint32_t mant = x & 0x7fffff;
  uint16_t h = uint16_t(sign | (exp << 10) | (mant >> 13));
  if ((mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) == 0x1000 && (h & 1))) ++h;  // nearest even
  return h;
}

// bfloat16 bits of f (truncated: fine for test data).
uint16_t bf16_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return uint16_t(x >> 16);
}

void fill_random(const Tensor& t, npy::Array* a, std::mt19937* rng) {
  a->dtype = t.dtype;
  a->shape = t.shape;
  a->data = npy::AlignedBuffer(t.num_bytes);
  const size_t count = t.num_bytes / (npy::dtype_size(t.dtype) ? npy::dtype_size(t.dtype) : 1);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::uniform_int_distribution<int> small(0, 9), byte(0, 255), bit(0, 1);
  void* p = a->data.data();
  for (size_t i = 0; i < count; ++i) {
    switch (t.dtype) {
      case KILN_F32: static_cast<float*>(p)[i] = unit(*rng); break;
      case KILN_F64: static_cast<double*>(p)[i] = unit(*rng); break;
      case KILN_F16: static_cast<uint16_t*>(p)[i] = float_to_half(unit(*rng)); break;
      case KILN_I64: static_cast<int64_t*>(p)[i] = small(*rng); break;
      case KILN_I32: static_cast<int32_t*>(p)[i] = small(*rng); break;
      case KILN_U8: static_cast<uint8_t*>(p)[i] = uint8_t(byte(*rng)); break;
      case KILN_I8: static_cast<int8_t*>(p)[i] = int8_t(byte(*rng) - 128); break;
      case KILN_BOOL: static_cast<uint8_t*>(p)[i] = uint8_t(bit(*rng)); break;
      case KILN_I16: static_cast<int16_t*>(p)[i] = int16_t(small(*rng)); break;
      case KILN_U16: static_cast<uint16_t*>(p)[i] = uint16_t(small(*rng)); break;
      case KILN_U32: static_cast<uint32_t*>(p)[i] = uint32_t(small(*rng)); break;
      case KILN_U64: static_cast<uint64_t*>(p)[i] = uint64_t(small(*rng)); break;
      case KILN_BF16: static_cast<uint16_t*>(p)[i] = bf16_bits(unit(*rng)); break;
      case KILN_I4:
      case KILN_U4:
      case KILN_I2:
      case KILN_U2: static_cast<uint8_t*>(p)[i] = uint8_t(small(*rng) & (t.dtype == KILN_I2 || t.dtype == KILN_U2 ? 3 : 15)); break;
      default: static_cast<uint8_t*>(p)[i] = uint8_t(small(*rng)); break;  // float8/float4: small codes, no NaN
    }
  }
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

std::string names(const std::vector<Tensor>& tensors) {
  std::string s;
  for (const auto& t : tensors) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

int find(const std::vector<Tensor>& tensors, const std::string& name) {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return int(i);
  return -1;
}

}  // namespace

int gather_inputs(const std::string& prefix, const std::vector<Tensor>& tensors,
                  const std::vector<std::string>& specs, std::vector<npy::Array>* inputs) {
  inputs->clear();
  inputs->resize(tensors.size());
  if (specs.empty()) {
    std::printf("no --input given: filling %zu input(s) with seeded pseudo-random values (seed %u)\n",
                tensors.size(), kRandomSeed);
    std::mt19937 rng(kRandomSeed);
    for (size_t i = 0; i < tensors.size(); ++i) fill_random(tensors[i], &(*inputs)[i], &rng);
    return 0;
  }
  std::vector<bool> given(tensors.size(), false);
  for (const std::string& spec : specs) {
    int index = -1;
    std::string file = spec;
    const size_t eq = spec.find('=');
    if (eq != std::string::npos) {
      index = find(tensors, spec.substr(0, eq));
      if (index >= 0) file = spec.substr(eq + 1);
    }
    if (index < 0) {
      // "a=b.npy" with no input named "a" is a file name only if that file exists.
      if (eq != std::string::npos && (tensors.size() != 1 || !file_exists(spec)))
        return fail(prefix, 2, "--input " + spec + ": the model has no input named '" +
                                   spec.substr(0, eq) + "' (inputs: " + names(tensors) + ")");
      if (tensors.size() != 1)
        return fail(prefix, 2, "--input " + spec + " needs NAME=FILE.npy: the model has " +
                                   std::to_string(tensors.size()) + " inputs (" + names(tensors) + ")");
      index = 0;
    }
    const Tensor& t = tensors[index];
    if (given[index]) return fail(prefix, 2, "input '" + t.name + "' is given twice");
    given[index] = true;
    npy::Array& a = (*inputs)[index];
    std::string err = npy::read_npy(file, &a);
    if (!err.empty()) return fail(prefix, 2, "input '" + t.name + "': " + err);
    if (!npy::matches_model_dtype(a.dtype, t.dtype) || a.shape != t.shape)
      return fail(prefix, 2, "input '" + t.name + "': expected " + describe(t.dtype, t.shape) +
                                 ", got " + describe(a.dtype, a.shape) + " from " + file);
  }
  std::vector<Tensor> missing;
  for (size_t i = 0; i < tensors.size(); ++i)
    if (!given[i]) missing.push_back(tensors[i]);
  if (!missing.empty())
    return fail(prefix, 2, "missing --input for: " + names(missing) +
                               " (give every input, or none for random values)");
  return 0;
}

}  // namespace kiln::cli
