#include "stream/streamsocketset.h"

#include "threadaffinity.h"

#include <QSocketNotifier>

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Hermes {

StreamSocketSet::StreamSocketSet(QObject *parent)
    : QObject(parent), m_epoll(::epoll_create1(EPOLL_CLOEXEC))
{
    if (m_epoll < 0)
        qFatal("epoll_create1 failed: %s", std::strerror(errno));
}

StreamSocketSet::~StreamSocketSet()
{
    m_connections.clear(); // closes every descriptor
    delete m_notifier;
    ::close(m_epoll);
}

void StreamSocketSet::start()
{
    HERMES_ASSERT_THREAD(this);
    m_notifier = new QSocketNotifier(m_epoll, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &StreamSocketSet::activity);
}

StreamConnection &StreamSocketSet::add(int fd, const StreamParams &params, qint64 deadlineMs)
{
    HERMES_ASSERT_THREAD(this);
    m_connections.push_back(std::make_unique<StreamConnection>(fd, params, deadlineMs));
    StreamConnection &c = *m_connections.back();
    c.position = std::prev(m_connections.end());
    // A stream's client has nothing more to say: nothing it sends is read (EPOLLIN is not
    // watched), so junk costs no CPU; it fills this small receive buffer (no autotuning once
    // set) and TCP flow control then stops the sender. Its leaving still shows: a FIN is
    // EPOLLRDHUP even behind unread bytes, a reset EPOLLERR/EPOLLHUP.
    const int receiveBuffer = ReceiveBufferBytes;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    epoll_event ev{};
    ev.events = EPOLLRDHUP;
    ev.data.ptr = &c;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
    return c;
}

void StreamSocketSet::remove(StreamConnection &c)
{
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd(), nullptr);
    m_connections.erase(c.position); // closes the descriptor
}

void StreamSocketSet::watchWritable(StreamConnection &c, bool on)
{
    if (c.watchingWritable == on)
        return;
    c.watchingWritable = on;
    epoll_event ev{};
    ev.events = EPOLLRDHUP | (on ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd(), &ev);
}

const std::vector<StreamSocketSet::Ready> &StreamSocketSet::poll(qint64 nowMs)
{
    HERMES_ASSERT_THREAD(this);
    m_ready.clear();
    epoll_event events[256];
    const int n = ::epoll_wait(m_epoll, events, 256, 0);
    for (int i = 0; i < n; ++i) {
        auto &c = *static_cast<StreamConnection *>(events[i].data.ptr);
        const uint32_t ev = events[i].events;
        if (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
            m_ready.push_back({&c, Readiness::Closed});
            continue;
        }
        if (ev & EPOLLOUT) {
            switch (c.flushPending(nowMs)) {
            case StreamConnection::WriteResult::Ok:
                watchWritable(c, false);
                m_ready.push_back({&c, Readiness::Drained});
                break;
            case StreamConnection::WriteResult::Failed:
                m_ready.push_back({&c, Readiness::WriteFailed});
                break;
            case StreamConnection::WriteResult::Blocked:
                break;
            }
        }
    }
    return m_ready;
}

} // namespace Hermes
