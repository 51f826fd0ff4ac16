// Tests for `kiln compile --constant_input NAME=FILE.npy` parsing (tools/kiln/compile_args.cpp).
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "compile_args.h"
#include "kiln/model_abi.h"
#include "npy.h"

namespace kiln::cli {
namespace {

class ConstantInputArgsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln_ci_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write_i64(const std::string& name, const std::vector<int64_t>& shape, const std::vector<int64_t>& v) {
    std::string p = dir_ + "/" + name;
    EXPECT_EQ(npy::write_npy(p, KILN_I64, shape, v.data(), v.size() * sizeof(int64_t)), "");
    return p;
  }
  std::string dir_;
};

TEST_F(ConstantInputArgsTest, ReadsEachFile) {
  std::string axes = write_i64("axes.npy", {2}, {0, -1});
  std::string k = write_i64("k.npy", {1}, {3});
  Expected<CompileArgs> r = parse_compile_args({"--input_path", "m.onnx", "--output_path", "o", "--constant_input",
                                                "axes=" + axes, "--constant_input=k=" + k});
  ASSERT_TRUE(r.has_value()) << r.status().message();
  const auto& c = r->options.constant_inputs;
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c.at("axes").dtype, KILN_I64);
  EXPECT_EQ(c.at("axes").shape, (std::vector<int64_t>{2}));
  ASSERT_EQ(c.at("axes").bytes.size(), 16u);
  int64_t v[2];
  std::memcpy(v, c.at("axes").bytes.data(), 16);
  EXPECT_EQ(v[0], 0);
  EXPECT_EQ(v[1], -1);
  EXPECT_EQ(c.at("k").shape, (std::vector<int64_t>{1}));
}

TEST_F(ConstantInputArgsTest, Errors) {
  auto error = [](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--input_path", "m.onnx", "--output_path", "o"};
    args.insert(args.end(), extra.begin(), extra.end());
    Expected<CompileArgs> r = parse_compile_args(args);
    EXPECT_FALSE(r.has_value());
    return r.has_value() ? std::string() : r.status().message();
  };
  EXPECT_NE(error({"--constant_input", "axes"}).find("--constant_input 'axes': expected NAME=FILE.npy"),
            std::string::npos);
  EXPECT_NE(error({"--constant_input", "axes=" + dir_ + "/missing.npy"}).find("missing.npy"), std::string::npos);
  std::string f = write_i64("a.npy", {1}, {1});
  EXPECT_NE(error({"--constant_input", "a=" + f, "--constant_input", "a=" + f}).find("names 'a' twice"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln::cli
