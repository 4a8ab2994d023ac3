# docs/reliability.md §2: a FIFO, a device or a symlink loop given where vramplan reads a file
# (--model, --mmproj, --catalog, $VRAMPLAN_CATALOG) is refused at once with its own one-line
# message and exit 4. A reader that blocked on the FIFO would hit the TIMEOUT below (and the
# test's own ctest TIMEOUT) and fail.
#   cmake -DBIN=<vramplan> -DWORKDIR=<dir> -P not_regular_files.cmake
cmake_minimum_required(VERSION 3.25)

unset(ENV{VRAMPLAN_CATALOG})
set(ENV{NO_COLOR} 1)
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")
set(fifo "${WORKDIR}/fifo.gguf")
set(yaml "${WORKDIR}/fifo.yaml")
execute_process(COMMAND mkfifo "${fifo}" "${yaml}" RESULT_VARIABLE code)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "mkfifo failed: ${code}")
endif()
file(CREATE_LINK "${WORKDIR}/loop2" "${WORKDIR}/loop" SYMBOLIC)
file(CREATE_LINK "${WORKDIR}/loop" "${WORKDIR}/loop2" SYMBOLIC)

# expect(<stderr regex> <args...>): exit 4, nothing on stdout, exactly that one line on stderr.
function(expect err_regex)
  execute_process(COMMAND "${BIN}" ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 10)
  if(NOT code STREQUAL "4")
    message(FATAL_ERROR "${ARGN}: exit '${code}', expected 4 (a hang reads as a timeout)\n${err}")
  endif()
  if(NOT out STREQUAL "")
    message(FATAL_ERROR "${ARGN}: unexpected stdout:\n${out}")
  endif()
  if(NOT err MATCHES "^vramplan: error: ${err_regex}\n$")
    message(FATAL_ERROR "${ARGN}: stderr does not match '${err_regex}':\n${err}")
  endif()
endfunction()

expect("'[^\n]*/fifo.gguf': cannot open: is a FIFO" inspect "${fifo}")
expect("'[^\n]*/fifo.gguf': cannot open: is a FIFO"
       fit --vram 16G --model llama3.1:8b --mmproj "${fifo}")
expect("'[^\n]*/loop': cannot open: too many levels of symbolic links" inspect "${WORKDIR}/loop")
expect("'/dev/zero': cannot open: is a character device" estimate --model /dev/zero)
expect("'/dev/zero': cannot open: is a character device"
       estimate --model llama3.1:8b --mmproj /dev/zero)
expect("cannot read '[^\n]*/fifo.yaml': is a FIFO" models --catalog "${yaml}")
expect("cannot read '/dev/zero': is a character device" models --catalog /dev/zero)
expect("cannot read '${WORKDIR}': is a directory" models --catalog "${WORKDIR}")
set(ENV{VRAMPLAN_CATALOG} "${yaml}")
expect("cannot read '[^\n]*/fifo.yaml': is a FIFO" models)
