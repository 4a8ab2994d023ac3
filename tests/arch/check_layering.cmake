# cmake -DROOT=<repo> -P check_layering.cmake
# Fails when a layer includes what it must not (docs/architecture.md "Layers"). Debian puts
# every library header in the system include path, so target links alone cannot stop this.
set(_rules
  # folder glob                       | forbidden include pattern (regex)
  "src/core/*.cpp|(nlohmann|yaml-cpp|CLI)/|<(iostream|fstream|filesystem)>|getenv|vramplan/(io|report|cli)"
  "include/vramplan/*.hpp|(nlohmann|yaml-cpp|CLI)/|<(iostream|fstream|filesystem)>|vramplan/(io|report)/"
  "src/io/*.cpp|CLI/|vramplan/report/|vramplan/cli"
  "include/vramplan/io/*.hpp|(nlohmann|yaml-cpp|CLI)/|vramplan/report/"
  "src/report/*.cpp|(yaml-cpp|CLI)/|<(fstream|filesystem)>|vramplan/io/|vramplan/cli"
  "include/vramplan/report/*.hpp|(nlohmann|yaml-cpp|CLI)/|vramplan/io/")
set(_failures "")
foreach(_rule IN LISTS _rules)
  string(REPLACE "|" ";" _parts "${_rule}")
  list(POP_FRONT _parts _glob)
  list(JOIN _parts "|" _forbidden)
  file(GLOB _files "${ROOT}/${_glob}")
  foreach(_file IN LISTS _files)
    file(STRINGS "${_file}" _lines REGEX "^#include|getenv")
    foreach(_line IN LISTS _lines)
      if(_line MATCHES "${_forbidden}")
        file(RELATIVE_PATH _rel "${ROOT}" "${_file}")
        string(APPEND _failures "  ${_rel}: ${_line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(_failures)
  message(FATAL_ERROR "layering violations:\n${_failures}")
endif()
message(STATUS "layering: ok")
