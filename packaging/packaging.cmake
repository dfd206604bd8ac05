# Debian packages (cpack -G DEB in a build dir, e.g. build/release):
#   hermes-server   the server, its hardened systemd unit, /etc/hermes/hermes.env (a conffile,
#                   every setting commented out with its default), the docs and the Caddyfile;
#                   postinst creates the `hermes` system user.
#   hermes-monitor  the desktop side: hermes-events, and hermes-monitor with its .desktop file
#                   and icon when that target is part of the build.
# Included at the end of the top-level CMakeLists.txt, so every target exists by now.

# --- hermes-server ---------------------------------------------------------------------------
install(TARGETS hermes-server RUNTIME DESTINATION bin COMPONENT server)
# Debian bookworm's place for packaged units (debhelper's too); /lib is /usr/lib there.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/hermes-server.service
        DESTINATION /lib/systemd/system COMPONENT server)
# It may hold API keys and the token secret: root only (systemd reads it before dropping to
# the hermes user).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/hermes.env.example
        DESTINATION /etc/hermes RENAME hermes.env
        PERMISSIONS OWNER_READ OWNER_WRITE COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/docs/configuration.md ${PROJECT_SOURCE_DIR}/Caddyfile
        DESTINATION share/doc/hermes-server COMPONENT server)

# --- hermes-monitor --------------------------------------------------------------------------
install(TARGETS hermes-events RUNTIME DESTINATION bin COMPONENT monitor)
if(TARGET hermes-monitor)
    install(TARGETS hermes-monitor RUNTIME DESTINATION bin COMPONENT monitor)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/resources/hermes-monitor.desktop
        DESTINATION share/applications COMPONENT monitor)
install(FILES ${PROJECT_SOURCE_DIR}/resources/hermes-monitor.svg
        DESTINATION share/icons/hicolor/scalable/apps COMPONENT monitor)

# --- CPack -----------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hermes)
set(CPACK_PACKAGE_VENDOR "Hermes")
set(CPACK_PACKAGE_CONTACT "Hermes developers <hermes@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server monitor)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)

# Library dependencies: from the binaries themselves when dpkg-shlibdeps (dpkg-dev) is there,
# else the list it finds on bookworm. Plus what is loaded at run time or used by the scripts:
# the SQLite driver of Qt SQL and adduser.
find_program(HERMES_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(HERMES_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    set(hermes_server_libs "")
    set(hermes_monitor_libs "")
else()
    message(STATUS "dpkg-shlibdeps not found (apt-get install dpkg-dev): .deb dependencies are the fixed bookworm list")
    set(hermes_server_libs "libc6, libstdc++6, libqt6core6 (>= 6.4), libqt6network6 (>= 6.4), libqt6sql6 (>= 6.4), libhiredis0.14, ")
    set(hermes_monitor_libs "libc6, libstdc++6, libqt6core6 (>= 6.4), libqt6network6 (>= 6.4), libqt6gui6 (>= 6.4), libqt6widgets6 (>= 6.4)")
    find_package(Qt6Keychain QUIET) # found in monitor/app's scope, not in this one
    if(TARGET hermes-monitor AND Qt6Keychain_FOUND)
        string(APPEND hermes_monitor_libs ", libqt6keychain1")
    endif()
endif()

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME hermes-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "${hermes_server_libs}libqt6sql6-sqlite, adduser")
# HTTPS downloads need the CA certificates.
set(CPACK_DEBIAN_SERVER_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "redis-server, caddy")
set(CPACK_DEBIAN_SERVER_DESCRIPTION
    "Hermes download manager real-time layer\n Runs the download queue and streams every change to clients as Server-Sent Events.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/postinst;${PROJECT_SOURCE_DIR}/packaging/prerm;${PROJECT_SOURCE_DIR}/packaging/postrm;${PROJECT_SOURCE_DIR}/packaging/conffiles")

set(CPACK_DEBIAN_MONITOR_PACKAGE_NAME hermes-monitor)
set(CPACK_DEBIAN_MONITOR_PACKAGE_SECTION net)
if(hermes_monitor_libs)
    set(CPACK_DEBIAN_MONITOR_PACKAGE_DEPENDS "${hermes_monitor_libs}")
endif()
set(CPACK_DEBIAN_MONITOR_DESCRIPTION
    "Hermes monitor and command-line tools\n hermes-monitor shows and controls the download queue live;\n hermes-events tails a Hermes (or any) Server-Sent Events stream.")
include(CPack)
