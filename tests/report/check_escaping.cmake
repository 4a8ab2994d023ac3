# cmake -DROOT=<repo> -P check_escaping.cmake
# The report layer prints text from files only through its escaping helpers (issue 9,
# include/vramplan/report/escape.hpp): terminal and .env text through format_text() and
# TextTable, JSON through json_text(). This fails when a renderer formats or dumps directly,
# which would bypass them.
cmake_minimum_required(VERSION 3.25)
set(_allowed "include/vramplan/report/escape.hpp" "src/report/json_text.hpp")
file(GLOB _files "${ROOT}/src/report/*.cpp" "${ROOT}/src/report/*.hpp"
     "${ROOT}/include/vramplan/report/*.hpp")
set(_failures "")
foreach(_file IN LISTS _files)
  file(RELATIVE_PATH _rel "${ROOT}" "${_file}")
  if(_rel IN_LIST _allowed)
    continue()
  endif()
  file(STRINGS "${_file}" _lines REGEX "fmt::(format|format_to|print|vformat)[ (<]|\\.dump\\(")
  foreach(_line IN LISTS _lines)
    string(APPEND _failures "  ${_rel}: ${_line}\n")
  endforeach()
endforeach()
if(_failures)
  message(FATAL_ERROR "unescaped formatting in the report layer (use format_text or "
                      "json_text):\n${_failures}")
endif()
message(STATUS "report escaping: ok")
