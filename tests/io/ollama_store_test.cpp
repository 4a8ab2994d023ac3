#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/io/gguf.hpp>
#include <vramplan/io/ollama_store.hpp>

#include <unistd.h>

#include "support/fifo.hpp"
#include "support/gguf_writer.hpp"
#include "support/time_budget.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::string_view model_media = "application/vnd.ollama.image.model";
constexpr std::string_view projector_media = "application/vnd.ollama.image.projector";
constexpr std::string_view params_media = "application/vnd.ollama.image.params";
constexpr std::string_view template_media = "application/vnd.ollama.image.template";
constexpr std::string_view config_media = "application/vnd.docker.container.image.v1+json";

// The message of the Error `f` throws, after checking its kind; "" when nothing is thrown.
template <typename F>
std::string error_of(F&& f, ErrorKind expected = ErrorKind::bad_input) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return {};
}

// --- names ---------------------------------------------------------------------------------

OllamaName qualified(std::string host, std::string ns, std::string model, std::string tag) {
  return OllamaName{.host = std::move(host),
                    .namespace_ = std::move(ns),
                    .model = std::move(model),
                    .tag = std::move(tag)};
}

TEST(OllamaName, FillsDefaults) {
  EXPECT_EQ(parse_ollama_name("llama3.1"),
            qualified("registry.ollama.ai", "library", "llama3.1", "latest"));
  EXPECT_EQ(parse_ollama_name("llama3.1:8b-instruct-q8_0"),
            qualified("registry.ollama.ai", "library", "llama3.1", "8b-instruct-q8_0"));
}

TEST(OllamaName, ParsesNamespaceAndHost) {
  EXPECT_EQ(parse_ollama_name("user/m:t"), qualified("registry.ollama.ai", "user", "m", "t"));
  EXPECT_EQ(parse_ollama_name("hf.co/org/repo:Q4_K_M"),
            qualified("hf.co", "org", "repo", "Q4_K_M"));
  EXPECT_EQ(parse_ollama_name("https://hf.co/org/repo"),
            qualified("hf.co", "org", "repo", "latest"));
  // A ':' before the last '/' is a port, not a tag.
  EXPECT_EQ(parse_ollama_name("localhost:5000/team/m"),
            qualified("localhost:5000", "team", "m", "latest"));
}

TEST(OllamaName, KeepsTheSpelling) {
  EXPECT_EQ(parse_ollama_name("LLAMA3.1:8B"),
            qualified("registry.ollama.ai", "library", "LLAMA3.1", "8B"));
}

TEST(OllamaName, RejectsWhatCannotBeAnOllamaName) {
  for (const std::string_view text :
       {"", ":", "llama3:", ":8b", "/abs/path/model.gguf", "./model", "..", "../x", "a/../b",
        "../../etc/passwd", "a/b/c/d", "team.x/m", "m:t/x", "my model", "m@sha256-abc", "m:t:u",
        "-m", "m/", "C:\\models\\m"}) {
    EXPECT_EQ(parse_ollama_name(text), std::nullopt) << "'" << text << "'";
  }
  EXPECT_EQ(parse_ollama_name(std::string(81, 'm')), std::nullopt);
  EXPECT_NE(parse_ollama_name(std::string(80, 'm')), std::nullopt);
}

TEST(OllamaName, DisplaysTheShortestForm) {
  EXPECT_EQ(display_name(*parse_ollama_name("llama3.1")), "llama3.1");
  EXPECT_EQ(display_name(*parse_ollama_name("Registry.Ollama.AI/Library/llama3.1:LATEST")),
            "llama3.1");
  EXPECT_EQ(display_name(*parse_ollama_name("llama3.1:8b")), "llama3.1:8b");
  EXPECT_EQ(display_name(*parse_ollama_name("user/m:t")), "user/m:t");
  EXPECT_EQ(display_name(*parse_ollama_name("hf.co/org/repo:Q4_K_M")), "hf.co/org/repo:Q4_K_M");
  EXPECT_EQ(display_name(*parse_ollama_name("hf.co/library/repo")), "hf.co/library/repo");
}

// --- manifests -----------------------------------------------------------------------------

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

Json layer(std::string_view media, const std::string& digest, std::uint64_t size) {
  return Json{{"mediaType", media}, {"digest", digest}, {"size", size}};
}

Json manifest_json(std::vector<Json> layers) {
  return Json{{"schemaVersion", 2},
              {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
              {"config", layer(config_media, digest_of('c'), 10)},
              {"layers", std::move(layers)}};
}

TEST(OllamaManifest, ParsesConfigAndLayers) {
  const std::string text = manifest_json({layer(model_media, digest_of('a'), 4920734272),
                                          layer(params_media, digest_of('b'), 24)})
                               .dump();
  const OllamaManifest m = parse_manifest(text, "m");
  EXPECT_EQ(m.schema_version, 2);
  EXPECT_EQ(m.media_type, "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(m.config, (OllamaLayer{std::string(config_media), digest_of('c'), 10}));
  ASSERT_EQ(m.layers.size(), 2u);
  EXPECT_EQ(m.layers[0], (OllamaLayer{std::string(model_media), digest_of('a'), 4920734272}));
  EXPECT_EQ(m.layers[1].media_type, params_media);
}

TEST(OllamaManifest, ReportsEachDefectOnOneLine) {
  const auto error = [](const std::string& text) {
    return error_of([&] { (void)parse_manifest(text, "/s/manifests/x"); });
  };
  EXPECT_EQ(error("{\"schemaVersion\": 2,"),
            "/s/manifests/x: malformed JSON: unexpected end of input");
  EXPECT_EQ(error(""), "/s/manifests/x: malformed JSON: unexpected end of input");
  EXPECT_EQ(error("{} x"), "/s/manifests/x: malformed JSON at byte 4");
  EXPECT_EQ(error("{\"schemaVersion\": 9e9999999}"),
            "/s/manifests/x: malformed JSON: number out of range");
  EXPECT_EQ(error("[]"), "/s/manifests/x: not a JSON object");
  EXPECT_EQ(error("{}"), "/s/manifests/x: missing 'schemaVersion'");

  Json j = manifest_json({layer(model_media, digest_of('a'), 1)});
  j["schemaVersion"] = 1;
  EXPECT_EQ(error(j.dump()), "/s/manifests/x: unsupported schemaVersion '1' (expected 2)");

  j = manifest_json({});
  j.erase("layers");
  EXPECT_EQ(error(j.dump()), "/s/manifests/x: missing 'layers'");
  j["layers"] = "none";
  EXPECT_EQ(error(j.dump()), "/s/manifests/x: 'layers' is not an array");
  j.erase("config");
  EXPECT_EQ(error(j.dump()), "/s/manifests/x: missing 'config'");

  j = manifest_json({layer(model_media, digest_of('a'), 1), Json{{"digest", digest_of('b')}}});
  EXPECT_EQ(error(j.dump()), "/s/manifests/x: layers[1]: missing 'mediaType'");
  j = manifest_json({layer(model_media, "sha256:abc", 1)});
  EXPECT_EQ(error(j.dump()),
            "/s/manifests/x: layers[0]: invalid digest 'sha256:abc' (expected 'sha256:' and 64 "
            "lowercase hex digits)");
  j = manifest_json({layer(model_media, digest_of('A'), 1)});
  EXPECT_NE(error(j.dump()).find("invalid digest"), std::string::npos);
  j = manifest_json({layer(model_media, "sha256-" + std::string(64, 'a'), 1)});
  EXPECT_NE(error(j.dump()).find("invalid digest"), std::string::npos);
  j = manifest_json({layer(model_media, digest_of('a'), 1)});
  j["layers"][0]["size"] = -1;
  EXPECT_EQ(error(j.dump()),
            "/s/manifests/x: layers[0]: 'size' is '-1', not a non-negative integer");
  j["config"]["digest"] = 7;
  EXPECT_EQ(error(j.dump()), "/s/manifests/x: config: 'digest' is not a string");
}

TEST(OllamaManifest, RefusesHugeAndDeepInput) {
  const std::string big(ollama_max_manifest_bytes + 1, ' ');
  EXPECT_EQ(error_of([&] { (void)parse_manifest(big, "m"); }),
            "m: manifest is 1048577 bytes, more than the limit of 1048576");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of([&] { (void)parse_manifest(deep, "m"); }),
            "m: JSON nested deeper than 64 levels");
}

// Issue 9 class 3: a 1 MiB manifest of keys holding objects took 37 s with nlohmann's
// depth-limiting callback (quadratic); now it is one pass, and refused for its size in values.
TEST(OllamaManifest, ManyKeysParseInLinearTime) {
  std::string wide = "{";
  for (int i = 0; wide.size() < ollama_max_manifest_bytes - 32; ++i) {
    wide += fmt::format("{}\"k{}\":{{}}", i == 0 ? "" : ",", i);
  }
  wide += "}";
  const double start = vramplan::test::thread_cpu_ms();
  EXPECT_EQ(error_of([&] { (void)parse_manifest(wide, "m"); }),
            "m: JSON has more than 16384 values");
  EXPECT_LT(vramplan::test::thread_cpu_ms() - start, 1000 * vramplan::test::time_budget(2.0));
}

// Issue 9 class 6: what a manifest or .params keeps is bounded by counts and lengths.
TEST(OllamaManifest, BoundsWhatIsKept) {
  EXPECT_EQ(error_of([&] {
              (void)parse_params(R"({"stop":")" + std::string(100000, 'x') + R"("})", "p");
            }),
            "p: JSON string of 100000 bytes exceeds the limit of 65536");
  std::string zeros = "0";
  for (int i = 0; i < 20000; ++i) zeros += ",0";
  EXPECT_EQ(error_of([&] { (void)parse_params(R"({"stop":[)" + zeros + "]}", "p"); }),
            "p: JSON has more than 16384 values");
}

TEST(OllamaManifest, ControlCharactersStayOutOfMessages) {
  Json j = manifest_json({layer(model_media, "sha256:\n\x1b[31m", 1)});
  const std::string message = error_of([&] { (void)parse_manifest(j.dump(), "m"); });
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(message.find('\x1b'), std::string::npos);
}

TEST(OllamaManifest, BlobPathReplacesTheColon) {
  EXPECT_EQ(blob_path("/m", digest_of('a')), "/m/blobs/sha256-" + std::string(64, 'a'));
  EXPECT_EQ(error_of([] { (void)blob_path("/m", "sha256:../../etc/passwd"); }, ErrorKind::internal),
            "blob_path: invalid digest 'sha256:../../etc/passwd'");
}

// --- the store -----------------------------------------------------------------------------

class OllamaStore : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           fmt::format("vramplan-ollama-test-{}-{}", info->name(), ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "blobs");
  }
  void TearDown() override { fs::remove_all(dir_); }

  [[nodiscard]] std::string dir() const { return dir_.string(); }

  // Stores `content` under a made-up digest (Ollama's is the SHA-256 of the content; the store
  // reader does not hash 40 GB blobs, so any well-formed digest does here).
  Json add_blob(std::string_view media, std::string_view content) {
    const std::string digest = fmt::format("sha256:{:064x}", ++blobs_);
    std::ofstream(blob_path(dir(), digest), std::ios::binary) << content;
    return layer(media, digest, content.size());
  }

  // A small valid GGUF header, as the model blob.
  Json add_gguf_blob(std::string_view media = model_media) {
    test::GgufWriter w;
    w.set_string("general.architecture", "llama");
    const std::array<std::int64_t, 2> ne{64, 32};
    w.add_tensor("token_embd.weight", ne, GgmlType::q8_0);
    return add_blob(media, w.header() + std::string(w.data_size(), '\0'));
  }

  Json add_config() {
    return add_blob(config_media, R"({"model_format":"gguf","model_family":"llama",)"
                                  R"("model_type":"8.0B","file_type":"Q4_K_M"})");
  }

  std::string write_manifest(const std::string& relative, const Json& manifest) {
    return write_manifest_text(relative, manifest.dump());
  }
  std::string write_manifest_text(const std::string& relative, std::string_view text) {
    const fs::path path = dir_ / "manifests" / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  // A complete manifest: config + model + optional extra layers.
  Json model_manifest(std::vector<Json> extra = {}) {
    Json j = manifest_json({});
    j["config"] = add_config();
    j["layers"].push_back(add_gguf_blob());
    j["layers"].push_back(add_blob(template_media, "{{ .Prompt }}"));
    for (Json& l : extra) j["layers"].push_back(std::move(l));
    return j;
  }

  std::string error_for(std::string_view name) {
    return error_of([&] { (void)find_ollama_model(name, dir()); });
  }

  fs::path dir_;
  int blobs_ = 0;
};

TEST_F(OllamaStore, ResolvesATaggedName) {
  const Json manifest = model_manifest();
  const std::string path = write_manifest("registry.ollama.ai/library/llama3.1/8b", manifest);

  const std::optional<OllamaModel> m = find_ollama_model("llama3.1:8b", dir());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->name, qualified("registry.ollama.ai", "library", "llama3.1", "8b"));
  EXPECT_EQ(m->manifest_path, path);
  EXPECT_EQ(m->model.digest, manifest["layers"][0]["digest"]);
  EXPECT_EQ(m->model.path, blob_path(dir(), m->model.digest));
  EXPECT_EQ(m->model.size, manifest["layers"][0]["size"]);
  EXPECT_TRUE(m->projectors.empty());
  EXPECT_TRUE(m->adapters.empty());
  EXPECT_FALSE(m->draft.has_value());
  EXPECT_EQ(m->params, OllamaParams{});
  EXPECT_EQ(m->config, (OllamaConfig{.model_format = "gguf",
                                     .model_family = "llama",
                                     .model_type = "8.0B",
                                     .file_type = "Q4_K_M"}));
  // The blob is the GGUF the reader can open (the store code itself never parses it).
  EXPECT_EQ(read_gguf_file(m->model.path).tensors.size(), 1u);
}

// docs/reliability.md §2: a manifest that is a FIFO is refused, not waited on.
TEST_F(OllamaStore, FifoManifestIsRefusedWithoutBlocking) {
  const fs::path manifest = dir_ / "manifests/registry.ollama.ai/library/llama3.1/8b";
  fs::create_directories(manifest.parent_path());
  ASSERT_TRUE(test::make_fifo(manifest.string()));
  std::string message;
  EXPECT_TRUE(test::bounded(manifest.string(), [&] {
    try {
      (void)find_ollama_model("llama3.1:8b", dir());
      ADD_FAILURE() << "found";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::io);
      message = e.what();
    }
  }));
  EXPECT_EQ(message, "cannot read '" + manifest.string() + "': is a FIFO");
}

// A model blob that is a FIFO: the store is malformed (exit 3), and nothing waits on it.
TEST_F(OllamaStore, FifoModelBlobIsRefused) {
  const Json manifest = model_manifest();
  const std::string path = write_manifest("registry.ollama.ai/library/llama3.1/8b", manifest);
  const std::string blob = blob_path(dir(), manifest["layers"][0]["digest"].get<std::string>());
  fs::remove(blob);
  ASSERT_TRUE(test::make_fifo(blob));
  std::string message;
  EXPECT_TRUE(test::bounded(blob, [&] { message = error_for("llama3.1:8b"); }));
  EXPECT_EQ(message, path + ": model blob '" + blob + "' is not a regular file");
}

TEST_F(OllamaStore, BareNameMeansLatest) {
  write_manifest("registry.ollama.ai/library/llama3.1/latest", model_manifest());
  write_manifest("registry.ollama.ai/library/llama3.1/8b", model_manifest());
  const std::optional<OllamaModel> m = find_ollama_model("llama3.1", dir());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->name.tag, "latest");
  EXPECT_EQ(fs::path(m->manifest_path).filename(), "latest");
}

TEST_F(OllamaStore, MatchesCaseInsensitivelyAndReportsTheStoredSpelling) {
  write_manifest("registry.ollama.ai/library/llama3.1/8b", model_manifest());
  const std::optional<OllamaModel> m = find_ollama_model("LLAMA3.1:8B", dir());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->name, qualified("registry.ollama.ai", "library", "llama3.1", "8b"));
  EXPECT_EQ(m->manifest_path, (dir_ / "manifests/registry.ollama.ai/library/llama3.1/8b").string());

  // Pulled with capitals, asked for in lower case.
  write_manifest("hf.co/Org/Repo/Q4_K_M", model_manifest());
  const std::optional<OllamaModel> hf = find_ollama_model("hf.co/org/repo:q4_k_m", dir());
  ASSERT_TRUE(hf.has_value());
  EXPECT_EQ(hf->name, qualified("hf.co", "Org", "Repo", "Q4_K_M"));
}

TEST_F(OllamaStore, ResolvesUserNamespaceAndHuggingFaceNames) {
  write_manifest("registry.ollama.ai/user/m/t", model_manifest());
  write_manifest("hf.co/org/repo/Q4_K_M", model_manifest());
  const std::optional<OllamaModel> user = find_ollama_model("user/m:t", dir());
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->name.namespace_, "user");
  const std::optional<OllamaModel> hf = find_ollama_model("hf.co/org/repo:Q4_K_M", dir());
  ASSERT_TRUE(hf.has_value());
  EXPECT_EQ(hf->name, qualified("hf.co", "org", "repo", "Q4_K_M"));
  EXPECT_EQ(find_ollama_model("hf.co/org/repo", dir()), std::nullopt);  // no :latest there
}

TEST_F(OllamaStore, ReadsMemoryParams) {
  write_manifest(
      "registry.ollama.ai/library/m/latest",
      model_manifest({add_blob(params_media, R"({"num_ctx":8192,"num_batch":"256",)"
                                             R"("num_gpu":-1,"num_thread":8,)"
                                             R"("use_mmap":false,"temperature":0.6,)"
                                             R"("stop":["<|eot_id|>"],"mirostat":"x"})")}));
  const std::optional<OllamaModel> m = find_ollama_model("m", dir());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->params.num_ctx, 8192);
  EXPECT_EQ(m->params.num_batch, 256);
  EXPECT_EQ(m->params.num_gpu, -1);
  EXPECT_EQ(m->params.num_thread, 8);
  EXPECT_EQ(m->params.use_mmap, false);
  EXPECT_EQ(m->params.other,
            (std::map<std::string, std::string>{
                {"mirostat", "x"}, {"stop", R"(["<|eot_id|>"])"}, {"temperature", "0.6"}}));
}

TEST_F(OllamaStore, RejectsParamsThatAreNotIntegers) {
  Json manifest = model_manifest({add_blob(params_media, R"({"num_ctx":"big"})")});
  const std::string path = write_manifest("registry.ollama.ai/library/m/latest", manifest);
  const std::string params = blob_path(dir(), manifest["layers"][2]["digest"].get<std::string>());
  EXPECT_EQ(error_for("m"),
            fmt::format("{}: params blob '{}': 'num_ctx' is '\"big\"', not an integer >= 0", path,
                        params));

  manifest = model_manifest({add_blob(params_media, R"({"num_ctx":8192.5})")});
  write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_NE(error_for("m").find("'num_ctx' is '8192.5', not an integer"), std::string::npos);

  manifest = model_manifest({add_blob(params_media, R"({"num_gpu":4294967296})")});
  write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_NE(error_for("m").find("'num_gpu' is '4294967296', not an integer"), std::string::npos);

  manifest = model_manifest({add_blob(params_media, R"({"use_mmap":1})")});
  write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_NE(error_for("m").find("'use_mmap' is '1', not a boolean"), std::string::npos);

  manifest = model_manifest({add_blob(params_media, R"(["num_ctx"])")});
  write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_NE(error_for("m").find("': not a JSON object"), std::string::npos);
}

TEST_F(OllamaStore, FindsProjectorAdapterAndDraftLayers) {
  const Json projector = add_gguf_blob(projector_media);
  const Json adapter = add_blob("application/vnd.ollama.image.adapter", "lora");
  const Json draft = add_blob("application/vnd.ollama.image.draft", "draft");
  write_manifest("registry.ollama.ai/library/gemma3/4b",
                 model_manifest({projector, adapter, draft}));
  const std::optional<OllamaModel> m = find_ollama_model("gemma3:4b", dir());
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->projectors.size(), 1u);
  EXPECT_EQ(m->projectors[0].digest, projector["digest"]);
  EXPECT_EQ(m->projectors[0].path, blob_path(dir(), projector["digest"].get<std::string>()));
  EXPECT_EQ(m->projectors[0].size, projector["size"]);
  ASSERT_EQ(m->adapters.size(), 1u);
  EXPECT_EQ(m->adapters[0].size, 4u);
  ASSERT_TRUE(m->draft.has_value());
  EXPECT_EQ(m->draft->path, blob_path(dir(), draft["digest"].get<std::string>()));
}

TEST_F(OllamaStore, UnknownNamesAreNotFound) {
  write_manifest("registry.ollama.ai/library/llama3.1/8b", model_manifest());
  EXPECT_EQ(find_ollama_model("llama3.1:70b", dir()), std::nullopt);
  EXPECT_EQ(find_ollama_model("qwen3", dir()), std::nullopt);
  EXPECT_EQ(find_ollama_model("llama3.1:8b", (dir_ / "nowhere").string()), std::nullopt);
  EXPECT_EQ(find_ollama_model("llama3.1:8b", ""), std::nullopt);
  // A directory where the manifest file should be.
  fs::create_directories(dir_ / "manifests/registry.ollama.ai/library/dir/latest");
  EXPECT_EQ(find_ollama_model("dir", dir()), std::nullopt);
}

TEST_F(OllamaStore, NamesCannotWalkOutOfTheStore) {
  // A manifest outside manifests/<host>/<namespace>/<model>/<tag> that ".." could reach.
  const Json manifest = model_manifest();
  write_manifest("registry.ollama.ai/library/x/latest", manifest);
  std::ofstream(dir_ / "secret") << manifest.dump();
  for (const std::string_view name : {"../../../secret", "../secret", "..", "x/../../secret"}) {
    EXPECT_EQ(find_ollama_model(name, dir()), std::nullopt) << name;
  }
  EXPECT_EQ(find_ollama_model(qualified("registry.ollama.ai", "..", "..", "secret"), dir()),
            std::nullopt);
  EXPECT_EQ(find_ollama_model(qualified("..", "..", "..", "secret"), dir()), std::nullopt);
  EXPECT_EQ(find_ollama_model(qualified("registry.ollama.ai", "library", "x/..", "latest"), dir()),
            std::nullopt);
}

TEST_F(OllamaStore, DigestsCannotWalkOutOfBlobs) {
  std::ofstream(dir_ / "outside") << "GGUF";
  Json manifest = model_manifest();
  manifest["layers"][0]["digest"] = "sha256:../outside";
  const std::string path = write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_EQ(error_for("m"),
            path +
                ": layers[0]: invalid digest 'sha256:../outside' (expected 'sha256:' and 64 "
                "lowercase hex digits)");
}

TEST_F(OllamaStore, MissingBlobIsAnError) {
  const Json manifest = model_manifest();
  const std::string path = write_manifest("registry.ollama.ai/library/m/latest", manifest);
  const std::string blob = blob_path(dir(), manifest["layers"][0]["digest"].get<std::string>());
  fs::remove(blob);
  EXPECT_EQ(error_for("m"), fmt::format("{}: model blob '{}' is missing", path, blob));
}

TEST_F(OllamaStore, BlobOfTheWrongSizeIsAnError) {
  Json manifest = model_manifest();
  const std::uint64_t real = manifest["layers"][0]["size"];
  manifest["layers"][0]["size"] = real + 1;
  const std::string path = write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_EQ(error_for("m"),
            fmt::format("{}: model blob '{}' is {} bytes, the manifest says {}", path,
                        blob_path(dir(), manifest["layers"][0]["digest"].get<std::string>()), real,
                        real + 1));
}

TEST_F(OllamaStore, MalformedManifestsAreErrors) {
  const std::string path = write_manifest_text("registry.ollama.ai/library/m/latest", "{\"la");
  EXPECT_EQ(error_for("m"), path + ": malformed JSON: unexpected end of input");

  Json manifest = model_manifest();
  manifest.erase("layers");
  write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_EQ(error_for("m"), path + ": missing 'layers'");

  manifest = model_manifest();
  manifest["layers"][0]["digest"] = "sha256:1234";
  write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_NE(error_for("m").find(": layers[0]: invalid digest 'sha256:1234'"), std::string::npos);

  write_manifest_text("registry.ollama.ai/library/m/latest",
                      std::string(ollama_max_manifest_bytes + 1, ' '));
  EXPECT_EQ(error_for("m"), path + ": manifest is 1048577 bytes, more than the limit of 1048576");
}

TEST_F(OllamaStore, ManifestWithoutModelLayerIsAnError) {
  Json manifest = manifest_json({});
  manifest["config"] = add_config();
  manifest["layers"].push_back(add_blob("application/vnd.ollama.image.tensor", "st"));
  const std::string path = write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_EQ(error_for("m"),
            path +
                ": no model layer ('application/vnd.ollama.image.model'); safetensors models "
                "cannot be read");

  manifest["config"] = add_blob(config_media, R"({"remote_host":"https://ollama.com:443"})");
  manifest["layers"] = Json::array();
  write_manifest("registry.ollama.ai/library/m/latest", manifest);
  EXPECT_EQ(error_for("m"),
            path + ": cloud model on 'https://ollama.com:443' has no local weights");
}

TEST_F(OllamaStore, UnreadableConfigLeavesLabelsEmpty) {
  Json manifest = model_manifest();
  manifest["config"] = add_blob(config_media, "not json");
  write_manifest("registry.ollama.ai/library/m/latest", manifest);
  const std::optional<OllamaModel> m = find_ollama_model("m", dir());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->config, OllamaConfig{});

  fs::remove(blob_path(dir(), manifest["config"]["digest"].get<std::string>()));
  const std::optional<OllamaModel> without = find_ollama_model("m", dir());
  ASSERT_TRUE(without.has_value());
  EXPECT_EQ(without->config, OllamaConfig{});
}

TEST_F(OllamaStore, LastModelLayerWins) {
  Json manifest = model_manifest();
  const Json second = add_gguf_blob();
  manifest["layers"].push_back(second);
  write_manifest("registry.ollama.ai/library/m/latest", manifest);
  const std::optional<OllamaModel> m = find_ollama_model("m", dir());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->model.digest, second["digest"]);
}

// --- where the store is --------------------------------------------------------------------

class OllamaModelsDir : public OllamaStore {
 protected:
  Getenv env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& key) -> std::optional<std::string> {
      const auto it = vars.find(key);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
  [[nodiscard]] std::string service() const { return (dir_ / "service").string(); }
};

TEST_F(OllamaModelsDir, OllamaModelsWinsEvenWhenMissing) {
  fs::create_directories(dir_ / "home/.ollama/models");
  fs::create_directories(service());
  EXPECT_EQ(models_dir(env({{"OLLAMA_MODELS", "/srv/models"}, {"HOME", (dir_ / "home").string()}}),
                       service()),
            "/srv/models");
  // Trimmed like Ollama's envconfig.Var: spaces, then quotes.
  EXPECT_EQ(models_dir(env({{"OLLAMA_MODELS", " \"/srv/models\" "}}), service()), "/srv/models");
}

TEST_F(OllamaModelsDir, FallsBackToHome) {
  const std::string home = (dir_ / "home").string();
  fs::create_directories(dir_ / "home/.ollama/models");
  fs::create_directories(service());
  EXPECT_EQ(models_dir(env({{"HOME", home}}), service()), home + "/.ollama/models");
  EXPECT_EQ(models_dir(env({{"OLLAMA_MODELS", ""}, {"HOME", home}}), service()),
            home + "/.ollama/models");
}

TEST_F(OllamaModelsDir, UsesTheServiceStoreWhenHomeHasNone) {
  const std::string home = (dir_ / "home").string();
  fs::create_directories(service());
  EXPECT_EQ(models_dir(env({{"HOME", home}}), service()), service());
  EXPECT_EQ(models_dir(env({}), service()), service());
  // Neither exists: the home path, so a message can name where it looked.
  fs::remove_all(service());
  EXPECT_EQ(models_dir(env({{"HOME", home}}), service()), home + "/.ollama/models");
  EXPECT_EQ(models_dir(env({}), service()), std::nullopt);
}

TEST_F(OllamaModelsDir, FindsAModelThroughTheEnvironment) {
  write_manifest("registry.ollama.ai/library/llama3.1/8b", model_manifest());
  const std::optional<std::string> store = models_dir(env({{"OLLAMA_MODELS", dir()}}), service());
  ASSERT_TRUE(store.has_value());
  EXPECT_TRUE(find_ollama_model("llama3.1:8b", *store).has_value());
}

// --- inline projector tensors --------------------------------------------------------------

TEST(OllamaProjector, SplitsInlineVisionTensors) {
  std::vector<TensorInfo> tensors{
      {"token_embd.weight", {64, 32, 1, 1}, GgmlType::f32},
      {"v.blk.0.attn_q.weight", {16, 16, 1, 1}, GgmlType::f32},
      {"blk.0.attn_q.weight", {64, 64, 1, 1}, GgmlType::f32},
      {"mm.input_projection.weight", {16, 64, 1, 1}, GgmlType::f16},
      {"a.conv1d.0.weight", {8, 1, 1, 1}, GgmlType::f32},
      {"attn.weight", {4, 1, 1, 1}, GgmlType::f32},  // "a" without a dot stays
      {"output.weight", {64, 32, 1, 1}, GgmlType::f32},
  };
  const Bytes projector = split_projector_tensors(tensors);
  EXPECT_EQ(projector, 16 * 16 * 4 + 16 * 64 * 2 + 8 * 4);
  std::vector<std::string> names;
  for (const TensorInfo& t : tensors) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"token_embd.weight", "blk.0.attn_q.weight",
                                             "attn.weight", "output.weight"}));

  std::vector<TensorInfo> text_only{{"blk.0.ffn_up.weight", {8, 8, 1, 1}, GgmlType::f32}};
  EXPECT_EQ(split_projector_tensors(text_only), 0);
  EXPECT_EQ(text_only.size(), 1u);
}

}  // namespace
}  // namespace vramplan::io
