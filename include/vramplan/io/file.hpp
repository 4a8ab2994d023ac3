// Reading and writing files: size-capped reads and atomic, no-clobber writes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vramplan::io {

// Reads a whole (small) file. Throws Error{io} if it cannot be read, or if it is larger
// than `max_bytes` (default 64 MiB: a catalog or .env is never that big).
[[nodiscard]] std::string read_text_file(const std::string& path,
                                         std::uintmax_t max_bytes = 64u << 20);

// Writes `content` to `path` atomically: a temporary file in the same directory, flushed,
// then renamed over the target. Without `force`, an existing target is left untouched and
// Error{io, "'<path>' exists; use --force to overwrite"} is thrown.
void write_file_atomic(const std::string& path, std::string_view content, bool force);

}  // namespace vramplan::io
