# Debian packages (cpack -G DEB in a build dir):
#   hermes-server   the server, its hardened systemd unit, /etc/hermes/hermes.env (a conffile)
#   hermes-monitor  the desktop side: hermes-events (and the monitor when it is built)
install(TARGETS hermes-server RUNTIME DESTINATION bin COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/hermes-server.service
        DESTINATION lib/systemd/system COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/hermes.env.example
        DESTINATION /etc/hermes RENAME hermes.env COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/docs/configuration.md ${PROJECT_SOURCE_DIR}/Caddyfile
        DESTINATION share/doc/hermes-server COMPONENT server)
install(TARGETS hermes-events RUNTIME DESTINATION bin COMPONENT monitor)
install(TARGETS hermes-monitor RUNTIME DESTINATION bin COMPONENT monitor)
install(FILES ${PROJECT_SOURCE_DIR}/resources/hermes-monitor.desktop
        DESTINATION share/applications COMPONENT monitor)
install(FILES ${PROJECT_SOURCE_DIR}/resources/hermes-monitor.svg
        DESTINATION share/icons/hicolor/scalable/apps COMPONENT monitor)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hermes)
set(CPACK_PACKAGE_VENDOR "Hermes")
set(CPACK_PACKAGE_CONTACT "Hermes developers <hermes@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server monitor)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Library dependencies from the binaries themselves (dpkg-shlibdeps), plus what they load at
# run time: the SQLite driver of Qt SQL.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME hermes-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "libqt6sql6-sqlite, adduser")
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "redis-server, caddy")
set(CPACK_DEBIAN_SERVER_DESCRIPTION
    "Hermes download manager real-time layer\n Runs the download queue and streams every change to clients as Server-Sent Events.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/postinst;${PROJECT_SOURCE_DIR}/packaging/prerm;${PROJECT_SOURCE_DIR}/packaging/postrm;${PROJECT_SOURCE_DIR}/packaging/conffiles")
set(CPACK_DEBIAN_MONITOR_PACKAGE_NAME hermes-monitor)
set(CPACK_DEBIAN_MONITOR_PACKAGE_SECTION net)
set(CPACK_DEBIAN_MONITOR_DESCRIPTION
    "Hermes monitor and command-line tools\n hermes-monitor shows and controls the download queue live;\n hermes-events tails a Hermes (or any) Server-Sent Events stream.")
include(CPack)
