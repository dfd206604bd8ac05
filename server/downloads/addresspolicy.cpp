#include "downloads/addresspolicy.h"

#include <QtEndian>

#include <algorithm>

#include <utility>

namespace Hermes::AddressPolicy {

static QString refusalV4(quint32 a)
{
    struct Range
    {
        quint32 base;
        int bits;
        const char *why;
    };
    static const Range ranges[] = {
        {0x00000000, 8, "this network (0.0.0.0/8)"},
        {0x0A000000, 8, "private (10.0.0.0/8)"},
        {0x64400000, 10, "shared address space (100.64.0.0/10)"},
        {0x7F000000, 8, "loopback"},
        {0xA9FE0000, 16, "link-local"},
        {0xAC100000, 12, "private (172.16.0.0/12)"},
        {0xC0000000, 24, "IETF protocol assignments (192.0.0.0/24)"},
        {0xC0A80000, 16, "private (192.168.0.0/16)"},
        {0xC6120000, 15, "benchmarking (198.18.0.0/15)"},
        {0xE0000000, 4, "multicast"},
        {0xF0000000, 4, "reserved (240.0.0.0/4, broadcast)"},
    };
    for (const Range &r : ranges) {
        const quint32 mask = r.bits == 0 ? 0 : ~quint32(0) << (32 - r.bits);
        if ((a & mask) == r.base)
            return QString::fromLatin1(r.why);
    }
    return {};
}

static quint32 v4At(const Q_IPV6ADDR &b, int offset)
{
    return qFromBigEndian<quint32>(&b.c[offset]);
}

QString refusal(const QHostAddress &address)
{
    if (address.isNull())
        return QStringLiteral("no address");
    if (address.protocol() == QAbstractSocket::IPv4Protocol)
        return refusalV4(address.toIPv4Address());
    const Q_IPV6ADDR b = address.toIPv6Address();
    const auto zeros = [&b](int from, int to) {
        for (int i = from; i < to; ++i) {
            if (b.c[i] != 0)
                return false;
        }
        return true;
    };
    // The spellings of an IPv4 address in IPv6: judged by the IPv4 address they reach.
    if (zeros(0, 10) && b.c[10] == 0xff && b.c[11] == 0xff) // ::ffff:a.b.c.d
        return refusalV4(v4At(b, 12));
    if (zeros(0, 8) && b.c[8] == 0xff && b.c[9] == 0xff && zeros(10, 12)) // ::ffff:0:a.b.c.d (SIIT)
        return refusalV4(v4At(b, 12));
    if (zeros(0, 12)) { // ::a.b.c.d (deprecated), ::1 and :: among them
        if (b.c[15] <= 1 && zeros(12, 15))
            return b.c[15] == 1 ? QStringLiteral("loopback") : QStringLiteral("unspecified");
        return refusalV4(v4At(b, 12));
    }
    static const quint8 nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (std::equal(nat64, nat64 + 12, b.c)) // 64:ff9b::a.b.c.d
        return refusalV4(v4At(b, 12));
    // Local-use NAT64 (RFC 8215): a translator of the site's own choosing, into any IPv4
    // address, its own network's included; where the IPv4 bits sit depends on its prefix.
    static const quint8 localNat64[6] = {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01};
    if (std::equal(localNat64, localNat64 + 6, b.c))
        return QStringLiteral("local-use NAT64 (64:ff9b:1::/48)");
    if (b.c[0] == 0x20 && b.c[1] == 0x02) // 2002:aabb:ccdd::/48 (6to4)
        return refusalV4(v4At(b, 2));
    if ((b.c[0] & 0xfe) == 0xfc)
        return QStringLiteral("unique-local (fc00::/7)");
    if (b.c[0] == 0xfe && (b.c[1] & 0xc0) == 0x80)
        return QStringLiteral("link-local");
    if (b.c[0] == 0xfe && (b.c[1] & 0xc0) == 0xc0)
        return QStringLiteral("site-local (fec0::/10)");
    if (b.c[0] == 0xff)
        return QStringLiteral("multicast");
    return {};
}

} // namespace Hermes::AddressPolicy
