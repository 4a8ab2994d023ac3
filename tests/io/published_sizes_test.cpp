// Catalog sizes against published file sizes: the tensor bytes generated for a catalog model
// must land within 2 % of the size its publisher shows (issue: "catalog sizes land within 2 %
// of the published file sizes"). Sizes are the Ollama library's, in decimal GB as the "Model
// library" table of the ollama/ollama README prints them (the commits are in
// tests/data/ollama-tags.tsv); a shown "4.1GB" stands for anything in [4.05, 4.15), so the
// rounding is allowed on top.
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <iostream>

#include <gtest/gtest.h>

#include <vramplan/catalog.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/tensors.hpp>

namespace vramplan {
namespace {

struct Published {
  const char* name;   // catalog name incl. the quantization the tag uses
  double gb;          // as shown
  double last_digit;  // unit of the last shown digit (0.1 for "4.1GB", 1 for "43GB")
};

// Text-only models whose tag quantization is unambiguous from the size.
constexpr Published published[] = {
    {"llama2:7b-q4_0", 3.8, 0.1},     {"llama2:13b-q4_0", 7.3, 0.1},
    {"llama2:70b-q4_0", 39, 1},       {"codellama:7b-q4_0", 3.8, 0.1},
    {"llama3:8b-q4_0", 4.7, 0.1},     {"llama3:70b-q4_0", 40, 1},
    {"llama3.1:8b-q4_0", 4.7, 0.1},   {"llama3.1:70b-q4_0", 40, 1},
    {"llama3.1:405b-q4_0", 231, 1},   {"llama3.2:1b-q8_0", 1.3, 0.1},
    {"llama3.2:3b-q4_K_M", 2.0, 0.1}, {"llama3.3:70b-q4_K_M", 43, 1},
    {"mistral:7b-q4_0", 4.1, 0.1},    {"gemma2:27b-q4_0", 16, 1},
    {"phi3:14b-q4_0", 7.9, 0.1},      {"phi4:14b-q4_K_M", 9.1, 0.1},
    {"qwq:32b-q4_K_M", 20, 1},        {"deepseek-r1:7b-q4_K_M", 4.7, 0.1},
};

class PublishedSize : public testing::TestWithParam<Published> {};

TEST_P(PublishedSize, GeneratedTensorsMatchWithinTwoPercent) {
  static const Catalog catalog = io::load_catalog({}, "");
  const Published& p = GetParam();
  const auto ref = catalog.resolve(p.name);
  ASSERT_TRUE(ref.has_value()) << p.name;
  Bytes total = 0;
  for (const TensorInfo& t : generate_tensors(ref->entry->spec, ref->quant)) total += t.bytes();
  const double gb = static_cast<double>(total) / 1e9;
  const double allowed = 0.02 * p.gb + p.last_digit / 2;
  EXPECT_NEAR(gb, p.gb, allowed) << p.name << ": generated " << gb << " GB";
}

std::string case_name(const testing::TestParamInfo<Published>& info) {
  std::string name = info.param.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(OllamaLibrary, PublishedSize, testing::ValuesIn(published), case_name);

// Entries with a field derived from third-party GGUF files rather than read from a config: the
// files' sizes (as the Hugging Face file lists show them) pin the derivation, so a change to the
// entry's shape that breaks it fails here. starcoder2:7b's tied output head: an untied one would
// put the Q4_K_M, Q6_K and Q8_0 files 0.2-0.24 GB above these, beyond the 2 % allowed (checked by
// flipping it); Q4_0 (+0.13 GB) alone would still pass (huggingface.co/QuantFactory/
// starcoder2-7b-GGUF, tree 77ca652e).
constexpr Published derived[] = {
    {"starcoder2:7b-q4_0", 4.1, 0.1},
    {"starcoder2:7b-q4_K_M", 4.46, 0.01},
    {"starcoder2:7b-q6_K", 5.89, 0.01},
    {"starcoder2:7b-q8_0", 7.63, 0.01},
};

INSTANTIATE_TEST_SUITE_P(DerivedFromGgufFiles, PublishedSize, testing::ValuesIn(derived),
                         case_name);

// Text-only GGUF files published on Hugging Face for entries whose Ollama tags have no sourced
// size: the same shape and quantization mix without the vision tower (generate_tensors leaves the
// projector out). Mistral Small 3.2 24B (2506): bartowski's GGUFs (llama.cpp b5697) Q4_K_M
// 14.33, Q5_K_M 16.76, Q6_K 19.35 and Q8_0 25.05 GB, as quoted on
// smeltcore.com/recipes/mistral-small-3-2-24b-on-m3-max-48gb-local-private-assistant-via-llama-cpp-
// ollama-on-apple-metal/ (read 2026-12-04); vramplan's text model gives 14.33 / 16.76 / 19.34 /
// 25.05 GB.
constexpr Published huggingface_gguf[] = {
    {"mistral-small3.2:24b-q4_K_M", 14.33, 0.01},
    {"mistral-small3.2:24b-q5_K_M", 16.76, 0.01},
    {"mistral-small3.2:24b-q6_K", 19.35, 0.01},
    {"mistral-small3.2:24b-q8_0", 25.05, 0.01},
};

INSTANTIATE_TEST_SUITE_P(HuggingFaceGgufFiles, PublishedSize, testing::ValuesIn(huggingface_gguf),
                         case_name);

// The committed, sourced list of tags and the sizes the Ollama library shows for them
// (tests/data/ollama-tags.tsv): every name resolves, the catalog's file (tensor bytes plus the
// vision projector, which the shown size includes) lands within 2 % plus the display rounding
// for at least 95 % of the rows, and a shown context length matches the entry's.
struct TagRow {
  std::string name;
  std::string shown;
  std::string context;
  std::string checked;
  std::string source;
  std::string note;  // "-" or "excluded: why"
};

std::vector<TagRow> tag_rows() {
  std::ifstream in(VRAMPLAN_OLLAMA_TAGS);
  std::vector<TagRow> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> fields;
    std::istringstream split(line);
    for (std::string field; std::getline(split, field, '\t');) fields.push_back(field);
    if (fields.size() != 6) {
      ADD_FAILURE() << "ollama-tags.tsv: expected 6 tab-separated fields: " << line;
      continue;
    }
    rows.push_back({fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]});
  }
  return rows;
}

// "4.1GB" -> {4.1e9, 0.05e9}, "815MB" -> {815e6, 0.5e6}, "4683075271B" -> {4683075271, 0}.
// A trailing '+' marks a truncated display (Ollama's client prints sizes of 10 units and up
// without decimals, cut, not rounded): "41GB+" is 41.0-41.99 GB -> {41.5e9, 0.5e9}.
struct Shown {
  double bytes = 0;
  double rounding = 0;  // half a unit of the last shown digit
};

Shown parse_shown_rounded(const std::string& text);

Shown parse_shown(const std::string& text) {
  if (text.ends_with('+')) {
    Shown shown = parse_shown_rounded(text.substr(0, text.size() - 1));
    shown.bytes += shown.rounding;
    return shown;
  }
  return parse_shown_rounded(text);
}

Shown parse_shown_rounded(const std::string& text) {
  const auto number = [&](std::size_t unit_length) {
    return text.substr(0, text.size() - unit_length);
  };
  auto half_digit = [](const std::string& digits, double unit) {
    const std::size_t dot = digits.find('.');
    const double last = dot == std::string::npos
                            ? unit
                            : unit * std::pow(10.0, -static_cast<double>(digits.size() - dot - 1));
    return last / 2;
  };
  if (text.ends_with("GB")) {
    const std::string digits = number(2);
    return {std::stod(digits) * 1e9, half_digit(digits, 1e9)};
  }
  if (text.ends_with("MB")) {
    const std::string digits = number(2);
    return {std::stod(digits) * 1e6, half_digit(digits, 1e6)};
  }
  if (text.ends_with("B")) return {std::stod(number(1)), 0};
  ADD_FAILURE() << "ollama-tags.tsv: unknown size '" << text << "'";
  return {};
}

TEST(OllamaLibraryTags, ParsesShownSizes) {
  EXPECT_DOUBLE_EQ(parse_shown("4.1GB").bytes, 4.1e9);
  EXPECT_NEAR(parse_shown("4.1GB").rounding, 0.05e9, 1);
  EXPECT_NEAR(parse_shown("43GB").rounding, 0.5e9, 1);
  EXPECT_NEAR(parse_shown("815MB").rounding, 0.5e6, 1e-3);
  EXPECT_DOUBLE_EQ(parse_shown("4683075271B").bytes, 4683075271.0);
  EXPECT_EQ(parse_shown("4683075271B").rounding, 0);
  EXPECT_DOUBLE_EQ(parse_shown("41GB+").bytes, 41.5e9);
  EXPECT_NEAR(parse_shown("41GB+").rounding, 0.5e9, 1);
  EXPECT_DOUBLE_EQ(parse_shown("522MB+").bytes, 522.5e6);
}

// A row's note says what the catalog is expected to do with it: "-" resolve it and land within
// 2 % (counted); "excluded: why" resolve it, but the shown size is of a build the catalog does not
// model (reported, not counted); "waiting: why" a family whose architecture vramplan does not
// have yet (listed so the coverage is honest; reported, not counted, and it must not resolve to a
// different model: once it resolves, mark the row "-"); "refused: why" a tag the resolver refuses
// by design (a qat build: its tensor mix is not modelled), which must keep failing with the
// resolver's message rather than silently resolve to another size (listed, not counted).
enum class RowKind { expected, excluded, waiting, refused };

RowKind row_kind(const std::string& note) {
  if (note.starts_with("excluded: ")) return RowKind::excluded;
  if (note.starts_with("waiting: ")) return RowKind::waiting;
  if (note.starts_with("refused: ")) return RowKind::refused;
  EXPECT_EQ(note, "-") << "note must be '-', 'excluded: why', 'waiting: why' or 'refused: why'";
  return RowKind::expected;
}

TEST(OllamaLibraryTags, NinetyFivePercentWithinTwoPercent) {
  static const Catalog catalog = io::load_catalog({}, "");
  const std::vector<TagRow> rows = tag_rows();
  ASSERT_GE(rows.size(), 60u);
  std::size_t counted = 0;
  std::size_t within = 0;
  std::size_t excluded = 0;
  std::size_t waiting = 0;
  std::size_t refused = 0;
  std::set<std::string> families_resolved;
  std::set<std::string> families_waiting;
  for (const TagRow& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_FALSE(row.checked.empty());
    EXPECT_FALSE(row.source.empty());
    const std::string family = row.name.substr(0, row.name.find(':'));
    const RowKind kind = row_kind(row.note);
    if (kind == RowKind::refused) {
      ++refused;
      EXPECT_THROW(static_cast<void>(catalog.resolve(row.name)), Error) << row.name;
      continue;
    }
    const auto ref = catalog.resolve(row.name);
    if (kind == RowKind::waiting) {
      ++waiting;
      families_waiting.insert(family);
      if (ref.has_value()) {
        std::cout << "[tags] " << row.name << " now resolves (to " << ref->entry->id
                  << "): mark the row '-'\n";
      }
      continue;
    }
    ASSERT_TRUE(ref.has_value()) << row.name << " does not resolve";
    // Every part of the library's real tags is a quantization or a variant word the resolver
    // knows: none of them draws the "neither ... nor" warning.
    EXPECT_TRUE(ref->unknown_parts.empty())
        << row.name << ": '" << ref->unknown_parts.front() << "' is not a known variant";
    families_resolved.insert(family);
    Bytes total = ref->entry->projector ? ref->entry->projector->bytes : 0;
    for (const TensorInfo& t : generate_tensors(ref->entry->spec, ref->quant)) total += t.bytes();
    const Shown shown = parse_shown(row.shown);
    const double difference = static_cast<double>(total) - shown.bytes;
    const bool close = std::abs(difference) <= 0.02 * shown.bytes + shown.rounding;
    if (kind == RowKind::excluded) {
      ++excluded;
    } else {
      ++counted;
      if (close) ++within;
    }
    if (!close || kind == RowKind::excluded) {
      std::cout << "[tags] " << row.name << ": shown " << row.shown << ", catalog "
                << static_cast<double>(total) / 1e9 << " GB (" << 100 * difference / shown.bytes
                << " %)" << (kind == RowKind::excluded ? " [excluded]" : "") << "\n";
    }
    if (row.context != "-") {
      EXPECT_EQ(std::to_string(ref->entry->spec.n_ctx_train), row.context);
    }
  }
  std::cout << "[tags] " << rows.size() << " rows: " << within << " of " << counted
            << " counted within 2 %, " << excluded << " excluded, " << waiting
            << " waiting for an architecture, " << refused
            << " refused by the resolver\n[tags] families resolved (" << families_resolved.size()
            << "):";
  for (const std::string& f : families_resolved) std::cout << ' ' << f;
  std::cout << "\n[tags] families waiting (" << families_waiting.size() << "):";
  for (const std::string& f : families_waiting) std::cout << ' ' << f;
  std::cout << "\n";
  EXPECT_LE(8 * excluded, rows.size());
  EXPECT_GE(static_cast<double>(within), 0.95 * static_cast<double>(counted));
}

}  // namespace
}  // namespace vramplan
