/* A hand-written "compiled model" for runtime tests: defines kiln_model_v1 the
 * way the code generator does. y = 2 * x + w (w broadcast over rows), computed
 * in parallel_for chunks. FAKE_VARIANT selects a broken or multi-tensor variant. */
#include <stdint.h>

#include "kiln/model_abi.h"

#define FAKE_GOOD 0
#define FAKE_BAD_CHECKSUM 1
#define FAKE_NEEDS_FEATURE 2
#define FAKE_BAD_ABI 3
#define FAKE_UNKNOWN_FEATURE 4
#define FAKE_MULTI 5
#define FAKE_RUN_FAILS 6
#define FAKE_NO_SYMBOL 7

#ifndef FAKE_VARIANT
#define FAKE_VARIANT FAKE_GOOD
#endif

#define ROWS 2
#define COLS 8

/* kiln_checksum64 of the 32 bytes below (little-endian floats). */
#define WEIGHTS_CHECKSUM 0xf401743d37a23133ull

static const float kWeights[COLS] __attribute__((aligned(64))) = {-1.0f, -0.5f, 0.0f, 0.5f,
                                                                  1.0f,  1.5f,  2.0f, 2.5f};

#if defined(__x86_64__)
#define ARCH "x86_64"
#define BASE_FEATURES "sse2"
#define LACKING_FEATURES "avx512f,avx512bw,avx512vnni,avxvnni,avx512fp16"
#else
#define ARCH "aarch64"
#define BASE_FEATURES "neon"
#define LACKING_FEATURES "neon,i8mm,sve,bf16"
#endif

typedef struct AxpyTask {
  const float* x;
  float* y;
} AxpyTask;

static void axpy_chunk(void* ctx, int64_t begin, int64_t end) {
  const AxpyTask* t = (const AxpyTask*)ctx;
  for (int64_t i = begin; i < end; ++i) t->y[i] = 2.0f * t->x[i] + kWeights[i % COLS];
}

__attribute__((unused)) static const char* const kKernelNames[1] = {"fake_axpy"};

static int32_t fake_run(const kiln_host_api* host, void* const* inputs, void* const* outputs,
                        void* arena) {
  if (FAKE_VARIANT == FAKE_RUN_FAILS) return 5;
  if (((uintptr_t)arena & 63) != 0) return 7;
  if (host->abi_version != KILN_MODEL_ABI_VERSION) return 8;
  /* Stage x in the arena, as generated code stages intermediates. */
  float* staged = (float*)arena;
  const float* x = (const float*)inputs[0];
  for (int i = 0; i < ROWS * COLS; ++i) staged[i] = x[i];
  AxpyTask task = {staged, (float*)outputs[0]};
  host->parallel_for(host->pool, axpy_chunk, &task, ROWS * COLS);
  if (host->kernel_done) host->kernel_done(host->profiler, 0);
#if FAKE_VARIANT == FAKE_MULTI
  const int64_t* idx = (const int64_t*)inputs[1];
  int64_t* z = (int64_t*)outputs[1];
  for (int i = 0; i < 3; ++i) z[i] = idx[i] * 3 + 1;
  float total = 0.0f;
  for (int i = 0; i < ROWS * COLS; ++i) total += task.y[i];
  *(float*)outputs[2] = total;
#endif
  return 0;
}

static const int64_t kShapeXY[2] = {ROWS, COLS};
__attribute__((unused)) static const int64_t kShapeIdx[1] = {3};

#if FAKE_VARIANT == FAKE_MULTI
static const kiln_tensor_desc kInputs[2] = {
    {"x", KILN_F32, 2, kShapeXY, ROWS * COLS * 4},
    {"idx", KILN_I64, 1, kShapeIdx, 3 * 8},
};
static const kiln_tensor_desc kOutputs[3] = {
    {"y", KILN_F32, 2, kShapeXY, ROWS * COLS * 4},
    {"z/out:0", KILN_I64, 1, kShapeIdx, 3 * 8},
    {"total", KILN_F32, 0, 0, 4},
};
#define NUM_INPUTS 2
#define NUM_OUTPUTS 3
#else
__attribute__((unused)) static const kiln_tensor_desc kInputs[1] = {{"x", KILN_F32, 2, kShapeXY, ROWS * COLS * 4}};
__attribute__((unused)) static const kiln_tensor_desc kOutputs[1] = {{"y", KILN_F32, 2, kShapeXY, ROWS * COLS * 4}};
#define NUM_INPUTS 1
#define NUM_OUTPUTS 1
#endif

#if FAKE_VARIANT == FAKE_NEEDS_FEATURE
#define FEATURES LACKING_FEATURES
#elif FAKE_VARIANT == FAKE_UNKNOWN_FEATURE
#define FEATURES BASE_FEATURES ",warp-drive"
#else
#define FEATURES BASE_FEATURES
#endif

#if FAKE_VARIANT == FAKE_NO_SYMBOL
/* A shared library with code but no kiln descriptor. */
__attribute__((visibility("default"))) int32_t not_a_model(void) {
  return fake_run(0, 0, 0, 0);
}
#else
__attribute__((visibility("default"))) const kiln_model_desc kiln_model_v1 = {
    KILN_MODEL_MAGIC,
    FAKE_VARIANT == FAKE_BAD_ABI ? 99u : KILN_MODEL_ABI_VERSION,
    ARCH,
    FEATURES,
    "0.1.0-fake",
    NUM_INPUTS,
    NUM_OUTPUTS,
    kInputs,
    kOutputs,
    ROWS * COLS * 4, /* arena: the staged copy of x */
    (const uint8_t*)kWeights,
    sizeof(kWeights),
    FAKE_VARIANT == FAKE_BAD_CHECKSUM ? WEIGHTS_CHECKSUM + 1 : WEIGHTS_CHECKSUM,
    "{\"name\":\"fake\",\"note\":\"hand-written test model\",\"outputs\":[{\"name\":\"y\","
    "\"shape\":[2,8]}],\"options\":{\"level\":3,\"tags\":[]}}",
    fake_run,
    1,
    kKernelNames,
};
#endif
