// kiln._runtime: a thin nanobind layer over the runtime's C API. Validation,
// dtype mapping and output allocation live in python/kiln/__init__.py.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiln/runtime.h"

namespace nb = nanobind;

namespace {

// Raised for every runtime failure; __init__.py re-exports it as kiln.KilnError.
struct KilnError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Array = nb::ndarray<nb::c_contig, nb::device::cpu>;
// Inputs are only read, so read-only arrays (np.frombuffer, numpy_helper) bind too.
using InputArray = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

// Owns one loaded model. A mutex keeps binding + running atomic when several
// Python threads share a model (the GIL is released while it runs).
class Model {
 public:
  explicit Model(const std::string& path) {
    if (kiln_model_load(path.c_str(), &m_) != KILN_OK) throw KilnError(kiln_last_error());
  }
  ~Model() { kiln_model_free(m_); }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  void set_num_threads(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    if (kiln_model_set_num_threads(m_, n) != KILN_OK) throw KilnError(kiln_last_error());
  }

  // [(name, dtype name, shape, num_bytes)] of the inputs or outputs.
  nb::list tensors(bool inputs) const {
    nb::list out;
    const int n = inputs ? kiln_model_num_inputs(m_) : kiln_model_num_outputs(m_);
    for (int i = 0; i < n; ++i) {
      kiln_tensor_info info{};
      if ((inputs ? kiln_model_input_info(m_, i, &info) : kiln_model_output_info(m_, i, &info)) != KILN_OK)
        throw KilnError(kiln_last_error());
      nb::list shape;
      for (int d = 0; d < info.rank; ++d) shape.append(info.shape[d]);
      out.append(nb::make_tuple(info.name, kiln_dtype_name(info.dtype), nb::tuple(shape), info.num_bytes));
    }
    return out;
  }

  // Binds the given buffers (in index order, zero copy) and runs once.
  void run(const std::vector<InputArray>& inputs, const std::vector<Array>& outputs) {
    check_counts(inputs, outputs);
    nb::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mu_);
    if (bind_and_run(inputs, outputs) != KILN_OK) throw KilnError(kiln_last_error());
  }

  // Runs `runs` times with per-kernel timing; returns [(kernel name, seconds per run)]
  // in call order. Profiling is off again afterwards.
  std::vector<std::pair<std::string, double>> profile(const std::vector<InputArray>& inputs,
                                                      const std::vector<Array>& outputs, int runs) {
    check_counts(inputs, outputs);
    std::vector<std::pair<std::string, double>> times;
    {
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      kiln_model_set_profiling(m_, 1);
      kiln_status st = KILN_OK;
      for (int r = 0; r < runs && st == KILN_OK; ++r) st = bind_and_run(inputs, outputs);
      kiln_model_set_profiling(m_, 0);
      if (st != KILN_OK) throw KilnError(kiln_last_error());
      for (int k = 0; k < kiln_model_num_kernels(m_); ++k) {
        kiln_kernel_profile p{};
        if (kiln_model_kernel_profile(m_, k, &p) != KILN_OK) throw KilnError(kiln_last_error());
        times.emplace_back(p.name, p.runs ? p.total_seconds / double(p.runs) : 0.0);
      }
    }
    return times;
  }

  std::string metadata() const { return kiln_model_metadata(m_); }

  nb::dict properties() const {
    kiln_model_props p{};
    if (kiln_model_properties(m_, &p) != KILN_OK) throw KilnError(kiln_last_error());
    nb::dict d;
    d["path"] = p.path;
    d["arch"] = p.arch;
    d["cpu_features"] = p.cpu_features;
    d["kiln_version"] = p.kiln_version;
    d["abi_version"] = p.abi_version;
    d["num_threads"] = p.num_threads;
    d["arena_bytes"] = p.arena_bytes;
    d["weights_bytes"] = p.weights_bytes;
    return d;
  }

 private:
  void check_counts(const std::vector<InputArray>& inputs, const std::vector<Array>& outputs) const {
    if (inputs.size() != size_t(kiln_model_num_inputs(m_)) || outputs.size() != size_t(kiln_model_num_outputs(m_)))
      throw KilnError("internal: wrong number of buffers for the model");
  }

  // With mu_ held and check_counts passed.
  kiln_status bind_and_run(const std::vector<InputArray>& inputs, const std::vector<Array>& outputs) {
    for (size_t i = 0; i < inputs.size(); ++i)
      if (kiln_status st = kiln_model_bind_input(m_, int(i), inputs[i].data(), inputs[i].nbytes())) return st;
    for (size_t i = 0; i < outputs.size(); ++i)
      if (kiln_status st = kiln_model_bind_output(m_, int(i), outputs[i].data(), outputs[i].nbytes())) return st;
    return kiln_model_run(m_);
  }

  kiln_model* m_ = nullptr;
  std::mutex mu_;
};

}  // namespace

NB_MODULE(_runtime, m) {
  m.doc() = "kiln runtime bindings (use the kiln package, not this module)";
  nb::exception<KilnError>(m, "KilnError", PyExc_ValueError);
  m.def("runtime_version", [] { return std::string(kiln_runtime_version()); });
  nb::class_<Model>(m, "Model")
      .def(nb::init<const std::string&>(), nb::arg("path"), "Loads DIR/model.so or a .so path.")
      .def("set_num_threads", &Model::set_num_threads, nb::arg("n"))
      .def("inputs", [](const Model& self) { return self.tensors(true); })
      .def("outputs", [](const Model& self) { return self.tensors(false); })
      .def("run", &Model::run, nb::arg("inputs"), nb::arg("outputs"))
      .def("profile", &Model::profile, nb::arg("inputs"), nb::arg("outputs"), nb::arg("runs"))
      .def("metadata", &Model::metadata)
      .def("properties", &Model::properties);
}
