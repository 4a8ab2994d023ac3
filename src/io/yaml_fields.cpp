#include "yaml_fields.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>

#include "escape_controls.hpp"
#include "yaml_bounded.hpp"

namespace vramplan::io {

void YamlFieldReader::fail(const YAML::Mark& mark, const std::string& message) const {
  const std::string origin = escape_controls(origin_);
  const std::string text = escape_controls(message);
  if (mark.is_null()) throw Error(ErrorKind::bad_input, fmt::format("{}: {}", origin, text));
  throw Error(ErrorKind::bad_input,
              fmt::format("{}:{}:{}: {}", origin, mark.line + 1, mark.column + 1, text));
}

YAML::Node YamlFieldReader::load(std::string_view text, std::string_view what) const {
  if (text.size() > catalog_max_bytes) {
    fail(YAML::Mark::null_mark(), fmt::format("{} is {} bytes, more than the limit of {}", what,
                                              text.size(), catalog_max_bytes));
  }
  try {
    return load_bounded_yaml(text);
  } catch (const YamlLimit& limit) {
    fail(limit.mark, limit.what);
  } catch (const YAML::Exception& e) {
    fail(e.mark, yaml_message(e.msg));
  }
}

YAML::Mark YamlFieldReader::mark_of(const YAML::Node& node, const YAML::Node& parent) {
  if (node && !node.Mark().is_null()) return node.Mark();
  return parent.Mark();
}

std::string YamlFieldReader::early_id(const YAML::Node& entry) const {
  const YAML::Node id = entry["id"];
  if (id && id.IsScalar() && !id.Scalar().empty() && id.Scalar().size() <= max_length("id")) {
    return id.Scalar();
  }
  return {};
}

std::string YamlFieldReader::key_where(std::string_view key) const {
  return section_.empty() ? fmt::format("key '{}' in {}", key, where())
                          : fmt::format("key '{}' of '{}' in {}", key, section_, where());
}

std::string YamlFieldReader::must_be(std::string_view key, std::string_view what) const {
  return fmt::format("{} must be {}", key_where(key), what);
}

YamlFieldMap YamlFieldReader::fields(const YAML::Node& map, const YamlKeys& allowed) const {
  YamlFieldMap out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) fail(key.Mark(), fmt::format("keys must be names in {}", where()));
    const std::string& name = key.Scalar();
    if (!allowed.contains(name)) {
      fail(key.Mark(), section_.empty() ? fmt::format("unknown key '{}' in {}", name, where())
                                        : fmt::format("unknown key '{}' in '{}' of {}", name,
                                                      section_, where()));
    }
    if (out.contains(name)) fail(key.Mark(), fmt::format("duplicate {}", key_where(name)));
    out.emplace(name, YamlField{key, it->second});
  }
  return out;
}

const std::string& YamlFieldReader::scalar(const YamlField& f, std::string_view key,
                                           const char* what) const {
  if (f.null()) fail(f.key.Mark(), fmt::format("{} has no value", key_where(key)));
  if (!f.value.IsScalar()) fail(mark_of(f.value, f.key), must_be(key, what));
  return f.value.Scalar();
}

std::string YamlFieldReader::string(const YamlField& f, std::string_view key) const {
  std::string value = scalar(f, key, "a string");
  if (value.empty()) fail(mark_of(f.value, f.key), fmt::format("{} is empty", key_where(key)));
  check_length(f, key, value);
  return value;
}

void YamlFieldReader::check_length(const YamlField& f, std::string_view key,
                                   const std::string& value) const {
  if (value.size() > max_length(key)) {
    fail(mark_of(f.value, f.key), fmt::format("{} is {} bytes, more than the limit of {}",
                                              key_where(key), value.size(), max_length(key)));
  }
}

std::string YamlFieldReader::date(const YamlField& f, std::string_view key) const {
  std::string text = string(f, key);
  const auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  const bool ok = text.size() == 10 && text[4] == '-' && text[7] == '-' && digit(0) && digit(1) &&
                  digit(2) && digit(3) && digit(5) && digit(6) && digit(8) && digit(9);
  if (!ok)
    fail(f.value.Mark(), fmt::format("{}, got '{}'", must_be(key, "a date YYYY-MM-DD"), text));
  return text;
}

std::int64_t YamlFieldReader::integer(const YamlField& f, std::string_view key, std::int64_t min,
                                      std::int64_t max) const {
  const std::string& text = scalar(f, key, "an integer");
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  const bool parsed = ec == std::errc{} && ptr == end;
  if (parsed && value >= min && value <= max) return value;
  if (wording_ == IntegerWording::combined) {
    fail(f.value.Mark(),
         fmt::format("{}, got '{}'", must_be(key, fmt::format("an integer in [{}, {}]", min, max)),
                     text));
  }
  if (!parsed) fail(f.value.Mark(), fmt::format("{}, got '{}'", must_be(key, "an integer"), text));
  fail(f.value.Mark(),
       min == 1 && value < 1
           ? fmt::format("{}, got '{}'", must_be(key, "at least 1"), text)
           : fmt::format("{}, got '{}'", must_be(key, fmt::format("in [{}, {}]", min, max)), text));
}

double YamlFieldReader::number(const YamlField& f, std::string_view key, double min, bool above_min,
                               double max) const {
  const std::string& text = scalar(f, key, "a number");
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  const bool in_range = above_min ? value > min : value >= min;
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || !in_range ||
      value > max) {
    const std::string what =
        min == 0 && !above_min && std::isinf(max)
            ? std::string("a non-negative number")
            : fmt::format("a number in {}{}, {}]", above_min ? '(' : '[', min, max);
    fail(f.value.Mark(), fmt::format("{}, got '{}'", must_be(key, what), text));
  }
  return value;
}

bool YamlFieldReader::boolean(const YamlField& f, std::string_view key, const char* what) const {
  const std::string& text = scalar(f, key, what);
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  fail(f.value.Mark(), fmt::format("{}, got '{}'", must_be(key, what), text));
}

const YAML::Node& YamlFieldReader::sequence(const YamlField& f, std::string_view key,
                                            std::size_t max_items) const {
  if (!f.value || !f.value.IsSequence()) fail(mark_of(f.value, f.key), must_be(key, "a list"));
  if (f.value.size() > max_items) {
    fail(mark_of(f.value, f.key), fmt::format("{} has {} items, more than the limit of {}",
                                              key_where(key), f.value.size(), max_items));
  }
  return f.value;
}

std::vector<std::string> YamlFieldReader::strings(const YamlField& f, std::string_view key,
                                                  std::size_t max_items) const {
  std::vector<std::string> out;
  const YAML::Node& list = sequence(f, key, max_items);
  for (std::size_t i = 0; i < list.size(); ++i) {
    out.push_back(string(YamlField{f.key, list[i]}, key));
  }
  return out;
}

void YamlFieldReader::unique_id(std::map<std::string, int, std::less<>>& first_line,
                                const std::string& id, const YAML::Mark& mark) const {
  if (const auto found = first_line.find(id); found != first_line.end()) {
    fail(mark, fmt::format("duplicate id '{}' (first defined on line {})", id, found->second));
  }
  first_line.emplace(id, mark.line + 1);
}

}  // namespace vramplan::io
