// kiln-run: the standalone `kiln run` (and `kiln-run inspect DIR`), linked with
// the static runtime so it is one self-contained binary (also for AArch64).
#include <cstring>

#include "cli_run.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "inspect") == 0) return kiln_cli_inspect(argc - 1, argv + 1);
  return kiln_cli_run(argc, argv);
}
