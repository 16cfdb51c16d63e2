# Installation and the Debian package.
#
#   cmake --install build --prefix P   P/bin/orchestrator, P/libexec/orchestrator/orchestrator-serve,
#                                      P/share/man/man1/orchestrator.1.gz,
#                                      P/share/bash-completion/completions/orchestrator,
#                                      P/share/zsh/vendor-completions/_orchestrator,
#                                      P/share/doc/orchestrator/ (README.md, docs/*.md)
#   cd build && cpack -G DEB           orchestrator_<version>_<arch>.deb with the same files under /usr
#
# Included by the top-level CMakeLists.txt once the orchestrator target exists. The man page is built
# from docs/manual.md with lowdown, the completions by running the built binary (`orchestrator
# completion bash|zsh`); both are part of `all`. Only the files installed with COMPONENT orchestrator
# go into the package, so an install rule of a bundled dependency never adds to it.
#
# The same file runs as a script (cmake -P) for the two generating steps, so that a step that fails
# leaves no half-written output behind.

if(CMAKE_SCRIPT_MODE_FILE)
  # cmake -DORCH_STEP=manpage -DORCH_LOWDOWN=… -DORCH_GZIP=… -DORCH_INPUT=manual.md -DORCH_OUTPUT=x.1.gz
  #       -DORCH_VERSION=… -P packaging.cmake
  # cmake -DORCH_STEP=completion -DORCH_BINARY=… -DORCH_SHELL=bash|zsh -DORCH_OUTPUT=… -P packaging.cmake
  set(_partial "${ORCH_OUTPUT}.partial")
  if(ORCH_STEP STREQUAL "manpage")
    # -m sets defaults, which the manual's metadata block (title:, section:, date:) overrides; -M puts
    # the version, which only the build knows, in the page's footer whatever the manual says.
    execute_process(
      COMMAND "${ORCH_LOWDOWN}" -s -Tman -m "title=orchestrator" -m "section=1"
              -M "source=orchestrator ${ORCH_VERSION}" "${ORCH_INPUT}"
      COMMAND "${ORCH_GZIP}" -9 -n
      OUTPUT_FILE "${_partial}"
      RESULTS_VARIABLE _results)
    if(NOT _results MATCHES "^0;0$")
      file(REMOVE "${_partial}")
      message(FATAL_ERROR "building the man page from ${ORCH_INPUT} failed (lowdown, gzip: ${_results})")
    endif()
  elseif(ORCH_STEP STREQUAL "completion")
    execute_process(
      COMMAND "${ORCH_BINARY}" completion "${ORCH_SHELL}"
      OUTPUT_FILE "${_partial}"
      RESULT_VARIABLE _result)
    set(_size 0)
    if(EXISTS "${_partial}")
      file(SIZE "${_partial}" _size)
    endif()
    if(NOT _result EQUAL 0 OR _size EQUAL 0)
      file(REMOVE "${_partial}")
      message(FATAL_ERROR "`${ORCH_BINARY} completion ${ORCH_SHELL}` failed (exit status ${_result}) "
                          "or printed nothing")
    endif()
  else()
    message(FATAL_ERROR "packaging.cmake: unknown ORCH_STEP '${ORCH_STEP}'")
  endif()
  file(RENAME "${_partial}" "${ORCH_OUTPUT}")
  return()
endif()

include(GNUInstallDirs)

get_filename_component(ORCH_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(_orch_packaging_script "${CMAKE_CURRENT_LIST_FILE}")
set(_orch_generated "${CMAKE_CURRENT_BINARY_DIR}/packaging")

set(ORCH_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions"
    CACHE STRING "Where the bash completion is installed, relative to the prefix")
set(ORCH_ZSH_COMPLETION_DIR "${CMAKE_INSTALL_DATAROOTDIR}/zsh/vendor-completions"
    CACHE STRING "Where the zsh completion is installed, relative to the prefix")

# The program, and the one `orchestrator serve` starts (where src/cli/serve_program.cc looks for it).
install(TARGETS orchestrator RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT orchestrator)
install(TARGETS orchestrator-serve RUNTIME DESTINATION "${CMAKE_INSTALL_LIBEXECDIR}/orchestrator"
        COMPONENT orchestrator)

# The man page, from the manual. The glob makes CMake look again at every build, so the rule appears
# as soon as the manual does.
set(ORCH_MANUAL "${ORCH_ROOT}/docs/manual.md" CACHE FILEPATH "The manual (Markdown) the man page is built from")
file(GLOB _orch_manual CONFIGURE_DEPENDS "${ORCH_MANUAL}")
if(_orch_manual)
  find_program(ORCH_LOWDOWN lowdown)
  if(NOT ORCH_LOWDOWN)
    message(FATAL_ERROR "lowdown not found: it builds the man page from ${ORCH_MANUAL} "
                        "(Debian package lowdown; scripts/install-deps.sh installs it)")
  endif()
  find_program(ORCH_GZIP gzip REQUIRED)
  add_custom_command(
    OUTPUT "${_orch_generated}/orchestrator.1.gz"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_orch_generated}"
    COMMAND "${CMAKE_COMMAND}" -DORCH_STEP=manpage "-DORCH_LOWDOWN=${ORCH_LOWDOWN}" "-DORCH_GZIP=${ORCH_GZIP}"
            "-DORCH_INPUT=${_orch_manual}" "-DORCH_OUTPUT=${_orch_generated}/orchestrator.1.gz"
            "-DORCH_VERSION=${PROJECT_VERSION}" -P "${_orch_packaging_script}"
    DEPENDS "${_orch_manual}" "${_orch_packaging_script}"
    COMMENT "Building the man page orchestrator.1 from ${ORCH_MANUAL}"
    VERBATIM)
  add_custom_target(orchestrator_manpage ALL DEPENDS "${_orch_generated}/orchestrator.1.gz")
  install(FILES "${_orch_generated}/orchestrator.1.gz"
          DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT orchestrator)
else()
  message(WARNING "${ORCH_MANUAL} does not exist: no man page is built, installed or packaged")
endif()

# Shell completions, printed by the program itself, so they always match its options.
set(_orch_completions "${_orch_generated}/completions/orchestrator" "${_orch_generated}/completions/_orchestrator")
add_custom_command(
  OUTPUT ${_orch_completions}
  COMMAND "${CMAKE_COMMAND}" -E make_directory "${_orch_generated}/completions"
  COMMAND "${CMAKE_COMMAND}" -DORCH_STEP=completion "-DORCH_BINARY=$<TARGET_FILE:orchestrator>" -DORCH_SHELL=bash
          "-DORCH_OUTPUT=${_orch_generated}/completions/orchestrator" -P "${_orch_packaging_script}"
  COMMAND "${CMAKE_COMMAND}" -DORCH_STEP=completion "-DORCH_BINARY=$<TARGET_FILE:orchestrator>" -DORCH_SHELL=zsh
          "-DORCH_OUTPUT=${_orch_generated}/completions/_orchestrator" -P "${_orch_packaging_script}"
  DEPENDS orchestrator "${_orch_packaging_script}"
  COMMENT "Generating the bash and zsh completions with orchestrator completion"
  VERBATIM)
add_custom_target(orchestrator_completions ALL DEPENDS ${_orch_completions})
install(FILES "${_orch_generated}/completions/orchestrator"
        DESTINATION "${ORCH_BASH_COMPLETION_DIR}" COMPONENT orchestrator)
install(FILES "${_orch_generated}/completions/_orchestrator"
        DESTINATION "${ORCH_ZSH_COMPLETION_DIR}" COMPONENT orchestrator)

# Documentation. docs/ keeps its name, so the README's links (docs/….md) work where it is installed.
install(FILES "${ORCH_ROOT}/README.md" DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT orchestrator)
install(DIRECTORY "${ORCH_ROOT}/docs/" DESTINATION "${CMAKE_INSTALL_DOCDIR}/docs" COMPONENT orchestrator
        FILES_MATCHING PATTERN "*.md")

# The Debian package.
set(ORCH_PACKAGE_MAINTAINER "orchestrator maintainers <orchestrator@localhost>"
    CACHE STRING "The Debian package's Maintainer field: name <address>")
set(ORCH_PACKAGE_HOMEPAGE "" CACHE STRING "The Debian package's Homepage field (left out when empty)")

set(CPACK_VERBATIM_VARIABLES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME orchestrator)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${ORCH_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "retrains text classifiers when enough reviewed corrections have piled up")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
    "orchestrator counts the reviewed misclassifications of each label in an\n"
    "application's database (PostgreSQL or SQLite). When a label has enough of\n"
    "them, it restarts the worker that prepares a new dataset, waits until the\n"
    "dataset is published on the Hugging Face Hub, then restarts that label's\n"
    "retrain worker. One pass at a time, resumable, with a JSON summary, alerts\n"
    "and metrics.\n"
    "\n"
    "It also carries reference prepare, retrain (fastText) and predict workers,\n"
    "and `orchestrator demo`, which runs the whole loop on one machine with\n"
    "local files only.")
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};orchestrator;/")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_NAME orchestrator)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ORCH_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
if(ORCH_PACKAGE_HOMEPAGE)
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${ORCH_PACKAGE_HOMEPAGE}")
endif()
# Depends: exactly the shared libraries the binary links, as dpkg-shlibdeps finds them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# HTTPS to the Hub and webhooks: libcurl verifies certificates against these.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS ca-certificates)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

# `make package_source`: the sources without build directories, the demo's files or local settings.
set(CPACK_SOURCE_GENERATOR TXZ)
string(REGEX REPLACE "([][+.*?()^$|\\{}])" "\\\\\\1" _orch_root_regex "${ORCH_ROOT}")
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "^${_orch_root_regex}/build[^/]*/" "^${_orch_root_regex}/orchestrator-demo/"
    "^${_orch_root_regex}/orchestrator-logs/" "^${_orch_root_regex}/bench/out/" "^${_orch_root_regex}/\\.env$"
    "\\.db$" "\\.swp$")

include(CPack)

# The package installs into a scratch root and runs there: version, help, man page, completions,
# Depends, and the demo from the installed binary.
if(ORCH_TESTS)
  add_test(NAME package.InstallsAndRuns
           COMMAND bash "${ORCH_ROOT}/tests/package/check_package.sh"
                   "${CMAKE_BINARY_DIR}/CPackConfig.cmake" "${PROJECT_VERSION}")
  set_tests_properties(package.InstallsAndRuns PROPERTIES TIMEOUT 600 LABELS package)
endif()
