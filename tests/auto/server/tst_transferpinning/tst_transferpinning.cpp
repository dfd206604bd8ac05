// DNS rebinding against a Transfer with the address checks on (HERMES_DOWNLOAD_BLOCK_PRIVATE):
// the connection goes to the address that was checked, and the name is never resolved again.
//
// One URL, two origins: `rebind.hermes.test:<port>` is served on 127.0.0.2 (allowed here,
// standing for a public address) and on 127.0.0.1 (refused here, standing for the inside), on
// the same port. The route's lookup (the resolver TransferRouteTestHook sets, a DNS server that
// answers the check) names 127.0.0.2; the system's resolver — getaddrinfo, which Qt calls when
// it connects by name, interposed below — names 127.0.0.1, as a rebinding DNS server answers
// the second time. A route that connected by name would fetch the inside's file. (Why not
// the interposed getaddrinfo for both answers: Qt caches a lookup for a minute, so a second
// lookup of the same name right after the check would be answered from that cache, and the
// test could not tell pinned from unpinned.)

#include "transferfixture.h"

#include "downloads/transfer.h"
#include "downloads/transferroute.h"

#include <QTest>

#include <atomic>
#include <dlfcn.h>
#include <netdb.h>
#include <strings.h>
#include <sys/socket.h>

using namespace Hermes;
using namespace Hermes::Test;

namespace Hermes {

/// TransferRoute's friend for tests: the route's resolver, a test DNS server (see above).
class TransferRouteTestHook
{
public:
    using Resolver = std::function<QList<QHostAddress>(const QString &host)>;
    static void setResolver(Resolver resolver) { TransferRoute::resolverOverride() = std::move(resolver); }
};

} // namespace Hermes

namespace {

constexpr char RebindName[] = "rebind.hermes.test";
std::atomic<int> systemLookups{0};

} // namespace

// The system's resolver for this process (Qt's QHostInfoAgent calls it): the rebinding name
// resolves to 127.0.0.1, every other name as before (the next definition: a sanitizer's
// interceptor, or libc's).
extern "C" int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                           struct addrinfo **res)
{
    using Fn = int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    static const Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "getaddrinfo"));
    if (!real)
        return EAI_SYSTEM;
    if (!node || ::strcasecmp(node, RebindName) != 0)
        return real(node, service, hints, res);
    ++systemLookups;
    struct addrinfo h = {};
    if (hints)
        h = *hints;
    if (h.ai_family == AF_INET6)
        return EAI_NONAME;
    h.ai_family = AF_INET;
    h.ai_flags = (h.ai_flags | AI_NUMERICHOST) & ~AI_CANONNAME;
    return real("127.0.0.1", service, &h, res);
}

class tst_TransferPinning : public QObject, protected TransferFixture
{
    Q_OBJECT

private slots:
    void init() { setUp(); }
    void cleanup()
    {
        TransferRouteTestHook::setResolver({});
        tearDown();
    }
    void theCheckedAddressIsTheOneConnectedTo_data();
    void theCheckedAddressIsTheOneConnectedTo();
};

void tst_TransferPinning::theCheckedAddressIsTheOneConnectedTo_data()
{
    QTest::addColumn<bool>("redirected");
    QTest::newRow("first hop") << false;
    QTest::newRow("redirect hop") << true;
}

void tst_TransferPinning::theCheckedAddressIsTheOneConnectedTo()
{
    QFETCH(bool, redirected);
    FileServer inside(nullptr, QHostAddress(QStringLiteral("127.0.0.1")));
    FileServer outside(nullptr, QHostAddress(QStringLiteral("127.0.0.2")), inside.port());
    QVERIFY2(inside.port() != 0 && outside.port() == inside.port(), "two listeners on one port");
    inside.addFile("/f", {"inside"});
    outside.addFile("/f", {"public"});
    const QString url = QStringLiteral("http://%1:%2/f").arg(QLatin1StringView(RebindName)).arg(inside.port());
    // The redirect variant: an allowed origin sends the transfer to the name (each hop is
    // resolved, checked and pinned on its own).
    FileServer entry(nullptr, QHostAddress(QStringLiteral("127.0.0.3")));
    FileServer::File hop;
    hop.redirectTo = url.toLatin1();
    entry.addFile("/hop", hop);

    std::atomic<int> checked{0};
    const QHostAddress publicAddress(QStringLiteral("127.0.0.2"));
    TransferRouteTestHook::setResolver([&](const QString &host) -> QList<QHostAddress> {
        if (host == QLatin1StringView(RebindName)) {
            ++checked;
            return {publicAddress};
        }
        QList<QHostAddress> system;
        if (const QHostAddress literal(host); !literal.isNull())
            system.append(literal);
        return system;
    });
    Transfer::Limits limits = defaultLimits();
    limits.refusal = [](const QHostAddress &a) {
        return a == QHostAddress(QStringLiteral("127.0.0.1")) ? QStringLiteral("test-private") : QString();
    };
    const QString start = redirected ? entry.url("/hop") : url;
    systemLookups = 0;
    const auto r = run(download(start), limits);
    QCOMPARE(r->results.size(), 1);
    QVERIFY2(r->results[0].kind == TransferResult::Kind::Finished, qPrintable(r->results[0].message));
    QCOMPARE(part(r->transfer->download().id), QByteArray("public"));
    QCOMPARE(entry.requests("/hop"), redirected ? 1 : 0);
    QCOMPARE(outside.requests("/f"), 1);
    QCOMPARE(inside.requests("/f"), 0); // the second answer was never asked for, nor used
    QCOMPARE(checked.load(), 1);
    QCOMPARE(systemLookups.load(), 0);
    // Still asked for by name.
    QCOMPARE(outside.requestHeaders("/f").value(0).value("host"),
             QStringLiteral("%1:%2").arg(QLatin1StringView(RebindName)).arg(inside.port()).toLatin1());
}

QTEST_MAIN(tst_TransferPinning)
#include "tst_transferpinning.moc"
