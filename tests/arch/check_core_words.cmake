# cmake -DROOT=<repo> -P check_core_words.cmake
# Core speaks data, the command line speaks flags (issue 10, docs/architecture.md "Errors and
# exit codes"): no string literal in core (src/core, include/vramplan/*.hpp; not io/ or
# report/) spells a flag — `--` and a letter — and core throws no ErrorKind::usage, which is the
# command line's own kind. Comment lines may name flags. tests/arch/fixtures/core_words is a
# tree that breaks both rules, so this check is itself tested (arch.core_words_fixture).
cmake_minimum_required(VERSION 3.25)
file(GLOB _files "${ROOT}/src/core/*.cpp" "${ROOT}/src/core/*.hpp"
     "${ROOT}/include/vramplan/*.hpp")
# Known exceptions, each a file and the exact text it may keep, with the reason: none today
# (the catalogs name --model and --vram through SettingText, error.hpp).
set(_known "")
# Files whose strings are another program's flags, as data: llama-server's option table that
# the deployment reader matches (upstream spellings, not vramplan's).
set(_foreign_flag_tables "src/core/deployment.cpp")
set(_failures "")
foreach(_file IN LISTS _files)
  file(RELATIVE_PATH _rel "${ROOT}" "${_file}")
  # One list element per line: `;` and brackets would split or join CMake list elements.
  file(READ "${_file}" _text)
  string(REPLACE ";" "<semicolon>" _text "${_text}")
  string(REPLACE "[" "<lbracket>" _text "${_text}")
  string(REPLACE "]" "<rbracket>" _text "${_text}")
  string(REPLACE "\n" ";" _lines "${_text}")
  foreach(_line IN LISTS _lines)
    if(_line MATCHES "^[ \t]*//")
      continue()
    endif()
    if(_rel IN_LIST _foreign_flag_tables)
      # still checked for usage errors below
    elseif(_line MATCHES "\"[^\"]*--[A-Za-z][^\"]*\"")
      set(_excused FALSE)
      foreach(_exception IN LISTS _known)
        string(REPLACE "|" ";" _pair "${_exception}")
        list(GET _pair 0 _known_file)
        list(GET _pair 1 _known_text)
        string(FIND "${_line}" "${_known_text}" _at)
        if(_rel STREQUAL _known_file AND NOT _at EQUAL -1)
          set(_excused TRUE)
        endif()
      endforeach()
      if(NOT _excused)
        string(APPEND _failures "  ${_rel}: flag spelled in a string: ${_line}\n")
      endif()
    endif()
    if(_line MATCHES "ErrorKind::usage")
      string(APPEND _failures "  ${_rel}: usage error thrown in core: ${_line}\n")
    endif()
  endforeach()
endforeach()
if(_failures)
  message(FATAL_ERROR "core writes command-line words (name the Setting; let report/ and cli/ "
                      "spell it):\n${_failures}")
endif()
message(STATUS "core words: ok")
