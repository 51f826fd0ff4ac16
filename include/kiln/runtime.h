/* kiln runtime C API: load a compiled model, bind buffers, run.
 * Every call returns a kiln_status; on failure kiln_last_error() gives a
 * one-line message (thread-local) naming what is wrong. No exception crosses
 * this boundary. */
#ifndef KILN_RUNTIME_H_
#define KILN_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

/* Marks the exported API (the runtime builds with -fvisibility=hidden). */
#if defined(__GNUC__)
#define KILN_API __attribute__((visibility("default")))
#else
#define KILN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kiln_status {
  KILN_OK = 0,
  KILN_ERROR_INVALID_ARGUMENT = 2, /* the caller's mistake: wrong shape, name, file */
  KILN_ERROR_INCOMPATIBLE = 3,     /* object built for another arch/ABI/CPU features */
  KILN_ERROR_INTERNAL = 1,
} kiln_status;

typedef struct kiln_model kiln_model;

/* Message of the last failed call on this thread ("" if none). */
KILN_API const char* kiln_last_error(void);

/* Loads DIR/model.so, or a path to a .so file directly. Checks ELF architecture,
 * ABI version, weights checksum and the CPU features the code needs. */
KILN_API kiln_status kiln_model_load(const char* path, kiln_model** out);
KILN_API void kiln_model_free(kiln_model* m);

/* Threads used by kiln_model_run (default: 1). n == 0 means all cores. */
KILN_API kiln_status kiln_model_set_num_threads(kiln_model* m, int n);

KILN_API int kiln_model_num_inputs(const kiln_model* m);
KILN_API int kiln_model_num_outputs(const kiln_model* m);

typedef struct kiln_tensor_info {
  const char* name;
  int32_t dtype; /* kiln_dtype from model_abi.h */
  int32_t rank;
  const int64_t* shape;
  int64_t num_bytes;
} kiln_tensor_info;

KILN_API kiln_status kiln_model_input_info(const kiln_model* m, int index, kiln_tensor_info* out);
KILN_API kiln_status kiln_model_output_info(const kiln_model* m, int index, kiln_tensor_info* out);
/* Index of the input/output with this name, or -1. */
KILN_API int kiln_model_input_index(const kiln_model* m, const char* name);
KILN_API int kiln_model_output_index(const kiln_model* m, const char* name);

/* Binds a caller-owned buffer (zero copy). num_bytes must equal the tensor's size
 * and data must be 16-byte aligned. Buffers stay bound across runs until rebound. */
KILN_API kiln_status kiln_model_bind_input(kiln_model* m, int index, const void* data, size_t num_bytes);
KILN_API kiln_status kiln_model_bind_output(kiln_model* m, int index, void* data, size_t num_bytes);

/* Runs once with the bound buffers. Every input and output must be bound.
 * One run at a time per model (the arena is shared); separate models are independent. */
KILN_API kiln_status kiln_model_run(kiln_model* m);

/* Per-kernel timing. Turning it on clears the counts; while on, every successful
 * kiln_model_run adds each kernel's wall time (from the previous kernel's end, so
 * the kernels' times sum to the run's). Off (the default) costs nothing. */
KILN_API kiln_status kiln_model_set_profiling(kiln_model* m, int on);
/* Kernel calls per run (the fused layers of model.json's "layers", plus layout
 * and copy kernels), in call order. */
KILN_API int kiln_model_num_kernels(const kiln_model* m);
typedef struct kiln_kernel_profile {
  const char* name;      /* as in model.json's layers[].kernel */
  uint64_t runs;         /* runs counted since profiling was turned on */
  double total_seconds;  /* this kernel's time summed over those runs */
} kiln_kernel_profile;
KILN_API kiln_status kiln_model_kernel_profile(const kiln_model* m, int index, kiln_kernel_profile* out);
/* The metadata JSON compiled into the model (same text as model.json). */
KILN_API const char* kiln_model_metadata(const kiln_model* m);

/* What the compiled object says about itself (strings owned by the model). */
typedef struct kiln_model_props {
  const char* path;          /* the model.so that was loaded */
  const char* arch;          /* "x86_64" or "aarch64" */
  const char* cpu_features;  /* comma-separated, as compiled in */
  const char* kiln_version;  /* kiln version that compiled it */
  uint32_t abi_version;
  int32_t num_threads;       /* current thread count */
  uint64_t arena_bytes;
  uint64_t weights_bytes;
} kiln_model_props;

KILN_API kiln_status kiln_model_properties(const kiln_model* m, kiln_model_props* out);

/* Version of this runtime library ("0.1.0"). */
KILN_API const char* kiln_runtime_version(void);

/* Name of a dtype ("float32", "int64", ...). */
KILN_API const char* kiln_dtype_name(int32_t dtype);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_H_ */
