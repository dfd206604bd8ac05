#pragma once

#include <QHostAddress>
#include <QString>

namespace Hermes::AddressPolicy {

/**
 * Which addresses a download may not connect to when HERMES_DOWNLOAD_BLOCK_PRIVATE is on
 * (a server-side request forgery guard: a key holder must not reach the server's own network
 * through it): loopback, unspecified, "this network" (0/8), RFC 1918 private, shared CGNAT
 * (100.64/10), link-local, IETF protocol assignments (192.0.0/24), benchmarking (198.18/15),
 * reserved (240/4), broadcast, multicast; IPv6 unique-local (fc00::/7), site-local, link-local
 * and multicast; and the IPv6 spellings that reach an IPv4 address (IPv4-mapped ::ffff:0:0/96,
 * IPv4-compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16) judged by that IPv4 address.
 */

/// Why `address` is refused (e.g. "loopback"); empty when it is allowed.
QString refusal(const QHostAddress &address);

} // namespace Hermes::AddressPolicy
