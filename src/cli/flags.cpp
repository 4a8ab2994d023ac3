#include "flags.hpp"

#include <charconv>

#include <fmt/format.h>

#include <vramplan/bytes.hpp>

namespace vramplan::cli {

std::string_view flag_of(Setting setting) {
  switch (setting) {
    case Setting::none:
      return "";
    case Setting::model:
      return "--model";
    case Setting::vram:
      return "--vram";
    case Setting::ram:
      return "--ram";
    case Setting::engine:
      return "--engine";
    case Setting::backend:
      return "--backend";
    case Setting::ctx:
      return "--ctx";
    case Setting::parallel:
      return "--parallel";
    case Setting::gpu_layers:
      return "--gpu-layers";
    case Setting::cpu_moe:
      return "--cpu-moe";
    case Setting::kv_type:
      return "--kv-type";
    case Setting::flash_attn:
      return "--flash-attn";
    case Setting::batch:
      return "--batch";
    case Setting::ubatch:
      return "--ubatch";
    case Setting::min_ctx:
      return "--min-ctx";
    case Setting::headroom:
      return "--headroom";
    case Setting::cpu_repack:
      return "--cpu-repack";
    case Setting::max_model_len:
      return "--max-model-len";
    case Setting::gpu_memory_utilization:
      return "--gpu-memory-utilization";
    case Setting::max_num_seqs:
      return "--max-num-seqs";
    case Setting::max_num_batched_tokens:
      return "--max-num-batched-tokens";
    case Setting::kv_cache_dtype:
      return "--kv-cache-dtype";
    case Setting::dtype:
      return "--dtype";
    case Setting::tensor_parallel:
      return "--vram";  // one --vram size per GPU sets the TP size
  }
  return "";
}

std::string message_of(const Error& error) { return error.message_with(flag_of(error.setting())); }

Headroom parse_headroom(const std::string& text) {
  if (text == "fit") {
    return {"fit", 1024 * mib, 0,
            "1 GiB kept free per GPU: llama.cpp's --fit default target, which Ollama >= 0.30 "
            "also uses (covers the CUDA memory pool and small allocations)"};
  }
  if (text == "stable") {
    return {"stable", 1536 * mib, 0.10,
            "max(1.5 GiB, 10 %) kept free per GPU: room for desktop/compositor use and "
            "fragmentation on a machine used for other work"};
  }
  if (text == "conservative") {
    return {"conservative", 2 * gib, 0.20,
            "max(2 GiB, 20 %) kept free per GPU: for shared GPUs and long-running servers"};
  }
  if (text == "none") {
    return {"none", 0, 0, "nothing kept free beyond the estimate (risky: no margin)"};
  }
  if (!text.empty() && text.back() == '%') {
    double pct = 0;
    const std::string number = text.substr(0, text.size() - 1);
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), pct);
    // !(0 <= pct < 100) also refuses NaN, which from_chars reads from "nan".
    if (ec != std::errc{} || end != number.data() + number.size() || !(pct >= 0 && pct < 100)) {
      throw Error(ErrorKind::usage,
                  fmt::format("--headroom: '{}' is not a percentage in [0, 100)", text));
    }
    return {"custom", 0, pct / 100.0, fmt::format("{} % of each GPU kept free", number)};
  }
  const Bytes bytes = parse_size(text, "--headroom");
  return {"custom", bytes, 0, fmt::format("{} kept free per GPU", format_bytes(bytes))};
}

}  // namespace vramplan::cli
