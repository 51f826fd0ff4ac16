// `kiln compile` argument parsing: flags, the multi-word --target, repeatable
// --optimization, and the checks that need no model (required options, layout).
#include "compile_args.h"

#include <cstring>
#include <optional>

#include "npy.h"

namespace kiln::cli {

namespace {

constexpr const char* kSeeHelp = " (see kiln compile --help)";

// The `--` options compile accepts; all but --bundle and --help take a value.
constexpr const char* kValueOptions[] = {"--input_path", "--output_path", "--target",
                                         "--layout",     "--optimization", "--input_shapes",
                                         "--constant_input"};

// "--constant_input NAME=FILE.npy": reads the array into options->constant_inputs.
Status add_constant_input(const std::string& value, CompileOptions* options) {
  const std::string where = "--constant_input '" + value + "': ";
  size_t eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
    return Status::invalid(where + "expected NAME=FILE.npy" + std::string(kSeeHelp));
  std::string name = value.substr(0, eq), file = value.substr(eq + 1);
  if (options->constant_inputs.count(name)) return Status::invalid("--constant_input names '" + name + "' twice");
  npy::Array array;
  if (std::string err = npy::read_npy(file, &array); !err.empty()) return Status::invalid(where + err);
  ConstantInput c;
  c.dtype = array.dtype;
  c.shape = array.shape;
  c.bytes.resize(array.data.size());
  if (array.data.size()) std::memcpy(c.bytes.data(), array.data.data(), array.data.size());
  options->constant_inputs[name] = std::move(c);
  return Status::ok();
}

bool takes_value(const std::string& name) {
  for (const char* o : kValueOptions) {
    if (name == o) return true;
  }
  return false;
}

// A word that belongs to the --target value: single-dash flags like "-mcpu=skylake".
bool is_target_word(const std::string& w) { return w.size() > 1 && w[0] == '-' && w[1] != '-'; }

}  // namespace

Expected<CompileArgs> parse_compile_args(const std::vector<std::string>& args) {
  CompileArgs out;
  CompileOptions& o = out.options;
  std::optional<std::string> input_path, output_path, target;

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--help" || word == "-h") {
      out.help = true;
      return out;
    }
    if (word.rfind("--", 0) != 0) {
      // "--target llvm -mcpu skylake": say how target flags are written.
      if (i > 0 && is_target_word(args[i - 1]) && args[i - 1].find('=') == std::string::npos) {
        return Status::invalid("unexpected argument '" + word + "': target flags take their value after '=' (" +
                               args[i - 1] + "=" + word + ")");
      }
      return Status::invalid("unexpected argument '" + word + "'" + kSeeHelp);
    }
    // "--flag=value" or "--flag value".
    std::string name = word, value;
    bool inline_value = false;
    if (size_t eq = word.find('='); eq != std::string::npos) {
      name = word.substr(0, eq);
      value = word.substr(eq + 1);
      inline_value = true;
    }
    if (name == "--bundle") {
      if (inline_value) return Status::invalid("--bundle takes no value" + std::string(kSeeHelp));
      o.bundle = true;
      continue;
    }
    if (!takes_value(name)) return Status::invalid("unknown option '" + name + "'" + kSeeHelp);
    if (!inline_value) {
      if (i + 1 >= args.size() || (args[i + 1].rfind("--", 0) == 0 && name != "--target")) {
        return Status::invalid(name + " needs a value" + kSeeHelp);
      }
      if (name == "--target" && args[i + 1].rfind("--", 0) == 0) {
        return Status::invalid("--target needs a value such as 'llvm -mcpu=skylake' or 'cuda:t4'" + std::string(kSeeHelp));
      }
      value = args[++i];
    }
    if (value.empty()) return Status::invalid(name + " has an empty value" + kSeeHelp);

    if (name == "--input_path") {
      input_path = value;
    } else if (name == "--output_path") {
      output_path = value;
    } else if (name == "--target") {
      if (target) return Status::invalid("--target given twice" + std::string(kSeeHelp));
      // Following single-dash words are the target's own flags.
      while (i + 1 < args.size() && is_target_word(args[i + 1])) value += " " + args[++i];
      target = value;
    } else if (name == "--layout") {
      if (value != "NCHW" && value != "NHWC") {
        return Status::invalid("--layout must be NCHW or NHWC, not '" + value + "'");
      }
      o.layout = value;
    } else if (name == "--optimization") {
      if (std::string err = apply_optimization_flag(value, &o); !err.empty()) return Status::invalid(err);
    } else if (name == "--input_shapes") {
      if (std::string err = parse_input_shapes(value, &o); !err.empty()) return Status::invalid(err);
    } else if (name == "--constant_input") {
      KILN_RETURN_IF_ERROR(add_constant_input(value, &o));
    }
  }

  if (!input_path) return Status::invalid("missing required option --input_path" + std::string(kSeeHelp));
  if (!output_path) return Status::invalid("missing required option --output_path" + std::string(kSeeHelp));
  o.input_path = *input_path;
  o.output_path = *output_path;
  if (target) o.target = *target;
  return out;
}

const char* compile_help_text() {
  return R"(usage: kiln compile --input_path MODEL --output_path DIR [options]

Compiles an ONNX model into DIR/model.so (code, weights and metadata) and DIR/model.json.

required:
  --input_path PATH        an .onnx file, or a folder holding exactly one
  --output_path DIR        output folder (created if missing)

options:
  --target TARGET          hardware to generate code for (default: llvm = this machine's CPU)
                             llvm [-mcpu=CPU] [-mtriple=TRIPLE] [-mattr=+f,-g]
                                  [-device=arm_cpu] [-model=NAME]
                             cuda[:MODEL]   MODEL: 2080ti t4 a100 a10 3090 4090 l4 h100 orin ...
                                            or sm_XX; plain 'cuda' = portable PTX for sm_75
                           the target's flags follow as separate words or in one quoted string:
                             --target llvm -mcpu=skylake   or   --target "llvm -mcpu=skylake"
                           without -mcpu: the host CPU and its features when the triple is the
                           host's architecture; x86-64 (baseline) or generic (AArch64) otherwise
  --layout NCHW|NHWC       compute layout for convolutions (CPU targets, kernel level >= 3)
  --optimization VALUE     repeatable:
                             category:kernel,level:<1-4>          default 3; higher = faster code
                             category:cuda,enabled:<true|false>   default: on for cuda targets
                             category:graph,iterations:<0-30000>  auto-tuning trials (log in
                                                                  DIR/optimization_artifacts/)
  --input_shapes SHAPES    pin symbolic dimensions: name:1x3x224x224[,name2:1x128]
  --constant_input NAME=FILE.npy
                           repeatable: freeze graph input NAME to the array in FILE.npy
                           (its dtype and shape must match the input); it becomes a
                           constant and is no longer an input of the compiled model
  --bundle                 also write one executable with the runtime inside
  --help                   show this text

Options also accept --name=value. Exit status: 0 ok, 2 bad usage or input, 1 internal error.
)";
}

}  // namespace kiln::cli
