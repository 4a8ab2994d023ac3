// Issue 9, classes 1 and 5 (docs/reliability.md): text read from a file or an argument cannot
// add a line to an output, cannot put a raw control byte on the terminal, and cannot make
// `--format json` fail. Each test runs the whole CLI in process (cli::run) on a hostile input
// built here: a GGUF written with tests/support/gguf_writer, a catalog YAML, a config.json.
#include <unistd.h>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/cli.hpp>

#include "support/model_gguf.hpp"
#include "support/simple_model.hpp"

namespace vramplan {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The architecture of the issue: written to a .env unescaped it adds two real settings.
const std::string evil_arch = "evil\nOLLAMA_ORIGINS=*\nOLLAMA_HOST=0.0.0.0:11434\n#";
// A name with an OSC title sequence, a colour sequence, a byte that is not UTF-8, CR LF, a C1
// CSI (U+009B) and a bidi override (U+202E).
const std::string evil_name =
    "name\x1b]0;pwned\x07\x1b[31m\xff\r\nOLLAMA_HOST=1.2.3.4 \xc2\x9b"
    "2J\xe2\x80\xae";
const std::string evil_tokenizer = "llama\n\x1b[2Jtok";

struct CliResult {
  int exit = -1;
  std::string out;
  std::string err;
};

CliResult run_cli(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  cli::Context context{out, err, [](const std::string&) { return std::optional<std::string>(); },
                       false};
  CliResult r;
  r.exit = cli::run(args, context);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Whether `text` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b < 0x80) {
      ++i;
      continue;
    }
    if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= text.size()) return false;
      const auto c = static_cast<unsigned char>(text[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

// Terminal-safe: valid UTF-8, no C0 control byte but '\n', no DEL, no C1 control (U+0080..U+009F),
// no line or paragraph separator, no bidi override.
void expect_terminal_safe(const std::string& text, const std::string& what) {
  EXPECT_TRUE(valid_utf8(text)) << what << " is not valid UTF-8:\n" << text;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    EXPECT_FALSE((b < 0x20 && b != '\n') || b == 0x7F)
        << what << ": raw control byte " << static_cast<int>(b) << " at " << i << ":\n"
        << text;
    if (b == 0xC2 && i + 1 < text.size()) {
      const auto c = static_cast<unsigned char>(text[i + 1]);
      EXPECT_FALSE(c >= 0x80 && c <= 0x9F) << what << ": C1 control at " << i << ":\n" << text;
    }
    if (b == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80) {
      const auto c = static_cast<unsigned char>(text[i + 2]);
      EXPECT_FALSE(c == 0xA8 || c == 0xA9 || (c >= 0xAA && c <= 0xAE))
          << what << ": separator or bidi control at " << i << ":\n"
          << text;
    }
  }
}

// Every line of stderr is one message of vramplan's.
void expect_messages_safe(const std::string& err) {
  expect_terminal_safe(err, "stderr");
  for (const std::string& line : lines(err)) {
    EXPECT_EQ(line.rfind("vramplan: ", 0), 0U) << "stray stderr line: " << line;
  }
}

// A .env: comments, blank lines, or KEY=VALUE with a known key; nothing a file can add.
void expect_env_safe(const std::string& env) {
  expect_terminal_safe(env, ".env");
  const std::set<std::string> keys = {"OLLAMA_CONTEXT_LENGTH",
                                      "OLLAMA_NUM_PARALLEL",
                                      "OLLAMA_FLASH_ATTENTION",
                                      "OLLAMA_KV_CACHE_TYPE",
                                      "OLLAMA_MAX_LOADED_MODELS",
                                      "OLLAMA_KEEP_ALIVE",
                                      "OLLAMA_SCHED_SPREAD",
                                      "LLAMA_ARG_FIT_TARGET",
                                      "LLAMA_ARG_CTX_SIZE",
                                      "LLAMA_ARG_N_PARALLEL",
                                      "LLAMA_ARG_KV_UNIFIED",
                                      "LLAMA_ARG_N_GPU_LAYERS",
                                      "LLAMA_ARG_N_CPU_MOE",
                                      "LLAMA_ARG_FLASH_ATTN",
                                      "LLAMA_ARG_CACHE_TYPE_K",
                                      "LLAMA_ARG_CACHE_TYPE_V",
                                      "LLAMA_ARG_UBATCH",
                                      "LLAMA_ARG_BATCH",
                                      "LLAMA_ARG_TENSOR_SPLIT",
                                      "LLAMA_ARG_FIT",
                                      "MODEL",
                                      "MAX_MODEL_LEN",
                                      "GPU_MEMORY_UTILIZATION",
                                      "MAX_NUM_SEQS",
                                      "MAX_NUM_BATCHED_TOKENS",
                                      "KV_CACHE_DTYPE",
                                      "TENSOR_PARALLEL_SIZE",
                                      "DTYPE",
                                      "QUANTIZATION",
                                      "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS"};
  for (const std::string& line : lines(env)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << "not a setting: " << line;
    EXPECT_TRUE(keys.count(line.substr(0, eq)) == 1) << "injected setting: " << line;
    EXPECT_EQ(line.find_first_of(" \t'\"$`\\", eq), std::string::npos) << "unsafe value: " << line;
  }
}

class Injection : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vramplan-injection-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A small llama-shaped GGUF whose architecture, name and tokenizer are hostile (the
  // architecture's keys renamed to match, as the issue describes).
  std::string evil_gguf(const std::string& name = "evil.gguf") {
    ModelSpec s;
    s.arch = evil_arch;
    s.n_layer = 2;
    s.n_embd = 64;
    s.n_ff = 128;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.n_vocab = 320;
    s.n_ctx_train = 4096;
    std::vector<TensorInfo> tensors = test::simple_llama_tensors(s, GgmlType::f16);
    test::GgufWriter w = test::model_gguf(s, FileType::mostly_f16, tensors, "hostile");
    w.set_string("general.name", evil_name);
    w.set_string("tokenizer.ggml.model", evil_tokenizer);
    const std::string file = path(name);
    w.write_sparse(file);
    return file;
  }

  fs::path dir_;
};

TEST_F(Injection, GgufArchitectureCannotAddEnvLines) {
  const std::string file = evil_gguf();
  for (const char* engine : {"ollama", "llamacpp"}) {
    const CliResult r =
        run_cli({"fit", "--vram", "8G", "--model", file, "--engine", engine, "--format", "env"});
    EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.exit << r.err;
    expect_env_safe(r.out);
    expect_messages_safe(r.err);
    // The text is still there, visibly escaped.
    EXPECT_NE(r.out.find("evil\\nOLLAMA_ORIGINS=*\\nOLLAMA_HOST=0.0.0.0:11434\\n#"),
              std::string::npos)
        << r.out;
  }
}

TEST_F(Injection, GgufTextCannotAddEnvLinesWrittenToAFile) {
  const std::string file = evil_gguf();
  const std::string env = path("out.env");
  const CliResult r =
      run_cli({"fit", "--vram", "8G", "--model", file, "--format", "env", "-o", env});
  EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.exit << r.err;
  std::ifstream in(env, std::ios::binary);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(written.empty());
  expect_env_safe(written);
}

TEST_F(Injection, GgufTextIsEscapedInTables) {
  const std::string file = evil_gguf();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"fit", "--vram", "8G", "--model", file},
        std::vector<std::string>{"fit", "--vram", "1M", "--model", file},  // does not fit
        std::vector<std::string>{"estimate", "--vram", "8G", "--model", file},
        std::vector<std::string>{"inspect", file},
        std::vector<std::string>{"fit", "--engine", "vllm", "--vram", "8G", "--model", file},
        std::vector<std::string>{"estimate", "--engine", "vllm", "--vram", "8G", "--model",
                                 file}}) {
    const CliResult r = run_cli(args);
    EXPECT_TRUE(r.exit == 0 || r.exit == 1) << args[0] << " exit " << r.exit << r.err;
    expect_terminal_safe(r.out, args[0] + " stdout");
    expect_messages_safe(r.err);
    for (const std::string& line : lines(r.out)) {
      EXPECT_NE(line.rfind("OLLAMA_", 0), 0U) << "injected line: " << line;
    }
  }
  const CliResult inspect = run_cli({"inspect", file});
  EXPECT_NE(inspect.out.find("evil\\nOLLAMA_ORIGINS"), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("llama\\n\\x1b[2Jtok"), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("\\xff\\r\\nOLLAMA_HOST=1.2.3.4 \\u009b2J\\u202e"), std::string::npos)
      << inspect.out;
}

TEST_F(Injection, JsonReplacesBytesThatAreNotUtf8) {
  const std::string file = evil_gguf();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"fit", "--vram", "8G", "--model", file, "--format", "json"},
        std::vector<std::string>{"estimate", "--vram", "8G", "--model", file, "--format", "json"},
        std::vector<std::string>{"inspect", file, "--format", "json"},
        std::vector<std::string>{"fit", "--engine", "vllm", "--vram", "8G", "--model", file,
                                 "--format", "json"}}) {
    const CliResult r = run_cli(args);
    ASSERT_TRUE(r.exit == 0 || r.exit == 1) << args[0] << " exit " << r.exit << ": " << r.err;
    expect_messages_safe(r.err);
    EXPECT_TRUE(valid_utf8(r.out));
    const Json j = Json::parse(r.out);  // throws (fails the test) on invalid JSON
    // The byte 0xFF became U+FFFD; everything else survives exactly, JSON-escaped.
    std::string expected_name = evil_name;
    expected_name.replace(expected_name.find('\xff'), 1, "\xef\xbf\xbd");
    if (args[0] == "inspect") {
      EXPECT_EQ(j["file"]["general_name"], expected_name);
      EXPECT_EQ(j["file"]["tokenizer_model"], evil_tokenizer);
      EXPECT_EQ(j["architecture"]["arch"], evil_arch);
    } else {  // fit and estimate: the plan envelope
      EXPECT_EQ(j["model"]["arch"], evil_arch);
    }
  }
}

TEST_F(Injection, JsonReplacesBytesThatAreNotUtf8InTensorNames) {
  ModelSpec s;
  s.arch = "llama";
  s.n_layer = 2;
  s.n_embd = 64;
  s.n_ff = 128;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_vocab = 320;
  s.n_ctx_train = 4096;
  std::vector<TensorInfo> tensors = test::simple_llama_tensors(s, GgmlType::f16);
  tensors.push_back({"blk.1.extra\xff\x1b[2J\n.weight", {64, 1, 1, 1}, GgmlType::f32});
  const std::string file = path("tensors.gguf");
  test::model_gguf(s, FileType::mostly_f16, tensors, "hostile tensor").write_sparse(file);
  const CliResult r = run_cli({"inspect", file, "--format", "json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_TRUE(valid_utf8(r.out));
  const Json j = Json::parse(r.out);
  bool found = false;
  for (const Json& t : j["tensors"]) {
    found = found || t["name"] == "blk.1.extra\xef\xbf\xbd\x1b[2J\n.weight";
  }
  EXPECT_TRUE(found) << r.out;
}

TEST_F(Injection, FileNameIsEscapedEverywhere) {
  const std::string file = evil_gguf("m\nOLLAMA_ORIGINS=*\x1b[0m\xfe.gguf");
  const CliResult env = run_cli({"fit", "--vram", "8G", "--model", file, "--format", "env"});
  EXPECT_TRUE(env.exit == 0 || env.exit == 1) << env.err;
  expect_env_safe(env.out);
  const CliResult table = run_cli({"inspect", file});
  EXPECT_EQ(table.exit, 0) << table.err;
  expect_terminal_safe(table.out, "inspect");
  const CliResult json = run_cli({"inspect", file, "--format", "json"});
  EXPECT_EQ(json.exit, 0) << json.err;
  EXPECT_TRUE(Json::accept(json.out)) << json.out;
  // A file that is not there: the error names it on one escaped line.
  const CliResult missing =
      run_cli({"fit", "--model", path("gone\n\x1b[31mOLLAMA_HOST=x\xff.gguf")});
  EXPECT_EQ(missing.exit, 4) << missing.err;
  expect_messages_safe(missing.err);
  EXPECT_EQ(lines(missing.err).size(), 1U) << missing.err;
}

TEST_F(Injection, ModelArgumentIsEscapedInErrors) {
  const CliResult r = run_cli({"fit", "--model", "no-such-model\n\x1b]0;x\x07\xff"});
  EXPECT_EQ(r.exit, 3) << r.err;
  expect_messages_safe(r.err);
  EXPECT_EQ(lines(r.err).size(), 1U) << r.err;
  EXPECT_NE(r.err.find("no-such-model\\n\\x1b]0;x\\x07\\xff"), std::string::npos) << r.err;
  const CliResult usage = run_cli({"fit", "--model", "x", "--format", "env\n\x1b[2J"});
  EXPECT_EQ(usage.exit, 2) << usage.err;
  expect_messages_safe(usage.err);
}

TEST_F(Injection, VllmModelReferenceCannotSplitTheEnvOrItsCommand) {
  const std::string file = evil_gguf("a b\nMODEL=x.gguf");
  const CliResult r =
      run_cli({"fit", "--engine", "vllm", "--vram", "8G", "--model", file, "--format", "env"});
  // The reference cannot be written as one safe word: refused, nothing on stdout.
  EXPECT_EQ(r.exit, 3) << r.err;
  EXPECT_EQ(r.out, "");
  expect_messages_safe(r.err);
  EXPECT_EQ(lines(r.err).size(), 1U) << r.err;
  EXPECT_NE(r.err.find("MODEL"), std::string::npos) << r.err;
  // A plain path still works.
  const std::string plain = evil_gguf("plain-model.gguf");
  const CliResult ok =
      run_cli({"fit", "--engine", "vllm", "--vram", "8G", "--model", plain, "--format", "env"});
  EXPECT_TRUE(ok.exit == 0 || ok.exit == 1) << ok.err;
  expect_env_safe(ok.out);
  EXPECT_NE(ok.out.find("MODEL=" + plain + "\n"), std::string::npos) << ok.out;
}

TEST_F(Injection, CatalogValuesAreEscaped) {
  const std::string yaml = path("evil.yaml");
  {
    std::ofstream out(yaml, std::ios::binary);
    out << "models:\n"
           "  - id: evil-1b\n"
           "    name: \"Evil\\nOLLAMA_ORIGINS=*\\e]0;t\\a\"\n"
           "    ollama: [evil:1b]\n"
           "    hf: [\"org/evil\\nMODEL=x\"]\n"
           "    params: 1.0e9\n"
           "    quants: [Q8_0]\n"
           "    source: \"test\\r\\nOLLAMA_HOST=h \\x9b\"\n"
           "    arch: llama\n"
           "    layers: 2\n"
           "    embd: 64\n"
           "    ffn: 128\n"
           "    heads: 4\n"
           "    kv_heads: 2\n"
           "    vocab: 320\n"
           "    context: 4096\n"
           "    tied_embeddings: false\n"
           "  - id: evil-arch-1b\n"
           "    name: Evil arch\n"
           "    ollama: [evil-arch:1b]\n"
           "    params: 1.0e9\n"
           "    quants: [Q8_0]\n"
           "    source: test\n"
           "    arch: \"llama\\nOLLAMA_HOST=0.0.0.0\"\n"
           "    layers: 2\n"
           "    embd: 64\n"
           "    ffn: 128\n"
           "    heads: 4\n"
           "    kv_heads: 2\n"
           "    vocab: 320\n"
           "    context: 4096\n"
           "    tied_embeddings: false\n";
  }
  const CliResult table = run_cli({"models", "evil", "--catalog", yaml});
  ASSERT_EQ(table.exit, 0) << table.err;
  expect_terminal_safe(table.out, "models");
  expect_messages_safe(table.err);
  EXPECT_NE(table.out.find("Evil\\nOLLAMA_ORIGINS=*\\x1b]0;t\\x07"), std::string::npos)
      << table.out;
  const CliResult json = run_cli({"models", "evil", "--catalog", yaml, "--format", "json"});
  ASSERT_EQ(json.exit, 0) << json.err;
  bool found = false;
  const Json listed = Json::parse(json.out);
  for (const Json& m : listed["models"]) {
    if (m["id"] != "evil-1b") continue;
    EXPECT_EQ(m["name"], "Evil\nOLLAMA_ORIGINS=*\x1b]0;t\a");
    found = true;
  }
  EXPECT_TRUE(found) << json.out;
  // A catalog value that is not UTF-8 (yaml-cpp passes the raw byte through): JSON replaces it.
  const std::string raw = path("raw.yaml");
  {
    std::ofstream out(raw, std::ios::binary);
    out << "models:\n"
           "  - id: raw-1b\n"
           "    name: \"Raw \xff name\"\n"
           "    ollama: [raw:1b]\n"
           "    params: 1.0e9\n"
           "    quants: [Q8_0]\n"
           "    source: \"s\xfe\"\n"
           "    arch: llama\n"
           "    layers: 2\n"
           "    embd: 64\n"
           "    ffn: 128\n"
           "    heads: 4\n"
           "    kv_heads: 2\n"
           "    vocab: 320\n"
           "    context: 4096\n"
           "    tied_embeddings: false\n";
  }
  const CliResult raw_json = run_cli({"models", "raw", "--catalog", raw, "--format", "json"});
  ASSERT_EQ(raw_json.exit, 0) << raw_json.err;
  const Json raw_models = Json::parse(raw_json.out);
  EXPECT_EQ(raw_models["models"][0]["name"], "Raw \xef\xbf\xbd name");
  const CliResult raw_table = run_cli({"models", "raw", "--catalog", raw});
  EXPECT_EQ(raw_table.exit, 0) << raw_table.err;
  expect_terminal_safe(raw_table.out, "models");
  EXPECT_NE(raw_table.out.find("Raw \\xff name"), std::string::npos) << raw_table.out;
  for (const char* format : {"env", "table"}) {
    const CliResult fit = run_cli(
        {"fit", "--vram", "8G", "--model", "evil:1b", "--catalog", yaml, "--format", format});
    EXPECT_TRUE(fit.exit == 0 || fit.exit == 1) << fit.err;
    if (std::string(format) == "env") expect_env_safe(fit.out);
    expect_terminal_safe(fit.out, format);
    expect_messages_safe(fit.err);
  }
  // An architecture vramplan cannot lay out is refused, on one escaped line.
  const CliResult arch = run_cli(
      {"fit", "--vram", "8G", "--model", "evil-arch:1b", "--catalog", yaml, "--format", "env"});
  EXPECT_EQ(arch.exit, 3) << arch.err;
  EXPECT_EQ(arch.out, "");
  expect_messages_safe(arch.err);
  EXPECT_EQ(lines(arch.err).size(), 1U) << arch.err;
  EXPECT_NE(arch.err.find("llama\\nOLLAMA_HOST=0.0.0.0"), std::string::npos) << arch.err;
  // vLLM serves the catalog's Hugging Face repo: a hostile one is refused, not written.
  const CliResult vllm = run_cli({"fit", "--engine", "vllm", "--vram", "8G", "--model", "evil:1b",
                                  "--catalog", yaml, "--format", "env"});
  EXPECT_EQ(vllm.exit, 3) << vllm.err;
  EXPECT_EQ(vllm.out, "");
  expect_messages_safe(vllm.err);
}

TEST_F(Injection, ConfigJsonModelTypeIsEscaped) {
  // A Hugging Face directory: config.json with a hostile model_type (JSON escapes give it
  // control characters) and one safetensors file. The class is unknown, so the model_type
  // becomes the architecture that vramplan prints.
  const fs::path model_dir = dir_ / "hf";
  fs::create_directories(model_dir);
  {
    std::ofstream out(model_dir / "config.json", std::ios::binary);
    out << R"({"model_type": "llama\nOLLAMA_ORIGINS=*\u001b[31m",
               "architectures": ["Evil\u009bForCausalLM"],
               "num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 128,
               "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 320,
               "max_position_embeddings": 4096, "torch_dtype": "float16"})";
  }
  {
    Json header = Json::object();
    std::uint64_t offset = 0;
    const auto add = [&](const std::string& name, std::int64_t rows, std::int64_t cols) {
      const std::uint64_t bytes = static_cast<std::uint64_t>(rows * cols * 2);
      header[name] = {{"dtype", "F16"},
                      {"shape", cols == 1 ? Json::array({rows}) : Json::array({rows, cols})},
                      {"data_offsets", {offset, offset + bytes}}};
      offset += bytes;
    };
    add("model.embed_tokens.weight", 320, 64);
    for (int il = 0; il < 2; ++il) {
      const std::string p = "model.layers." + std::to_string(il) + ".";
      add(p + "input_layernorm.weight", 64, 1);
      add(p + "self_attn.q_proj.weight", 64, 64);
      add(p + "self_attn.k_proj.weight", 32, 64);
      add(p + "self_attn.v_proj.weight", 32, 64);
      add(p + "self_attn.o_proj.weight", 64, 64);
      add(p + "post_attention_layernorm.weight", 64, 1);
      add(p + "mlp.gate_proj.weight", 128, 64);
      add(p + "mlp.up_proj.weight", 128, 64);
      add(p + "mlp.down_proj.weight", 64, 128);
    }
    add("model.norm.weight", 64, 1);
    add("lm_head.weight", 320, 64);
    const std::string text = header.dump();
    std::ofstream out(model_dir / "model.safetensors", std::ios::binary);
    std::uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xFF));
    out << text;
    out.close();
    fs::resize_file(model_dir / "model.safetensors", 8 + text.size() + offset);
  }
  const CliResult table = run_cli({"inspect", model_dir.string()});
  if (table.exit != 0) {
    // The loader may refuse the architecture; then the refusal itself must be safe.
    EXPECT_EQ(table.exit, 3) << table.err;
    expect_messages_safe(table.err);
    EXPECT_EQ(lines(table.err).size(), 1U) << table.err;
    return;
  }
  expect_terminal_safe(table.out, "inspect");
  expect_messages_safe(table.err);
  const CliResult env =
      run_cli({"fit", "--vram", "8G", "--model", model_dir.string(), "--format", "env"});
  EXPECT_TRUE(env.exit == 0 || env.exit == 1) << env.err;
  expect_env_safe(env.out);
  expect_messages_safe(env.err);
}

}  // namespace
}  // namespace vramplan

namespace vramplan {
namespace {

// The lines of `text` that are not comments.
std::vector<std::string> setting_lines(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& line : lines(text)) {
    if (!line.starts_with('#')) out.push_back(line);
  }
  return out;
}

TEST_F(Injection, GgufTextCannotAddLinesToComposeModelfileOrFlags) {
  const std::string evil = evil_gguf();
  const std::string plain = evil_gguf("plain.gguf");
  for (const std::vector<std::string>& format :
       {std::vector<std::string>{"--format", "compose"},
        std::vector<std::string>{"--format", "compose", "--engine", "llamacpp"},
        std::vector<std::string>{"--format", "modelfile"},
        std::vector<std::string>{"--format", "flags", "--engine", "llamacpp"}}) {
    std::vector<std::string> args{"fit", "--vram", "8G", "--model", evil};
    args.insert(args.end(), format.begin(), format.end());
    const CliResult r = run_cli(args);
    ASSERT_TRUE(r.exit == 0 || r.exit == 1) << format[1] << ": " << r.exit << r.err;
    expect_messages_safe(r.err);
    expect_terminal_safe(r.out, format[1]);
    // The hostile text stays in the comments, escaped: the settings are those of a plain
    // model of the same shape, but for the file's own name.
    args[4] = plain;
    const CliResult p = run_cli(args);
    std::vector<std::string> expected = setting_lines(p.out);
    for (std::string& line : expected) {
      const std::size_t at = line.find("plain.gguf");
      if (at != std::string::npos) line.replace(at, 10, "evil.gguf");
    }
    EXPECT_EQ(setting_lines(r.out), expected) << r.out;
    EXPECT_EQ(r.out.find("\nOLLAMA_ORIGINS"), std::string::npos) << r.out;
  }
}

TEST_F(Injection, FileNameThatCannotBeOneValueIsRefusedInComposeModelfileAndFlags) {
  const std::string file = evil_gguf("m\nOLLAMA_ORIGINS=*.gguf");
  for (const std::vector<std::string>& format :
       {std::vector<std::string>{"--format", "compose", "--engine", "llamacpp"},
        std::vector<std::string>{"--format", "modelfile"},
        std::vector<std::string>{"--format", "flags", "--engine", "llamacpp"}}) {
    std::vector<std::string> args{"fit", "--vram", "8G", "--model", file};
    args.insert(args.end(), format.begin(), format.end());
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit, 3) << format[1] << ": " << r.err;
    EXPECT_EQ(r.out, "") << format[1];
    expect_messages_safe(r.err);
    // The refusal is one escaped line (after the model's own warnings).
    const std::vector<std::string> err = lines(r.err);
    ASSERT_FALSE(err.empty());
    EXPECT_TRUE(err.back().starts_with("vramplan: error: cannot write ")) << r.err;
    EXPECT_NE(err.back().find("m\\nOLLAMA_ORIGINS=*.gguf"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace vramplan

namespace vramplan {
namespace {

TEST_F(Injection, QuotesAndDollarsStayOneValueInComposeAndFlags) {
  const std::string file = evil_gguf("it's \"a\" \\x $y.gguf");
  const CliResult flags = run_cli(
      {"fit", "--vram", "8G", "--model", file, "--engine", "llamacpp", "--format", "flags"});
  ASSERT_TRUE(flags.exit == 0 || flags.exit == 1) << flags.err;
  EXPECT_EQ(lines(flags.out).size(), 1U) << flags.out;
  // Single-quoted for the shell, the ' closed, escaped and reopened: no $ expansion.
  EXPECT_NE(flags.out.find(" --model '" + dir_.string() + "/it'\\''s \"a\" \\x $y.gguf' "),
            std::string::npos)
      << flags.out;
  const CliResult compose = run_cli(
      {"fit", "--vram", "8G", "--model", file, "--engine", "llamacpp", "--format", "compose"});
  ASSERT_TRUE(compose.exit == 0 || compose.exit == 1) << compose.err;
  // A double-quoted YAML scalar: " and \ escaped, $ doubled for compose's interpolation.
  EXPECT_NE(compose.out.find("\n      - \"/models/it's \\\"a\\\" \\\\x $$y.gguf\"\n"),
            std::string::npos)
      << compose.out;
}

}  // namespace
}  // namespace vramplan
