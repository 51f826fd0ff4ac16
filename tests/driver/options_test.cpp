// Tests for apply_optimization_flag and parse_input_shapes (src/driver/options.cpp).
#include <gtest/gtest.h>

#include "kiln/compiler.h"

namespace kiln {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(OptimizationFlagTest, KernelLevel) {
  CompileOptions o;
  EXPECT_EQ(o.kernel_level, 3);
  EXPECT_EQ(apply_optimization_flag("category:kernel,level:4", &o), "");
  EXPECT_EQ(o.kernel_level, 4);
  EXPECT_EQ(apply_optimization_flag("level:1,category:kernel", &o), "");  // order does not matter
  EXPECT_EQ(o.kernel_level, 1);
  for (const char* bad : {"category:kernel,level:0", "category:kernel,level:5", "category:kernel,level:two",
                          "category:kernel,level:-1", "category:kernel,level:3x"}) {
    std::string err = apply_optimization_flag(bad, &o);
    EXPECT_TRUE(contains(err, "level must be 1, 2, 3 or 4")) << bad << " -> " << err;
    EXPECT_TRUE(contains(err, bad)) << err;
  }
  EXPECT_EQ(o.kernel_level, 1);  // failed flags change nothing
}

TEST(OptimizationFlagTest, CudaEnabled) {
  CompileOptions o;
  EXPECT_FALSE(o.cuda_enabled.has_value());
  EXPECT_EQ(apply_optimization_flag("category:cuda,enabled:false", &o), "");
  EXPECT_EQ(o.cuda_enabled, std::optional<bool>(false));
  EXPECT_EQ(apply_optimization_flag("category:cuda,enabled:true", &o), "");
  EXPECT_EQ(o.cuda_enabled, std::optional<bool>(true));
  EXPECT_TRUE(contains(apply_optimization_flag("category:cuda,enabled:yes", &o), "enabled must be true or false, not 'yes'"));
}

TEST(OptimizationFlagTest, GraphIterations) {
  CompileOptions o;
  EXPECT_EQ(apply_optimization_flag("category:graph,iterations:0", &o), "");
  EXPECT_EQ(o.tuning_iterations, std::optional<int>(0));
  EXPECT_EQ(apply_optimization_flag("category:graph,iterations:30000", &o), "");
  EXPECT_EQ(o.tuning_iterations, std::optional<int>(30000));
  EXPECT_TRUE(contains(apply_optimization_flag("category:graph,iterations:30001", &o), "from 0 to 30000"));
  EXPECT_TRUE(contains(apply_optimization_flag("category:graph,iterations:99999999999999999999", &o), "from 0 to 30000"));
}

TEST(OptimizationFlagTest, UnknownCategoryKeyAndFormListValidOnes) {
  CompileOptions o;
  std::string err = apply_optimization_flag("category:memory,level:2", &o);
  EXPECT_TRUE(contains(err, "unknown category 'memory' (valid: kernel, cuda, graph)")) << err;
  err = apply_optimization_flag("category:kernel,lvl:2", &o);
  EXPECT_TRUE(contains(err, "unknown key 'lvl' for category:kernel (valid: level)")) << err;
  err = apply_optimization_flag("category:kernel", &o);
  EXPECT_TRUE(contains(err, "category:kernel needs level:<value>")) << err;
  err = apply_optimization_flag("level:2", &o);
  EXPECT_TRUE(contains(err, "missing category")) << err;
  err = apply_optimization_flag("kernel=4", &o);
  EXPECT_TRUE(contains(err, "expected key:value pairs, got 'kernel=4'")) << err;
  EXPECT_TRUE(contains(apply_optimization_flag("", &o), "expected key:value"));
  EXPECT_TRUE(contains(apply_optimization_flag("category:kernel,category:graph,level:2", &o), "category given twice"));
  EXPECT_TRUE(contains(apply_optimization_flag("category:kernel,level:2,level:3", &o), "level given twice"));
  // Every message is one line.
  EXPECT_EQ(err.find('\n'), std::string::npos);
}

TEST(InputShapesTest, ParsesEntries) {
  CompileOptions o;
  EXPECT_EQ(parse_input_shapes("input:1x3x224x224,ids:1x128", &o), "");
  ASSERT_EQ(o.input_shapes.size(), 2u);
  EXPECT_EQ(o.input_shapes["input"], (std::vector<int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(o.input_shapes["ids"], (std::vector<int64_t>{1, 128}));
}

TEST(InputShapesTest, NameMayContainColons) {
  CompileOptions o;
  EXPECT_EQ(parse_input_shapes("serving_default:input:0:8x16", &o), "");
  EXPECT_EQ(o.input_shapes["serving_default:input:0"], (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(parse_input_shapes("x:7", &o), "");
  EXPECT_EQ(o.input_shapes["x"], (std::vector<int64_t>{7}));
}

TEST(InputShapesTest, Errors) {
  CompileOptions o;
  EXPECT_TRUE(contains(parse_input_shapes("input", &o), "entry 'input' has no ':'"));
  EXPECT_TRUE(contains(parse_input_shapes(":1x3", &o), "has no input name"));
  EXPECT_TRUE(contains(parse_input_shapes("input:", &o), "input 'input' has no dimensions"));
  EXPECT_TRUE(contains(parse_input_shapes("input:1x0x3", &o), "dimension '0' of input 'input' is not a positive integer"));
  EXPECT_TRUE(contains(parse_input_shapes("input:1x-3", &o), "dimension '-3'"));
  EXPECT_TRUE(contains(parse_input_shapes("input:1xx3", &o), "dimension ''"));
  EXPECT_TRUE(contains(parse_input_shapes("input:1x3,", &o), "has no ':'"));
  EXPECT_TRUE(contains(parse_input_shapes("a:1,a:2", &o), "input 'a' given twice"));
  EXPECT_TRUE(contains(parse_input_shapes("", &o), "empty"));
  EXPECT_TRUE(o.input_shapes.empty());  // failed parses change nothing
}

}  // namespace
}  // namespace kiln
