// .npy reading/writing for `kiln run` (round trips for every dtype, format 2.0,
// refusals with messages), and the JSON re-indenter used by `kiln inspect`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "json_pretty.h"
#include "kiln/model_abi.h"
#include "npy.h"

namespace kiln::npy {
namespace {

using ::testing::HasSubstr;

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

void write_raw(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

std::string file_bytes(const std::string& path) {
  std::string out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  char buf[256];
  size_t n;
  while (f && (n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  if (f) std::fclose(f);
  return out;
}

// A .npy file with a hand-written header (version `major`).
std::string npy_file(int major, const std::string& dict, const std::string& data) {
  std::string h = "\x93NUMPY";
  h.push_back(char(major));
  h.push_back(0);
  const size_t n = dict.size();
  h.push_back(char(n & 0xff));
  h.push_back(char(n >> 8));
  if (major >= 2) h += std::string(2, '\0');
  return h + dict + data;
}

TEST(Npy, RoundTripsEveryDtype) {
  const int32_t dtypes[] = {KILN_F32, KILN_F64, KILN_F16, KILN_I64, KILN_I32, KILN_U8, KILN_I8, KILN_BOOL,
                            KILN_I16, KILN_U16, KILN_U32, KILN_U64};
  for (int32_t dtype : dtypes) {
    const std::vector<int64_t> shape = {2, 3, 1};
    const size_t bytes = 6 * dtype_size(dtype);
    std::vector<unsigned char> data(bytes);
    for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<unsigned char>(dtype == KILN_BOOL ? i % 2 : i * 7 + 1);
    const std::string path = temp_path("round_trip_" + std::to_string(dtype) + ".npy");
    ASSERT_EQ(write_npy(path, dtype, shape, data.data(), bytes), "");
    const std::string raw = file_bytes(path);
    ASSERT_GT(raw.size(), bytes);
    EXPECT_EQ((raw.size() - bytes) % 64, 0u) << "data starts 64-byte aligned";
    EXPECT_THAT(raw, HasSubstr("'descr': '" + descr_from_dtype(dtype) + "'"));
    Array a;
    ASSERT_EQ(read_npy(path, &a), "");
    EXPECT_EQ(a.dtype, dtype);
    EXPECT_EQ(a.shape, shape);
    ASSERT_EQ(a.data.size(), bytes);
    EXPECT_EQ(std::memcmp(a.data.data(), data.data(), bytes), 0);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data.data()) % 64, 0u);
  }
}

TEST(Npy, MlDtypesTypesTravelAsVoidBytes) {
  // np.save writes ml_dtypes arrays (bfloat16, float8, int4, ...) with descr V2/V1.
  const uint16_t bf16[] = {0x3FC0, 0xC000};  // 1.5, -2
  const std::string path = temp_path("bf16.npy");
  ASSERT_EQ(write_npy(path, KILN_BF16, {2}, bf16, sizeof(bf16)), "");
  EXPECT_THAT(file_bytes(path), HasSubstr("'descr': '<V2'"));
  Array a;
  ASSERT_EQ(read_npy(path, &a), "");
  EXPECT_EQ(a.dtype, kRawBytes2);
  EXPECT_TRUE(matches_model_dtype(a.dtype, KILN_BF16));
  EXPECT_FALSE(matches_model_dtype(a.dtype, KILN_I16));  // numpy names int16: <i2
  EXPECT_FALSE(matches_model_dtype(kRawBytes1, KILN_BF16));
  EXPECT_TRUE(matches_model_dtype(dtype_from_descr("|V1"), KILN_F8E4M3FN));
  EXPECT_TRUE(matches_model_dtype(dtype_from_descr("<V1"), KILN_I4));
  EXPECT_TRUE(matches_model_dtype(dtype_from_descr("<f1"), KILN_F8E5M2));  // ml_dtypes' float8_e5m2
  EXPECT_EQ(descr_from_dtype(KILN_F4E2M1), "|V1");
  EXPECT_EQ(dtype_size(KILN_U2), 1u);
  EXPECT_EQ(element_value(KILN_BF16, bf16, 0), 1.5);
  EXPECT_EQ(element_value(KILN_BF16, bf16, 1), -2.0);
  const uint8_t bytes[] = {0x7E, 0x0F, 0x09};
  EXPECT_EQ(element_value(KILN_F8E4M3FN, bytes, 0), 448.0);
  EXPECT_EQ(element_value(KILN_I4, bytes, 1), -1.0);
  EXPECT_EQ(element_value(KILN_U4, bytes, 2), 9.0);
  EXPECT_EQ(element_value(KILN_F4E2M1, bytes, 1), -6.0);
}

TEST(Npy, ScalarAndOneDimensionalShapes) {
  const float v = 3.5f;
  const std::string path = temp_path("scalar.npy");
  ASSERT_EQ(write_npy(path, KILN_F32, {}, &v, 4), "");
  EXPECT_THAT(file_bytes(path), HasSubstr("'shape': ()"));
  Array a;
  ASSERT_EQ(read_npy(path, &a), "");
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(*static_cast<float*>(a.data.data()), 3.5f);
  EXPECT_EQ(shape_string({3}), "(3,)");
  EXPECT_EQ(shape_string({1, 3, 224, 224}), "(1, 3, 224, 224)");
}

TEST(Npy, ReadsFormatVersion2) {
  const int64_t values[2] = {7, -9};
  const std::string path = temp_path("v2.npy");
  write_raw(path, npy_file(2, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n",
                           std::string(reinterpret_cast<const char*>(values), 16)));
  Array a;
  ASSERT_EQ(read_npy(path, &a), "");
  EXPECT_EQ(a.dtype, KILN_I64);
  EXPECT_EQ(static_cast<int64_t*>(a.data.data())[1], -9);
}

TEST(Npy, RefusesFortranOrderBigEndianAndBrokenFiles) {
  Array a;
  const std::string fortran = temp_path("fortran.npy");
  write_raw(fortran, npy_file(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n",
                              std::string(16, '\0')));
  EXPECT_THAT(read_npy(fortran, &a), HasSubstr("Fortran order"));

  const std::string big = temp_path("big.npy");
  write_raw(big, npy_file(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n",
                          std::string(4, '\0')));
  EXPECT_THAT(read_npy(big, &a), HasSubstr("unsupported dtype '>f4'"));

  const std::string truncated = temp_path("truncated.npy");
  write_raw(truncated, npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n",
                                std::string(8, '\0')));
  EXPECT_THAT(read_npy(truncated, &a), HasSubstr("truncated: expected 16 bytes"));

  const std::string text = temp_path("text.npy");
  write_raw(text, "hello, not numpy");
  EXPECT_THAT(read_npy(text, &a), HasSubstr("is not a .npy file"));
  EXPECT_THAT(read_npy(temp_path("missing.npy"), &a), HasSubstr("cannot open"));
}

TEST(Npy, ParsesHeaderVariants) {
  Header h;
  EXPECT_EQ(parse_header("{\"descr\":\"|u1\",\"shape\":( 1 ,2 ),\"fortran_order\":False}", &h), "");
  EXPECT_EQ(h.descr, "|u1");
  EXPECT_EQ(h.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(h.fortran_order);
  EXPECT_THAT(parse_header("{'fortran_order': False, 'shape': (1,)}", &h), HasSubstr("descr"));
  EXPECT_THAT(parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (a,)}", &h),
              HasSubstr("malformed 'shape'"));
  EXPECT_EQ(dtype_from_descr("<u1"), KILN_U8);
  EXPECT_EQ(dtype_from_descr("|f4"), 0);
  EXPECT_EQ(dtype_from_descr("<c8"), 0);
}

TEST(JsonPretty, IndentsAndKeepsStrings) {
  EXPECT_EQ(kiln::cli::pretty_json("{\"a\":[1,2],\"b\":{},\"c\":\"x, {y}: \\\"z\\\"\"}"),
            "{\n  \"a\": [1, 2],\n  \"b\": {},\n  \"c\": \"x, {y}: \\\"z\\\"\"\n}");
  EXPECT_EQ(kiln::cli::pretty_json("{\"l\":[{\"n\":\"a]\"}]}"),
            "{\n  \"l\": [\n    {\n      \"n\": \"a]\"\n    }\n  ]\n}");
  EXPECT_EQ(kiln::cli::pretty_json("  [ ]  "), "[]");
}

}  // namespace
}  // namespace kiln::npy
