// The field reader both catalog readers share (src/io/yaml_fields.hpp): unknown and duplicate
// keys, scalar kinds and bounds, list sizes, positions and the two integer wordings.
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>

#include "io/yaml_fields.hpp"

namespace vramplan::io {
namespace {

// A reader of one "thing" whose strings are at most 8 bytes.
class TestReader final : public YamlFieldReader {
 public:
  explicit TestReader(IntegerWording wording = IntegerWording::separate)
      : YamlFieldReader(origin_, wording) {}

 private:
  [[nodiscard]] std::string where() const override { return "thing 'x'"; }
  [[nodiscard]] std::size_t max_length(std::string_view) const override { return 8; }

  static inline const std::string origin_ = "t.yaml";
};

const YamlKeys keys{"a", "b", "list", "sub"};

// The message `read` throws, or "no error".
template <typename Fn>
std::string error_of(Fn read) {
  try {
    read();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    return e.what();
  }
  return "no error";
}

// The field `key` of the map `text`.
YamlField field(const TestReader& reader, const YAML::Node& root, const std::string& key) {
  return reader.fields(root, keys).at(key);
}

TEST(YamlFields, FieldsRejectUnknownAndDuplicateKeysWithTheirPosition) {
  const TestReader reader;
  EXPECT_EQ(error_of([&] { static_cast<void>(reader.fields(YAML::Load("a: 1\nc: 2\n"), keys)); }),
            "t.yaml:2:1: unknown key 'c' in thing 'x'");
  EXPECT_EQ(error_of([&] { static_cast<void>(reader.fields(YAML::Load("a: 1\na: 2\n"), keys)); }),
            "t.yaml:2:1: duplicate key 'a' in thing 'x'");
  EXPECT_EQ(reader.fields(YAML::Load("a: 1\nb: 2\n"), keys).size(), 2u);
}

TEST(YamlFields, IntegersHonourTheirBoundsInEitherWording) {
  const TestReader separate;
  const YAML::Node root = YAML::Load("a: 0\nb: x7\n");
  EXPECT_EQ(separate.integer(field(separate, root, "a"), "a", 0, 5), 0);
  EXPECT_EQ(
      error_of([&] { static_cast<void>(separate.integer(field(separate, root, "a"), "a", 1, 5)); }),
      "t.yaml:1:4: key 'a' in thing 'x' must be at least 1, got '0'");
  EXPECT_EQ(
      error_of([&] { static_cast<void>(separate.integer(field(separate, root, "a"), "a", 2, 5)); }),
      "t.yaml:1:4: key 'a' in thing 'x' must be in [2, 5], got '0'");
  EXPECT_EQ(
      error_of([&] { static_cast<void>(separate.integer(field(separate, root, "b"), "b", 0, 5)); }),
      "t.yaml:2:4: key 'b' in thing 'x' must be an integer, got 'x7'");

  const TestReader combined(IntegerWording::combined);
  EXPECT_EQ(
      error_of([&] { static_cast<void>(combined.integer(field(combined, root, "a"), "a", 1, 5)); }),
      "t.yaml:1:4: key 'a' in thing 'x' must be an integer in [1, 5], got '0'");
  EXPECT_EQ(
      error_of([&] { static_cast<void>(combined.integer(field(combined, root, "b"), "b", 0, 5)); }),
      "t.yaml:2:4: key 'b' in thing 'x' must be an integer in [0, 5], got 'x7'");
}

TEST(YamlFields, ScalarsOfEachKind) {
  const TestReader reader;
  const YAML::Node root = YAML::Load("a: True\nb: 123456789\nlist: [1]\nsub:\n");
  EXPECT_TRUE(reader.boolean(field(reader, root, "a"), "a", "true or false"));
  EXPECT_EQ(error_of([&] {
              static_cast<void>(reader.boolean(field(reader, root, "b"), "b", "true or false"));
            }),
            "t.yaml:2:4: key 'b' in thing 'x' must be true or false, got '123456789'");
  EXPECT_EQ(error_of([&] { static_cast<void>(reader.string(field(reader, root, "b"), "b")); }),
            "t.yaml:2:4: key 'b' in thing 'x' is 9 bytes, more than the limit of 8");
  EXPECT_EQ(
      error_of([&] { static_cast<void>(reader.string(field(reader, root, "list"), "list")); }),
      "t.yaml:3:7: key 'list' in thing 'x' must be a string");
  EXPECT_EQ(error_of([&] { static_cast<void>(reader.string(field(reader, root, "sub"), "sub")); }),
            "t.yaml:4:1: key 'sub' in thing 'x' has no value");
}

TEST(YamlFields, NumbersSayTheirRange) {
  const TestReader reader;
  const YAML::Node root = YAML::Load("a: 0\nb: 2.5\nlist: ''\n");
  EXPECT_EQ(reader.number(field(reader, root, "a"), "a", 0, false), 0.0);
  EXPECT_EQ(reader.number(field(reader, root, "b"), "b", 0, true, 3), 2.5);
  EXPECT_EQ(error_of([&] {
              static_cast<void>(reader.number(field(reader, root, "a"), "a", 0, true, 3));
            }),
            "t.yaml:1:4: key 'a' in thing 'x' must be a number in (0, 3], got '0'");
  EXPECT_EQ(error_of([&] {
              static_cast<void>(reader.number(field(reader, root, "b"), "b", 0, true, 2));
            }),
            "t.yaml:2:4: key 'b' in thing 'x' must be a number in (0, 2], got '2.5'");
  // An empty scalar is no number (strtod reads nothing from it).
  EXPECT_EQ(error_of([&] {
              static_cast<void>(reader.number(field(reader, root, "list"), "list", 0, false));
            }),
            "t.yaml:3:7: key 'list' in thing 'x' must be a non-negative number, got ''");
}

TEST(YamlFields, ListsAreBoundedAndSectionsNamed) {
  TestReader reader;
  const YAML::Node root = YAML::Load("list: [a, b, c]\nsub: {a: 1, z: 2}\n");
  EXPECT_EQ(reader.strings(field(reader, root, "list"), "list", 3),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(
      error_of([&] { static_cast<void>(reader.strings(field(reader, root, "list"), "list", 2)); }),
      "t.yaml:1:7: key 'list' in thing 'x' has 3 items, more than the limit of 2");
  EXPECT_EQ(
      error_of([&] { static_cast<void>(reader.sequence(field(reader, root, "sub"), "sub", 9)); }),
      "t.yaml:2:6: key 'sub' in thing 'x' must be a list");
  EXPECT_EQ(error_of([&] {
              reader.section(field(reader, root, "sub"), "sub", keys, [](const YamlFieldMap&) {});
            }),
            "t.yaml:2:13: unknown key 'z' in 'sub' of thing 'x'");
}

TEST(YamlFields, LoadAndIdsKeepTheirLimitsAndPositions) {
  const TestReader reader;
  EXPECT_EQ(
      error_of([&] { static_cast<void>(reader.load("a: [1\n", "list")); }).rfind("t.yaml:", 0), 0u);
  EXPECT_EQ(error_of([&] {
              static_cast<void>(reader.load(std::string(catalog_max_bytes + 1, ' '), "thing file"));
            }),
            "t.yaml: thing file is " + std::to_string(catalog_max_bytes + 1) +
                " bytes, more than the limit of " + std::to_string(catalog_max_bytes));
  EXPECT_EQ(reader.early_id(YAML::Load("id: short\n")), "short");
  EXPECT_EQ(reader.early_id(YAML::Load("id: far-too-long\n")), "");
  const YAML::Node list = YAML::Load("- id: a\n- id: b\n- id: a\n");
  std::vector<std::string> ids;
  const auto read = [&](std::size_t, const YAML::Node& node,
                        const YAML::Mark&) -> const std::string& {
    ids.push_back(node["id"].Scalar());
    return ids.back();
  };
  EXPECT_EQ(error_of([&] { reader.each_entry(list, read); }),
            "t.yaml:3:7: duplicate id 'a' (first defined on line 1)");
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "a"}));
}

}  // namespace
}  // namespace vramplan::io
