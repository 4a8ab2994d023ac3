# Runs the real binary once and checks its exact exit code (and optionally its output).
#   cmake -DBIN=<vramplan> -DARGS="a|b|c" -DEXPECT_EXIT=N [-DSTDOUT_REGEX=re] [-DSTDERR_REGEX=re]
#         [-DWORKDIR=dir] [-DPRECREATE=name] -P run.cmake
# ARGS uses '|' as the separator (a ';' does not survive add_test); "@WORKDIR@" in ARGS is
# replaced by WORKDIR, which is emptied first. PRECREATE names a file made in WORKDIR first.
cmake_minimum_required(VERSION 3.25)

unset(ENV{VRAMPLAN_CATALOG})
set(ENV{NO_COLOR} 1)
if(WORKDIR)
  file(REMOVE_RECURSE "${WORKDIR}")
  file(MAKE_DIRECTORY "${WORKDIR}")
  if(PRECREATE)
    file(WRITE "${WORKDIR}/${PRECREATE}" "precious\n")
  endif()
endif()
string(REPLACE "@WORKDIR@" "${WORKDIR}" args "${ARGS}")
string(REPLACE "|" ";" args "${args}")

execute_process(COMMAND "${BIN}" ${args} RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT code STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "exit code ${code}, expected ${EXPECT_EXIT}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(DEFINED STDOUT_REGEX AND NOT out MATCHES "${STDOUT_REGEX}")
  message(FATAL_ERROR "stdout does not match '${STDOUT_REGEX}':\n${out}")
endif()
if(DEFINED STDERR_REGEX AND NOT err MATCHES "${STDERR_REGEX}")
  message(FATAL_ERROR "stderr does not match '${STDERR_REGEX}':\n${err}")
endif()
if(PRECREATE)
  file(READ "${WORKDIR}/${PRECREATE}" kept)
  if(NOT kept STREQUAL "precious\n")
    message(FATAL_ERROR "${PRECREATE} was modified")
  endif()
endif()
