// Bounded YAML reading shared by the catalog readers (private to src/io): a document is
// counted by yaml-cpp's event parser before its node tree is built, and messages quoting the
// file stay on one line (docs/reliability.md §6).
#pragma once

#include <cctype>
#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <vramplan/io/catalog_yaml.hpp>

#include "escape_controls.hpp"

namespace vramplan::io {

// A document past one of the limits in catalog_yaml.hpp, where it went past.
struct YamlLimit {
  YAML::Mark mark;
  std::string what;
};

[[nodiscard]] inline std::string lower_first(std::string text) {
  if (!text.empty()) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

// A yaml-cpp message for a one-line error: it quotes the offending byte as is ("unknown escape
// character: " and a newline).
[[nodiscard]] inline std::string yaml_message(const std::string& msg) {
  return escape_controls(lower_first(msg));
}

// Counts a document by events, before yaml-cpp builds its node tree (a few hundred bytes per
// node): nodes, with each alias counting the nodes of what it repeats, nesting and scalar
// length. Throws YamlLimit at the first event past a limit.
class Census : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, 1); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    leaf(mark, 0, anchor < sizes_.size() ? sizes_[anchor] : 1);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    if (value.size() > catalog_max_scalar) {
      throw YamlLimit{mark, fmt::format("a YAML scalar of {} bytes exceeds the limit of {}",
                                        value.size(), catalog_max_scalar)};
    }
    leaf(mark, anchor, 1);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    std::size_t nodes_before;
  };

  void count(const YAML::Mark& mark, std::size_t n) {
    nodes_ += n;  // n <= catalog_max_nodes: no overflow
    if (nodes_ > catalog_max_nodes) {
      throw YamlLimit{mark, fmt::format("more than {} YAML nodes", catalog_max_nodes)};
    }
  }
  void remember(YAML::anchor_t anchor, std::size_t n) {
    if (anchor == YAML::NullAnchor) return;
    if (sizes_.size() <= anchor) sizes_.resize(anchor + 1, 1);  // anchors <= nodes, 1-based
    sizes_[anchor] = n;
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, std::size_t n) {
    count(mark, n);
    remember(anchor, n);
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (stack_.size() >= catalog_max_depth) {
      throw YamlLimit{mark, fmt::format("YAML nested deeper than {} levels", catalog_max_depth)};
    }
    count(mark, 1);
    stack_.push_back(Open{anchor, nodes_ - 1});
  }
  void close() {
    if (stack_.empty()) return;
    remember(stack_.back().anchor, nodes_ - stack_.back().nodes_before);
    stack_.pop_back();
  }

  std::size_t nodes_ = 0;
  std::vector<Open> stack_;
  std::vector<std::size_t> sizes_;  // anchor -> nodes it names
};

// The first document of `text` (what YAML::Load reads), counted first: throws YamlLimit past
// catalog_max_nodes, catalog_max_depth or catalog_max_scalar, YAML::Exception when malformed.
// The caller checks the byte size (catalog_max_bytes) before.
[[nodiscard]] inline YAML::Node load_bounded_yaml(std::string_view text) {
  std::istringstream stream{std::string(text)};
  YAML::Parser parser(stream);
  Census census;
  parser.HandleNextDocument(census);
  return YAML::Load(std::string(text));
}

}  // namespace vramplan::io
