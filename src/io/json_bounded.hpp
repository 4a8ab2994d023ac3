// JSON parsing in linear time with limits on what is kept (docs/reliability.md §3, §6).
//
// nlohmann's parser callback (the usual way to limit depth) rescans the parent container at
// every nested value's end, which is quadratic in the number of keys of an object whose values
// are objects: the shape of every safetensors header. This SAX handler of our own builds the
// DOM in one pass instead and bounds the nesting depth, the number of values kept and the
// length of every kept string or key. With `split`, the root must be an object and each of its
// members is built, handed over and dropped in turn, so only one member is in memory at a time
// (a safetensors header: one tensor entry).
//
// Internal to src/io. Errors are JsonFailure, which each reader words in its own message.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace vramplan::io {

struct JsonLimits {
  std::size_t max_depth = 64;         // containers nested deeper than this fail
  std::size_t max_values = 1u << 16;  // values in the DOM (in one member with `split`)
  std::size_t max_string = 1u << 16;  // bytes of a kept string or key
};

struct JsonFailure {
  enum class Kind {
    syntax,        // byte: 1-based position of the error
    ends_early,    // the text stopped before the value was complete
    number_range,  // a number beyond double's range: 1E400
    too_deep,
    too_many_values,
    string_too_long,  // length: bytes of the string or key
    not_object,       // `split` and the root is not an object
  };
  Kind kind = Kind::syntax;
  std::size_t byte = 0;
  std::size_t length = 0;
  std::string member;  // too_many_values with `split`: the member's key
};

namespace json_detail {

using Json = nlohmann::json;

class BoundedSax {
 public:
  using Member = std::function<void(std::string&& key, Json&& value)>;

  BoundedSax(const JsonLimits& limits, std::size_t text_size, Member member)
      : limits_(limits), text_size_(text_size), member_(std::move(member)) {}

  Json& root() { return root_; }

  bool null() { return scalar(Json(nullptr)); }
  bool boolean(bool v) { return scalar(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return scalar(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return scalar(Json(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t&) { return scalar(Json(v)); }
  bool string(Json::string_t& v) {
    check_string(v.size());
    return scalar(Json(std::move(v)));
  }
  bool binary(Json::binary_t&) { return true; }  // not produced by JSON text

  bool start_object(std::size_t) {
    if (split() && depth_ == 0) {
      depth_ = 1;
      return true;
    }
    open(Json::value_t::object);
    return true;
  }
  bool key(Json::string_t& k) {
    check_string(k.size());
    if (split() && depth_ == 1) {
      member_key_ = std::move(k);
    } else {
      object_element_ = &(*stack_.back())[std::move(k)];
    }
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) {
    if (split() && depth_ == 0) throw JsonFailure{.kind = JsonFailure::Kind::not_object};
    open(Json::value_t::array);
    return true;
  }
  bool end_array() { return close(); }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) {
    if (ex.id == 406) throw JsonFailure{.kind = JsonFailure::Kind::number_range};
    std::size_t byte = position;
    if (const auto* p = dynamic_cast<const Json::parse_error*>(&ex)) byte = p->byte;
    if (byte > text_size_) throw JsonFailure{.kind = JsonFailure::Kind::ends_early};
    throw JsonFailure{.kind = JsonFailure::Kind::syntax, .byte = byte};
  }

 private:
  [[nodiscard]] bool split() const { return static_cast<bool>(member_); }

  void check_string(std::size_t length) const {
    if (length > limits_.max_string) {
      throw JsonFailure{.kind = JsonFailure::Kind::string_too_long, .length = length};
    }
  }

  // Places `v` where the DOM expects the next value; returns where it landed.
  Json* place(Json&& v) {
    if (++values_ > limits_.max_values) {
      throw JsonFailure{.kind = JsonFailure::Kind::too_many_values,
                        .member = split() ? member_key_ : std::string()};
    }
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    if (stack_.back()->is_array()) {
      stack_.back()->push_back(std::move(v));
      return &stack_.back()->back();
    }
    *object_element_ = std::move(v);
    return object_element_;
  }

  bool scalar(Json&& v) {
    if (split() && depth_ == 0) throw JsonFailure{.kind = JsonFailure::Kind::not_object};
    place(std::move(v));
    if (stack_.empty()) done();
    return true;
  }

  void open(Json::value_t type) {
    if (depth_ + 1 > limits_.max_depth) throw JsonFailure{.kind = JsonFailure::Kind::too_deep};
    ++depth_;
    stack_.push_back(place(Json(type)));
  }

  bool close() {
    --depth_;
    if (split() && stack_.empty()) return true;  // the end of the split root
    stack_.pop_back();
    if (stack_.empty()) done();
    return true;
  }

  // A whole value is built: hand a member over, or keep the root.
  void done() {
    if (!split()) return;
    member_(std::move(member_key_), std::move(root_));
    root_ = Json();
    member_key_.clear();
    values_ = 0;
  }

  const JsonLimits& limits_;
  std::size_t text_size_;
  Member member_;
  Json root_;
  std::vector<Json*> stack_;
  Json* object_element_ = nullptr;
  std::string member_key_;
  std::size_t depth_ = 0;
  std::size_t values_ = 0;
};

}  // namespace json_detail

// The DOM of `text`, built in one pass within `limits`; throws JsonFailure.
inline nlohmann::json parse_json_bounded(std::string_view text, const JsonLimits& limits) {
  json_detail::BoundedSax sax(limits, text.size(), {});
  nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
  return std::move(sax.root());
}

// Calls `member(key, value)` for each member of the root object of `text`, in file order,
// keeping one member at a time; `limits.max_values` applies to each member. Throws
// JsonFailure (not_object when the root is not an object).
inline void parse_json_members(std::string_view text, const JsonLimits& limits,
                               const std::function<void(std::string&&, nlohmann::json&&)>& member) {
  json_detail::BoundedSax sax(limits, text.size(), member);
  nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
}

}  // namespace vramplan::io
