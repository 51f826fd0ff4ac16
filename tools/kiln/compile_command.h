// `kiln compile`: parses its arguments, validates the target and calls kiln::compile.
#pragma once

namespace kiln::cli {

// Runs `kiln compile`; argv[0] is "compile". Returns the process exit status
// (0 ok, 2 bad usage or input, 1 internal error); messages go to stderr.
int run_compile_command(int argc, char** argv);

}  // namespace kiln::cli
