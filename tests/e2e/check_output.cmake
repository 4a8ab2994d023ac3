# `check -o`: the fixed file is written atomically (no temporary left behind) with the fix
# applied and every other line kept, keeps the mode of the file it replaces with --force, is
# never written over an existing file without --force (exit 4, content unchanged), and nothing
# is written when the input is malformed (exit 3). The fixed configuration then checks as
# fitting (exit 0).
#   cmake -DBIN=<vramplan> -DFIXTURE=<.env> -DWORKDIR=<dir> -P check_output.cmake
cmake_minimum_required(VERSION 3.25)

unset(ENV{VRAMPLAN_CATALOG})
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")
configure_file("${FIXTURE}" "${WORKDIR}/ollama.env" COPYONLY)
set(target "${WORKDIR}/fixed.env")
set(args check --env "${WORKDIR}/ollama.env" --model mistral:7b --vram 6G -o "${target}")

function(expect_files count)
  file(GLOB files "${WORKDIR}/*")
  list(LENGTH files n)
  if(NOT n EQUAL count)
    message(FATAL_ERROR "expected ${count} file(s) in ${WORKDIR}, found: ${files}")
  endif()
endfunction()

function(mode_of path out)
  execute_process(COMMAND stat -c %a "${path}" OUTPUT_VARIABLE m OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(${out} "${m}" PARENT_SCOPE)
endfunction()

# 1. The deployment does not fit as it is (exit 1); the fixed file is written.
execute_process(COMMAND "${BIN}" ${args} RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT code EQUAL 1)
  message(FATAL_ERROR "first check: exit ${code}, expected 1\n${out}\n${err}")
endif()
expect_files(2)
file(READ "${WORKDIR}/ollama.env" original)
file(READ "${target}" fixed)
if(fixed STREQUAL original)
  message(FATAL_ERROR "the fixed file is the original")
endif()
# Every comment and unrelated line is kept.
foreach(line "# longer chats for the discord bot" "BOT_PREFIX=!ask" "TZ=Europe/Berlin"
        "OLLAMA_ORIGINS=http://localhost:5173")
  string(FIND "${fixed}" "${line}\n" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "'${line}' lost from the fixed file:\n${fixed}")
  endif()
endforeach()

# 2. The fixed configuration fits.
execute_process(COMMAND "${BIN}" check --env "${target}" --model mistral:7b --vram 6G
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "the fixed file does not fit: exit ${code}\n${out}\n${err}")
endif()

# 3. No clobber without --force.
file(WRITE "${target}" "precious\n")
execute_process(COMMAND "${BIN}" ${args} RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 4)
  message(FATAL_ERROR "second write without --force: exit ${code}, expected 4\n${err}")
endif()
file(READ "${target}" kept)
if(NOT kept STREQUAL "precious\n")
  message(FATAL_ERROR "the existing file was modified")
endif()
expect_files(2)

# 4. --force replaces it and keeps its mode.
file(CHMOD "${target}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
execute_process(COMMAND "${BIN}" ${args} --force RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 1)
  message(FATAL_ERROR "write with --force: exit ${code}, expected 1\n${err}")
endif()
file(READ "${target}" replaced)
if(NOT replaced STREQUAL fixed)
  message(FATAL_ERROR "--force did not write the same content")
endif()
mode_of("${target}" mode)
if(NOT mode STREQUAL "640")
  message(FATAL_ERROR "mode not kept: ${mode}, expected 640")
endif()
expect_files(2)

# 5. A malformed input: exit 3, one line with file:line, nothing written.
file(WRITE "${WORKDIR}/bad.env" "OLLAMA_NUM_PARALLEL=2\nthis is no assignment\n")
execute_process(COMMAND "${BIN}" check --env "${WORKDIR}/bad.env" --model mistral:7b --vram 4G
                        -o "${WORKDIR}/bad-fixed.env"
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 3)
  message(FATAL_ERROR "malformed input: exit ${code}, expected 3\n${err}")
endif()
if(NOT err MATCHES "^vramplan: error: [^\n]*bad.env:2: [^\n]*\n$")
  message(FATAL_ERROR "unexpected message: ${err}")
endif()
if(EXISTS "${WORKDIR}/bad-fixed.env")
  message(FATAL_ERROR "a file was written for a malformed input")
endif()
if(NOT out STREQUAL "")
  message(FATAL_ERROR "stdout should be empty on error:\n${out}")
endif()
