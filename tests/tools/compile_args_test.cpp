// Tests for `kiln compile` argument parsing (tools/kiln/compile_args.cpp).
#include "compile_args.h"

#include <gtest/gtest.h>

namespace kiln::cli {
namespace {

CompileOptions parse_ok(const std::vector<std::string>& args) {
  Expected<CompileArgs> r = parse_compile_args(args);
  EXPECT_TRUE(r.has_value()) << r.status().message();
  return r.has_value() ? r->options : CompileOptions{};
}

std::string parse_error(const std::vector<std::string>& args) {
  Expected<CompileArgs> r = parse_compile_args(args);
  EXPECT_FALSE(r.has_value());
  if (r.has_value()) return "";
  EXPECT_EQ(r.status().exit_code(), 2);
  return r.status().message();
}

TEST(CompileArgsTest, RequiredAndDefaults) {
  CompileOptions o = parse_ok({"--input_path", "m.onnx", "--output_path", "out"});
  EXPECT_EQ(o.input_path, "m.onnx");
  EXPECT_EQ(o.output_path, "out");
  EXPECT_EQ(o.target, "llvm");
  EXPECT_EQ(o.layout, "NCHW");
  EXPECT_EQ(o.kernel_level, 3);
  EXPECT_FALSE(o.bundle);
  EXPECT_TRUE(o.input_shapes.empty());
}

TEST(CompileArgsTest, TargetSplitQuotedAndEqualsForms) {
  std::vector<std::string> split = {"--input_path", "m.onnx", "--target", "llvm", "-device=arm_cpu", "-model=bcm2837",
                                    "-mtriple=aarch64-linux-gnu", "-mattr=+neon", "-mcpu=cortex-a72",
                                    "--output_path", "out"};
  EXPECT_EQ(parse_ok(split).target,
            "llvm -device=arm_cpu -model=bcm2837 -mtriple=aarch64-linux-gnu -mattr=+neon -mcpu=cortex-a72");
  EXPECT_EQ(parse_ok({"--input_path", "m", "--output_path", "o", "--target", "llvm -mcpu=skylake"}).target,
            "llvm -mcpu=skylake");
  EXPECT_EQ(parse_ok({"--input_path", "m", "--output_path", "o", "--target=llvm", "-mcpu=skylake"}).target,
            "llvm -mcpu=skylake");
  EXPECT_EQ(parse_ok({"--target", "cuda:t4", "--input_path=m", "--output_path=o"}).target, "cuda:t4");
  // A `--` word ends the target.
  CompileOptions o = parse_ok({"--target", "llvm", "-mcpu=znver3", "--layout", "NHWC", "--input_path", "m",
                               "--output_path", "o"});
  EXPECT_EQ(o.target, "llvm -mcpu=znver3");
  EXPECT_EQ(o.layout, "NHWC");
}

TEST(CompileArgsTest, OptimizationRepeatsAndShapes) {
  CompileOptions o = parse_ok({"--input_path", "m", "--output_path", "o", "--optimization", "category:kernel,level:4",
                               "--optimization=category:graph,iterations:200", "--input_shapes",
                               "input:1x3x224x224,ids:1x128", "--bundle"});
  EXPECT_EQ(o.kernel_level, 4);
  EXPECT_EQ(o.tuning_iterations, std::optional<int>(200));
  EXPECT_EQ(o.input_shapes.at("input"), (std::vector<int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(o.input_shapes.at("ids"), (std::vector<int64_t>{1, 128}));
  EXPECT_TRUE(o.bundle);
}

TEST(CompileArgsTest, Help) {
  Expected<CompileArgs> r = parse_compile_args({"--input_path", "m", "--help"});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->help);
  EXPECT_NE(std::string(compile_help_text()).find("--optimization"), std::string::npos);
}

TEST(CompileArgsTest, Errors) {
  EXPECT_EQ(parse_error({"--input_path", "m", "--output_path", "o", "--foo"}),
            "unknown option '--foo' (see kiln compile --help)");
  EXPECT_EQ(parse_error({"--input_path", "m", "--output_path", "o", "--foo=1"}),
            "unknown option '--foo' (see kiln compile --help)");
  EXPECT_EQ(parse_error({"--output_path", "o"}), "missing required option --input_path (see kiln compile --help)");
  EXPECT_EQ(parse_error({"--input_path", "m"}), "missing required option --output_path (see kiln compile --help)");
  EXPECT_NE(parse_error({"--input_path"}).find("--input_path needs a value"), std::string::npos);
  EXPECT_NE(parse_error({"--input_path", "--output_path", "o"}).find("--input_path needs a value"), std::string::npos);
  EXPECT_NE(parse_error({"--input_path", "m", "--output_path", "o", "--target", "--layout", "NCHW"}).find("--target needs a value"),
            std::string::npos);
  EXPECT_NE(parse_error({"--input_path", "m", "--output_path", "o", "--layout", "nchw"}).find("NCHW or NHWC, not 'nchw'"),
            std::string::npos);
  EXPECT_NE(parse_error({"--input_path", "m", "--output_path", "o", "--optimization", "category:kernel,level:9"})
                .find("level must be 1, 2, 3 or 4"),
            std::string::npos);
  EXPECT_NE(parse_error({"--input_path", "m", "--output_path", "o", "--input_shapes", "x:0"}).find("positive"),
            std::string::npos);
  EXPECT_NE(parse_error({"m.onnx", "--output_path", "o"}).find("unexpected argument 'm.onnx'"), std::string::npos);
  EXPECT_NE(parse_error({"--input_path", "m", "--output_path", "o", "--target", "llvm", "-mcpu", "skylake"})
                .find("unexpected argument 'skylake': target flags take their value after '=' (-mcpu=skylake)"),
            std::string::npos);
  EXPECT_NE(parse_error({"--input_path", "m", "--output_path", "o", "--bundle=yes"}).find("--bundle takes no value"),
            std::string::npos);
  EXPECT_NE(parse_error({"--input_path", "m", "--output_path", "o", "--target", "llvm", "--target", "cuda"})
                .find("--target given twice"),
            std::string::npos);
  EXPECT_NE(parse_error({"--input_path=", "--output_path", "o"}).find("--input_path has an empty value"), std::string::npos);
}

}  // namespace
}  // namespace kiln::cli
