# vramplan_warnings: linked PRIVATE by every project target, never by third-party code.
add_library(vramplan_warnings INTERFACE)
target_compile_options(vramplan_warnings INTERFACE
  -Wall -Wextra -Wpedantic
  -Wno-missing-field-initializers  # designated initializers rely on default member values
  # (-Wnull-dereference is left out: at -O2 g++ 12 reports false positives inside libstdc++.)
  -Wshadow                 # a local hiding a member or outer name
  -Wconversion -Wsign-conversion  # silent narrowing is how a memory calculator goes wrong
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<CXX_COMPILER_ID:GNU>:-Wmisleading-indentation -Wduplicated-cond -Wduplicated-branches
                          -Wlogical-op -Wsuggest-override>)
if(VRAMPLAN_WARNINGS_AS_ERRORS)
  target_compile_options(vramplan_warnings INTERFACE -Werror)
endif()
