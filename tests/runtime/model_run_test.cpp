// Loads the hand-written fake model and exercises the whole C API: info,
// binding checks, run at several thread counts, two models at once, errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "kiln/model_abi.h"
#include "kiln/runtime.h"
#include "tests/runtime/fake_model_path.h"

namespace {

using kiln::test::fake_model_dir;
using ::testing::HasSubstr;

constexpr float kWeights[8] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f};

// Owns a loaded model; fails the test if loading fails.
class Loaded {
 public:
  explicit Loaded(const std::string& variant) {
    EXPECT_EQ(kiln_model_load(fake_model_dir(variant).c_str(), &m_), KILN_OK) << kiln_last_error();
  }
  ~Loaded() { kiln_model_free(m_); }
  kiln_model* get() const { return m_; }

 private:
  kiln_model* m_ = nullptr;
};

struct alignas(64) Buffer16 {
  float v[16];
};

void expect_axpy(const Buffer16& x, const Buffer16& y) {
  for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(y.v[i], 2 * x.v[i] + kWeights[i % 8]) << "index " << i;
}

TEST(ModelRun, InfoDescribesTensors) {
  Loaded m("good");
  ASSERT_NE(m.get(), nullptr);
  EXPECT_EQ(kiln_model_num_inputs(m.get()), 1);
  EXPECT_EQ(kiln_model_num_outputs(m.get()), 1);
  kiln_tensor_info info{};
  ASSERT_EQ(kiln_model_input_info(m.get(), 0, &info), KILN_OK);
  EXPECT_STREQ(info.name, "x");
  EXPECT_STREQ(kiln_dtype_name(info.dtype), "float32");
  ASSERT_EQ(info.rank, 2);
  EXPECT_EQ(info.shape[0], 2);
  EXPECT_EQ(info.shape[1], 8);
  EXPECT_EQ(info.num_bytes, 64);
  EXPECT_EQ(kiln_model_input_index(m.get(), "x"), 0);
  EXPECT_EQ(kiln_model_input_index(m.get(), "nope"), -1);
  EXPECT_EQ(kiln_model_output_index(m.get(), "y"), 0);
  EXPECT_EQ(kiln_model_output_info(m.get(), 1, &info), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(kiln_last_error(), HasSubstr("output index 1 is out of range"));
  EXPECT_THAT(kiln_model_metadata(m.get()), HasSubstr("\"name\":\"fake\""));
  kiln_model_props props{};
  ASSERT_EQ(kiln_model_properties(m.get(), &props), KILN_OK);
  EXPECT_STREQ(props.kiln_version, "0.1.0-fake");
  EXPECT_EQ(props.abi_version, KILN_MODEL_ABI_VERSION);
  EXPECT_EQ(props.arena_bytes, 64u);
  EXPECT_EQ(props.weights_bytes, 32u);
  EXPECT_THAT(props.path, HasSubstr("good/model.so"));
}

TEST(ModelRun, LoadsTheSoPathDirectly) {
  kiln_model* m = nullptr;
  ASSERT_EQ(kiln_model_load((fake_model_dir("good") + "/model.so").c_str(), &m), KILN_OK)
      << kiln_last_error();
  kiln_model_free(m);
}

TEST(ModelRun, RunsAtOneToFourThreadsRepeatedly) {
  Loaded m("good");
  Buffer16 x, y;
  for (int i = 0; i < 16; ++i) x.v[i] = 0.25f * i - 3;
  ASSERT_EQ(kiln_model_bind_input(m.get(), 0, x.v, sizeof(x.v)), KILN_OK) << kiln_last_error();
  ASSERT_EQ(kiln_model_bind_output(m.get(), 0, y.v, sizeof(y.v)), KILN_OK) << kiln_last_error();
  for (int threads : {1, 2, 3, 4, 0, 2, 1}) {
    ASSERT_EQ(kiln_model_set_num_threads(m.get(), threads), KILN_OK);
    for (int rep = 0; rep < 50; ++rep) {
      std::memset(y.v, 0, sizeof(y.v));
      x.v[rep % 16] += 1.0f;  // buffers stay bound: the model sees the new values
      ASSERT_EQ(kiln_model_run(m.get()), KILN_OK) << kiln_last_error();
      expect_axpy(x, y);
    }
  }
  EXPECT_EQ(kiln_model_set_num_threads(m.get(), -1), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(kiln_last_error(), HasSubstr("got -1"));
}

TEST(ModelRun, ProfilingCountsRunsPerKernel) {
  Loaded m("good");
  Buffer16 x{}, y{};
  ASSERT_EQ(kiln_model_bind_input(m.get(), 0, x.v, sizeof(x.v)), KILN_OK);
  ASSERT_EQ(kiln_model_bind_output(m.get(), 0, y.v, sizeof(y.v)), KILN_OK);
  ASSERT_EQ(kiln_model_num_kernels(m.get()), 1);
  kiln_kernel_profile p{};
  ASSERT_EQ(kiln_model_kernel_profile(m.get(), 0, &p), KILN_OK);
  EXPECT_STREQ(p.name, "fake_axpy");
  EXPECT_EQ(p.runs, 0u);  // off by default: runs are not counted
  ASSERT_EQ(kiln_model_run(m.get()), KILN_OK);
  ASSERT_EQ(kiln_model_kernel_profile(m.get(), 0, &p), KILN_OK);
  EXPECT_EQ(p.runs, 0u);
  EXPECT_EQ(p.total_seconds, 0.0);

  ASSERT_EQ(kiln_model_set_profiling(m.get(), 1), KILN_OK);
  for (int r = 0; r < 3; ++r) ASSERT_EQ(kiln_model_run(m.get()), KILN_OK);
  ASSERT_EQ(kiln_model_set_profiling(m.get(), 0), KILN_OK);
  ASSERT_EQ(kiln_model_run(m.get()), KILN_OK);  // off again: not counted
  ASSERT_EQ(kiln_model_kernel_profile(m.get(), 0, &p), KILN_OK);
  EXPECT_EQ(p.runs, 3u);
  EXPECT_GT(p.total_seconds, 0.0);
  expect_axpy(x, y);
  ASSERT_EQ(kiln_model_set_profiling(m.get(), 1), KILN_OK);  // on again: counts start over
  ASSERT_EQ(kiln_model_kernel_profile(m.get(), 0, &p), KILN_OK);
  EXPECT_EQ(p.runs, 0u);
  EXPECT_EQ(p.total_seconds, 0.0);

  EXPECT_EQ(kiln_model_kernel_profile(m.get(), 1, &p), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(kiln_last_error(), HasSubstr("kernel index 1 is out of range (model has 1)"));
  EXPECT_EQ(kiln_model_set_profiling(nullptr, 1), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(kiln_model_num_kernels(nullptr), 0);
}

TEST(ModelRun, BindSizeMismatchNamesTensorAndSizes) {
  Loaded m("good");
  Buffer16 x;
  EXPECT_EQ(kiln_model_bind_input(m.get(), 0, x.v, 32), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(kiln_last_error(), "input 'x' expects 64 bytes (float32 [2, 8]), got 32 bytes");
  EXPECT_EQ(kiln_model_bind_output(m.get(), 0, x.v, 128), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(kiln_last_error(), "output 'y' expects 64 bytes (float32 [2, 8]), got 128 bytes");
  EXPECT_EQ(kiln_model_bind_input(m.get(), 3, x.v, 64), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(kiln_last_error(), HasSubstr("input index 3"));
  EXPECT_EQ(kiln_model_bind_input(m.get(), 0, nullptr, 64), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(kiln_last_error(), HasSubstr("null"));
  alignas(64) char raw[80];
  EXPECT_EQ(kiln_model_bind_input(m.get(), 0, raw + 4, 64), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(kiln_last_error(), HasSubstr("aligned"));
  // A successful call clears the message.
  EXPECT_EQ(kiln_model_bind_input(m.get(), 0, x.v, 64), KILN_OK);
  EXPECT_STREQ(kiln_last_error(), "");
}

TEST(ModelRun, RunWithUnboundTensorsNamesThem) {
  Loaded m("multi");
  Buffer16 x;
  ASSERT_EQ(kiln_model_bind_input(m.get(), 0, x.v, 64), KILN_OK);
  EXPECT_EQ(kiln_model_run(m.get()), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(kiln_last_error(),
               "cannot run: not bound: input 'idx', output 'y', output 'z/out:0', output 'total'");
}

TEST(ModelRun, MultiInputOutputModel) {
  Loaded m("multi");
  ASSERT_EQ(kiln_model_num_inputs(m.get()), 2);
  ASSERT_EQ(kiln_model_num_outputs(m.get()), 3);
  kiln_tensor_info info{};
  ASSERT_EQ(kiln_model_output_info(m.get(), 2, &info), KILN_OK);
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.num_bytes, 4);
  Buffer16 x, y;
  for (int i = 0; i < 16; ++i) x.v[i] = float(i);
  alignas(16) int64_t idx[3] = {1, -2, 40}, z[3] = {};
  alignas(16) float total = 0;
  ASSERT_EQ(kiln_model_bind_input(m.get(), 0, x.v, 64), KILN_OK);
  ASSERT_EQ(kiln_model_bind_input(m.get(), kiln_model_input_index(m.get(), "idx"), idx, 24), KILN_OK);
  ASSERT_EQ(kiln_model_bind_output(m.get(), 0, y.v, 64), KILN_OK);
  ASSERT_EQ(kiln_model_bind_output(m.get(), 1, z, 24), KILN_OK);
  ASSERT_EQ(kiln_model_bind_output(m.get(), 2, &total, 4), KILN_OK);
  ASSERT_EQ(kiln_model_set_num_threads(m.get(), 2), KILN_OK);
  ASSERT_EQ(kiln_model_run(m.get()), KILN_OK) << kiln_last_error();
  expect_axpy(x, y);
  EXPECT_EQ(z[0], 4);
  EXPECT_EQ(z[1], -5);
  EXPECT_EQ(z[2], 121);
  float expected = 0;
  for (int i = 0; i < 16; ++i) expected += y.v[i];
  EXPECT_FLOAT_EQ(total, expected);
}

TEST(ModelRun, FailingRunReportsItsCode) {
  Loaded m("run_fails");
  Buffer16 x, y;
  ASSERT_EQ(kiln_model_bind_input(m.get(), 0, x.v, 64), KILN_OK);
  ASSERT_EQ(kiln_model_bind_output(m.get(), 0, y.v, 64), KILN_OK);
  EXPECT_EQ(kiln_model_run(m.get()), KILN_ERROR_INTERNAL);
  EXPECT_THAT(kiln_last_error(), HasSubstr("failed while running (code 5)"));
}

TEST(ModelRun, TwoModelsRunIndependentlyInParallel) {
  Loaded a("good"), b("good");
  ASSERT_EQ(kiln_model_set_num_threads(a.get(), 2), KILN_OK);
  ASSERT_EQ(kiln_model_set_num_threads(b.get(), 3), KILN_OK);
  Buffer16 xa, ya, xb, yb;
  for (int i = 0; i < 16; ++i) {
    xa.v[i] = float(i);
    xb.v[i] = float(-i);
  }
  ASSERT_EQ(kiln_model_bind_input(a.get(), 0, xa.v, 64), KILN_OK);
  ASSERT_EQ(kiln_model_bind_output(a.get(), 0, ya.v, 64), KILN_OK);
  ASSERT_EQ(kiln_model_bind_input(b.get(), 0, xb.v, 64), KILN_OK);
  ASSERT_EQ(kiln_model_bind_output(b.get(), 0, yb.v, 64), KILN_OK);
  kiln_status sb = KILN_OK;
  std::thread other([&] {
    for (int i = 0; i < 500 && sb == KILN_OK; ++i) sb = kiln_model_run(b.get());
  });
  kiln_status sa = KILN_OK;
  for (int i = 0; i < 500 && sa == KILN_OK; ++i) sa = kiln_model_run(a.get());
  other.join();
  EXPECT_EQ(sa, KILN_OK);
  EXPECT_EQ(sb, KILN_OK);
  expect_axpy(xa, ya);
  expect_axpy(xb, yb);
}

TEST(ModelRun, LastErrorIsPerThread) {
  kiln_model* m = nullptr;
  EXPECT_NE(kiln_model_load("/nonexistent/model", &m), KILN_OK);
  std::string other_thread_error = "unset";
  std::thread t([&] { other_thread_error = kiln_last_error(); });
  t.join();
  EXPECT_EQ(other_thread_error, "");
  EXPECT_THAT(kiln_last_error(), HasSubstr("/nonexistent/model"));
}

}  // namespace
