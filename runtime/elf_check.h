// Reads a file's ELF header before dlopen so that a foreign or broken object
// is refused with a clear message instead of a dlopen failure or a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln::rt {

// Name of the architecture this runtime was built for ("x86_64", "aarch64").
const char* host_arch_name();

// Name of an ELF e_machine value ("x86_64", "aarch64", "arm", ...), or "machine N".
std::string elf_machine_name(uint16_t e_machine, bool is_64bit);

// Checks the first bytes of `path` (given in `header`, `size` bytes) describe a
// shared object for this machine. Returns "" or a one-line message naming `path`.
std::string check_elf_header(const std::string& path, const unsigned char* header,
                             size_t size);

// Reads the ELF header of `path` and runs check_elf_header. Sets *missing when
// the file cannot be opened. Returns "" or a message.
std::string check_elf_file(const std::string& path, bool* missing);

}  // namespace kiln::rt
