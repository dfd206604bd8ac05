# Debian's hardening flags (dpkg-buildflags, with every hardening feature on): position-
# independent executables, stack protector, format-string checks, FORTIFY_SOURCE, full RELRO
# and BIND_NOW, plus stack clash and control-flow protection. The packaged (Release) binaries
# then pass `hardening-check` (devscripts); tst_packaging checks it. Turn off with
# -DHERMES_DPKG_BUILDFLAGS=OFF.
#
# The optimisation level and debug info stay the build type's (-O2 -g are dropped). A build
# without optimisation (Debug, the sanitizer build the tests run) takes the link flags only
# (PIE, RELRO, BIND_NOW): glibc ignores _FORTIFY_SOURCE at -O0 (and warns in every file), and
# its objects stay the same as before, so they stay in ccache; the compile flags (stack
# protector, FORTIFY_SOURCE, format checks, reproducible paths) go to the optimised builds,
# the ones that are packaged.
find_program(HERMES_DPKG_BUILDFLAGS_PROGRAM dpkg-buildflags)
set(hermes_buildflags_default OFF)
# The fuzz build is a test harness, never packaged.
if(HERMES_DPKG_BUILDFLAGS_PROGRAM AND NOT HERMES_FUZZ)
    set(hermes_buildflags_default ON)
endif()
option(HERMES_DPKG_BUILDFLAGS "Compile and link with dpkg-buildflags' hardening flags" ${hermes_buildflags_default})

set(HERMES_BUILD_OPTIMIZED OFF)
if(CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
    set(HERMES_BUILD_OPTIMIZED ON)
endif()
if(HERMES_BUILD_OPTIMIZED AND NOT HERMES_DPKG_BUILDFLAGS_PROGRAM AND NOT HERMES_FUZZ)
    message(WARNING "dpkg-buildflags not found (apt-get install dpkg-dev): this build is not hardened")
endif()

if(HERMES_DPKG_BUILDFLAGS)
    if(NOT HERMES_DPKG_BUILDFLAGS_PROGRAM)
        message(FATAL_ERROR "HERMES_DPKG_BUILDFLAGS is ON but dpkg-buildflags is missing (apt-get install dpkg-dev)")
    endif()
    set(hermes_flags "")
    foreach(kind CPPFLAGS CXXFLAGS LDFLAGS)
        execute_process(
            COMMAND ${CMAKE_COMMAND} -E env DEB_BUILD_MAINT_OPTIONS=hardening=+all
                    ${HERMES_DPKG_BUILDFLAGS_PROGRAM} --get ${kind}
            WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
            OUTPUT_VARIABLE value OUTPUT_STRIP_TRAILING_WHITESPACE
            COMMAND_ERROR_IS_FATAL ANY)
        separate_arguments(value UNIX_COMMAND "${value}")
        list(FILTER value EXCLUDE REGEX "^(-g[0-9]*|-O[0-9sgz]?)$")
        set(hermes_${kind} ${value})
    endforeach()
    # A sanitizer build is never packaged, and FORTIFY's __*_chk functions would go around
    # the sanitizers' interceptors: such a build takes the link flags only, whatever its type.
    if(HERMES_BUILD_OPTIMIZED AND NOT HERMES_SANITIZE AND NOT HERMES_TSAN)
        # What dpkg-buildflags adds from dpkg 1.22 (trixie) with hardening=+all and bookworm's
        # does not yet: stack clash protection and control-flow protection (CET on x86,
        # hardening-check's "Control flow integrity"), where the compiler has them.
        include(CheckCXXCompilerFlag)
        foreach(flag -fstack-clash-protection -fcf-protection)
            string(MAKE_C_IDENTIFIER "HERMES_HAS${flag}" has_flag)
            check_cxx_compiler_flag(${flag} ${has_flag})
            if(${has_flag} AND NOT flag IN_LIST hermes_CXXFLAGS)
                list(APPEND hermes_CXXFLAGS ${flag})
            endif()
        endforeach()
        add_compile_options(${hermes_CPPFLAGS} ${hermes_CXXFLAGS})
    else()
        set(hermes_CPPFLAGS "")
        set(hermes_CXXFLAGS "")
    endif()
    add_link_options(${hermes_LDFLAGS})
    string(REPLACE ";" " " hermes_shown "${hermes_CPPFLAGS};${hermes_CXXFLAGS};${hermes_LDFLAGS}")
    message(STATUS "dpkg-buildflags (hardening=+all):${hermes_shown}")
endif()
