# `cmake --install` and the .deb (docs/cli.md "Installing"): the binary, the man page and the
# shell completions generated from the command-line definitions (src/cli/docgen.cpp), and the
# documentation. Paths follow GNUInstallDirs; the completion folders are where Debian's
# bash-completion, zsh and fish look (override the cache variables for another system).
include(GNUInstallDirs)

set(VRAMPLAN_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
    CACHE STRING "bash completions, relative to the prefix")
# Debian's zsh searches /usr/share/zsh/vendor-completions (where the .deb puts it) and
# /usr/local/share/zsh/site-functions: for a local install under /usr/local, set this to
# share/zsh/site-functions (docs/cli.md "Installing").
set(VRAMPLAN_ZSH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions"
    CACHE STRING "zsh completions (_vramplan), relative to the prefix")
set(VRAMPLAN_FISH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d"
    CACHE STRING "fish completions, relative to the prefix")

set(_docs ${PROJECT_BINARY_DIR}/generated/cli-docs)
install(TARGETS vramplan RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${_docs}/vramplan.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${_docs}/vramplan.bash DESTINATION ${VRAMPLAN_BASH_COMPLETION_DIR}
        RENAME vramplan)
install(FILES ${_docs}/_vramplan DESTINATION ${VRAMPLAN_ZSH_COMPLETION_DIR})
install(FILES ${_docs}/vramplan.fish DESTINATION ${VRAMPLAN_FISH_COMPLETION_DIR})
install(FILES README.md CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")

# The .deb: `cpack -G DEB --config build/CPackConfig.cmake` after a full build
# (scripts/check-install.sh builds, installs and runs it).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vramplan)
set(CPACK_PACKAGE_VENDOR "vramplan")
set(VRAMPLAN_DEB_MAINTAINER "The vramplan authors" CACHE STRING "The .deb's Maintainer field")
set(CPACK_PACKAGE_CONTACT "${VRAMPLAN_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "vramplan tells how much GPU and system memory a local LLM deployment needs (Ollama, "
    "llama.cpp's llama-server, vLLM), and which settings make it fit: GPU layers, context, "
    "parallel slots, KV cache type. It reads model headers only and needs no GPU.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries the binary links (objdump -p: NEEDED), by their Debian 12 packages
# (dpkg -S): libfmt.so.9, libyaml-cpp.so.0.7, libstdc++.so.6, libgcc_s.so.1, libc.so.6/libm.so.6.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6 (>= 2.34), libfmt9 (>= 9.1.0), libgcc-s1 (>= 3.0), libstdc++6 (>= 12), libyaml-cpp0.7 (>= 0.7.0)")
include(CPack)
