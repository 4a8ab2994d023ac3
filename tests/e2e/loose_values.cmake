# docs/reliability.md §9: values that used to be accepted loosely or overridden silently are
# refused with one line naming the flag: NaN, infinities and empty values, integers too large
# for their flag, a batch smaller than the slots of an engine that aborts on it.
#   cmake -DBIN=<vramplan> -P loose_values.cmake
cmake_minimum_required(VERSION 3.25)

unset(ENV{VRAMPLAN_CATALOG})
unset(ENV{OLLAMA_MODELS})
set(ENV{HOME} "/nonexistent")
set(ENV{NO_COLOR} 1)

set(failures "")
# check(<exit> <stderr regex> <args...>)
function(check expect_exit err_regex)
  execute_process(COMMAND "${BIN}" ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 30)
  if(NOT code STREQUAL "${expect_exit}" OR NOT err MATCHES "^vramplan: error: ${err_regex}\n$")
    set(failures "${failures}\n[${ARGN}]: exit ${code} (expected ${expect_exit})\n${err}"
        PARENT_SCOPE)
  endif()
endfunction()

set(m --model llama3.1:8b)
# An integer too large says so, instead of "must be at least 1".
check(2 "--ctx must be at most 16777216, got '99999999999999999999'"
      fit ${m} --ctx 99999999999999999999)
check(2 "--ctx must be at least 1, got '-99999999999999999999'"
      fit ${m} --ctx -99999999999999999999)
check(2 "--parallel must be at most 256, got '18446744073709551616'"
      estimate ${m} --parallel 18446744073709551616)
check(2 "--max-num-seqs must be at most 65536, got '99999999999999999999'"
      fit ${m} --engine vllm --vram 24G --max-num-seqs 99999999999999999999)
# NaN and infinities.
check(2 "--headroom: 'nan%' is not a percentage in \\[0, 100\\)"
      fit ${m} --vram 16G --headroom nan%)
check(2 "--headroom: '-nan%' is not a percentage in \\[0, 100\\)"
      fit ${m} --vram 16G --headroom -nan%)
check(2 "--headroom: 'inf%' is not a percentage in \\[0, 100\\)"
      fit ${m} --vram 16G --headroom inf%)
check(2 "--vram: 'nan' is not a size [^\n]*" fit ${m} --vram nan)
check(2 "--vram: 'infG' is not a size [^\n]*" fit ${m} --vram infG)
check(2 "--gpu-memory-utilization must be a fraction in \\(0, 1\\] with at most 4 decimals, got 'nan'"
      fit ${m} --engine vllm --vram 24G --gpu-memory-utilization nan)
# An empty value is a value, refused by its flag's parser (it used to mean "not given").
# check_empty(<exit> <stderr regex> <flag> <args...>) runs `vramplan <args...> <flag> ''`
# (an empty element of ARGN would not survive; the literal "" does).
function(check_empty expect_exit err_regex flag)
  execute_process(COMMAND "${BIN}" ${ARGN} "${flag}" "" RESULT_VARIABLE code
                  OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
  if(NOT code STREQUAL "${expect_exit}" OR NOT err MATCHES "^vramplan: error: ${err_regex}\n$")
    set(failures "${failures}\n[${ARGN} ${flag} '']: exit ${code} (expected ${expect_exit})\n${err}"
        PARENT_SCOPE)
  endif()
endfunction()
check_empty(2 "--vram: '' is not a size [^\n]*" --vram fit ${m})
check_empty(2 "--ram: '' is not a size [^\n]*" --ram fit ${m} --vram 16G)
check_empty(2 "--headroom: '' is not a size [^\n]*" --headroom fit ${m} --vram 16G)
check_empty(2 "--kv-type: '' is not a KV cache type [^\n]*" --kv-type fit ${m})
check_empty(2 "--ctx must be a whole number, got ''" --ctx estimate ${m})
check_empty(2 "--parallel must be a whole number, got ''" --parallel fit ${m})
check_empty(2 "--batch must be a whole number, got ''" --batch fit ${m})
check_empty(2 "--ubatch must be a whole number, got ''" --ubatch estimate ${m})
check_empty(2 "--min-ctx must be a whole number, got ''" --min-ctx fit ${m})
check_empty(2 "--gpu-layers must be a whole number, got ''" --gpu-layers estimate ${m})
check_empty(2 "--cpu-moe must be a whole number, got ''" --cpu-moe estimate ${m})
check_empty(2 "--flash-attn must be on, off or auto, got ''" --flash-attn estimate ${m})
check_empty(2 "--backend: unknown backend '' [^\n]*" --backend estimate ${m})
check_empty(2 "--output: empty file name" -o estimate ${m})
check_empty(2 "--max-model-len must be a whole number, got ''" --max-model-len
            fit ${m} --engine vllm --vram 24G)
check_empty(2 "--gpu-memory-utilization must be a fraction [^\n]*, got ''" --gpu-memory-utilization
            fit ${m} --engine vllm --vram 24G)
check_empty(2 "--kv-cache-dtype: '' is not modelled [^\n]*" --kv-cache-dtype
            estimate ${m} --engine vllm --vram 24G)
check_empty(2 "--parallel does not apply to --engine vllm [^\n]*" --parallel
            estimate ${m} --engine vllm --vram 24G)
check_empty(2 "--dtype needs --engine vllm" --dtype estimate ${m})
check_empty(2 "--mmproj: empty file name" --mmproj estimate ${m})
check_empty(2 "--output: empty file name" -o fit ${m} --engine vllm --vram 24G)

# A batch smaller than the slots: the library aborts on it, so it is refused (docs/cli.md).
check(2 "batch 1 is smaller than parallel 4: llama.cpp \\(library\\) aborts on it [^\n]*"
      estimate ${m} --engine llamacpp-lib --parallel 4 --batch 1)
check(2 "batch 2 is smaller than parallel 4: llama.cpp \\(library\\) aborts on it [^\n]*"
      fit ${m} --engine llamacpp-lib --parallel 4 --batch 2 --vram 24G)
check(2 "--batch 64 and --ubatch 128: Ollama uses one batch size for both; give one of them"
      estimate ${m} --batch 64 --ubatch 128)

# --batch is never overridden silently: Ollama and the library take it as both batch sizes;
# llama-server lowers its physical batch to it (n_ubatch = min(n_batch, n_ubatch)).
# check_output(<stdout regex> <stderr regex> <args...>): exit 0.
function(check_output out_regex err_regex)
  execute_process(COMMAND "${BIN}" ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 30)
  if(NOT code STREQUAL "0" OR NOT out MATCHES "${out_regex}" OR NOT err MATCHES "${err_regex}")
    set(failures "${failures}\n[${ARGN}]: exit ${code}\n${out}\n${err}" PARENT_SCOPE)
  endif()
endfunction()
check_output("\nbatch +1 \\(ubatch 1\\)\n" "^$" estimate ${m} --vram 16G --batch 1)
check_output("\nbatch +2 \\(ubatch 2\\)\n" "" estimate ${m} --engine llamacpp-lib --batch 2)
check_output("\nbatch +256 \\(ubatch 256\\)\n" "^$"
             estimate ${m} --vram 24G --engine llamacpp --batch 256)
check_output("\nbatch +256 \\(ubatch 256\\)\n"
             "vramplan: warning: --ubatch 1024 is larger than --batch 256: llama-server uses 256 \\(n_ubatch = min\\(n_batch, n_ubatch\\)\\)\n"
             estimate ${m} --vram 24G --engine llamacpp --batch 256 --ubatch 1024)

if(failures)
  message(FATAL_ERROR "${failures}")
endif()
