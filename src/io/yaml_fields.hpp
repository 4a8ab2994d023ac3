// Reading the maps of a bounded YAML document field by field (private to src/io): the one
// reader under the model catalog and the GPU catalog, so that both check keys, bounds and
// positions the same way and word their errors alike: "file:line:column: key 'k' in <where>
// must be ...".
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace vramplan::io {

using YamlKeys = std::set<std::string, std::less<>>;

// One key of a map, with its value (a null node where the file gives none).
struct YamlField {
  YAML::Node key;
  YAML::Node value;
  [[nodiscard]] bool null() const { return !value || value.IsNull(); }
};
using YamlFieldMap = std::map<std::string, YamlField, std::less<>>;

// How an integer out of its range is told: the model catalog says what was wrong ("must be an
// integer", "must be at least 1", "must be in [a, b]"), the GPU catalog says the whole
// expectation at once ("must be an integer in [a, b]"). Tests pin both wordings.
enum class IntegerWording { separate, combined };

// A reader of one document. A subclass says where the reader is (`where()`: "model 'foo'",
// "GPU #3") and how long a kept string may be per key; `section_` names the nested map being
// read ("moe"), empty at the top of an entry.
class YamlFieldReader {
 public:
  YamlFieldReader(const std::string& origin, IntegerWording wording)
      : origin_(origin), wording_(wording) {}
  YamlFieldReader(const YamlFieldReader&) = delete;
  YamlFieldReader& operator=(const YamlFieldReader&) = delete;
  virtual ~YamlFieldReader() = default;

  // Throws Error(bad_input) "origin:line:column: message" ("origin: message" without a mark),
  // with control bytes escaped: messages quote keys and values from the file.
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const;

  // The document of `text` within the limits of catalog_yaml.hpp; `what` names it in the size
  // error ("catalog is N bytes, more than the limit of M").
  [[nodiscard]] YAML::Node load(std::string_view text, std::string_view what) const;

  // A node's own mark, or its parent's where yaml-cpp has none (implicit null values).
  [[nodiscard]] static YAML::Mark mark_of(const YAML::Node& node, const YAML::Node& parent);

  // The scalar `id` of an entry when it is usable in messages (non-empty, not longer than
  // max_length("id")), else empty: read before the entry's fields, so that their errors name it.
  [[nodiscard]] std::string early_id(const YAML::Node& entry) const;

  // "key 'layers' in model 'foo'" / "key 'window' of 'sliding_window' in model 'foo'".
  [[nodiscard]] std::string key_where(std::string_view key) const;

  // The keys of `map`, each in `allowed` and given once.
  [[nodiscard]] YamlFieldMap fields(const YAML::Node& map, const YamlKeys& allowed) const;

  // A scalar's text; `what` completes "must be ..." when the value is a list or a map.
  [[nodiscard]] const std::string& scalar(const YamlField& f, std::string_view key,
                                          const char* what) const;
  // A non-empty string of at most max_length(key) bytes.
  [[nodiscard]] std::string string(const YamlField& f, std::string_view key) const;
  void check_length(const YamlField& f, std::string_view key, const std::string& value) const;
  // A date YYYY-MM-DD.
  [[nodiscard]] std::string date(const YamlField& f, std::string_view key) const;
  // A decimal integer in [min, max].
  [[nodiscard]] std::int64_t integer(const YamlField& f, std::string_view key, std::int64_t min,
                                     std::int64_t max) const;
  // A finite number in [min, max], or (min, max] when `above_min`: "a non-negative number" for
  // [0, infinity), "a number in (0, max]" otherwise.
  [[nodiscard]] double number(const YamlField& f, std::string_view key, double min, bool above_min,
                              double max = std::numeric_limits<double>::infinity()) const;
  // true/True/TRUE or false/False/FALSE; `what` completes "must be ..." ("true or false").
  [[nodiscard]] bool boolean(const YamlField& f, std::string_view key, const char* what) const;
  // A list of at most `max_items` items.
  [[nodiscard]] const YAML::Node& sequence(const YamlField& f, std::string_view key,
                                           std::size_t max_items) const;
  // A list of strings, each as string() reads it.
  [[nodiscard]] std::vector<std::string> strings(const YamlField& f, std::string_view key,
                                                 std::size_t max_items) const;

  // Reads each entry of the list `list` with `read(index, node, mark)`, which returns the
  // entry's id (a reference into what it kept); throws "duplicate id 'x' (first defined on
  // line N)" at the second entry with an id.
  template <typename Read>
  void each_entry(const YAML::Node& list, Read read) const {
    std::map<std::string, int, std::less<>> first_line;  // id -> 1-based line
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node node = list[i];
      const std::string& id = read(i, node, mark_of(node, list));
      unique_id(first_line, id, mark_of(node["id"], node));
    }
  }

  // Runs `read` over the fields of the nested map `key:` (moe:, flash_attention:).
  template <typename Fn>
  void section(const YamlField& f, const std::string& key, const YamlKeys& allowed, Fn read) {
    if (!f.value || !f.value.IsMap()) {
      fail(mark_of(f.value, f.key), must_be(key, "a map"));
    }
    section_ = key;
    read(fields(f.value, allowed));
    section_.clear();
  }

 protected:
  // The entry being read, for messages: "model #3", "GPU 'h100'", "the file".
  [[nodiscard]] virtual std::string where() const = 0;
  // The longest kept value for `key`.
  [[nodiscard]] virtual std::size_t max_length(std::string_view key) const = 0;

  [[nodiscard]] const std::string& origin() const { return origin_; }

  std::string section_;

 private:
  [[nodiscard]] std::string must_be(std::string_view key, std::string_view what) const;
  void unique_id(std::map<std::string, int, std::less<>>& first_line, const std::string& id,
                 const YAML::Mark& mark) const;

  const std::string& origin_;
  IntegerWording wording_;
};

}  // namespace vramplan::io
