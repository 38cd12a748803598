# Writes OUT, the header that gives main.c TOCSIN_VERSION (the project's
# VERSION: CMakeLists.txt's project() is the one place it is set) and
# TOCSIN_COMMIT (`git rev-parse --short HEAD` of SRC). Run at every build
# (the tocsin_version target), so a new commit shows without a reconfigure;
# OUT is rewritten only when it changes, so an unchanged build relinks
# nothing. COMMIT, when set (-DTOCSIN_COMMIT=... at configure time), wins;
# a source tree that is not a git checkout of its own (a tarball, a Debian
# package build) says "unknown".
if(NOT COMMIT)
    set(COMMIT unknown)
    find_program(GIT git)
    if(GIT)
        execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --show-toplevel
                        OUTPUT_VARIABLE top RESULT_VARIABLE top_rc
                        OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        # Only the tree's own repository: a tarball unpacked inside some
        # other checkout must not take that checkout's commit.
        if(top_rc EQUAL 0)
            file(REAL_PATH "${top}" top)
            file(REAL_PATH "${SRC}" src_real)
        endif()
        if(top_rc EQUAL 0 AND top STREQUAL src_real)
            execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --short HEAD
                            OUTPUT_VARIABLE head RESULT_VARIABLE head_rc
                            OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
            if(head_rc EQUAL 0 AND head MATCHES "^[0-9a-f]+$")
                set(COMMIT ${head})
            endif()
        endif()
    endif()
endif()
set(text "/* Made by cmake/version.cmake at build time: do not edit. */
#define TOCSIN_VERSION \"${VERSION}\"
#define TOCSIN_COMMIT \"${COMMIT}\"
")
set(old "")
if(EXISTS ${OUT})
    file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
    file(WRITE ${OUT} "${text}")
endif()
