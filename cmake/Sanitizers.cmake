# vramplan_options: sanitizer flags for every project target (VRAMPLAN_SANITIZE=address;undefined).
add_library(vramplan_options INTERFACE)
if(VRAMPLAN_SANITIZE)
  list(JOIN VRAMPLAN_SANITIZE "," _vramplan_sanitizers)
  target_compile_options(vramplan_options INTERFACE -fsanitize=${_vramplan_sanitizers}
                         -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(vramplan_options INTERFACE -fsanitize=${_vramplan_sanitizers})
endif()
