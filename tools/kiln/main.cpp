// `kiln`: the command-line front door. Dispatches compile / run / inspect and
// answers --version and --help.
#include <cstdio>
#include <cstring>
#include <string>

#include "compile_args.h"
#include "compile_command.h"
#ifdef KILN_HAVE_CLI_RUN
#include "cli_run.h"
#endif

namespace {

constexpr const char* kUsage = R"(usage: kiln COMMAND [options]

commands:
  compile   compile an ONNX model:  kiln compile --input_path MODEL --output_path DIR [options]
  run       run a compiled model:   kiln run --input_path DIR [--input NAME=FILE.npy ...]
                                             [--output_dir DIR] [--benchmark N] [--threads N]
                                             [--inference_context cpu|cuda]
  inspect   show what a compiled model holds:  kiln inspect DIR

  kiln --version          print the version
  kiln COMMAND --help     options of one command
)";

// Runs `kiln run` / `kiln inspect` from the runtime-only CLI library when it is built in.
int run_runtime_command(const std::string& command, int argc, char** argv) {
#ifdef KILN_HAVE_CLI_RUN
  return command == "run" ? kiln_cli_run(argc, argv) : kiln_cli_inspect(argc, argv);
#else
  std::fprintf(stderr, "kiln %s: not available in this build (kiln_cli_run was not built)\n", command.c_str());
  return 1;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--version" || command == "-V" || command == "version") {
    std::printf("kiln %s\n", KILN_VERSION);
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    if (argc >= 3 && std::strcmp(argv[2], "compile") == 0) {
      std::fputs(kiln::cli::compile_help_text(), stdout);
      return 0;
    }
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "compile") return kiln::cli::run_compile_command(argc - 1, argv + 1);
  if (command == "run" || command == "inspect") return run_runtime_command(command, argc - 1, argv + 1);
  std::fprintf(stderr, "kiln: unknown command '%s' (commands: compile, run, inspect; see kiln --help)\n", command.c_str());
  return 2;
}
