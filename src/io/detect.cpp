// GPU and memory detection (docs/sizing.md "Detection"): parsers of the tools' documented
// output formats, a runner that bounds the tools, and the detections built on them.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <sys/wait.h>
#include <utility>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/gpu_catalog.hpp>
#include <vramplan/io/detect.hpp>
#include <vramplan/io/file.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include "escape_controls.hpp"

extern char** environ;

namespace vramplan::io {
namespace {

[[nodiscard]] std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

// A quoted excerpt of untrusted text for a message: one line, at most 80 bytes shown.
[[nodiscard]] std::string excerpt(std::string_view text) {
  constexpr std::size_t shown = 80;
  if (text.size() <= shown) return escape_controls(text);
  return escape_controls(text.substr(0, shown)) + "...";
}

// Lines of a tool's output, each checked against detect_max_line; calls fn(number, line).
template <typename Fn>
void for_each_line(std::string_view tool, std::string_view text, Fn fn) {
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    ++number;
    if (line.size() > detect_max_line) {
      throw Error(ErrorKind::bad_input, fmt::format("{}: line {} is longer than {} bytes", tool,
                                                    number, detect_max_line));
    }
    fn(number, line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

[[nodiscard]] std::vector<std::string_view> split(std::string_view line, char separator) {
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t at = line.find(separator);
    out.push_back(trim(line.substr(0, at)));
    if (at == std::string_view::npos) return out;
    line.remove_prefix(at + 1);
  }
}

// A whole non-negative decimal number, at most `max`; nullopt otherwise (overflow included).
[[nodiscard]] std::optional<std::int64_t> number(std::string_view text, std::int64_t max) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value < 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

[[nodiscard]] bool not_available(std::string_view field) {
  for (const std::string_view na : {"[N/A]", "N/A", "[Not Supported]", "Not Supported"}) {
    if (field == na) return true;
  }
  return false;
}

// A memory field in `unit` bytes: unknown for N/A, an error for anything else not a size.
[[nodiscard]] std::optional<Bytes> size_field(std::string_view tool, std::size_t line,
                                              std::string_view key, std::string_view field,
                                              Bytes unit) {
  if (not_available(field)) return std::nullopt;
  const std::optional<std::int64_t> value = number(field, detect_max_bytes / unit);
  if (!value) {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: line {}: {} '{}' is not a size up to {} bytes", tool, line, key,
                            excerpt(field), detect_max_bytes));
  }
  return *value * unit;
}

void check_count(std::string_view tool, std::size_t count) {
  if (count > detect_max_gpus) {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: more than {} GPUs listed", tool, detect_max_gpus));
  }
}

}  // namespace

std::optional<Bytes> DetectedGpu::free_bytes() const {
  if (!total_bytes || !used_bytes) return std::nullopt;
  return std::max<Bytes>(0, *total_bytes - *used_bytes);
}

std::vector<DetectedGpu> parse_nvidia_smi_csv(std::string_view text) {
  constexpr std::string_view tool = "nvidia-smi";
  std::vector<DetectedGpu> out;
  for_each_line(tool, text, [&](std::size_t n, std::string_view line) {
    if (trim(line).empty()) return;
    const std::vector<std::string_view> fields = split(line, ',');
    if (fields.size() < 3) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("{}: line {}: expected 'name, memory.total, memory.used', got '{}'",
                              tool, n, excerpt(line)));
    }
    // The last two fields are the sizes; a name holding a comma keeps its text.
    const std::size_t name_end = line.rfind(',', line.rfind(',') - 1);
    DetectedGpu gpu;
    gpu.name = std::string(trim(line.substr(0, name_end)));
    if (gpu.name.empty()) {
      throw Error(ErrorKind::bad_input, fmt::format("{}: line {}: no GPU name", tool, n));
    }
    gpu.total_bytes = size_field(tool, n, "memory.total", fields[fields.size() - 2], mib);
    gpu.used_bytes = size_field(tool, n, "memory.used", fields.back(), mib);
    check_count(tool, out.size() + 1);
    out.push_back(std::move(gpu));
  });
  return out;
}

std::vector<DetectedGpu> parse_rocm_smi_csv(std::string_view text) {
  constexpr std::string_view tool = "rocm-smi";
  std::vector<DetectedGpu> out;
  std::vector<std::string> header;
  std::optional<std::size_t> name_column;
  std::optional<std::size_t> total_column;
  std::optional<std::size_t> used_column;
  std::optional<std::size_t> arch_column;
  for_each_line(tool, text, [&](std::size_t n, std::string_view line) {
    if (trim(line).empty()) return;
    const std::vector<std::string_view> fields = split(line, ',');
    if (header.empty()) {
      // rocm-smi may print warnings before the table: the header starts with "device".
      if (fields.front() != "device") return;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        const std::string lower = [&] {
          std::string s(fields[i]);
          for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
          return s;
        }();
        if (lower == "card series") name_column = i;
        if (lower == "vram total memory (b)") total_column = i;
        if (lower == "vram total used memory (b)") used_column = i;
        if (lower == "gfx version") arch_column = i;
        header.emplace_back(fields[i]);
      }
      if (!total_column) {
        throw Error(ErrorKind::bad_input,
                    fmt::format("{}: line {}: no 'VRAM Total Memory (B)' column (run with "
                                "--showmeminfo vram)",
                                tool, n));
      }
      return;
    }
    if (fields.size() != header.size()) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("{}: line {}: {} fields where the header has {}: '{}'", tool, n,
                              fields.size(), header.size(), excerpt(line)));
    }
    DetectedGpu gpu;
    gpu.name = std::string(name_column ? fields[*name_column] : fields.front());
    if (arch_column && !not_available(fields[*arch_column])) {
      gpu.arch = std::string(fields[*arch_column]);
    }
    gpu.total_bytes = size_field(tool, n, "VRAM Total Memory (B)", fields[*total_column], 1);
    if (used_column) {
      gpu.used_bytes = size_field(tool, n, "VRAM Total Used Memory (B)", fields[*used_column], 1);
    }
    check_count(tool, out.size() + 1);
    out.push_back(std::move(gpu));
  });
  if (header.empty()) {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: no CSV header line starting with 'device'", tool));
  }
  return out;
}

SysctlValues parse_sysctl(std::string_view text) {
  constexpr std::string_view tool = "sysctl";
  SysctlValues out;
  for_each_line(tool, text, [&](std::size_t n, std::string_view line) {
    std::size_t at = line.find(':');
    if (at == std::string_view::npos) at = line.find('=');
    if (at == std::string_view::npos) return;
    const std::string_view key = trim(line.substr(0, at));
    const std::string_view value = trim(line.substr(at + 1));
    if (key == "hw.memsize") {
      out.memsize = number(value, detect_max_bytes);
      if (!out.memsize) {
        throw Error(ErrorKind::bad_input, fmt::format("{}: line {}: hw.memsize '{}' is not a size "
                                                      "up to {} bytes",
                                                      tool, n, excerpt(value), detect_max_bytes));
      }
    } else if (key == "iogpu.wired_limit_mb") {
      out.wired_limit_mb = number(value, detect_max_bytes / mib);
      if (!out.wired_limit_mb) {
        throw Error(ErrorKind::bad_input,
                    fmt::format("{}: line {}: iogpu.wired_limit_mb '{}' is not a number of MB",
                                tool, n, excerpt(value)));
      }
    } else if (key == "machdep.cpu.brand_string") {
      out.cpu_brand = std::string(value.substr(0, 128));
    }
  });
  return out;
}

MemInfo parse_meminfo(std::string_view text) {
  constexpr std::string_view tool = "/proc/meminfo";
  std::optional<Bytes> total;
  std::optional<Bytes> available;
  for_each_line(tool, text, [&](std::size_t n, std::string_view line) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    const std::string_view key = line.substr(0, colon);
    if (key != "MemTotal" && key != "MemAvailable") return;
    std::string_view value = trim(line.substr(colon + 1));
    Bytes unit = 1;
    if (value.ends_with("kB")) {
      value = trim(value.substr(0, value.size() - 2));
      unit = kib;
    }
    const std::optional<std::int64_t> amount = number(value, detect_max_bytes / unit);
    if (!amount) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("{}: line {}: {} '{}' is not a size up to {} "
                              "bytes",
                              tool, n, key, excerpt(value), detect_max_bytes));
    }
    (key == "MemTotal" ? total : available) = *amount * unit;
  });
  if (!total) throw Error(ErrorKind::bad_input, fmt::format("{}: no MemTotal line", tool));
  return MemInfo{*total, available};
}

std::optional<Bytes> parse_cgroup_limit(std::string_view text) {
  const std::string_view value = trim(text);
  if (value == "max") return std::nullopt;
  std::uint64_t limit = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, limit);
  if (value.empty() || ptr != end || (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
    throw Error(ErrorKind::bad_input,
                fmt::format("cgroup memory limit '{}' is not a number or 'max'", excerpt(value)));
  }
  // cgroup v1 writes "no limit" as the largest page-aligned value below 2^63.
  if (ec == std::errc::result_out_of_range || limit >= (std::uint64_t{1} << 62) ||
      limit > static_cast<std::uint64_t>(detect_max_bytes)) {
    return std::nullopt;
  }
  return static_cast<Bytes>(limit);
}

namespace {

// Closes a descriptor once.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
};

class SpawnAttributes {
 public:
  SpawnAttributes() { posix_spawnattr_init(&attributes_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  ~SpawnAttributes() { posix_spawnattr_destroy(&attributes_); }
  posix_spawnattr_t* get() { return &attributes_; }

 private:
  posix_spawnattr_t attributes_{};
};

[[nodiscard]] std::string first_line(std::string_view text) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = trim(text.substr(0, end));
    if (!line.empty()) return excerpt(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return {};
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const CommandLimits& limits) {
  using Clock = std::chrono::steady_clock;
  if (argv.empty()) throw Error(ErrorKind::internal, "run_command: no command");
  const std::string tool = escape_controls(argv.front());
  CommandResult result;

  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    throw Error(ErrorKind::internal, fmt::format("cannot make a pipe: {}", std::strerror(errno)));
  }
  Fd out_read(out_pipe[0]);
  Fd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw Error(ErrorKind::internal, fmt::format("cannot make a pipe: {}", std::strerror(errno)));
  }
  Fd err_read(err_pipe[0]);
  Fd err_write(err_pipe[1]);

  SpawnActions actions;
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(actions.get(), out_write.get(), 1);
  posix_spawn_file_actions_adddup2(actions.get(), err_write.get(), 2);
  SpawnAttributes attributes;
  // Its own process group, so that a timeout kills whatever the tool started too; default
  // signal handling for SIGPIPE, so a tool cut off at the output limit ends.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(attributes.get(), &defaults);
  posix_spawnattr_setpgroup(attributes.get(), 0);
  posix_spawnattr_setflags(attributes.get(),
                           static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF));

  std::vector<std::string> args_storage(argv);
  std::vector<char*> args;
  for (std::string& arg : args_storage) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, args.front(), actions.get(), attributes.get(), args.data(), environ);
  out_write.reset();
  err_write.reset();
  if (spawned != 0) {
    result.status =
        spawned == ENOENT ? CommandResult::Status::not_found : CommandResult::Status::cannot_run;
    result.reason = spawned == ENOENT
                        ? fmt::format("{} not found", tool)
                        : fmt::format("{} cannot be run: {}", tool, std::strerror(spawned));
    return result;
  }

  std::string errors;
  constexpr std::size_t max_errors = 4096;
  Clock::time_point deadline = Clock::now() + limits.timeout;
  bool exited = false;
  int wait_status = 0;
  bool killed = false;
  const auto kill_group = [&] {
    if (!killed) ::kill(-pid, SIGKILL);
    killed = true;
  };
  char buffer[16384];
  while (out_read.get() >= 0 || err_read.get() >= 0) {
    if (!exited && ::waitpid(pid, &wait_status, WNOHANG) == pid) {
      exited = true;
      // What it started may hold the pipes open: drain briefly, then stop.
      deadline = std::min(deadline, Clock::now() + std::chrono::milliseconds(200));
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      if (!exited) result.status = CommandResult::Status::timed_out;
      break;
    }
    pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
    const int ready =
        ::poll(fds, 2, static_cast<int>(std::min<long long>(left, exited ? left : 50)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Fd& fd = i == 0 ? out_read : err_read;
      const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fd.reset();
        continue;
      }
      const auto count = static_cast<std::size_t>(n);
      if (i == 0) {
        result.output.append(buffer, count);
      } else if (errors.size() < max_errors) {
        errors.append(buffer, std::min(count, max_errors - errors.size()));
      }
    }
    if (result.output.size() > limits.max_output) {
      result.status = CommandResult::Status::too_much_output;
      result.output.resize(limits.max_output);
      break;
    }
  }
  const bool pipes_held = out_read.get() >= 0 || err_read.get() >= 0;
  out_read.reset();
  err_read.reset();
  // Both pipes closed: the tool is ending; give it until the deadline to be reaped.
  while (!exited && result.status == CommandResult::Status::ok && Clock::now() < deadline) {
    const pid_t reaped = ::waitpid(pid, &wait_status, WNOHANG);
    if (reaped == pid || (reaped < 0 && errno != EINTR)) {
      exited = true;
    } else {
      ::usleep(5000);
    }
  }
  if (!exited) {
    if (result.status == CommandResult::Status::ok)
      result.status = CommandResult::Status::timed_out;
    kill_group();
    while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
  } else if (pipes_held) {
    kill_group();  // what it started and left holding the pipes
  }

  switch (result.status) {
    case CommandResult::Status::timed_out:
      result.reason = fmt::format("{} did not finish within {} ms", tool, limits.timeout.count());
      return result;
    case CommandResult::Status::too_much_output:
      result.reason = fmt::format("{} printed more than {} bytes", tool, limits.max_output);
      return result;
    default:
      break;
  }
  const std::string said =
      first_line(errors).empty() ? first_line(result.output) : first_line(errors);
  if (WIFSIGNALED(wait_status)) {
    result.status = CommandResult::Status::failed;
    result.exit_code = 128 + WTERMSIG(wait_status);
    result.reason = fmt::format("{} was killed by signal {}", tool, WTERMSIG(wait_status));
  } else if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0) {
    result.status = CommandResult::Status::failed;
    result.exit_code = WEXITSTATUS(wait_status);
    result.reason = said.empty()
                        ? fmt::format("{} failed (exit {})", tool, result.exit_code)
                        : fmt::format("{} failed (exit {}): {}", tool, result.exit_code, said);
  }
  return result;
}

namespace {

[[nodiscard]] CommandResult run_with(const DetectOptions& options,
                                     const std::vector<std::string>& argv) {
  return options.run ? options.run(argv) : run_command(argv);
}

// The parsers' errors name the tool; detection adds what was being detected.
template <typename Fn>
[[nodiscard]] auto parse_for(std::string_view what, Fn parse) {
  try {
    return parse();
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", what, e.what()));
  }
}

[[nodiscard]] std::optional<std::string> read_small(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  try {
    return read_text_file(path.string(), 64 * 1024);
  } catch (const Error&) {
    return std::nullopt;
  }
}

struct CgroupMemory {
  std::optional<Bytes> limit;
  std::optional<Bytes> usage;
  std::string file;  // which limit file applied
};

// A cgroup path from /proc/self/cgroup: absolute, no "." or ".." parts, bounded.
[[nodiscard]] bool safe_cgroup_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > 4096) return false;
  std::size_t parts = 0;
  for (const std::string_view part : split(path.substr(1), '/')) {
    if (part == "." || part == "..") return false;
    if (++parts > 64) return false;
  }
  return true;
}

[[nodiscard]] CgroupMemory cgroup_memory(const std::filesystem::path& root) {
  CgroupMemory out;
  const std::optional<std::string> self = read_small(root / "proc/self/cgroup");
  if (!self) return out;
  std::optional<std::string> v2_path;
  std::optional<std::string> v1_path;
  for_each_line("/proc/self/cgroup", *self, [&](std::size_t, std::string_view line) {
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) return;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (!safe_cgroup_path(path)) return;
    if (line.substr(0, first) == "0" && controllers.empty()) v2_path = std::string(path);
    for (const std::string_view c : split(controllers, ',')) {
      if (c == "memory") v1_path = std::string(path);
    }
  });
  const auto limit_in = [&](const std::filesystem::path& file) -> std::optional<Bytes> {
    const std::optional<std::string> text = read_small(file);
    if (!text) return std::nullopt;
    try {
      return parse_cgroup_limit(*text);
    } catch (const Error&) {
      return std::nullopt;
    }
  };
  if (v1_path) {
    const std::filesystem::path base = root / "sys/fs/cgroup/memory";
    // In a container without a cgroup namespace the host's path is not mounted: the
    // container's own cgroup is the mount's root.
    for (const std::filesystem::path& dir : {base / v1_path->substr(1), base}) {
      if (!std::filesystem::exists(dir / "memory.limit_in_bytes")) continue;
      out.limit = limit_in(dir / "memory.limit_in_bytes");
      if (out.limit) {
        out.file = "memory.limit_in_bytes";
        out.usage = limit_in(dir / "memory.usage_in_bytes");
      }
      return out;
    }
  }
  if (v2_path) {
    const std::filesystem::path base = root / "sys/fs/cgroup";
    std::filesystem::path leaf = base / v2_path->substr(1);
    if (!std::filesystem::exists(leaf / "memory.max")) leaf = base;
    // The tightest memory.max from this cgroup up to the root of the mount.
    for (std::filesystem::path dir = leaf;; dir = dir.parent_path()) {
      if (const std::optional<Bytes> limit = limit_in(dir / "memory.max")) {
        if (!out.limit || *limit < *out.limit) out.limit = limit;
      }
      if (dir == base || dir.string().size() <= base.string().size()) break;
    }
    if (out.limit) {
      out.file = "memory.max";
      out.usage = limit_in(leaf / "memory.current");
    }
  }
  return out;
}

}  // namespace

GpuDetection detect_gpus(std::string_view what, std::string_view hint,
                         const DetectOptions& options) {
  const auto fail = [&](ErrorKind kind, const std::string& why) -> Error {
    return Error(kind, fmt::format("{}: {}; {}", what, why, hint));
  };
  GpuDetection out;
  if (options.apple) {
    const CommandResult r = run_with(
        options, {"sysctl", "hw.memsize", "iogpu.wired_limit_mb", "machdep.cpu.brand_string"});
    // An older macOS has no iogpu.wired_limit_mb: sysctl complains but prints the rest.
    if (r.status != CommandResult::Status::ok && r.status != CommandResult::Status::failed) {
      throw fail(ErrorKind::io, r.reason);
    }
    const SysctlValues values = parse_for(what, [&] { return parse_sysctl(r.output); });
    if (!values.memsize)
      throw fail(ErrorKind::io, r.reason.empty() ? "sysctl printed no hw.memsize" : r.reason);
    const AppleGpuMemory share = apple_gpu_memory(*values.memsize, values.wired_limit_mb);
    out.tool = "sysctl";
    out.unified = true;
    out.note = share.rule;
    out.gpus.push_back(DetectedGpu{values.cpu_brand.empty() ? "Apple GPU" : values.cpu_brand, "",
                                   share.bytes, std::nullopt});
    return out;
  }
  const CommandResult nvidia = run_with(
      options,
      {"nvidia-smi", "--query-gpu=name,memory.total,memory.used", "--format=csv,noheader,nounits"});
  if (nvidia.status == CommandResult::Status::ok) {
    out.tool = "nvidia-smi";
    out.gpus = parse_for(what, [&] { return parse_nvidia_smi_csv(nvidia.output); });
    if (out.gpus.empty()) throw fail(ErrorKind::bad_input, "nvidia-smi listed no GPU");
    return out;
  }
  // No NVIDIA tool, or one that finds no NVIDIA GPU: an AMD card may be there.
  const CommandResult rocm =
      run_with(options, {"rocm-smi", "--showproductname", "--showmeminfo", "vram", "--csv"});
  if (rocm.status == CommandResult::Status::ok) {
    out.tool = "rocm-smi";
    out.gpus = parse_for(what, [&] { return parse_rocm_smi_csv(rocm.output); });
    if (out.gpus.empty()) throw fail(ErrorKind::bad_input, "rocm-smi listed no GPU");
    return out;
  }
  if (nvidia.status != CommandResult::Status::not_found) throw fail(ErrorKind::io, nvidia.reason);
  if (rocm.status != CommandResult::Status::not_found) throw fail(ErrorKind::io, rocm.reason);
  throw fail(ErrorKind::io, "no GPU tool found (nvidia-smi not found, rocm-smi not found)");
}

std::optional<GpuRef> resolve_detected(const GpuCatalog& catalog, const DetectedGpu& gpu) {
  if (std::optional<GpuRef> ref = catalog.resolve(gpu.name, gpu.total_bytes)) return ref;
  if (gpu.arch.empty()) return std::nullopt;
  return catalog.resolve(gpu.arch, gpu.total_bytes);
}

SystemMemory detect_system_memory(std::string_view what, std::string_view hint,
                                  const DetectOptions& options) {
  const std::filesystem::path root(options.root);
  SystemMemory out;
  if (const std::optional<std::string> text = read_small(root / "proc/meminfo")) {
    const MemInfo info = parse_for(what, [&] { return parse_meminfo(*text); });
    out.total = info.total;
    out.available = info.available;
    out.source = "/proc/meminfo";
    const CgroupMemory cgroup = cgroup_memory(root);
    if (cgroup.limit) {
      out.cgroup_limit = cgroup.limit;
      out.source += fmt::format(", cgroup {}", cgroup.file);
      out.total = std::min(out.total, *cgroup.limit);
      const Bytes room = std::max<Bytes>(0, *cgroup.limit - cgroup.usage.value_or(0));
      out.available = std::min(out.available.value_or(room), room);
    }
    return out;
  }
  if (options.apple) {
    const CommandResult r = run_with(options, {"sysctl", "hw.memsize"});
    if (r.status != CommandResult::Status::ok) {
      throw Error(ErrorKind::io, fmt::format("{}: {}; {}", what, r.reason, hint));
    }
    const SysctlValues values = parse_for(what, [&] { return parse_sysctl(r.output); });
    if (values.memsize) {
      out.total = *values.memsize;
      out.source = "sysctl hw.memsize";
      return out;
    }
  }
  throw Error(ErrorKind::io, fmt::format("{}: cannot read /proc/meminfo; {}", what, hint));
}

}  // namespace vramplan::io
