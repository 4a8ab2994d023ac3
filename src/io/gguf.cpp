#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <regex>
#include <type_traits>
#include <unordered_set>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/io/gguf.hpp>

namespace vramplan::io {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader copies little-endian fields straight into host integers");

namespace {

constexpr std::array<char, 4> gguf_magic{'G', 'G', 'U', 'F'};
// Smallest possible encodings, used to bound counts by the bytes left before allocating:
// a key/value is a key length (8) + a non-empty key (1) + a type (4) + a 1-byte value; a
// tensor info is a name length (8) + n_dims (4) + a type (4) + an offset (8).
constexpr std::uint64_t min_kv_bytes = 8 + 1 + 4 + 1;
constexpr std::uint64_t min_tensor_info_bytes = 8 + 4 + 4 + 8;

// Quotes a name read from the file for a one-line message: non-printable bytes become \xNN
// and very long names are cut.
std::string quoted(std::string_view text) {
  constexpr std::size_t max_shown = 80;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_shown) out += "...";
  out += '\'';
  return out;
}

bool checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return !__builtin_add_overflow(a, b, &out);
}
bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

// Size in the file of one element of a fixed-size type; 8 (the length) for strings; 0 for
// an unknown type or an array.
std::uint64_t element_size(std::uint32_t type) {
  switch (static_cast<GgufType>(type)) {
    case GgufType::u8:
    case GgufType::i8:
    case GgufType::boolean:
      return 1;
    case GgufType::u16:
    case GgufType::i16:
      return 2;
    case GgufType::u32:
    case GgufType::i32:
    case GgufType::f32:
      return 4;
    case GgufType::u64:
    case GgufType::i64:
    case GgufType::f64:
    case GgufType::string:
      return 8;
    case GgufType::array:
      return 0;
  }
  return 0;
}

bool known_type(std::uint32_t type) { return type <= static_cast<std::uint32_t>(GgufType::f64); }

// A bounds-checked cursor over the source, fetching gguf_read_chunk bytes at a time.
class Cursor {
 public:
  Cursor(ByteSource& source, const std::string& origin)
      : source_(source), origin_(origin), size_(source.size()) {}

  [[nodiscard]] std::uint64_t pos() const { return pos_; }
  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] std::uint64_t remaining() const { return size_ - pos_; }

  [[noreturn]] void fail(std::uint64_t at, std::string_view what) const {
    throw Error(ErrorKind::bad_input, fmt::format("{}: offset {}: {}", origin_, at, what));
  }

  // `prefix` + `what` name the field in the message; built only when it is needed.
  void need(std::uint64_t n, std::string_view what, std::string_view prefix = {}) const {
    if (n > remaining()) {
      fail(pos_, fmt::format("unexpected end of file reading {}{} ({} bytes needed, {} left)",
                             prefix, what, n, remaining()));
    }
  }

  template <class T>
  [[nodiscard]] T read(std::string_view what, std::string_view prefix = {}) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::array<std::byte, sizeof(T)> raw{};
    copy_out(raw, what, prefix);
    return std::bit_cast<T>(raw);
  }

  void copy_out(std::span<std::byte> out, std::string_view what, std::string_view prefix = {}) {
    need(out.size(), what, prefix);
    std::size_t done = 0;
    while (done < out.size()) {
      const std::size_t left = out.size() - done;
      if (pos_ < buf_start_ || pos_ >= buf_start_ + buf_len_) {
        if (left >= gguf_read_chunk) {  // a long string: straight into its destination
          source_.read(pos_, out.subspan(done));
          pos_ += left;
          return;
        }
        refill();
      }
      const auto in_buf = static_cast<std::size_t>(buf_start_ + buf_len_ - pos_);
      const std::size_t n = std::min(in_buf, left);
      std::memcpy(out.data() + done, buf_.data() + (pos_ - buf_start_), n);
      done += n;
      pos_ += n;
    }
  }

  void skip(std::uint64_t n, std::string_view what) {
    need(n, what);
    pos_ += n;
  }

  // A length-prefixed string. `what` names it in messages; `cap` bounds its length.
  [[nodiscard]] std::string read_string(std::uint64_t cap, std::string_view what) {
    const std::uint64_t at = pos_;
    const auto len = read<std::uint64_t>(what, "the length of ");
    check_string_length(at, len, cap, what);
    std::string s(static_cast<std::size_t>(len), '\0');
    copy_out(std::as_writable_bytes(std::span(s)), what);
    return s;
  }

  // Like read_string, but keeps at most `keep` bytes and skips the rest; `cut` says whether
  // it did.
  [[nodiscard]] std::string read_string_prefix(std::uint64_t cap, std::uint64_t keep,
                                               std::string_view what, bool& cut) {
    const std::uint64_t at = pos_;
    const auto len = read<std::uint64_t>(what, "the length of ");
    check_string_length(at, len, cap, what);
    cut = len > keep;
    std::string s(static_cast<std::size_t>(std::min(len, keep)), '\0');
    copy_out(std::as_writable_bytes(std::span(s)), what);
    pos_ += len - s.size();
    return s;
  }

  void skip_string(std::uint64_t cap, std::string_view what) {
    const std::uint64_t at = pos_;
    const auto len = read<std::uint64_t>(what, "the length of ");
    check_string_length(at, len, cap, what);
    pos_ += len;
  }

 private:
  void check_string_length(std::uint64_t at, std::uint64_t len, std::uint64_t cap,
                           std::string_view what) const {
    if (len > cap) {
      fail(at, fmt::format("length {} of {} exceeds the limit of {}", len, what, cap));
    }
    if (len > remaining()) {
      fail(at,
           fmt::format("length {} of {} exceeds the remaining {} bytes", len, what, remaining()));
    }
  }

  void refill() {
    buf_start_ = pos_;
    buf_len_ = static_cast<std::size_t>(std::min<std::uint64_t>(gguf_read_chunk, remaining()));
    if (buf_.size() < buf_len_) buf_.resize(buf_len_);
    source_.read(pos_, std::span(buf_).first(buf_len_));
  }

  ByteSource& source_;
  const std::string& origin_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
  std::vector<std::byte> buf_;
  std::uint64_t buf_start_ = 0;
  std::size_t buf_len_ = 0;
};

class Reader {
 public:
  Reader(ByteSource& source, const std::string& origin) : cur_(source, origin) {}

  GgufFile run() {
    GgufFile file;
    file.file_size = cur_.size();
    read_preamble(file);
    const std::uint64_t counts_at = cur_.pos();
    const auto n_tensors = cur_.read<std::int64_t>("the tensor count");
    const auto n_kv = cur_.read<std::int64_t>("the key/value count");
    check_counts(counts_at, n_tensors, n_kv);

    std::unordered_set<std::string> keys;
    for (std::int64_t i = 0; i < n_kv; ++i) {
      GgufKv kv = read_kv();
      if (!keys.insert(kv.key).second) {
        cur_.fail(kv_at_, fmt::format("duplicate key {}", quoted(kv.key)));
      }
      file.metadata.push_back(std::move(kv));
    }
    file.alignment = alignment(file);

    std::unordered_set<std::string> names;
    std::vector<std::uint64_t> offset_fields;
    for (std::int64_t i = 0; i < n_tensors; ++i) {
      const std::uint64_t at = cur_.pos();
      GgufTensor t = read_tensor_info(file.alignment);
      if (t.info.name.empty()) {
        // ggml names every tensor; an empty name is what a count one too high reads from the
        // zeros of the alignment padding and the data section.
        cur_.fail(at, fmt::format("tensor {} of {} has an empty name (is the tensor count too "
                                  "high?)",
                                  i + 1, n_tensors));
      }
      if (!names.insert(t.info.name).second) {
        cur_.fail(at, fmt::format("duplicate tensor name {}", quoted(t.info.name)));
      }
      offset_fields.push_back(offset_field_);
      file.tensors.push_back(std::move(t));
    }
    file.header_size = cur_.pos();
    // alignment <= 2^31 and header_size <= file size, so this cannot overflow.
    file.data_offset = (file.header_size + file.alignment - 1) / file.alignment * file.alignment;
    for (std::size_t i = 0; i < file.tensors.size(); ++i) {
      check_extent(file, file.tensors[i], offset_fields[i]);
    }
    return file;
  }

 private:
  void read_preamble(GgufFile& file) {
    const auto magic = cur_.read<std::array<char, 4>>("the magic");
    if (magic != gguf_magic) {
      cur_.fail(0, fmt::format("not a GGUF file (magic {})",
                               quoted(std::string_view(magic.data(), magic.size()))));
    }
    const std::uint64_t at = cur_.pos();
    const auto version = cur_.read<std::uint32_t>("the version");
    if (version == 2 || version == 3) {
      file.version = version;
      return;
    }
    const std::uint32_t swapped = ((version & 0xffU) << 24) | ((version & 0xff00U) << 8) |
                                  ((version >> 8) & 0xff00U) | (version >> 24);
    if ((version & 0xffffU) == 0 && swapped >= 1 && swapped <= 3) {
      cur_.fail(at, "big-endian GGUF is not supported");
    }
    cur_.fail(at, fmt::format("unsupported GGUF version {}", version));
  }

  void check_counts(std::uint64_t at, std::int64_t n_tensors, std::int64_t n_kv) {
    if (n_tensors < 0) cur_.fail(at, fmt::format("negative tensor count {}", n_tensors));
    if (n_kv < 0) cur_.fail(at + 8, fmt::format("negative key/value count {}", n_kv));
    const std::uint64_t left = cur_.remaining();
    const auto tensors = static_cast<std::uint64_t>(n_tensors);
    if (tensors > left / min_tensor_info_bytes) {
      cur_.fail(at, fmt::format("tensor count {} exceeds what the remaining {} bytes can hold",
                                n_tensors, left));
    }
    if (tensors > gguf_max_tensors) {
      cur_.fail(
          at, fmt::format("tensor count {} exceeds the limit of {}", n_tensors, gguf_max_tensors));
    }
    const std::uint64_t left_for_kv = left - tensors * min_tensor_info_bytes;
    if (static_cast<std::uint64_t>(n_kv) > left_for_kv / min_kv_bytes) {
      cur_.fail(at + 8, fmt::format("key/value count {} exceeds what the remaining {} bytes "
                                    "can hold",
                                    n_kv, left));
    }
  }

  GgufKv read_kv() {
    kv_at_ = cur_.pos();
    GgufKv kv;
    kv.key = cur_.read_string(gguf_max_key_length, "a key");
    if (kv.key.empty()) cur_.fail(kv_at_, "empty key");
    keys_kept_ += kv.key.size();  // <= n_kv * 1 MiB: no overflow
    if (keys_kept_ > gguf_max_kept_bytes) {
      cur_.fail(kv_at_, fmt::format("keys take more than {} bytes", gguf_max_kept_bytes));
    }
    const std::uint64_t type_at = cur_.pos();
    const auto type = cur_.read<std::uint32_t>(fmt::format("the type of key {}", quoted(kv.key)));
    if (!known_type(type)) {
      cur_.fail(type_at, fmt::format("unknown value type {} for key {}", type, quoted(kv.key)));
    }
    kv.value.type = static_cast<GgufType>(type);
    kv.value.offset = cur_.pos();
    const std::string what = fmt::format("the value of key {}", quoted(kv.key));
    if (kv.value.type == GgufType::array) {
      kv.value.data = read_array(kv.key);
    } else if (kv.value.type == GgufType::string) {
      std::string s = cur_.read_string_prefix(gguf_max_string_length,
                                              std::min(gguf_max_kept_string, budget_left()), what,
                                              kv.value.cut);
      kept_ += s.size();
      kv.value.data = std::move(s);
    } else {
      kv.value.data = read_scalar(kv.value.type, what);
    }
    return kv;
  }

  std::variant<std::uint64_t, std::int64_t, double, bool, std::string, GgufArray> read_scalar(
      GgufType type, const std::string& what) {
    switch (type) {
      case GgufType::u8:
        return std::uint64_t{cur_.read<std::uint8_t>(what)};
      case GgufType::u16:
        return std::uint64_t{cur_.read<std::uint16_t>(what)};
      case GgufType::u32:
        return std::uint64_t{cur_.read<std::uint32_t>(what)};
      case GgufType::u64:
        return cur_.read<std::uint64_t>(what);
      case GgufType::i8:
        return std::int64_t{cur_.read<std::int8_t>(what)};
      case GgufType::i16:
        return std::int64_t{cur_.read<std::int16_t>(what)};
      case GgufType::i32:
        return std::int64_t{cur_.read<std::int32_t>(what)};
      case GgufType::i64:
        return cur_.read<std::int64_t>(what);
      case GgufType::f32:
        return static_cast<double>(cur_.read<float>(what));
      case GgufType::f64:
        return cur_.read<double>(what);
      case GgufType::boolean:
        return cur_.read<std::uint8_t>(what) != 0;
      case GgufType::string:
        return cur_.read_string(gguf_max_string_length, what);
      case GgufType::array:
        break;
    }
    throw Error(ErrorKind::internal, "read_scalar called for an array");
  }

  template <class Out, class In>
  std::vector<Out> read_elements(std::uint64_t count, const std::string& what) {
    std::vector<Out> out;
    out.reserve(static_cast<std::size_t>(count));  // count * sizeof(In) <= remaining bytes
    for (std::uint64_t i = 0; i < count; ++i) out.push_back(static_cast<Out>(cur_.read<In>(what)));
    return out;
  }

  GgufArray read_array(const std::string& key) {
    GgufArray array;
    const std::uint64_t type_at = cur_.pos();
    const auto type =
        cur_.read<std::uint32_t>(fmt::format("the element type of array {}", quoted(key)));
    if (type == static_cast<std::uint32_t>(GgufType::array)) {
      cur_.fail(type_at, fmt::format("nested array in key {} is not supported", quoted(key)));
    }
    if (!known_type(type)) {
      cur_.fail(type_at,
                fmt::format("unknown array element type {} for key {}", type, quoted(key)));
    }
    array.type = static_cast<GgufType>(type);
    const std::uint64_t count_at = cur_.pos();
    array.count = cur_.read<std::uint64_t>(fmt::format("the count of array {}", quoted(key)));
    const std::uint64_t elem = element_size(type);
    if (array.count > cur_.remaining() / elem) {
      cur_.fail(count_at, fmt::format("array count {} for key {} exceeds what the remaining {} "
                                      "bytes can hold",
                                      array.count, quoted(key), cur_.remaining()));
    }
    const std::string what = fmt::format("an element of array {}", quoted(key));
    // Kept elements widen to 8 bytes (a string: its length plus the std::string itself).
    std::uint64_t bytes = 0;
    const bool fits = checked_mul(array.count, 8, bytes) && bytes <= budget_left();
    if (array.count > gguf_max_kept_array || !fits) {
      if (array.type == GgufType::string) {
        for (std::uint64_t i = 0; i < array.count; ++i) {
          cur_.skip_string(gguf_max_string_length, what);
        }
      } else {
        cur_.skip(array.count * elem, what);
      }
      return array;  // elements: monostate
    }
    const std::uint64_t n = array.count;
    switch (array.type) {
      case GgufType::u8:
        array.elements = read_elements<std::uint64_t, std::uint8_t>(n, what);
        break;
      case GgufType::u16:
        array.elements = read_elements<std::uint64_t, std::uint16_t>(n, what);
        break;
      case GgufType::u32:
        array.elements = read_elements<std::uint64_t, std::uint32_t>(n, what);
        break;
      case GgufType::u64:
        array.elements = read_elements<std::uint64_t, std::uint64_t>(n, what);
        break;
      case GgufType::i8:
        array.elements = read_elements<std::int64_t, std::int8_t>(n, what);
        break;
      case GgufType::i16:
        array.elements = read_elements<std::int64_t, std::int16_t>(n, what);
        break;
      case GgufType::i32:
        array.elements = read_elements<std::int64_t, std::int32_t>(n, what);
        break;
      case GgufType::i64:
        array.elements = read_elements<std::int64_t, std::int64_t>(n, what);
        break;
      case GgufType::f32:
        array.elements = read_elements<double, float>(n, what);
        break;
      case GgufType::f64:
        array.elements = read_elements<double, double>(n, what);
        break;
      case GgufType::boolean: {
        std::vector<bool> v;
        v.reserve(static_cast<std::size_t>(n));
        for (std::uint64_t i = 0; i < n; ++i) v.push_back(cur_.read<std::uint8_t>(what) != 0);
        array.elements = std::move(v);
        break;
      }
      case GgufType::string: {
        std::vector<std::string> v;
        v.reserve(static_cast<std::size_t>(n));  // n * 8 <= remaining bytes
        const std::uint64_t limit = std::min(gguf_max_kept_array_bytes, budget_left());
        std::uint64_t held = 0;
        for (std::uint64_t i = 0; i < n; ++i) {
          bool cut = false;
          const std::uint64_t room = limit - std::min(limit, held + sizeof(std::string));
          v.push_back(cur_.read_string_prefix(gguf_max_string_length, room, what, cut));
          held += sizeof(std::string) + v.back().size();
          if (cut || held > limit) {  // too big to keep: count it, skip the rest
            for (++i; i < n; ++i) cur_.skip_string(gguf_max_string_length, what);
            return array;
          }
        }
        kept_ += held;
        array.elements = std::move(v);
        break;
      }
      case GgufType::array:
        break;  // rejected above
    }
    if (array.type != GgufType::string) kept_ += bytes;
    return array;
  }

  [[nodiscard]] std::uint64_t budget_left() const { return gguf_max_kept_bytes - kept_; }

  std::uint64_t alignment(const GgufFile& file) {
    const GgufValue* v = file.find("general.alignment");
    if (v == nullptr) return gguf_default_alignment;
    if (v->type != GgufType::u32) {
      cur_.fail(v->offset,
                fmt::format("general.alignment must be u32, got {}", to_string(v->type)));
    }
    const std::uint64_t a = std::get<std::uint64_t>(v->data);
    if (!std::has_single_bit(a)) {
      cur_.fail(v->offset, fmt::format("general.alignment {} is not a power of two", a));
    }
    return a;
  }

  GgufTensor read_tensor_info(std::uint64_t align) {
    GgufTensor t;
    t.info.name = cur_.read_string(gguf_max_tensor_name_length, "a tensor name");
    const std::string name = quoted(t.info.name);
    const std::uint64_t dims_at = cur_.pos();
    t.n_dims = cur_.read<std::uint32_t>(fmt::format("n_dims of tensor {}", name));
    if (t.n_dims > gguf_max_dims) {
      cur_.fail(dims_at,
                fmt::format("tensor {}: n_dims {} exceeds {}", name, t.n_dims, gguf_max_dims));
    }
    std::uint64_t elements = 1;
    for (std::uint32_t d = 0; d < t.n_dims; ++d) {
      const std::uint64_t at = cur_.pos();
      const auto ne = cur_.read<std::int64_t>(fmt::format("the shape of tensor {}", name));
      if (ne <= 0) {
        cur_.fail(at, fmt::format("tensor {}: dimension {} must be positive, got {}", name, d, ne));
      }
      if (!checked_mul(elements, static_cast<std::uint64_t>(ne), elements) ||
          elements > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        cur_.fail(at, fmt::format("tensor {}: element count overflows", name));
      }
      t.info.ne[d] = ne;
    }
    const std::uint64_t type_at = cur_.pos();
    const auto type = cur_.read<std::int32_t>(fmt::format("the type of tensor {}", name));
    const GgmlTypeInfo* ti = find_ggml_type(type);
    if (ti == nullptr)
      cur_.fail(type_at, fmt::format("tensor {}: unknown ggml type {}", name, type));
    t.info.type = ti->type;
    if (t.info.ne[0] % ti->block_size != 0) {
      cur_.fail(type_at, fmt::format("tensor {}: row length {} is not a multiple of the {} block "
                                     "size {}",
                                     name, t.info.ne[0], ti->name, ti->block_size));
    }
    offset_field_ = cur_.pos();
    t.offset = cur_.read<std::uint64_t>(fmt::format("the offset of tensor {}", name));
    if (t.offset % align != 0) {
      cur_.fail(offset_field_, fmt::format("tensor {}: offset {} is not a multiple of the "
                                           "alignment {}",
                                           name, t.offset, align));
    }
    return t;
  }

  void check_extent(const GgufFile& file, const GgufTensor& t, std::uint64_t at) {
    const GgmlTypeInfo& ti = info(t.info.type);
    const auto rows = static_cast<std::uint64_t>(t.info.ne[1] * t.info.ne[2] * t.info.ne[3]);
    const auto blocks = static_cast<std::uint64_t>(t.info.ne[0] / ti.block_size);
    std::uint64_t bytes = 0;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    const bool sized = checked_mul(blocks, static_cast<std::uint64_t>(ti.type_size), bytes) &&
                       checked_mul(bytes, rows, bytes);
    const bool placed =
        sized && checked_add(file.data_offset, t.offset, begin) && checked_add(begin, bytes, end);
    if (!sized) {
      cur_.fail(at, fmt::format("tensor {}: byte size overflows", quoted(t.info.name)));
    }
    if (!placed || end > file.file_size) {
      cur_.fail(at, fmt::format("tensor {}: data ({} bytes at offset {}) extends past the end of "
                                "the file ({} bytes)",
                                quoted(t.info.name), bytes, t.offset, file.file_size));
    }
  }

  Cursor cur_;
  std::uint64_t kept_ = 0;       // bytes of strings and array elements kept
  std::uint64_t keys_kept_ = 0;  // bytes of keys (their own budget: they are always kept)
  std::uint64_t kv_at_ = 0;
  std::uint64_t offset_field_ = 0;
};

struct SplitName {
  std::string prefix;
  std::uint32_t count = 0;
};

// llama.cpp's split naming (llama_split_path): "<prefix>-%05d-of-%05d.gguf".
std::optional<SplitName> parse_split_name(const std::string& path) {
  static const std::regex pattern(R"(^(.*)-([0-9]{5})-of-([0-9]{5})\.gguf$)");
  std::smatch m;
  if (!std::regex_match(path, m, pattern)) return std::nullopt;
  const auto no = static_cast<std::uint32_t>(std::stoul(m[2].str()));
  const auto count = static_cast<std::uint32_t>(std::stoul(m[3].str()));
  if (no == 0 || count == 0 || no > count) return std::nullopt;
  return SplitName{m[1].str(), count};
}

std::string split_path(const std::string& prefix, std::uint32_t no, std::uint32_t count) {
  return fmt::format("{}-{:05d}-of-{:05d}.gguf", prefix, no, count);
}

// An integer split.* key of a part; Error when missing or not an integer.
std::int64_t split_key(const GgufFile& file, const std::string& origin, const char* key) {
  const GgufValue* v = file.find(key);
  if (v == nullptr) {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: missing key '{}' of a split model", origin, key));
  }
  const std::optional<std::int64_t> value = v->as_int();
  if (!value) {
    throw Error(ErrorKind::bad_input, fmt::format("{}: offset {}: {} must be an integer, got {}",
                                                  origin, v->offset, key, to_string(v->type)));
  }
  return *value;
}

[[noreturn]] void split_error(const std::string& origin, std::uint64_t offset,
                              const std::string& what) {
  throw Error(ErrorKind::bad_input, fmt::format("{}: offset {}: {}", origin, offset, what));
}

}  // namespace

std::string_view to_string(GgufType type) {
  switch (type) {
    case GgufType::u8:
      return "u8";
    case GgufType::i8:
      return "i8";
    case GgufType::u16:
      return "u16";
    case GgufType::i16:
      return "i16";
    case GgufType::u32:
      return "u32";
    case GgufType::i32:
      return "i32";
    case GgufType::f32:
      return "f32";
    case GgufType::boolean:
      return "bool";
    case GgufType::string:
      return "string";
    case GgufType::array:
      return "array";
    case GgufType::u64:
      return "u64";
    case GgufType::i64:
      return "i64";
    case GgufType::f64:
      return "f64";
  }
  return "unknown";
}

std::optional<std::int64_t> GgufValue::as_int() const {
  if (const auto* u = std::get_if<std::uint64_t>(&data)) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(*u);
  }
  if (const auto* i = std::get_if<std::int64_t>(&data)) return *i;
  return std::nullopt;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  for (const GgufKv& kv : metadata) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  for (const GgufTensor& t : tensors) {
    if (t.info.name == name) return &t;
  }
  return nullptr;
}

GgufFile read_gguf(ByteSource& source, const std::string& origin) {
  return Reader(source, origin).run();
}

GgufFile read_gguf_file(const std::string& path) {
  FileSource source(path);
  return read_gguf(source, path);
}

GgufModelFiles read_gguf_model_files(const std::string& path) {
  GgufModelFiles out;
  const std::optional<SplitName> split = parse_split_name(path);
  if (!split) {
    FileSource source(path);
    out.file = read_gguf(source, path);
    out.paths = {path};
    out.total_size = source.size();
    out.bytes_read = source.bytes_read();
    if (const GgufValue* v = out.file.find("split.count")) {
      const std::optional<std::int64_t> n = v->as_int();
      if (n && *n > 1) {
        split_error(path, v->offset,
                    fmt::format("file is part of a split model (split.count {}) but its name does "
                                "not follow '<prefix>-00001-of-{:05d}.gguf'",
                                *n, *n));
      }
    }
    return out;
  }

  std::int64_t tensors_expected = 0;
  std::unordered_set<std::string> names;
  for (std::uint32_t i = 1; i <= split->count; ++i) {
    const std::string part_path = split_path(split->prefix, i, split->count);
    FileSource source(part_path);
    GgufFile part = read_gguf(source, part_path);
    out.paths.push_back(part_path);
    out.total_size += source.size();
    out.bytes_read += source.bytes_read();

    const std::int64_t no = split_key(part, part_path, "split.no");
    const std::int64_t count = split_key(part, part_path, "split.count");
    const std::int64_t tensors = split_key(part, part_path, "split.tensors.count");
    if (no != static_cast<std::int64_t>(i) - 1) {
      split_error(part_path, part.find("split.no")->offset,
                  fmt::format("split.no is {}, expected {}", no, i - 1));
    }
    if (count != static_cast<std::int64_t>(split->count)) {
      split_error(part_path, part.find("split.count")->offset,
                  fmt::format("split.count is {}, but the file name says {}", count, split->count));
    }
    if (i == 1) {
      tensors_expected = tensors;
    } else if (tensors != tensors_expected) {
      split_error(
          part_path, part.find("split.tensors.count")->offset,
          fmt::format("split.tensors.count is {}, but part 1 says {}", tensors, tensors_expected));
    }
    if (names.size() + part.tensors.size() > gguf_max_tensors) {
      throw Error(ErrorKind::bad_input, fmt::format("{}: the parts hold more than {} tensors",
                                                    part_path, gguf_max_tensors));
    }
    for (GgufTensor& t : part.tensors) {
      if (!names.insert(t.info.name).second) {
        throw Error(ErrorKind::bad_input, fmt::format("{}: tensor {} is also in an earlier part",
                                                      part_path, quoted(t.info.name)));
      }
      t.split = i - 1;
    }
    if (i == 1) {
      out.file = std::move(part);
    } else {
      out.file.tensors.insert(out.file.tensors.end(), std::make_move_iterator(part.tensors.begin()),
                              std::make_move_iterator(part.tensors.end()));
    }
  }
  if (static_cast<std::int64_t>(out.file.tensors.size()) != tensors_expected) {
    split_error(out.paths.front(), out.file.find("split.tensors.count")->offset,
                fmt::format("split.tensors.count is {}, but the {} parts hold {} tensors",
                            tensors_expected, split->count, out.file.tensors.size()));
  }
  return out;
}

}  // namespace vramplan::io
