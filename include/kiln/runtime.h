/* kiln runtime C API: load a compiled model, bind buffers, run.
 * Every call returns a kiln_status; on failure kiln_last_error() gives a
 * one-line message (thread-local) naming what is wrong. No exception crosses
 * this boundary. */
#ifndef KILN_RUNTIME_H_
#define KILN_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

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
const char* kiln_last_error(void);

/* Loads DIR/model.so, or a path to a .so file directly. Checks ELF architecture,
 * ABI version, weights checksum and the CPU features the code needs. */
kiln_status kiln_model_load(const char* path, kiln_model** out);
void kiln_model_free(kiln_model* m);

/* Threads used by kiln_model_run (default: 1). n == 0 means all cores. */
kiln_status kiln_model_set_num_threads(kiln_model* m, int n);

int kiln_model_num_inputs(const kiln_model* m);
int kiln_model_num_outputs(const kiln_model* m);

typedef struct kiln_tensor_info {
  const char* name;
  int32_t dtype; /* kiln_dtype from model_abi.h */
  int32_t rank;
  const int64_t* shape;
  int64_t num_bytes;
} kiln_tensor_info;

kiln_status kiln_model_input_info(const kiln_model* m, int index, kiln_tensor_info* out);
kiln_status kiln_model_output_info(const kiln_model* m, int index, kiln_tensor_info* out);
/* Index of the input/output with this name, or -1. */
int kiln_model_input_index(const kiln_model* m, const char* name);
int kiln_model_output_index(const kiln_model* m, const char* name);

/* Binds a caller-owned buffer (zero copy). num_bytes must equal the tensor's size.
 * Buffers stay bound across runs until rebound. */
kiln_status kiln_model_bind_input(kiln_model* m, int index, const void* data, size_t num_bytes);
kiln_status kiln_model_bind_output(kiln_model* m, int index, void* data, size_t num_bytes);

/* Runs once with the bound buffers. Every input and output must be bound. */
kiln_status kiln_model_run(kiln_model* m);

/* The metadata JSON compiled into the model (same text as model.json). */
const char* kiln_model_metadata(const kiln_model* m);

/* Name of a dtype ("float32", "int64", ...). */
const char* kiln_dtype_name(int32_t dtype);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_H_ */
