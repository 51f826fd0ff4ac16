// Parsing of `kiln compile` arguments into kiln::CompileOptions (no I/O), kept in
// the small library kiln_cli_compile so that unit tests can call it directly.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "kiln/compiler.h"

namespace kiln::cli {

// What `kiln compile ARGS...` asked for.
struct CompileArgs {
  CompileOptions options;
  bool help = false;  // --help / -h: print compile_help_text() and exit 0
};

// Parses the arguments after the word `compile`. Accepts `--flag value` and
// `--flag=value`; the words after `--target` that start with a single '-' belong to
// the target ("--target llvm -mcpu=skylake" == "--target 'llvm -mcpu=skylake'").
// Errors (exit status 2) name the flag: "unknown option '--foo' (see kiln compile --help)".
// The target string is kept as written; parse_target validates it.
Expected<CompileArgs> parse_compile_args(const std::vector<std::string>& args);

// The text `kiln compile --help` prints.
const char* compile_help_text();

}  // namespace kiln::cli
