# Run by CPack (CPACK_PRE_BUILD_SCRIPTS) on the staged files, after CPACK_STRIP_FILES: what
# dh_strip also removes from an executable, the compiler's version strings (.comment) and the
# bare .note section (lintian: binary-has-unneeded-section). The .note.* sections (build id,
# ABI tag, GNU properties such as CET) stay.
find_program(hermes_strip NAMES strip REQUIRED)
file(GLOB_RECURSE hermes_staged_binaries LIST_DIRECTORIES false
     "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/usr/bin/*")
foreach(binary IN LISTS hermes_staged_binaries)
    execute_process(COMMAND ${hermes_strip} --remove-section=.comment --remove-section=.note "${binary}"
                    COMMAND_ERROR_IS_FATAL ANY)
endforeach()
