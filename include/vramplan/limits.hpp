// Bounds on the settings vramplan accepts, shared by the flag parsers, the model readers (an
// Ollama .params layer) and the calculator.
#pragma once

#include <cstdint>

namespace vramplan {

// The largest context and batch settings accepted, from a flag (--ctx, --batch, --ubatch) or
// from a model's own defaults (an Ollama .params layer): far above any model, and small
// enough that no product of them overflows.
inline constexpr std::int64_t max_ctx_setting = std::int64_t{1} << 24;
inline constexpr std::int64_t max_batch_setting = std::int64_t{1} << 20;

}  // namespace vramplan
