// Wall-clock bounds for the tests that check an input is handled in linear time. The bound
// is set for an optimised build; sanitizers and unoptimised (Debug) builds run the same code
// several times slower, so there it is ten times larger. A quadratic parser still misses it
// by far: the inputs are sized so that the old code took minutes.
#pragma once

#include <algorithm>
#include <ctime>
#include <vector>

namespace vramplan::test {

[[nodiscard]] constexpr double time_budget(double optimised_seconds) {
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
  return 10 * optimised_seconds;
#else
  return optimised_seconds;
#endif
}

// How many timed repetitions a speed test takes: `runs` in an optimised build, one under the
// sanitizers or in a Debug build, where the timing is not what is checked (the bound there is
// ten times looser) and each repetition costs minutes of CI time.
[[nodiscard]] constexpr int timed_runs([[maybe_unused]] int runs) {
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
  return 1;
#else
  return runs;
#endif
}

// CPU time of this thread, in ms: the machines these tests run on are shared, and wall time
// there measures the neighbours as much as the code.
[[nodiscard]] inline double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// The median of `runs` timings of f(), in ms of thread CPU time.
template <typename F>
[[nodiscard]] double median_cpu_ms(F f, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const double t0 = thread_cpu_ms();
    f();
    ms.push_back(thread_cpu_ms() - t0);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace vramplan::test
