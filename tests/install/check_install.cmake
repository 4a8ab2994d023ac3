# `cmake --install` into a scratch prefix, then checks what landed there (docs/cli.md
# "Installing"): the binary runs from another folder, the man page and the three completions
# are the generated ones, the docs are there, and nothing else is installed.
#   cmake -DBUILD=<build dir> -DZSH_DIR=<zsh folder, relative> -DWORKDIR=<scratch dir> -P ...
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${WORKDIR}")
set(prefix "${WORKDIR}/usr")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD}" --prefix "${prefix}"
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${code}):\n${out}\n${err}")
endif()

set(expected
    bin/vramplan
    share/man/man1/vramplan.1
    share/bash-completion/completions/vramplan
    ${ZSH_DIR}/_vramplan
    share/fish/vendor_completions.d/vramplan.fish
    share/doc/vramplan/README.md
    share/doc/vramplan/CHANGELOG.md
    share/doc/vramplan/copyright
    share/doc/vramplan/docs/cli.md)
foreach(file IN LISTS expected)
  if(NOT EXISTS "${prefix}/${file}")
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
# Only those, and the docs/*.md pages.
file(GLOB_RECURSE installed RELATIVE "${prefix}" "${prefix}/*")
foreach(file IN LISTS installed)
  if(NOT file IN_LIST expected AND NOT file MATCHES "^share/doc/vramplan/docs/[a-z0-9_-]+\\.md$")
    message(FATAL_ERROR "installed but not expected: ${file}")
  endif()
endforeach()

# The installed binary runs from an unrelated folder (the catalog is compiled in).
execute_process(COMMAND "${prefix}/bin/vramplan" fit --vram 16G --model llama3.1:8b-q8
                WORKING_DIRECTORY "${WORKDIR}" RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT code EQUAL 0 OR NOT out MATCHES "fits: +yes")
  message(FATAL_ERROR "installed vramplan fit: exit ${code}\n${out}\n${err}")
endif()

# The generated files, not empty placeholders.
file(READ "${prefix}/share/man/man1/vramplan.1" man)
if(NOT man MATCHES "\n\\.TH VRAMPLAN 1 " OR NOT man MATCHES "\\.SS \"vramplan fit\"")
  message(FATAL_ERROR "the installed man page is not the generated one")
endif()
file(READ "${prefix}/share/bash-completion/completions/vramplan" bash)
file(READ "${prefix}/${ZSH_DIR}/_vramplan" zsh)
file(READ "${prefix}/share/fish/vendor_completions.d/vramplan.fish" fish)
if(NOT bash MATCHES "complete -o filenames -F _vramplan vramplan" OR NOT zsh MATCHES "^#compdef vramplan\n"
   OR NOT fish MATCHES "-l vram ")
  message(FATAL_ERROR "the installed completions are not the generated ones")
endif()
find_program(BASH bash)
if(BASH)
  execute_process(COMMAND "${BASH}" -n "${prefix}/share/bash-completion/completions/vramplan"
                  RESULT_VARIABLE code ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "bash -n on the completion:\n${err}")
  endif()
  # It completes: a command, a flag of that command, the values of an on|off|auto flag.
  foreach(case "vramplan fi|fit" "vramplan fit --vr|--vram" "vramplan fit --flash-attn |on off auto")
    string(REPLACE "|" ";" parts "${case}")
    list(GET parts 0 words)
    list(GET parts 1 expect)
    execute_process(
      COMMAND "${BASH}" -c "source \"$1\"; read -ra COMP_WORDS <<<\"$2\"; \
[[ $2 == *' ' ]] && COMP_WORDS+=(''); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _vramplan; \
echo \"\${COMPREPLY[*]}\"" _ "${prefix}/share/bash-completion/completions/vramplan" "${words}"
      OUTPUT_VARIABLE got OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT got STREQUAL expect)
      message(FATAL_ERROR "bash completion of '${words}': '${got}', expected '${expect}'")
    endif()
  endforeach()
endif()
message(STATUS "install: ok (${prefix})")
