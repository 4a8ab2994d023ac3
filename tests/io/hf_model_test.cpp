#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/hf_model.hpp>
#include <vramplan/io/safetensors.hpp>
#include <vramplan/weights.hpp>

#include <unistd.h>

#include "support/fifo.hpp"
#include "support/hf_fixtures.hpp"
#include "support/specs.hpp"
#include "support/time_budget.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;

using test::deepseek_v3_config;
using test::error_of;
using test::gemma3_27b_config;
using test::llama31_8b_config;
using test::mixtral_config;
using test::qwen25_7b_config;

// --- safetensors headers --------------------------------------------------------------------

std::string le64(std::uint64_t v) {
  std::string out(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

// A whole safetensors file in memory: length, header, zeroed data section.
std::string safetensors(const std::string& header, std::uint64_t data_size) {
  return le64(header.size()) + header + std::string(static_cast<std::size_t>(data_size), '\0');
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

// Writes the header; the data section is a hole (truncate(2) allocates no blocks).
void write_sparse(const fs::path& path, const std::string& header, std::uint64_t data_size) {
  write_file(path, le64(header.size()) + header);
  fs::resize_file(path, 8 + header.size() + data_size);
}

// Builds a header with tensors laid out back to back.
class HeaderBuilder {
 public:
  HeaderBuilder& add(const std::string& name, const std::string& dtype,
                     const std::vector<std::int64_t>& shape, std::uint64_t elem_size = 2) {
    std::uint64_t bytes = elem_size;
    for (std::int64_t d : shape) bytes *= static_cast<std::uint64_t>(d);
    json_[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {end_, end_ + bytes}}};
    end_ += bytes;
    return *this;
  }
  [[nodiscard]] std::string header() const { return json_.dump(); }
  [[nodiscard]] std::uint64_t data_size() const { return end_; }

 private:
  OJson json_ = {{"__metadata__", {{"format", "pt"}}}};
  std::uint64_t end_ = 0;
};

std::string header_error(const std::string& bytes) {
  return error_of([&] {
    MemorySource source(bytes);
    (void)read_safetensors_header(source, "m.safetensors");
  });
}

class SafetensorsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("vramplan-hf-test-") + info->name() + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  [[nodiscard]] fs::path path(const std::string& name) const { return dir_ / name; }

  fs::path dir_;
};

TEST_F(SafetensorsFiles, ReadsATinyFile) {
  const std::string header = R"({"b":{"dtype":"F32","shape":[],"data_offsets":[12,16]},)"
                             R"("__metadata__":{"format":"pt","n":1},)"
                             R"("a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}})";
  const fs::path file = path("model.safetensors");
  write_file(file, safetensors(header, 16));
  const SafetensorsHeader h = read_safetensors_header(file.string());
  EXPECT_EQ(h.header_size, header.size());
  EXPECT_EQ(h.file_size, 8 + header.size() + 16);
  EXPECT_EQ(h.data_offset(), 8 + header.size());
  ASSERT_EQ(h.tensors.size(), 2U);
  EXPECT_EQ(
      h.tensors[0],
      (SafetensorsTensor{
          .name = "a", .dtype = SafetensorsDtype::bf16, .shape = {2, 3}, .data_offsets = {0, 12}}));
  EXPECT_EQ(h.tensors[1].name, "b");
  EXPECT_EQ(h.tensors[1].dtype, SafetensorsDtype::f32);
  EXPECT_EQ(h.tensors[1].elements(), 1);
  EXPECT_EQ(h.tensors[1].bytes(), 4);
  EXPECT_EQ(h.tensors[0].elements(), 6);
  EXPECT_EQ(h.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
}

TEST(SafetensorsDtypes, SizesAndNames) {
  for (const auto& [name, size] :
       std::vector<std::pair<std::string, std::int64_t>>{{"F64", 8},
                                                         {"F32", 4},
                                                         {"F16", 2},
                                                         {"BF16", 2},
                                                         {"I64", 8},
                                                         {"I32", 4},
                                                         {"I16", 2},
                                                         {"I8", 1},
                                                         {"U8", 1},
                                                         {"BOOL", 1},
                                                         {"F8_E4M3", 1},
                                                         {"F8_E5M2", 1}}) {
    const std::optional<SafetensorsDtype> d = parse_safetensors_dtype(name);
    ASSERT_TRUE(d.has_value()) << name;
    EXPECT_EQ(to_string(*d), name);
    EXPECT_EQ(dtype_size(*d), size) << name;
  }
  EXPECT_FALSE(parse_safetensors_dtype("bf16").has_value());
  EXPECT_FALSE(parse_safetensors_dtype("F4").has_value());
}

// A 20 GB file whose header claims two 10 GiB tensors: only 8 + N bytes are read.
TEST_F(SafetensorsFiles, ReadsOnlyTheHeaderOfA20GbFile) {
  HeaderBuilder b;
  b.add("model.layers.0.mlp.up_proj.weight", "BF16", {65536, 81920});
  b.add("model.layers.0.mlp.down_proj.weight", "BF16", {81920, 65536});
  const std::string header = b.header();
  const fs::path file = path("big.safetensors");
  write_sparse(file, header, b.data_size());
  ASSERT_GT(fs::file_size(file), 20'000'000'000ULL);

  FileSource source(file.string());
  const SafetensorsHeader h = read_safetensors_header(source, file.string());
  ASSERT_EQ(h.tensors.size(), 2U);
  EXPECT_EQ(h.tensors[0].name, "model.layers.0.mlp.up_proj.weight");
  EXPECT_EQ(h.tensors[1].bytes(), 10'737'418'240);
  EXPECT_EQ(source.bytes_read(), 8 + header.size());
}

TEST(SafetensorsHeaderLies, EachLieIsReported) {
  const std::string a = R"("a":{"dtype":"BF16","shape":[2,3],"data_offsets":)";
  EXPECT_EQ(header_error(safetensors("{" + a + "[0,10]}}", 12)),
            "m.safetensors: tensor 'a': shape [2, 3] of BF16 needs 12 bytes but data_offsets "
            "[0, 10] hold 10");
  EXPECT_EQ(
      header_error(safetensors(R"({"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})", 1)),
      "m.safetensors: tensor 'a': unknown dtype 'F4'");
  EXPECT_EQ(header_error(le64(1000) + "{}" + std::string(10, ' ')),
            "m.safetensors: header length 1000 is past the end of the file (20 bytes)");
  EXPECT_EQ(header_error(le64(~std::uint64_t{0}) + "{}"),
            "m.safetensors: header length 18446744073709551615 is past the end of the file "
            "(10 bytes)");
  EXPECT_EQ(header_error(safetensors("{" + a + "[0,24]}}", 12)),
            "m.safetensors: tensor 'a': data_offsets [0, 24] end past the data section (12 "
            "bytes)");
  EXPECT_EQ(header_error(safetensors("{" + a + "[12,0]}}", 12)),
            "m.safetensors: tensor 'a': data_offsets [12, 0] are reversed");
  EXPECT_EQ(header_error(safetensors("{" + a + "[-1,11]}}", 12)),
            "m.safetensors: tensor 'a': 'data_offsets' must be two non-negative integers");
  EXPECT_EQ(header_error(safetensors("{" + a + "[0,12,14]}}", 14)),
            "m.safetensors: tensor 'a': 'data_offsets' must be two non-negative integers");
  EXPECT_EQ(header_error(
                safetensors(R"({"a":{"dtype":"BF16","shape":[2,-3],"data_offsets":[0,12]}})", 12)),
            "m.safetensors: tensor 'a': 'shape' must be an array of non-negative integers");
  EXPECT_EQ(header_error(safetensors(R"({"a":{"dtype":"BF16","shape":[4294967296,4294967296,)"
                                     R"(4294967296],"data_offsets":[0,12]}})",
                                     12)),
            "m.safetensors: tensor 'a': shape [4294967296, 4294967296, 4294967296] of BF16 "
            "needs more than 12 bytes but data_offsets [0, 12] hold 12");
  EXPECT_EQ(header_error(safetensors(R"({"a":{"dtype":"BF16","shape":[6],"data_offsets":[0,12]},)"
                                     R"("b":{"dtype":"BF16","shape":[6],"data_offsets":[8,20]}})",
                                     20)),
            "m.safetensors: tensors 'a' [0, 12] and 'b' [8, 20] overlap");
  EXPECT_EQ(header_error(safetensors(R"({"a":{"dtype":"BF16")", 0)),
            "m.safetensors: invalid JSON: ends early, after 20 bytes");
  EXPECT_EQ(header_error(safetensors("[]", 0)), "m.safetensors: header must be a JSON object");
  EXPECT_EQ(header_error(safetensors(R"({"a":[]})", 0)),
            "m.safetensors: tensor 'a': entry must be an object");
  EXPECT_EQ(header_error(safetensors(R"({"__metadata__":[]})", 0)),
            "m.safetensors: '__metadata__' must be an object");
  EXPECT_EQ(header_error("abcd"),
            "m.safetensors: file is 4 bytes, too short for a safetensors header");
}

TEST_F(SafetensorsFiles, RefusesAHeaderAboveTheLimit) {
  // A 1 GiB sparse file announcing a 150 MiB header: refused before anything is allocated.
  const fs::path file = path("huge.safetensors");
  write_file(file, le64(150ULL << 20));
  fs::resize_file(file, 1ULL << 30);
  FileSource source(file.string());
  const std::string message =
      error_of([&] { (void)read_safetensors_header(source, "huge.safetensors"); });
  EXPECT_EQ(message,
            "huge.safetensors: header length 157286400 exceeds the limit of 104857600 "
            "bytes");
  EXPECT_EQ(source.bytes_read(), 8U);
}

// Issue 9 class 3: a header of many keys whose values are objects parsed in quadratic time
// (nlohmann's depth-limiting callback rescans the root at every member's end): 40k keys
// took seconds, 250k minutes.
TEST(SafetensorsHeaderLimits, ManyTensorsParseInLinearTime) {
  constexpr std::uint64_t n = 100000;
  std::string header = "{";
  for (std::uint64_t i = 0; i < n; ++i) {
    header += fmt::format(R"({}"t{}":{{"dtype":"F32","shape":[1],"data_offsets":[{},{}]}})",
                          i == 0 ? "" : ",", i, 4 * i, 4 * i + 4);
  }
  header += "}";
  const std::string bytes = safetensors(header, 4 * n);
  const double start = vramplan::test::thread_cpu_ms();
  MemorySource source(bytes);
  const SafetensorsHeader h = read_safetensors_header(source, "m.safetensors");
  const double ms = vramplan::test::thread_cpu_ms() - start;
  EXPECT_EQ(h.tensors.size(), n);
  EXPECT_LT(ms, 1000 * vramplan::test::time_budget(3.0));
}

// Issue 9 class 6: what a header keeps is bounded, not just its bytes. A shape of a million
// zeros used to become a million-element DOM (a 100 MiB header of them took 2 GB).
TEST(SafetensorsHeaderLimits, BoundsWhatOneEntryKeeps) {
  std::string zeros = "0";
  for (int i = 0; i < 100000; ++i) zeros += ",0";
  EXPECT_EQ(header_error(safetensors(
                R"({"a":{"dtype":"F32","shape":[)" + zeros + R"(],"data_offsets":[0,0]}})", 0)),
            "m.safetensors: 'a': more than 4096 JSON values");
  EXPECT_EQ(header_error(safetensors(R"({")" + std::string(5000, 'n') +
                                         R"(":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})",
                                     0)),
            "m.safetensors: tensor name of 5000 bytes exceeds the limit of 4096");
  EXPECT_EQ(header_error(safetensors(
                R"({"__metadata__":{"k":")" + std::string(2u << 20, 'v') + R"("}})", 0)),
            "m.safetensors: JSON string of 2097152 bytes exceeds the limit of 1048576");
}

// A name from the file is quoted in the message; its control bytes are escaped so the message
// stays one line (found by the index fuzzer: a weight_map key holding a JSON "\n").
TEST(SafetensorsHeaderLies, NamesWithControlBytesStayOnOneLine) {
  EXPECT_EQ(
      header_error(safetensors(R"({"a\nb":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})", 1)),
      "m.safetensors: tensor 'a\\x0ab': unknown dtype 'F4'");
  EXPECT_EQ(error_of([] {
              (void)parse_safetensors_index(R"({"weight_map":{"x\ny":"a/b.safetensors"}})",
                                            "m/model.safetensors.index.json");
            }),
            "m/model.safetensors.index.json: 'weight_map' entry 'x\\x0ay': 'a/b.safetensors' is "
            "not a file name in the model's directory");
  EXPECT_EQ(
      error_of([] { (void)parse_safetensors_index(R"({"weight_map":{"x\ty":1}})", "m\n.json"); }),
      "m\\x0a.json: 'weight_map' entry 'x\\x09y' must be a file name");
}

TEST(SafetensorsHeaderLimits, DuplicateNamesKeepTheLastEntry) {
  const SafetensorsHeader h = [] {
    const std::string bytes =
        safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                    R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                    8);
    MemorySource source(bytes);
    return read_safetensors_header(source, "m.safetensors");
  }();
  ASSERT_EQ(h.tensors.size(), 1U);
  EXPECT_EQ(h.tensors[0].shape, (std::vector<std::int64_t>{2}));
}

// --- model directories ----------------------------------------------------------------------

// The 291 tensors of Llama-3.1-8B in BF16, in HF names.
HeaderBuilder llama31_8b_tensors() {
  HeaderBuilder b;
  b.add("model.embed_tokens.weight", "BF16", {128256, 4096});
  for (int il = 0; il < 32; ++il) {
    const std::string p = "model.layers." + std::to_string(il) + ".";
    b.add(p + "input_layernorm.weight", "BF16", {4096});
    b.add(p + "self_attn.q_proj.weight", "BF16", {4096, 4096});
    b.add(p + "self_attn.k_proj.weight", "BF16", {1024, 4096});
    b.add(p + "self_attn.v_proj.weight", "BF16", {1024, 4096});
    b.add(p + "self_attn.o_proj.weight", "BF16", {4096, 4096});
    b.add(p + "post_attention_layernorm.weight", "BF16", {4096});
    b.add(p + "mlp.gate_proj.weight", "BF16", {14336, 4096});
    b.add(p + "mlp.up_proj.weight", "BF16", {14336, 4096});
    b.add(p + "mlp.down_proj.weight", "BF16", {4096, 14336});
  }
  b.add("model.norm.weight", "BF16", {4096});
  b.add("lm_head.weight", "BF16", {128256, 4096});
  return b;
}

TEST_F(SafetensorsFiles, Llama31ParameterCountFromHeaders) {
  write_file(path("config.json"), std::string(llama31_8b_config));
  const HeaderBuilder b = llama31_8b_tensors();
  write_sparse(path("model.safetensors"), b.header(), b.data_size());

  const HfModel m = load_hf_model(dir_.string());
  ASSERT_TRUE(m.weights_known);
  ASSERT_EQ(m.tensors.size(), 291U);
  std::int64_t params = 0;
  for (const SafetensorsTensor& t : m.tensors) params += t.elements();
  EXPECT_EQ(params, 8'030'261'248);
  EXPECT_EQ(m.weight_bytes, 2 * 8'030'261'248);
  EXPECT_EQ(m.bytes_per_dtype, (std::map<std::string, Bytes>{{"BF16", 2 * 8'030'261'248}}));
  ASSERT_EQ(m.files.size(), 1U);
  EXPECT_EQ(m.bytes_read, 8 + b.header().size());
  ModelSpec expected = test::llama31_8b();
  expected.rope_freqs = true;  // rope_type llama3
  EXPECT_EQ(m.config.spec, expected);

  const HfTensorInfos infos = hf_tensor_infos(m.tensors, m.config.spec);
  EXPECT_EQ(infos.projector, 0);
  EXPECT_EQ(infos.skipped, 0);
  // The checkpoint's 291 tensors and, first, the rope factors a conversion adds.
  ASSERT_EQ(infos.tensors.size(), 292U);
  EXPECT_EQ(infos.tensors[0],
            (TensorInfo{.name = "rope_freqs.weight", .ne = {64, 1, 1, 1}, .type = GgmlType::f32}));
  EXPECT_EQ(infos.tensors[1],
            (TensorInfo{
                .name = "token_embd.weight", .ne = {4096, 128256, 1, 1}, .type = GgmlType::bf16}));
  EXPECT_EQ(infos.tensors[3].name, "blk.0.attn_q.weight");
  EXPECT_EQ(infos.tensors[10].name, "blk.0.ffn_down.weight");
  EXPECT_EQ(infos.tensors[10].ne, (std::array<std::int64_t, 4>{14336, 4096, 1, 1}));
  EXPECT_EQ(infos.tensors[290].name, "output_norm.weight");
  EXPECT_EQ(infos.tensors[291].name, "output.weight");

  // layout_weights groups the exact bytes: 32 equal blocks, the output layer, the input, the
  // rope factors.
  const WeightLayout layout = layout_weights(infos.tensors, m.config.spec.n_layer);
  EXPECT_EQ(layout.file_tensor_bytes, 2 * 8'030'261'248 + 256);
  EXPECT_EQ(layout.per_device.host, 256);
  const Bytes block = 2 * (4096 + 2 * 4096 * 4096 + 2 * 1024 * 4096 + 4096 + 3 * 14336 * 4096);
  for (const WeightGroup& g : layout.blocks) EXPECT_EQ(g.host, block);
  EXPECT_EQ(layout.input.host, 2 * 128256 * 4096);
  EXPECT_EQ(layout.output.host, 2 * 128256 * 4096 + 2 * 4096);
  EXPECT_FALSE(layout.output_tied);

  const Model model = model_from_hf(m, "llama-3.1-8b");
  EXPECT_EQ(model.n_params, 8'030'261'248 + 64);
  EXPECT_EQ(model.file_type, FileType::mostly_bf16);
  EXPECT_EQ(model.weights.file_tensor_bytes, 2 * 8'030'261'248 + 256);
}

TEST_F(SafetensorsFiles, IndexWithTwoShards) {
  write_file(path("config.json"), std::string(llama31_8b_config));
  HeaderBuilder first;
  first.add("model.embed_tokens.weight", "BF16", {128256, 4096});
  first.add("model.layers.0.self_attn.q_proj.weight", "BF16", {4096, 4096});
  HeaderBuilder second;
  second.add("model.layers.0.input_layernorm.weight", "F32", {4096}, 4);
  second.add("lm_head.weight", "BF16", {128256, 4096});
  write_sparse(path("model-00001-of-00002.safetensors"), first.header(), first.data_size());
  write_sparse(path("model-00002-of-00002.safetensors"), second.header(), second.data_size());
  // A stray file the index does not name is not read.
  write_file(path("consolidated.safetensors"), "garbage");
  const OJson index = {
      {"metadata", {{"total_size", first.data_size() + second.data_size()}}},
      {"weight_map",
       {{"model.embed_tokens.weight", "model-00001-of-00002.safetensors"},
        {"model.layers.0.self_attn.q_proj.weight", "model-00001-of-00002.safetensors"},
        {"model.layers.0.input_layernorm.weight", "model-00002-of-00002.safetensors"},
        {"lm_head.weight", "model-00002-of-00002.safetensors"}}}};
  write_file(path("model.safetensors.index.json"), index.dump(2));

  const HfModel m = load_hf_model((dir_ / "config.json").string());
  ASSERT_TRUE(m.weights_known);
  ASSERT_EQ(m.files.size(), 2U);
  EXPECT_EQ(m.files[0].path, path("model-00001-of-00002.safetensors").string());
  EXPECT_EQ(m.files[1].tensors, 2U);
  EXPECT_EQ(m.tensors.size(), 4U);
  EXPECT_EQ(m.weight_bytes, static_cast<Bytes>(first.data_size() + second.data_size()));
  EXPECT_EQ(m.bytes_per_dtype.at("F32"), 4 * 4096);
  EXPECT_EQ(m.bytes_read, 16 + first.header().size() + second.header().size());

  // The index names a tensor its shard does not hold.
  OJson wrong = index;
  wrong["weight_map"]["lm_head.weight"] = "model-00001-of-00002.safetensors";
  write_file(path("model.safetensors.index.json"), wrong.dump());
  EXPECT_EQ(error_of([&] { (void)load_hf_model(dir_.string()); }),
            path("model.safetensors.index.json").string() +
                ": 'weight_map' puts tensor 'lm_head.weight' in "
                "'model-00001-of-00002.safetensors', which has no such tensor");
  wrong["weight_map"]["lm_head.weight"] = "../model-00002-of-00002.safetensors";
  write_file(path("model.safetensors.index.json"), wrong.dump());
  EXPECT_EQ(error_of([&] { (void)load_hf_model(dir_.string()); }),
            path("model.safetensors.index.json").string() +
                ": 'weight_map' entry 'lm_head.weight': '../model-00002-of-00002.safetensors' "
                "is not a file name in the model's directory");
}

TEST_F(SafetensorsFiles, ConfigAloneHasUnknownWeights) {
  write_file(path("config.json"), std::string(llama31_8b_config));
  const HfModel m = load_hf_model((dir_ / "config.json").string());
  EXPECT_FALSE(m.weights_known);
  EXPECT_EQ(m.weight_bytes, 0);
  EXPECT_TRUE(m.tensors.empty());
  EXPECT_EQ(m.bytes_read, 0U);
  // Planned from generated tensors at the config's dtype.
  const Model model = model_from_hf(m, "llama");
  EXPECT_EQ(model.n_params, 8'030'261'248 + 64);  // and the conversion's rope factors
  EXPECT_EQ(model.file_type, FileType::mostly_bf16);

  write_file(path("config.json"), std::string(deepseek_v3_config));
  EXPECT_EQ(error_of([&] { (void)model_from_hf(load_hf_model(dir_.string()), "ds"); }),
            path("config.json").string() +
                ": quantized checkpoint (quant_method 'fp8') without *.safetensors beside it: "
                "its weight size cannot be told from config.json alone");
}

TEST_F(SafetensorsFiles, DirectoryWithoutConfig) {
  EXPECT_EQ(error_of([&] { (void)load_hf_model(dir_.string()); }),
            "'" + dir_.string() + "': not a Hugging Face model directory (no config.json)");
}

// docs/reliability.md §2: a FIFO (or a directory) carrying a weights file's name is an error,
// never skipped (the plan would silently fall back to the config) and never waited on.
class NotRegularWeights : public SafetensorsFiles {
 protected:
  // The Error{io} message of load_hf_model(dir_), with `fifo` unblocked if it hangs.
  std::string io_error(const fs::path& fifo) {
    std::string message;
    EXPECT_TRUE(test::bounded(fifo.string(), [&] {
      try {
        (void)load_hf_model(dir_.string());
        ADD_FAILURE() << "loaded";
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::io);
        message = e.what();
      }
    }));
    return message;
  }
};

TEST_F(NotRegularWeights, FifoNamedModelSafetensors) {
  write_file(path("config.json"), std::string(qwen25_7b_config));
  ASSERT_TRUE(test::make_fifo(path("model.safetensors").string()));
  EXPECT_EQ(io_error(path("model.safetensors")),
            "'" + path("model.safetensors").string() + "': cannot open: is a FIFO");
}

TEST_F(NotRegularWeights, FifoShardFoundByTheScan) {
  write_file(path("config.json"), std::string(qwen25_7b_config));
  const fs::path shard = path("model-00001-of-00002.safetensors");
  ASSERT_TRUE(test::make_fifo(shard.string()));
  EXPECT_EQ(io_error(shard), "'" + shard.string() + "': cannot open: is a FIFO");
}

TEST_F(NotRegularWeights, DirectoryNamedModelSafetensors) {
  write_file(path("config.json"), std::string(qwen25_7b_config));
  fs::create_directory(path("model.safetensors"));
  EXPECT_EQ(io_error(path("model.safetensors")),
            "'" + path("model.safetensors").string() + "': cannot open: is a directory");
}

TEST_F(NotRegularWeights, FifoIndexJson) {
  write_file(path("config.json"), std::string(qwen25_7b_config));
  ASSERT_TRUE(test::make_fifo(path("model.safetensors.index.json").string()));
  EXPECT_EQ(io_error(path("model.safetensors.index.json")),
            "cannot read '" + path("model.safetensors.index.json").string() + "': is a FIFO");
}

TEST_F(NotRegularWeights, FifoConfigJson) {
  ASSERT_TRUE(test::make_fifo(path("config.json").string()));
  EXPECT_EQ(io_error(path("config.json")),
            "cannot read '" + path("config.json").string() + "': is a FIFO");
}

TEST_F(SafetensorsFiles, TiedEmbeddingsFollowTheTensors) {
  // Config says untied, but the checkpoint has no lm_head: the tensors win.
  write_file(path("config.json"), std::string(qwen25_7b_config));
  HeaderBuilder b;
  b.add("model.embed_tokens.weight", "BF16", {152064, 3584});
  b.add("model.norm.weight", "BF16", {3584});
  write_sparse(path("model.safetensors"), b.header(), b.data_size());
  const HfModel m = load_hf_model(dir_.string());
  EXPECT_TRUE(m.config.spec.tied_embeddings);
}

// --- safetensors names -> llama.cpp tensors --------------------------------------------------

// A safetensors file of any size held as its header: the data section reads as zeros.
class HeaderOnlySource final : public ByteSource {
 public:
  HeaderOnlySource(const std::string& header, std::uint64_t data_size)
      : head_(le64(header.size()) + header), size_(head_.size() + data_size) {}
  [[nodiscard]] std::uint64_t size() const override { return size_; }
  [[nodiscard]] const std::string& name() const override { return name_; }

 protected:
  void read_at(std::uint64_t offset, std::span<std::byte> out) override {
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::uint64_t at = offset + i;
      out[i] = at < head_.size() ? static_cast<std::byte>(head_[at]) : std::byte{0};
    }
  }

 private:
  std::string head_;
  std::uint64_t size_;
  std::string name_ = "m.safetensors";
};

std::vector<SafetensorsTensor> tensors_of(const HeaderBuilder& b) {
  HeaderOnlySource source(b.header(), b.data_size());
  return read_safetensors_header(source, "m.safetensors").tensors;
}

TEST(HfTensorInfos, MixtralExpertsMergeIntoOneTensorPerBlock) {
  const ModelSpec spec = spec_from_hf_config(mixtral_config, "config.json").spec;
  HeaderBuilder b;
  b.add("model.layers.0.block_sparse_moe.gate.weight", "BF16", {8, 64});
  for (int e = 0; e < 8; ++e) {
    const std::string p = "model.layers.0.block_sparse_moe.experts." + std::to_string(e) + ".";
    b.add(p + "w1.weight", "BF16", {224, 64});
    b.add(p + "w2.weight", "BF16", {64, 224});
    b.add(p + "w3.weight", "BF16", {224, 64});
  }
  const HfTensorInfos infos = hf_tensor_infos(tensors_of(b), spec);
  ASSERT_EQ(infos.tensors.size(), 4U);
  EXPECT_EQ(infos.tensors[0].name, "blk.0.ffn_gate_inp.weight");
  EXPECT_EQ(infos.tensors[1], (TensorInfo{.name = "blk.0.ffn_gate_exps.weight",
                                          .ne = {64, 224, 8, 1},
                                          .type = GgmlType::bf16}));
  EXPECT_EQ(infos.tensors[2].name, "blk.0.ffn_down_exps.weight");
  EXPECT_EQ(infos.tensors[2].ne, (std::array<std::int64_t, 4>{224, 64, 8, 1}));
  EXPECT_EQ(infos.tensors[3].name, "blk.0.ffn_up_exps.weight");
  Bytes total = 0;
  for (const TensorInfo& t : infos.tensors) total += t.bytes();
  EXPECT_EQ(total, static_cast<Bytes>(b.data_size()));
}

TEST(HfTensorInfos, MultimodalAndMtpTensorsAreSetApart) {
  const ModelSpec gemma = spec_from_hf_config(gemma3_27b_config, "config.json").spec;
  HeaderBuilder b;
  b.add("language_model.model.embed_tokens.weight", "BF16", {262144, 16});
  b.add("language_model.model.layers.0.post_attention_layernorm.weight", "BF16", {16});
  b.add("model.language_model.layers.1.pre_feedforward_layernorm.weight", "BF16", {16});
  b.add("language_model.model.norm.weight", "BF16", {16});
  b.add("vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight", "BF16", {8, 8});
  b.add("multi_modal_projector.mm_input_projection_weight", "BF16", {8, 16});
  const HfTensorInfos infos = hf_tensor_infos(tensors_of(b), gemma);
  ASSERT_EQ(infos.tensors.size(), 4U);
  EXPECT_EQ(infos.tensors[0].name, "token_embd.weight");
  EXPECT_EQ(infos.tensors[1].name, "blk.0.post_attention_norm.weight");
  EXPECT_EQ(infos.tensors[2].name, "blk.1.ffn_norm.weight");
  EXPECT_EQ(infos.tensors[3].name, "output_norm.weight");
  EXPECT_EQ(infos.projector, 2 * (8 * 8 + 8 * 16));

  // DeepSeek-V3's MTP block (layer 61) is not part of the 61-layer text model; FP8 weights
  // are 1-byte i8 tensors with exact bytes.
  const ModelSpec ds = spec_from_hf_config(deepseek_v3_config, "config.json").spec;
  HeaderBuilder d;
  d.add("model.layers.60.self_attn.kv_a_proj_with_mqa.weight", "F8_E4M3", {576, 7168}, 1);
  d.add("model.layers.60.self_attn.kv_a_proj_with_mqa.weight_scale_inv", "F32", {5, 56}, 4);
  d.add("model.layers.61.eh_proj.weight", "F8_E4M3", {7168, 14336}, 1);
  const HfTensorInfos dinfos = hf_tensor_infos(tensors_of(d), ds);
  ASSERT_EQ(dinfos.tensors.size(), 2U);
  EXPECT_EQ(dinfos.tensors[0], (TensorInfo{.name = "blk.60.attn_kv_a_mqa.weight",
                                           .ne = {7168, 576, 1, 1},
                                           .type = GgmlType::i8}));
  EXPECT_EQ(dinfos.tensors[1].name, "blk.60.attn_kv_a_mqa.weight_scale_inv");
  EXPECT_EQ(dinfos.tensors[1].bytes(), 5 * 56 * 4);
  EXPECT_EQ(dinfos.skipped, 7168 * 14336);
  EXPECT_EQ(dinfos.skipped_tensors, 1U);
}

}  // namespace
}  // namespace vramplan::io
