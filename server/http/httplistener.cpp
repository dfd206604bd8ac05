#include "http/httplistener.h"

#include "deadpeer.h"
#include "logging.h"
#include "threadaffinity.h"

#include <QSocketNotifier>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Hermes {

static constexpr int Backlog = 4096;
static constexpr int AcceptsPerWakeup = 64;
static constexpr int MaxBackoffMs = 1000;

HttpListener::HttpListener(AcceptHandler handler, QObject *parent)
    : QObject(parent), m_handler(std::move(handler))
{
    m_backoff.setSingleShot(true);
    connect(&m_backoff, &QTimer::timeout, this, &HttpListener::updateNotifier);
}

HttpListener::~HttpListener()
{
    close();
}

Result<void> HttpListener::listen(const QHostAddress &address, quint16 port)
{
    HERMES_ASSERT_THREAD(this);
    sockaddr_storage storage{};
    socklen_t length = 0;
    const bool dualStack = address == QHostAddress(QHostAddress::Any);
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        auto *in = reinterpret_cast<sockaddr_in *>(&storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(address.toIPv4Address());
        length = sizeof(sockaddr_in);
    } else {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR bytes = dualStack ? QHostAddress(QHostAddress::AnyIPv6).toIPv6Address()
                                           : address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, &bytes, sizeof(bytes));
        in6->sin6_scope_id = address.scopeId().toUInt();
        length = sizeof(sockaddr_in6);
    }
    const auto failed = [&](const char *what) -> Result<void> {
        Error error = Error::failed(
            "cannot_listen", QStringLiteral("cannot listen on %1:%2: %3: %4")
                                 .arg(address.toString()).arg(port)
                                 .arg(QString::fromLatin1(what), QString::fromLocal8Bit(std::strerror(errno))));
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
        return error;
    };
    m_fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0)
        return failed("socket");
    const int on = 1;
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (storage.ss_family == AF_INET6) {
        const int v6only = dualStack ? 0 : 1;
        ::setsockopt(m_fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (::bind(m_fd, reinterpret_cast<sockaddr *>(&storage), length) != 0)
        return failed("bind");
    if (::listen(m_fd, Backlog) != 0)
        return failed("listen");
    sockaddr_storage bound{};
    socklen_t boundLength = sizeof(bound);
    ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&bound), &boundLength);
    m_port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in *>(&bound)->sin_port
                                              : reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port);
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &HttpListener::onReadable);
    updateNotifier();
    return {};
}

void HttpListener::close()
{
    delete m_notifier;
    m_notifier = nullptr;
    m_backoff.stop();
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

void HttpListener::setPaused(bool paused)
{
    HERMES_ASSERT_THREAD(this);
    if (m_paused == paused)
        return;
    m_paused = paused;
    updateNotifier();
}

void HttpListener::updateNotifier()
{
    if (m_notifier)
        m_notifier->setEnabled(!m_paused && !m_backoff.isActive());
}

void HttpListener::onReadable()
{
    for (int i = 0; i < AcceptsPerWakeup && !m_paused && m_fd >= 0; ++i) {
        sockaddr_storage peer{};
        socklen_t length = sizeof(peer);
        const int fd = ::accept4(m_fd, reinterpret_cast<sockaddr *>(&peer), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            // EMFILE, ENFILE, ENOBUFS, ENOMEM: pending clients stay in the backlog until
            // descriptors are free again. Anything else: retry likewise, never give up.
            if (!m_lastWarning.isValid() || m_lastWarning.hasExpired(10'000)) {
                m_lastWarning.start();
                qCWarning(lcHttp).noquote() << "cannot accept connections:" << std::strerror(errno)
                                            << "- retrying with backoff";
            }
            m_backoffMs = qBound(50, m_backoffMs * 2, MaxBackoffMs);
            m_backoff.start(m_backoffMs);
            updateNotifier();
            return;
        }
        m_backoffMs = 0;
        DeadPeer::acceptedConnection(fd); // a client that vanishes silently is not kept for hours
        QHostAddress address(reinterpret_cast<sockaddr *>(&peer));
        bool isV4 = false;
        const quint32 v4 = address.toIPv4Address(&isV4);
        if (isV4 && address.protocol() == QAbstractSocket::IPv6Protocol)
            address = QHostAddress(v4);
        m_handler(fd, address);
    }
}

} // namespace Hermes
