#include <algorithm>
#include <charconv>
#include <filesystem>
#include <span>

#include <fmt/format.h>

#include <vramplan/architecture.hpp>
#include <vramplan/error.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/io/hf_model.hpp>
#include <vramplan/tensors.hpp>

#include "json_input.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t max_config_bytes = 16u << 20;

bool is_one_of(std::string_view value, std::initializer_list<std::string_view> values) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

void add_file(HfModel& model, const std::string& path, FileSource& source,
              const SafetensorsHeader& header) {
  model.files.push_back(HfWeightFile{.path = path,
                                     .file_size = header.file_size,
                                     .header_size = header.header_size,
                                     .tensors = header.tensors.size()});
  if (model.tensors.size() + header.tensors.size() > hf_max_tensors) {
    bad_input(path, fmt::format("the model's files list more than {} tensors", hf_max_tensors));
  }
  model.bytes_read += source.bytes_read();
  for (const SafetensorsTensor& t : header.tensors) {
    model.weight_bytes += t.bytes();
    model.bytes_per_dtype[std::string(to_string(t.dtype))] += t.bytes();
    model.tensors.push_back(t);
  }
}

void read_index(HfModel& model, const fs::path& dir, const fs::path& index_path) {
  const std::string origin = index_path.string();
  const SafetensorsIndex index = parse_safetensors_index(read_text_file(origin), origin);
  std::map<std::string, std::string> owner;  // tensor -> shard holding it
  for (const std::string& shard : index.shards) {
    const std::string path = (dir / shard).string();
    FileSource source(path);
    const SafetensorsHeader header = read_safetensors_header(source, path);
    for (const SafetensorsTensor& t : header.tensors) {
      const auto [it, inserted] = owner.emplace(t.name, shard);
      if (!inserted) {
        bad_input(path, fmt::format("tensor '{}' is also in '{}'", t.name, it->second));
      }
    }
    add_file(model, path, source, header);
  }
  for (const auto& [tensor, file] : index.weight_map) {
    const auto it = owner.find(tensor);
    if (it == owner.end() || it->second != file) {
      bad_input(origin, fmt::format("'weight_map' puts tensor '{}' in '{}', which has no such "
                                    "tensor",
                                    tensor, file));
    }
  }
}

}  // namespace

HfModel load_hf_model(const std::string& path) {
  const fs::path p(path);
  std::error_code ec;
  fs::path dir;
  fs::path config;
  if (fs::is_directory(p, ec)) {
    dir = p;
    config = p / "config.json";
    if (!fs::exists(fs::symlink_status(config, ec))) {  // a FIFO is refused when read
      throw Error(ErrorKind::bad_input,
                  fmt::format("'{}': not a Hugging Face model directory (no config.json)", path));
    }
  } else {
    config = p;
    dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  }
  HfModel model;
  model.config_path = config.string();
  model.config =
      spec_from_hf_config(read_text_file(model.config_path, max_config_bytes), model.config_path);

  const fs::path index = dir / "model.safetensors.index.json";
  const fs::path single = dir / "model.safetensors";
  // Whatever carries a weights file's name is opened as one (FileSource), so a FIFO, a
  // directory or a dangling symlink named model.safetensors is an error, never skipped.
  const auto present = [&ec](const fs::path& file) {
    return fs::exists(fs::symlink_status(file, ec));
  };
  if (present(index)) {
    read_index(model, dir, index);
  } else {
    std::vector<std::string> files;
    if (present(single)) {
      files.push_back(single.string());
    } else {
      for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
    }
    for (const std::string& file : files) {
      FileSource source(file);
      add_file(model, file, source, read_safetensors_header(source, file));
    }
  }
  model.weights_known = !model.files.empty();
  if (model.weights_known) {
    const HfTensorInfos infos = hf_tensor_infos(model.tensors, model.config.spec);
    const auto has = [&](std::string_view name) {
      return std::any_of(infos.tensors.begin(), infos.tensors.end(),
                         [&](const TensorInfo& t) { return t.name == name; });
    };
    if (has("token_embd.weight")) model.config.spec.tied_embeddings = !has("output.weight");
  }
  return model;
}

// --- safetensors -> llama.cpp tensors -------------------------------------------------------

namespace {

// Vision/audio towers and projectors of multimodal checkpoints (llama.cpp puts them in the
// mmproj file).
bool is_projector(std::string_view name) {
  if (name.starts_with("model.")) name.remove_prefix(6);
  for (std::string_view p :
       {"vision_tower.", "vision_model.", "multi_modal_projector.", "mm_projector.", "visual.",
        "audio_tower.", "audio_model.", "embed_vision.", "embed_audio.", "vision_embed_tokens."}) {
    if (name.starts_with(p)) return true;
  }
  return false;
}

// The text model's name with the multimodal wrapper's prefix removed.
std::string strip_language_model(std::string_view name) {
  for (const auto& [from, to] :
       {std::pair<std::string_view, std::string_view>{"model.language_model.", "model."},
        {"language_model.model.", "model."},
        {"language_model.lm_head.", "lm_head."},
        {"language_model.", ""}}) {
    if (name.starts_with(from)) return fmt::format("{}{}", to, name.substr(from.size()));
  }
  return std::string(name);
}

struct Module {
  std::string_view hf;
  std::string_view gguf;
};

// HF module path inside a block -> llama.cpp tensor name (gguf-py tensor_mapping.py).
constexpr auto block_modules = std::to_array<Module>({
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"self_attn.qkv_proj", "attn_qkv"},
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"self_attn.q_a_proj", "attn_q_a"},
    {"self_attn.q_a_layernorm", "attn_q_a_norm"},
    {"self_attn.q_b_proj", "attn_q_b"},
    {"self_attn.kv_a_proj_with_mqa", "attn_kv_a_mqa"},
    {"self_attn.kv_a_layernorm", "attn_kv_a_norm"},
    {"self_attn.kv_b_proj", "attn_kv_b"},
    {"attention.wqkv", "attn_qkv"},
    {"attention.wo", "attn_output"},
    {"attention_norm", "attn_norm"},
    {"ffn_norm", "ffn_norm"},
    {"feed_forward.w1", "ffn_gate"},
    {"feed_forward.w3", "ffn_up"},
    {"feed_forward.w2", "ffn_down"},
    {"input_layernorm", "attn_norm"},
    {"post_attention_layernorm", "ffn_norm"},
    {"pre_feedforward_layernorm", "ffn_norm"},
    {"post_feedforward_layernorm", "post_ffw_norm"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
    {"mlp.gate_up_proj", "ffn_up"},
    {"mlp.c_fc", "ffn_up"},
    {"mlp.c_proj", "ffn_down"},
    {"mlp.gate", "ffn_gate_inp"},
    {"mlp.router", "ffn_gate_inp"},
    {"block_sparse_moe.gate", "ffn_gate_inp"},
    {"mlp.shared_expert_gate", "ffn_gate_inp_shexp"},
    {"mlp.shared_experts.gate_proj", "ffn_gate_shexp"},
    {"mlp.shared_experts.up_proj", "ffn_up_shexp"},
    {"mlp.shared_experts.down_proj", "ffn_down_shexp"},
});

constexpr auto shared_expert_modules = std::to_array<Module>({
    {"mlp.shared_expert.gate_proj", "ffn_gate_shexp"},
    {"mlp.shared_expert.up_proj", "ffn_up_shexp"},
    {"mlp.shared_expert.down_proj", "ffn_down_shexp"},
});

constexpr auto expert_projections = std::to_array<Module>({
    {"gate_proj", "ffn_gate_exps"},
    {"w1", "ffn_gate_exps"},
    {"up_proj", "ffn_up_exps"},
    {"w3", "ffn_up_exps"},
    {"down_proj", "ffn_down_exps"},
    {"w2", "ffn_down_exps"},
});

// Parses "<digits>." at the front of `text`; -1 when it is not there.
std::int64_t leading_index(std::string_view& text) {
  std::int64_t value = -1;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr == text.data() || ptr == text.data() + text.size() || *ptr != '.') {
    return -1;
  }
  text.remove_prefix(static_cast<std::size_t>(ptr - text.data()) + 1);
  return value;
}

struct BlockName {
  std::string name;
  bool expert = false;  // one expert of a per-expert list: merge into *_exps
};

// "self_attn.q_proj.weight" in block il -> "blk.il.attn_q.weight".
BlockName block_name(std::int64_t il, std::string_view rest, const std::string& arch) {
  const std::size_t dot = rest.rfind('.');
  const std::string_view module = dot == std::string_view::npos ? "" : rest.substr(0, dot);
  const std::string_view param = dot == std::string_view::npos ? rest : rest.substr(dot + 1);
  // Gemma 2/3 and OLMo 2 norm after attention, not before the FFN (convert_hf_to_gguf.py).
  const std::string_view post_attn = architecture(arch).post_attn_norm;
  if (module == "post_attention_layernorm" && !post_attn.empty()) {
    return {fmt::format("blk.{}.{}.{}", il, post_attn, param)};
  }
  for (const auto& table :
       {std::span<const Module>(block_modules), std::span<const Module>(shared_expert_modules)}) {
    for (const Module& m : table) {
      if (m.hf == module) return {fmt::format("blk.{}.{}.{}", il, m.gguf, param)};
    }
  }
  for (std::string_view prefix : {"mlp.experts.", "block_sparse_moe.experts."}) {
    if (!module.starts_with(prefix)) continue;
    std::string_view tail = module.substr(prefix.size());
    if (leading_index(tail) < 0) break;
    for (const Module& m : expert_projections) {
      if (m.hf == tail) return {fmt::format("blk.{}.{}.{}", il, m.gguf, param), true};
    }
  }
  return {fmt::format("blk.{}.{}", il, rest)};
}

// Reversed shape (ne[0] = innermost); ranks above 4 fold into ne[3].
std::array<std::int64_t, 4> ne_of(const std::vector<std::int64_t>& shape) {
  std::array<std::int64_t, 4> ne{1, 1, 1, 1};
  const std::size_t rank = shape.size();
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t axis = std::min<std::size_t>(rank - 1 - i, 3);
    ne[axis] *= shape[i];
  }
  return ne;
}

}  // namespace

HfTensorInfos hf_tensor_infos(const std::vector<SafetensorsTensor>& tensors,
                              const ModelSpec& spec) {
  HfTensorInfos out;
  // The Llama 3.1 rope factors, which the converters compute from the config and write first
  // (ModelSpec::rope_freqs; conversion/llama.py generate_extra_tensors).
  if (spec.rope_freqs) {
    out.tensors.push_back({.name = "rope_freqs.weight",
                           .ne = {spec.head_dim_k() / 2, 1, 1, 1},
                           .type = GgmlType::f32});
  }
  for (const char* name : {"rope_factors_long.weight", "rope_factors_short.weight"}) {
    if (spec.rope_factors > 0) {  // LongRoPE's (conversion/phi.py)
      out.tensors.push_back(
          {.name = name, .ne = {spec.rope_factors, 1, 1, 1}, .type = GgmlType::f32});
    }
  }
  std::map<std::string, std::size_t> merged;  // *_exps name -> index in out.tensors
  std::map<std::string, SafetensorsTensor> first_expert;
  for (const SafetensorsTensor& t : tensors) {
    if (is_projector(t.name)) {
      out.projector += t.bytes();
      continue;
    }
    const std::string name = strip_language_model(t.name);
    auto skip = [&] {
      out.skipped += t.bytes();
      ++out.skipped_tensors;
    };
    if (name.ends_with("rotary_emb.inv_freq") || name.starts_with("mtp.") ||
        name.starts_with("model.mtp.")) {
      skip();
      continue;
    }
    TensorInfo info{.name = name, .ne = ne_of(t.shape), .type = same_size_ggml_type(t.dtype)};
    bool expert = false;
    if (name == "model.embed_tokens.weight" || name == "model.tok_embeddings.weight") {
      info.name = "token_embd.weight";
    } else if (name == "lm_head.weight") {
      info.name = "output.weight";
    } else if (name.starts_with("model.norm.") || name.starts_with("model.final_layernorm.")) {
      info.name = fmt::format("output_norm.{}", name.substr(name.rfind('.') + 1));
    } else if (name.starts_with("model.layers.")) {
      std::string_view rest = std::string_view(name).substr(13);
      const std::int64_t il = leading_index(rest);
      if (il >= spec.n_layer) {  // MTP / NextN blocks: not part of the text model
        skip();
        continue;
      }
      if (il >= 0) {
        BlockName b = block_name(il, rest, spec.arch);
        info.name = std::move(b.name);
        expert = b.expert;
      }
    }
    if (expert) {
      const auto it = merged.find(info.name);
      if (it == merged.end()) {
        merged.emplace(info.name, out.tensors.size());
        first_expert.emplace(info.name, t);
        out.tensors.push_back(info);
        continue;
      }
      TensorInfo& m = out.tensors[it->second];
      const SafetensorsTensor& first = first_expert.at(info.name);
      if (first.dtype == t.dtype && first.shape == t.shape) {
        // Experts stack along a new axis (ne[2] of the merged GGUF tensor).
        m.ne[2] += info.ne[2];
        continue;
      }
      info.name += fmt::format(".{}", t.name);  // unlike its siblings: keep it apart
    }
    out.tensors.push_back(std::move(info));
  }
  return out;
}

Model model_from_hf(const HfModel& model, std::string name) {
  const HfConfig& c = model.config;
  std::string source = fmt::format("safetensors {}", model.config_path);
  if (model.weights_known) {
    HfTensorInfos infos = hf_tensor_infos(model.tensors, c.spec);
    const auto top =
        std::max_element(model.bytes_per_dtype.begin(), model.bytes_per_dtype.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    FileType ftype = FileType::mostly_bf16;  // a label only: sizes come from the tensors
    if (top != model.bytes_per_dtype.end()) {
      if (top->first == "F16") ftype = FileType::mostly_f16;
      if (top->first == "F32") ftype = FileType::all_f32;
      if (dtype_size(*parse_safetensors_dtype(top->first)) == 1) ftype = FileType::mostly_q8_0;
    }
    return make_model(std::move(name), std::move(source), c.spec, ftype, std::move(infos.tensors),
                      infos.projector);
  }
  if (c.quant_method) {
    bad_input(model.config_path,
              fmt::format("quantized checkpoint (quant_method '{}') without *.safetensors "
                          "beside it: its weight size cannot be told from config.json alone",
                          *c.quant_method));
  }
  if (!has_tensor_layout(c.spec.arch)) {
    bad_input(model.config_path,
              fmt::format("no *.safetensors beside it, and vramplan has no tensor layout for "
                          "architecture '{}' to size the weights from config.json alone",
                          c.spec.arch));
  }
  FileType ftype = FileType::mostly_bf16;
  if (is_one_of(c.torch_dtype, {"float16", "half"})) ftype = FileType::mostly_f16;
  if (is_one_of(c.torch_dtype, {"float32", "float"})) ftype = FileType::all_f32;
  std::vector<TensorInfo> tensors = generate_tensors(c.spec, ftype);
  return make_model(std::move(name), std::move(source), c.spec, ftype, std::move(tensors));
}

}  // namespace vramplan::io
