// `kiln run` and `kiln inspect`: runtime-only subcommands shared by the `kiln`
// CLI (tools/kiln) and the standalone `kiln-run` tool.
#pragma once

// Runs a compiled model (see `kiln run --help`). argv[0] is the subcommand name.
// Returns the exit status: 0 ok, 2 bad usage or input, 1 internal error.
int kiln_cli_run(int argc, char** argv);

// Prints what a compiled model holds, human-readable. argv[0] is the subcommand
// name, argv[1] the model folder. Returns the exit status.
int kiln_cli_inspect(int argc, char** argv);
