// Test helpers: build small ONNX ModelProtos in C++, write them to a temp
// folder and import them, then look at the resulting graph.
#pragma once

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "frontend/onnx/import.h"
#include "ir/graph.h"
#include "passes/constant_fold.h"

namespace kiln::frontend::testing {

// A model of one graph with a default-domain opset import.
inline onnx::ModelProto make_model(int64_t opset = 17, int64_t ir_version = 8) {
  onnx::ModelProto m;
  m.set_ir_version(ir_version);
  m.set_producer_name("kiln-test");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  m.mutable_graph()->set_name("g");
  return m;
}

// A tensor input; a dim given as a string that is not a number is symbolic.
inline void add_input(onnx::ModelProto& m, const std::string& name, const std::vector<std::string>& dims,
                      int elem = onnx::TensorProto::FLOAT) {
  auto* vi = m.mutable_graph()->add_input();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (!d.empty() && (std::isdigit(static_cast<unsigned char>(d[0])))) {
      dim->set_dim_value(std::stoll(d));
    } else {
      dim->set_dim_param(d);
    }
  }
}

inline void add_output(onnx::ModelProto& m, const std::string& name) {
  auto* vi = m.mutable_graph()->add_output();
  vi->set_name(name);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
}

inline onnx::NodeProto* add_node(onnx::ModelProto& m, const std::string& op, const std::vector<std::string>& inputs,
                                 const std::vector<std::string>& outputs, const std::string& name = "") {
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

inline void set_attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void set_attr(onnx::NodeProto* n, const std::string& name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void set_attr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}
inline void set_attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

inline onnx::TensorProto* add_f32_initializer(onnx::ModelProto& m, const std::string& name,
                                              const std::vector<int64_t>& dims, const std::vector<float>& v) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  for (float x : v) t->add_float_data(x);
  return t;
}

// An initializer of `type` (UINT8, INT8, INT32) from integer values, as raw_data.
inline onnx::TensorProto* add_int_initializer(onnx::ModelProto& m, const std::string& name, int type,
                                              const std::vector<int64_t>& dims, const std::vector<int64_t>& v) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  std::string raw;
  for (int64_t x : v) {
    if (type == onnx::TensorProto::INT32) {
      int32_t i = static_cast<int32_t>(x);
      raw.append(reinterpret_cast<const char*>(&i), 4);
    } else {
      raw.push_back(static_cast<char>(static_cast<uint8_t>(x)));
    }
  }
  t->set_raw_data(raw);
  return t;
}

inline onnx::TensorProto* add_i64_initializer(onnx::ModelProto& m, const std::string& name,
                                              const std::vector<int64_t>& dims, const std::vector<int64_t>& v) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t x : v) t->add_int64_data(x);
  return t;
}

// A fresh temp folder per test, removed afterwards.
class FrontendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln_fe_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const { return (std::filesystem::path(dir_) / name).string(); }

  std::string write_bytes(const std::string& name, const std::string& bytes) const {
    std::string p = path(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  std::string write_model(const onnx::ModelProto& m, const std::string& name = "model.onnx") const {
    return write_bytes(name, m.SerializeAsString());
  }

  Expected<std::unique_ptr<ir::Graph>> import(const onnx::ModelProto& m,
                                              const std::map<std::string, std::vector<int64_t>>& shapes = {}) {
    return import_onnx(write_model(m), shapes);
  }

  // Imports and fails the test on error.
  std::unique_ptr<ir::Graph> import_ok(const onnx::ModelProto& m,
                                       const std::map<std::string, std::vector<int64_t>>& shapes = {}) {
    auto g = import(m, shapes);
    EXPECT_TRUE(g.has_value()) << g.status().message();
    return g.has_value() ? std::move(*g) : nullptr;
  }

  // The error message of an import that must fail.
  std::string import_error(const onnx::ModelProto& m,
                           const std::map<std::string, std::vector<int64_t>>& shapes = {}) {
    auto g = import(m, shapes);
    EXPECT_FALSE(g.has_value());
    if (g.has_value()) return "";
    EXPECT_EQ(g.status().kind(), ErrorKind::kInvalidInput);
    return g.status().message();
  }

  std::string dir_;
};

// The ops of the graph's nodes, in order.
inline std::vector<std::string> op_names(const ir::Graph& g) {
  std::vector<std::string> ops;
  for (const auto& n : g.nodes()) ops.push_back(ir::op_name(n->op));
  return ops;
}

// The only node of `op` (fails the test when there is not exactly one).
inline const ir::Node* only_node(const ir::Graph& g, ir::OpKind op) {
  const ir::Node* found = nullptr;
  int count = 0;
  for (const auto& n : g.nodes())
    if (n->op == op) found = n.get(), ++count;
  EXPECT_EQ(count, 1) << "nodes of " << ir::op_name(op);
  return found;
}

// The graph output called `name`.
inline const ir::Value* output(const ir::Graph& g, const std::string& name) {
  for (const auto& o : g.outputs())
    if (o.name == name) return o.value;
  ADD_FAILURE() << "no output " << name;
  return nullptr;
}

// Passes when `s` contains `sub`; the failure shows the whole message.
inline ::testing::AssertionResult contains(const std::string& s, const std::string& sub) {
  if (s.find(sub) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << s << "\" does not contain \"" << sub << "\"";
}

inline std::vector<float> f32_values(const ir::Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.type().num_elements());
}

// The values of output `name` after constant folding (float32, or float64 narrowed to float).
inline std::vector<float> folded(ir::Graph& g, const std::string& name) {
  Status s = passes::fold_constants(g);
  EXPECT_TRUE(s.is_ok()) << s.message();
  const ir::Value* v = output(g, name);
  if (!v || !v->constant) {
    ADD_FAILURE() << name << " did not fold";
    return {};
  }
  if (v->constant->type().dtype == DType::kF64) {
    const double* d = v->constant->data<double>();
    return std::vector<float>(d, d + v->constant->type().num_elements());
  }
  return f32_values(*v->constant);
}

}  // namespace kiln::frontend::testing
