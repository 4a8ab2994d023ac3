# e2e tests of the real binary (conventions §6.1): --version, --help, one test per exit code,
# and -o. Each runs a small `cmake -P` script that checks the exact exit code.
set(VRAMPLAN_E2E_DIR ${CMAKE_CURRENT_LIST_DIR})
set(VRAMPLAN_E2E_WORK ${CMAKE_CURRENT_BINARY_DIR}/e2e-work)

# vramplan_e2e(NAME EXIT CODE ARGS a|b|c [STDOUT re] [STDERR re] [PRECREATE file] [TARGET t])
# TARGET: the binary to run (default vramplan).
function(vramplan_e2e name)
  cmake_parse_arguments(E "" "EXIT;ARGS;STDOUT;STDERR;PRECREATE;TARGET" "" ${ARGN})
  if(NOT E_TARGET)
    set(E_TARGET vramplan)
  endif()
  set(defs -DBIN=$<TARGET_FILE:${E_TARGET}> "-DARGS=${E_ARGS}" -DEXPECT_EXIT=${E_EXIT}
           -DWORKDIR=${VRAMPLAN_E2E_WORK}/${name})
  if(DEFINED E_STDOUT)
    list(APPEND defs "-DSTDOUT_REGEX=${E_STDOUT}")
  endif()
  if(DEFINED E_STDERR)
    list(APPEND defs "-DSTDERR_REGEX=${E_STDERR}")
  endif()
  if(DEFINED E_PRECREATE)
    list(APPEND defs -DPRECREATE=${E_PRECREATE})
  endif()
  add_test(NAME e2e.${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${VRAMPLAN_E2E_DIR}/run.cmake)
  set_tests_properties(e2e.${name} PROPERTIES LABELS e2e)
endfunction()

vramplan_e2e(version EXIT 0 ARGS --version STDOUT "^vramplan ${PROJECT_VERSION}\n$")
vramplan_e2e(help EXIT 0 ARGS --help STDOUT "Usage: vramplan")
vramplan_e2e(fit_help EXIT 0 ARGS fit|--help STDOUT "--vram")
vramplan_e2e(exit_0_fits EXIT 0 ARGS fit|--vram|16G|--model|llama3.1:8b-q8
             STDOUT "fits: +yes")
vramplan_e2e(exit_1_does_not_fit EXIT 1 ARGS fit|--vram|4G|--ram|8G|--model|llama3.1:70b
             STDOUT "fits: +no")
vramplan_e2e(exit_2_usage EXIT 2 ARGS fit|--vram|16Q|--model|llama3.1:8b
             STDERR "^vramplan: error: [^\n]*'16Q'[^\n]*\n$")
vramplan_e2e(exit_2_unknown_flag EXIT 2 ARGS fit|--bogus STDERR "^vramplan: error: ")
vramplan_e2e(exit_3_unknown_model EXIT 3 ARGS fit|--vram|16G|--model|no-such-model
             STDERR "^vramplan: error: unknown model 'no-such-model'")
vramplan_e2e(exit_4_no_clobber EXIT 4
             ARGS fit|--vram|16G|--model|llama3.1:8b|--format|env|-o|@WORKDIR@/x.env
             PRECREATE x.env STDERR "exists; use --force to overwrite\n$")
# gpus, size, recommend and --gpu (issue 12): their exit codes on the real binary. `auto` is
# left to the golden cases, which answer detection from recorded outputs.
vramplan_e2e(gpus_exit_0 EXIT 0 ARGS gpus|t4 STDOUT "\nt4 +NVIDIA T4 ")
vramplan_e2e(gpus_exit_1_no_match EXIT 1 ARGS gpus|rtx-9999 STDOUT "\n0 GPUs\\.")
vramplan_e2e(size_exit_0 EXIT 0 ARGS size|--model|llama3.1:8b-q4_k_m|--limit|2
             STDOUT "smallest set: 1 x ")
vramplan_e2e(recommend_exit_0 EXIT 0 ARGS recommend|--gpu|rtx-3060|--limit|2
             STDOUT "fully on the GPU \\(2\\)")
vramplan_e2e(recommend_exit_1_nothing_fits EXIT 1 ARGS recommend|--vram|1G
             STDOUT "fully on the GPU \\(0\\)")
vramplan_e2e(recommend_exit_2_no_gpu EXIT 2 ARGS recommend|--ram|8G
             STDERR "^vramplan: error: recommend needs --vram SIZE or --gpu NAME")
vramplan_e2e(gpu_exit_3_unknown EXIT 3 ARGS fit|--gpu|rtx-4909|--model|llama3.1:8b
             STDERR "^vramplan: error: --gpu: unknown GPU 'rtx-4909'")
# Exit 5 through tests/tools/internal_error.cpp: cli::run in a test-only binary whose
# environment lookup throws; the shipped binary has no hook for it.
vramplan_e2e(exit_5_internal EXIT 5 ARGS models TARGET vramplan_internal_error
             STDERR "^vramplan: error: internal error: injected failure reading [$]VRAMPLAN_CATALOG \\(please report\\)\n$")
vramplan_e2e(no_internal_hook EXIT 2 ARGS --internal-error-test|models
             STDERR "^vramplan: error: unknown flag '--internal-error-test' \\(run 'vramplan --help'\\)\n$")

add_test(NAME e2e.output_file
         COMMAND ${CMAKE_COMMAND} -DBIN=$<TARGET_FILE:vramplan>
                 -DWORKDIR=${VRAMPLAN_E2E_WORK}/output_file -P ${VRAMPLAN_E2E_DIR}/output_file.cmake)
set_tests_properties(e2e.output_file PROPERTIES LABELS e2e)

add_test(NAME e2e.not_regular_files
         COMMAND ${CMAKE_COMMAND} -DBIN=$<TARGET_FILE:vramplan>
                 -DWORKDIR=${VRAMPLAN_E2E_WORK}/not_regular_files
                 -P ${VRAMPLAN_E2E_DIR}/not_regular_files.cmake)
set_tests_properties(e2e.not_regular_files PROPERTIES LABELS e2e TIMEOUT 120)

add_test(NAME e2e.output_rules
         COMMAND ${CMAKE_COMMAND} -DBIN=$<TARGET_FILE:vramplan>
                 -DWORKDIR=${VRAMPLAN_E2E_WORK}/output_rules -P ${VRAMPLAN_E2E_DIR}/output_rules.cmake)
set_tests_properties(e2e.output_rules PROPERTIES LABELS e2e TIMEOUT 120)

add_test(NAME e2e.loose_values
         COMMAND ${CMAKE_COMMAND} -DBIN=$<TARGET_FILE:vramplan> -P ${VRAMPLAN_E2E_DIR}/loose_values.cmake)
set_tests_properties(e2e.loose_values PROPERTIES LABELS e2e TIMEOUT 120)

# Planning time on crafted shapes (docs/reliability.md §7): 1024 layers x 4096 experts and ten
# quantizations, nothing fits. It took minutes before the planner's work was bounded; now well
# under a second (the timeout leaves room for a loaded machine).
vramplan_e2e(fit_crafted_moe_is_fast EXIT 1
             ARGS fit|--catalog|${VRAMPLAN_E2E_DIR}/crafted_moe.yaml|--model|crafted-moe:4096x1024-f16|--vram|1G|--ram|4G|--engine|llamacpp
             STDOUT "fits: +no")
# The sanitizer build runs the same work 10-30x slower (7 s on CI's 2 cores), so the bound is
# the release build's.
if(VRAMPLAN_SANITIZE)
  set_tests_properties(e2e.fit_crafted_moe_is_fast PROPERTIES TIMEOUT 120)
else()
  set_tests_properties(e2e.fit_crafted_moe_is_fast PROPERTIES TIMEOUT 10)
endif()

# `check -o` (issue 11): atomic, no clobber, mode kept, nothing written on error.
add_test(NAME e2e.check_output
         COMMAND ${CMAKE_COMMAND} -DBIN=$<TARGET_FILE:vramplan>
                 -DFIXTURE=${PROJECT_SOURCE_DIR}/tests/check/fixtures/ollama-mistral7b-4gb/.env
                 -DWORKDIR=${VRAMPLAN_E2E_WORK}/check_output
                 -P ${VRAMPLAN_E2E_DIR}/check_output.cmake)
set_tests_properties(e2e.check_output PROPERTIES LABELS e2e)
