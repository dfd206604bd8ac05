// fanoutbench: how many streams one hermes-server holds, what each costs in memory, and how
// long an event takes to reach all of them. Needs no peers: point it at a running server.
//
//   fanoutbench --port 8000 --key KEY --server-pid PID --conns 1000,5000 --events 20 --rate 2
//
// It opens N streams (epoll, non-blocking, one thread), waits until each got its first bytes,
// reads the server's PSS, publishes events carrying their send time over HTTP, and measures the
// latency of every (stream, event) delivery at receipt. It prints figures; it asserts nothing.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options
{
    int port = 8000;
    std::string key;
    long serverPid = 0;
    std::vector<int> conns{1000};
    int events = 20;
    double rate = 2;
    int drainMs = 5000;
};

long long nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

long pssKb(long pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Pss:", 0) == 0)
            return std::atol(line.c_str() + 4);
    }
    return -1;
}

int connectTo(int port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

struct Stream
{
    int fd = -1;
    bool requested = false;
    bool established = false;
    bool closed = false;
    std::string tail; // unparsed bytes (a partial event)
    std::vector<int> seen; // count of receipts per seq
};

// One HTTP/1.1 POST with keep-alive on a blocking socket; returns the status code.
int post(int &fd, int port, const std::string &key, const std::string &body)
{
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (fd < 0) {
            fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_port = htons(uint16_t(port));
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            timeval tv{5, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
                ::close(fd);
                fd = -1;
                return -1;
            }
        }
        const std::string req = "POST /api/v1/events/publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Authorization: Bearer " + key
            + "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size())
            + "\r\n\r\n" + body;
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
            ::close(fd);
            fd = -1;
            continue;
        }
        std::string resp;
        char buf[4096];
        while (true) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            resp.append(buf, size_t(n));
            const size_t end = resp.find("\r\n\r\n");
            if (end == std::string::npos)
                continue;
            const size_t cl = resp.find("Content-Length: ");
            const size_t len = cl == std::string::npos ? 0 : std::strtoul(resp.c_str() + cl + 16, nullptr, 10);
            if (resp.size() >= end + 4 + len)
                return std::atoi(resp.c_str() + 9);
        }
        ::close(fd);
        fd = -1;
    }
    return -1;
}

double percentile(std::vector<double> &v, double p)
{
    if (v.empty())
        return 0;
    const size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())));
    std::nth_element(v.begin(), v.begin() + long(i), v.end());
    return v[i];
}

void runStage(const Options &o, int n, int seqBase)
{
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Stream> streams(static_cast<size_t>(n));
    const long idlePss = o.serverPid ? pssKb(o.serverPid) : -1;
    const std::string request = "GET /api/v1/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Accept: text/event-stream\r\nAuthorization: Bearer " + o.key + "\r\n\r\n";
    std::vector<double> latenciesMs;
    latenciesMs.reserve(size_t(n) * size_t(o.events));
    int established = 0;
    int opened = 0;
    char buf[65536];

    auto handle = [&](Stream &s, uint32_t events) {
        if ((events & EPOLLOUT) && !s.requested) {
            s.requested = ::send(s.fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size());
            epoll_event ev{EPOLLIN, {.ptr = &s}};
            ::epoll_ctl(ep, EPOLL_CTL_MOD, s.fd, &ev);
        }
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            return;
        while (true) {
            const ssize_t r = ::recv(s.fd, buf, sizeof buf, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                s.closed = true;
                ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
                return;
            }
            if (r < 0)
                return;
            const long long t = nowNs();
            if (!s.established) {
                s.established = true;
                ++established;
            }
            s.tail.append(buf, size_t(r));
            // Every `"seq":N,"t_pub_ns":T` in complete bytes is one delivery.
            size_t pos = 0;
            while (true) {
                const size_t at = s.tail.find("\"seq\":", pos);
                if (at == std::string::npos)
                    break;
                const size_t tp = s.tail.find("\"t_pub_ns\":", at);
                const size_t end = tp == std::string::npos ? tp : s.tail.find_first_of(",}", tp + 11);
                if (end == std::string::npos)
                    break;
                const int seq = std::atoi(s.tail.c_str() + at + 6) - seqBase;
                const long long pub = std::atoll(s.tail.c_str() + tp + 11);
                if (seq >= 0 && seq < o.events) {
                    ++s.seen[size_t(seq)];
                    latenciesMs.push_back(double(t - pub) / 1e6);
                }
                pos = end;
            }
            s.tail.erase(0, pos);
            if (s.tail.size() > 8192)
                s.tail.erase(0, s.tail.size() - 8192);
        }
    };
    auto poll = [&](int timeoutMs) {
        epoll_event evs[512];
        const int k = ::epoll_wait(ep, evs, 512, timeoutMs);
        for (int i = 0; i < k; ++i)
            handle(*static_cast<Stream *>(evs[i].data.ptr), evs[i].events);
    };

    // Ramp: at most 200 connecting at a time.
    const auto rampStart = std::chrono::steady_clock::now();
    while ((opened < n || established < opened)
           && std::chrono::steady_clock::now() - rampStart < std::chrono::seconds(120)) {
        while (opened < n && opened - established < 200) {
            Stream &s = streams[size_t(opened)];
            s.seen.assign(size_t(o.events), 0);
            s.fd = connectTo(o.port);
            epoll_event ev{EPOLLOUT | EPOLLIN, {.ptr = &s}};
            ::epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
            ++opened;
        }
        poll(10);
    }
    for (int i = 0; i < 100; ++i)
        poll(10); // settle
    const long loadedPss = o.serverPid ? pssKb(o.serverPid) : -1;
    latenciesMs.clear();

    std::atomic<bool> publishing{true};
    std::thread publisher([&] {
        int fd = -1;
        const auto interval = std::chrono::nanoseconds(long(1e9 / o.rate));
        auto next = std::chrono::steady_clock::now();
        for (int i = 0; i < o.events; ++i) {
            std::this_thread::sleep_until(next);
            next += interval;
            const std::string body = "{\"channel\":\"download:updates\",\"type\":\"download_progress\","
                                     "\"data\":{\"seq\":" + std::to_string(seqBase + i)
                + ",\"t_pub_ns\":" + std::to_string(nowNs()) + ",\"download_id\":\"dl-" + std::to_string(i)
                + "\",\"progress\":{\"percentage\":" + std::to_string(i) + "}}}";
            if (post(fd, o.port, o.key, body) != 202)
                std::fprintf(stderr, "publish %d failed\n", i);
        }
        if (fd >= 0)
            ::close(fd);
        publishing = false;
    });
    while (publishing)
        poll(5);
    publisher.join();
    const auto drainEnd = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.drainMs);
    while (std::chrono::steady_clock::now() < drainEnd)
        poll(10);

    long lost = 0, dup = 0;
    int held = 0;
    for (Stream &s : streams) {
        held += s.established && !s.closed;
        for (int c : s.seen) {
            lost += c == 0;
            dup += c > 1 ? c - 1 : 0;
        }
        if (s.fd >= 0)
            ::close(s.fd);
    }
    ::close(ep);
    const double p50 = percentile(latenciesMs, 50), p99 = percentile(latenciesMs, 99);
    const double max = latenciesMs.empty() ? 0 : *std::max_element(latenciesMs.begin(), latenciesMs.end());
    std::printf("conns=%d held=%d events=%d deliveries=%zu lost=%ld dup=%ld p50_ms=%.1f p99_ms=%.1f "
                "max_ms=%.1f pss_idle_kb=%ld pss_loaded_kb=%ld kb_per_stream=%.2f\n",
                n, held, o.events, latenciesMs.size(), lost, dup, p50, p99, max, idlePss, loadedPss,
                idlePss > 0 && n > 0 ? double(loadedPss - idlePss) / n : 0.0);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--port") o.port = std::atoi(v.c_str());
        else if (k == "--key") o.key = v;
        else if (k == "--server-pid") o.serverPid = std::atol(v.c_str());
        else if (k == "--events") o.events = std::atoi(v.c_str());
        else if (k == "--rate") o.rate = std::atof(v.c_str());
        else if (k == "--drain-ms") o.drainMs = std::atoi(v.c_str());
        else if (k == "--conns") {
            o.conns.clear();
            std::stringstream ss(v);
            std::string item;
            while (std::getline(ss, item, ','))
                o.conns.push_back(std::atoi(item.c_str()));
        } else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 64;
        }
    }
    if (o.key.empty() || o.events <= 0 || o.rate <= 0) {
        std::fprintf(stderr, "usage: fanoutbench --port P --key KEY [--server-pid PID] "
                             "[--conns 1000,5000] [--events 20] [--rate 2] [--drain-ms 5000]\n");
        return 64;
    }
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    int seqBase = 0;
    for (int n : o.conns) {
        runStage(o, n, seqBase);
        seqBase += o.events;
        std::this_thread::sleep_for(std::chrono::seconds(1)); // let the server reap the closed streams
    }
    return 0;
}
