// Wall-clock bounds for the tests that check an input is handled in linear time. The bound
// is set for an optimised build; sanitizers and unoptimised (Debug) builds run the same code
// several times slower, so there it is ten times larger. A quadratic parser still misses it
// by far: the inputs are sized so that the old code took minutes.
#pragma once

namespace vramplan::test {

[[nodiscard]] constexpr double time_budget(double optimised_seconds) {
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
  return 10 * optimised_seconds;
#else
  return optimised_seconds;
#endif
}

}  // namespace vramplan::test
