/* The binary contract between a compiled model (model.so) and the kiln runtime.
 * kiln's code generator emits the data structures below; the runtime reads them.
 * Any incompatible change bumps KILN_MODEL_ABI_VERSION. Plain C, no dependencies. */
#ifndef KILN_MODEL_ABI_H_
#define KILN_MODEL_ABI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_MODEL_ABI_VERSION 2u
#define KILN_MODEL_MAGIC 0x4e4c494bu /* "KILN" little-endian */
/* The one symbol a model exports: a `const kiln_model_desc`. */
#define KILN_MODEL_SYMBOL "kiln_model_v1"

/* Element types. Values are stable across ABI versions: ONNX's TensorProto.DataType
 * numbers. One element per byte for the 4- and 2-bit types (int4, uint4, int2, uint2,
 * float4e2m1), in the byte's low bits (signed ones two's complement; the high bits are
 * zero when written and ignored when read), the way numpy/ml_dtypes holds them. */
typedef enum kiln_dtype {
  KILN_F32 = 1,
  KILN_U8 = 2,
  KILN_I8 = 3,
  KILN_U16 = 4,
  KILN_I16 = 5,
  KILN_I32 = 6,
  KILN_I64 = 7,
  KILN_BOOL = 9,
  KILN_F16 = 10,
  KILN_F64 = 11,
  KILN_U32 = 12,
  KILN_U64 = 13,
  KILN_BF16 = 16,
  KILN_F8E4M3FN = 17,
  KILN_F8E4M3FNUZ = 18,
  KILN_F8E5M2 = 19,
  KILN_F8E5M2FNUZ = 20,
  KILN_U4 = 21,
  KILN_I4 = 22,
  KILN_F4E2M1 = 23,
  KILN_F8E8M0 = 24,
  KILN_U2 = 25,
  KILN_I2 = 26,
} kiln_dtype;

/* A body of work split by the runtime: fn(ctx, begin, end) over [0, n). */
typedef void (*kiln_task_fn)(void* ctx, int64_t begin, int64_t end);

/* Services the runtime lends to a running model (models link nothing but libc). */
typedef struct kiln_host_api {
  uint32_t abi_version;
  uint32_t num_threads;
  void* pool;
  /* Runs fn over [0, n) in chunks on the pool and returns when all are done.
   * With one thread it calls fn(ctx, 0, n) directly. */
  void (*parallel_for)(void* pool, kiln_task_fn fn, void* ctx, int64_t n);
  /* Profiling (ABI 2): when kernel_done is not null, the model calls
   * kernel_done(profiler, i) right after its i-th kernel call returns
   * (0 <= i < kiln_model_desc::num_kernels). Null: no call, no cost. */
  void (*kernel_done)(void* profiler, int32_t kernel);
  void* profiler;
} kiln_host_api;

/* One input or output tensor. Shapes are static (compiled in). */
typedef struct kiln_tensor_desc {
  const char* name;
  int32_t dtype; /* kiln_dtype */
  int32_t rank;
  const int64_t* shape;
  int64_t num_bytes;
} kiln_tensor_desc;

/* Runs the model once. inputs[i]/outputs[i] point at caller-owned buffers of
 * num_bytes each (at least 16-byte aligned); arena points at arena_bytes of
 * scratch aligned to 64. Returns 0 on success. */
typedef int32_t (*kiln_run_fn)(const kiln_host_api* host, void* const* inputs,
                               void* const* outputs, void* arena);

typedef struct kiln_model_desc {
  uint32_t magic;          /* KILN_MODEL_MAGIC */
  uint32_t abi_version;    /* KILN_MODEL_ABI_VERSION */
  const char* arch;        /* "x86_64" or "aarch64" */
  const char* cpu_features;/* comma-separated features the code needs, e.g. "avx2,fma" */
  const char* kiln_version;
  int32_t num_inputs;
  int32_t num_outputs;
  const kiln_tensor_desc* inputs;
  const kiln_tensor_desc* outputs;
  uint64_t arena_bytes;
  const uint8_t* weights;  /* all constants, one 64-byte-aligned blob */
  uint64_t weights_bytes;
  uint64_t weights_checksum; /* kiln_checksum64(weights, weights_bytes) */
  const char* metadata_json; /* the same text as model.json */
  kiln_run_fn run;
  int32_t num_kernels;              /* kernel calls per run, in order (ABI 2) */
  const char* const* kernel_names;  /* their names, as model.json's layers[].kernel */
} kiln_model_desc;

/* FNV-1a over 8-byte words (then the tail bytes): the checksum both sides compute. */
static inline uint64_t kiln_checksum64(const uint8_t* data, uint64_t n) {
  uint64_t h = 1469598103934665603ull;
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = 0;
    for (int b = 0; b < 8; ++b) w |= (uint64_t)data[i + b] << (8 * b);
    h = (h ^ w) * 1099511628211ull;
  }
  for (; i < n; ++i) h = (h ^ data[i]) * 1099511628211ull;
  return h;
}

#ifdef __cplusplus
}
#endif

#endif /* KILN_MODEL_ABI_H_ */
