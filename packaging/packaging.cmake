# Debian packages (cpack -G DEB in a build dir, e.g. build/release):
#   hermes-server   the server, its hardened systemd unit, /etc/hermes/hermes.env (a conffile,
#                   every setting commented out with its default), the docs and the Caddyfile;
#                   postinst creates the `hermes` system user.
#   hermes-monitor  the desktop side: hermes-events, and hermes-monitor with its .desktop file
#                   and icon when that target is part of the build.
# Both carry the Debian copyright file (GPL-3+), a changelog, man pages and bash completion,
# and pass lintian without errors (tst_packaging runs it).
# Included at the end of the top-level CMakeLists.txt, so every target exists by now.

# The Maintainer field (and the changelog's signature): set it when you build packages that
# others install, e.g. cmake -DHERMES_MAINTAINER="Jane Doe <jane@example.org>".
set(HERMES_MAINTAINER "Hermes maintainers <maintainers@hermes.invalid>" CACHE STRING
    "Maintainer of the Debian packages: Name <address>")

# Documentation that Debian requires in each package: copyright, changelog (gzip -9n, no
# timestamp, so builds are reproducible), man pages.
set(hermes_pkgdoc ${CMAKE_CURRENT_BINARY_DIR}/pkgdoc)
configure_file(${PROJECT_SOURCE_DIR}/packaging/changelog.in ${hermes_pkgdoc}/changelog @ONLY)
set(hermes_gzipped "")
foreach(page hermes-server hermes-events hermes-monitor)
    list(APPEND hermes_gzip_inputs ${PROJECT_SOURCE_DIR}/docs/man/${page}.1)
endforeach()
list(APPEND hermes_gzip_inputs ${hermes_pkgdoc}/changelog)
foreach(input ${hermes_gzip_inputs})
    get_filename_component(name ${input} NAME)
    add_custom_command(OUTPUT ${hermes_pkgdoc}/${name}.gz
        COMMAND gzip -9n -c ${input} > ${hermes_pkgdoc}/${name}.gz
        DEPENDS ${input} VERBATIM)
    list(APPEND hermes_gzipped ${hermes_pkgdoc}/${name}.gz)
endforeach()
add_custom_target(hermes-pkgdoc ALL DEPENDS ${hermes_gzipped})

# The packaged OpenAPI document says the version it ships with, as the served one does
# (docs/openapi.json keeps 0.0.0, which the server replaces when it serves it).
file(READ ${PROJECT_SOURCE_DIR}/docs/openapi.json hermes_openapi)
string(REPLACE "\"version\": \"0.0.0\"" "\"version\": \"${PROJECT_VERSION}\"" hermes_openapi "${hermes_openapi}")
file(WRITE ${hermes_pkgdoc}/openapi.json "${hermes_openapi}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/openapi.json)

# Whatever the umask of whoever builds (002 gives 0775 directories) or the modes of the source
# files (a clone made with umask 002, a git archive tarball): directories in the packages are
# 0755, as Debian requires (lintian: non-standard-dir-perm).
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# --- hermes-server ---------------------------------------------------------------------------
install(TARGETS hermes-server RUNTIME DESTINATION bin COMPONENT server)
# Debian bookworm's place for packaged units (debhelper's too); /lib is /usr/lib there.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/hermes-server.service
        DESTINATION /lib/systemd/system COMPONENT server)
# It may hold API keys and the token secret: 0640, and postinst gives it to root:hermes (the
# server reads it itself, so that `systemctl reload` re-reads it).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/hermes.env.example
        DESTINATION /etc/hermes RENAME hermes.env
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/docs/configuration.md ${PROJECT_SOURCE_DIR}/Caddyfile
              ${PROJECT_SOURCE_DIR}/docs/metrics.md ${hermes_pkgdoc}/openapi.json
        DESTINATION share/doc/hermes-server COMPONENT server)
# Alert rules (promtool-tested: tst_alertrules) and a Grafana dashboard for the metrics, for
# the operator to copy into Prometheus' rule_files and Grafana's provisioning.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/prometheus/hermes-alerts.yml
        DESTINATION share/hermes/prometheus COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/grafana/hermes-dashboard.json
        DESTINATION share/hermes/grafana COMPONENT server)
install(FILES ${hermes_pkgdoc}/hermes-server.1.gz DESTINATION share/man/man1 COMPONENT server)
# lintian's overrides, each with its reason.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/lintian-overrides
        DESTINATION share/lintian/overrides RENAME hermes-server COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/completion/hermes
        DESTINATION share/bash-completion/completions RENAME hermes-server COMPONENT server)
foreach(component server monitor)
    set(package hermes-${component})
    install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright ${hermes_pkgdoc}/changelog.gz
            DESTINATION share/doc/${package} COMPONENT ${component})
endforeach()

# --- hermes-monitor --------------------------------------------------------------------------
install(TARGETS hermes-events RUNTIME DESTINATION bin COMPONENT monitor)
if(TARGET hermes-monitor)
    install(TARGETS hermes-monitor RUNTIME DESTINATION bin COMPONENT monitor)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/resources/hermes-monitor.desktop
        DESTINATION share/applications COMPONENT monitor)
install(FILES ${PROJECT_SOURCE_DIR}/resources/hermes-monitor.svg
        DESTINATION share/icons/hicolor/scalable/apps COMPONENT monitor)
install(FILES ${hermes_pkgdoc}/hermes-events.1.gz ${hermes_pkgdoc}/hermes-monitor.1.gz
        DESTINATION share/man/man1 COMPONENT monitor)
foreach(program hermes-events hermes-monitor)
    install(FILES ${PROJECT_SOURCE_DIR}/packaging/completion/hermes
            DESTINATION share/bash-completion/completions RENAME ${program} COMPONENT monitor)
endforeach()

# --- CPack -----------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hermes)
set(CPACK_PACKAGE_VENDOR "Hermes")
set(CPACK_PACKAGE_CONTACT "${HERMES_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${HERMES_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://hermes.invalid/")
# The test build's binaries carry debug info: packages never do. Nor the sections dh_strip
# removes (cpack-strip.cmake).
set(CPACK_STRIP_FILES ON)
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/packaging/cpack-strip.cmake)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server monitor)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The maintainer scripts 0755 and conffiles 0644 in the package, whatever their mode in the
# checkout: a clone made with umask 002 has them 0775/0664, which lintian rejects
# (control-file-has-bad-permissions, an error).
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

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
    set(hermes_server_libs "libc6, libstdc++6, libqt6core6 (>= 6.4), libqt6network6 (>= 6.4), libqt6sql6 (>= 6.4), libhiredis0.14, libsystemd0, liburing2, libssl3, libsqlite3-0, libpq5, ")
    set(hermes_monitor_libs "libc6, libstdc++6, libqt6core6 (>= 6.4), libqt6network6 (>= 6.4), libqt6gui6 (>= 6.4), libqt6widgets6 (>= 6.4), ")
    find_package(Qt6Keychain QUIET) # found in monitor/app's scope, not in this one
    if(TARGET hermes-monitor AND Qt6Keychain_FOUND)
        string(APPEND hermes_monitor_libs "libqt6keychain1, ")
    endif()
endif()

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME hermes-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "${hermes_server_libs}libqt6sql6-sqlite, adduser")
# HTTPS downloads need the CA certificates.
set(CPACK_DEBIAN_SERVER_PACKAGE_RECOMMENDS "ca-certificates")
# libqt6sql6-psql: several nodes sharing one queue (HERMES_DATABASE_URL=postgresql://...).
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "libqt6sql6-psql, redis-server, caddy, prometheus")
set(CPACK_DEBIAN_SERVER_DESCRIPTION
    "Hermes download manager real-time layer\n Runs the download queue (HTTP downloads with priorities, pause, resume and\n retries) and streams every change to clients as Server-Sent Events.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/postinst;${PROJECT_SOURCE_DIR}/packaging/prerm;${PROJECT_SOURCE_DIR}/packaging/postrm;${PROJECT_SOURCE_DIR}/packaging/conffiles")

set(CPACK_DEBIAN_MONITOR_PACKAGE_NAME hermes-monitor)
set(CPACK_DEBIAN_MONITOR_PACKAGE_SECTION net)
# The icons are SVG: Qt loads its SVG image plugin at run time, which no shlibdeps can see.
set(CPACK_DEBIAN_MONITOR_PACKAGE_DEPENDS "${hermes_monitor_libs}libqt6svg6")
# Qt's own words (dialog buttons, the line edits' menus) in the user's language: the monitor
# loads qtbase_<lang>.qm when it is there (main.cpp), and its own words are built in.
set(CPACK_DEBIAN_MONITOR_PACKAGE_RECOMMENDS "qt6-translations-l10n")
set(CPACK_DEBIAN_MONITOR_DESCRIPTION
    "Hermes monitor and command-line tools\n hermes-monitor shows and controls the download queue live;\n hermes-events tails a Hermes (or any) Server-Sent Events stream.")
include(CPack)
