// `kiln compile`: argument errors and target errors surface before any model is
// read; the pipeline itself is kiln::compile (src/driver/compile.cpp).
#include "compile_command.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "compile_args.h"
#include "kiln/compiler.h"
#include "targets/target.h"

namespace kiln::cli {

int run_compile_command(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Expected<CompileArgs> parsed = parse_compile_args(args);
  if (!parsed) {
    std::fprintf(stderr, "kiln compile: %s\n", parsed.status().message().c_str());
    return parsed.status().exit_code();
  }
  if (parsed->help) {
    std::fputs(compile_help_text(), stdout);
    return 0;
  }
  CompileOptions& options = parsed->options;
  // A bad -mcpu should not wait for a large model to load first.
  if (Expected<Target> target = parse_target(options.target); !target) {
    std::fprintf(stderr, "kiln compile: error: %s\n", target.status().message().c_str());
    return target.status().exit_code();
  }
  options.show_progress = isatty(STDERR_FILENO) != 0;

  CompileResult result = compile(options);
  if (result.exit_code != 0) {
    std::fprintf(stderr, "kiln compile: error: %s\n", result.error.empty() ? "compilation failed" : result.error.c_str());
    return result.exit_code;
  }
  if (options.show_progress) std::fprintf(stderr, "kiln compile: wrote %s/model.so\n", options.output_path.c_str());
  return 0;
}

}  // namespace kiln::cli
