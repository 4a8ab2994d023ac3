// `vramplan gpus` renderers (src/report/gpus.cpp): exact text from hand-built cards.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/report/gpus.hpp>

namespace vramplan::report {
namespace {

std::vector<Gpu> cards() {
  Gpu t4;
  t4.id = "t4";
  t4.name = "NVIDIA T4";
  t4.aliases = {"Tesla T4", "T4"};
  t4.memory_gb = 16;
  t4.memory_bytes = 15360 * mib;
  t4.memory_source = MemorySource::nvidia_smi;
  t4.bandwidth_gbps = 300;
  t4.fp16_tensor_tflops = 65;
  t4.compute_capability = ComputeCapability{7, 5};
  t4.arch = "turing";
  t4.bf16 = false;
  t4.fp8 = false;
  t4.flash_attention = true;
  t4.flash_attn2 = false;
  t4.vllm = true;
  t4.sources = {"https://example.org/t4"};
  t4.origin = "<embedded>/gpus.yaml";
  Gpu m2;
  m2.id = "apple-m2-ultra";
  m2.name = "Apple M2 Ultra";
  m2.vendor = GpuVendor::apple;
  m2.memory_source = MemorySource::unified;
  m2.unified_memory = true;
  m2.bandwidth_gbps = 716.8;
  m2.arch = "apple-m2";
  m2.gpu_cores = {60, 76};
  Gpu evil;
  evil.id = "evil";
  evil.name = "Evil\nOLLAMA_HOST=0.0.0.0\x1b]0;t\x07";
  evil.vendor = GpuVendor::amd;
  evil.arch = "gfx\xff";
  evil.notes = "bad\xfe";
  return {t4, m2, evil};
}

std::vector<const Gpu*> pointers(const std::vector<Gpu>& gpus) {
  std::vector<const Gpu*> out;
  for (const Gpu& g : gpus) out.push_back(&g);
  return out;
}

TEST(GpusTable, ColumnsUnknownsAndEscapes) {
  const std::vector<Gpu> gpus = cards();
  EXPECT_EQ(render_gpus_table(pointers(gpus)),
            "id              name                                      memory   GB/s  fp16 TFLOPS  "
            "arch      cc   bf16  fp8  flash attn  vllm\n"
            "t4              NVIDIA T4                              15.00 GiB    300           65  "
            "turing    7.5  no    no   yes         yes\n"
            "apple-m2-ultra  Apple M2 Ultra                           unified  716.8            -  "
            "apple-m2  -    -     -    -           -\n"
            "evil            Evil\\nOLLAMA_HOST=0.0.0.0\\x1b]0;t\\x07          -      -            "
            "-  gfx\\xff   -    -     -    -           -\n"
            "\n3 GPUs. memory: what a program gets (nvidia-smi's memory.total; unified: a share of "
            "the RAM, see --vram auto); fp16 TFLOPS: dense tensor throughput; flash attn: "
            "llama.cpp's; - : not known\n");
  EXPECT_NE(render_gpus_table({}).find("\n0 GPUs."), std::string::npos);
}

TEST(GpusJson, EveryFieldNullWhereUnknown) {
  const std::vector<Gpu> gpus = cards();
  const std::string text = render_gpus_json(pointers(gpus));
  const nlohmann::json json = nlohmann::json::parse(text);  // valid JSON despite bytes 0xFE, 0xFF
  EXPECT_EQ(json["schema_version"], 1);
  ASSERT_EQ(json["gpus"].size(), 3u);
  const nlohmann::json& t4 = json["gpus"][0];
  EXPECT_EQ(t4["memory_bytes"], 15360 * mib);
  EXPECT_EQ(t4["memory_source"], "nvidia-smi");
  EXPECT_EQ(t4["compute_capability"], "7.5");
  EXPECT_EQ(t4["bf16"], false);
  EXPECT_EQ(t4["flash_attention"]["llama_cpp"], true);
  EXPECT_TRUE(t4["memory_type"].is_null());
  const nlohmann::json& m2 = json["gpus"][1];
  EXPECT_TRUE(m2["memory_bytes"].is_null());
  EXPECT_TRUE(m2["bf16"].is_null());
  EXPECT_EQ(m2["unified_memory"], true);
  EXPECT_EQ(m2["bandwidth_gbps"], 716.8);
  EXPECT_EQ(m2["gpu_cores"], nlohmann::json::array({60, 76}));
  EXPECT_EQ(json["gpus"][2]["name"], "Evil\nOLLAMA_HOST=0.0.0.0\x1b]0;t\x07");
  EXPECT_EQ(json["gpus"][2]["notes"], "bad\xef\xbf\xbd");  // U+FFFD
  // Keys in the documented order (docs/sizing.md §5).
  std::string keys;
  const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(text);
  for (const auto& item : ordered["gpus"][0].items()) keys += item.key() + ' ';
  EXPECT_EQ(keys,
            "id name vendor aliases memory_bytes memory_gb memory_source cuda_total_bytes "
            "memory_type unified_memory devices_per_board bandwidth_gbps fp16_tensor_tflops arch "
            "compute_capability bf16 fp8 flash_attention vllm gpu_cores memory_configs_gb_seen "
            "sources notes origin ");
}

}  // namespace
}  // namespace vramplan::report
