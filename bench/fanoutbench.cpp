// fanoutbench: how many streams one hermes-server holds, what each costs in memory, and how
// long an event takes to reach all of them. Needs no peers: point it at a running server.
//
//   fanoutbench --port 8000 --key KEY --server-pid PID --conns 1000,5000 --events 20 --rate 2
//
// It opens N streams (epoll, non-blocking, one thread), waits until each got its first bytes,
// reads the server's PSS, publishes events carrying their send time over HTTP, and measures the
// latency of every (stream, event) delivery at receipt. It prints figures; it asserts nothing.
//
// --filtered runs the filtered-stream scenario instead (see runFiltered below):
//
//   fanoutbench --port 8000 --key KEY --server-pid PID --filtered --ids 1000 --per-id 10
//               --monitors 10 --other-streams 0 --rate-per-id 2 --seconds 20
//
// streams on /api/v1/events/downloads/<id> (ids x per-id), monitors on
// /api/v1/events/stream?channels=downloads, and streams on ids that never get an event; every
// download publishes download_progress at rate-per-id. Each stream is checked to get exactly
// the events of its id (monitors: all of them), in order; it prints delivered events/s, latency,
// the server's CPU per 1,000 events and PSS per stream, and one grep-able `scenario=filtered`
// line. bench/filteredbench.sh starts a server and runs it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
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

// One publish on a keep-alive connection. Sends again only when the connection turned out to be
// closed before any byte of an answer (an idle keep-alive the server ended), never after a
// timeout: that could publish an event twice. Returns the status, or -1.
int publishOnce(int &fd, int port, const std::string &request)
{
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (fd < 0) {
            fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_port = htons(uint16_t(port));
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            timeval tv{5, 0}; // bounds connect, send and every recv
            ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
                ::close(fd);
                fd = -1;
                return -1;
            }
        }
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
            ::close(fd);
            fd = -1;
            continue;
        }
        std::string resp;
        char buf[4096];
        while (true) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                const bool retry = n == 0 && resp.empty();
                ::close(fd);
                fd = -1;
                if (retry)
                    break;
                return -1;
            }
            resp.append(buf, size_t(n));
            const size_t end = resp.find("\r\n\r\n");
            if (end == std::string::npos)
                continue;
            std::string head = resp.substr(0, end);
            std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            const size_t cl = head.find("\r\ncontent-length:");
            const size_t len = cl == std::string::npos ? 0 : std::strtoul(head.c_str() + cl + 17, nullptr, 10);
            if (resp.size() < end + 4 + len)
                continue;
            const int status = resp.size() > 12 ? std::atoi(resp.c_str() + 9) : -1;
            if (head.find("\r\nconnection: close") != std::string::npos) {
                ::close(fd);
                fd = -1;
            }
            return status;
        }
    }
    return -1;
}

// One publish request with keep-alive (see publishOnce); returns the status code, or -1.
int post(int &fd, int port, const std::string &key, const std::string &body)
{
    return publishOnce(fd, port,
                       "POST /api/v1/events/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
                           + "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size())
                           + "\r\n\r\n" + body);
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

// ---------------------------------------------------------------------------------------------
// The filtered-stream scenario (--filtered): the realistic load of a download manager. Browsers
// each watch one download on /api/v1/events/downloads/<id>, a few operators' monitors watch
// every download on /api/v1/events/stream?channels=downloads, and every running download
// reports progress at a steady rate. Optionally, more streams watch downloads that never report
// anything: the cost of one event should not depend on them. Every stream is checked to get
// exactly the events of its id (monitors: all), each once and in order.

struct FilteredOptions
{
    int ids = 1000;
    int perId = 10;
    int monitors = 10;
    int other = 0;
    double ratePerId = 2;
    double seconds = 20;
    int publishers = 16;
    int batchMs = 10;
    int rampS = 120;
    int timeoutS = 0; // 0: derived from the others
};

struct FStream
{
    enum class Kind : uint8_t { Download, Monitor, Other };
    int fd = -1;
    Kind kind = Kind::Download;
    int index = 0; // the download's index (Download), the monitor's (Monitor), its own (Other)
    bool requested = false;
    bool headersDone = false;
    bool chunked = false;
    bool needCrlf = false; // after a chunk's data
    bool connected = false; // got its `connected` event
    bool closed = false;
    int status = 0;
    size_t chunkLeft = 0;
    int maxSeq = -1; // Download: the highest seq received so far
    std::string raw; // received bytes not yet de-chunked
    std::string body; // SSE bytes not yet parsed into frames
    std::vector<uint8_t> seen; // Download: receipts per seq of its download (saturating)
};

struct MonitorState
{
    std::vector<uint8_t> seen; // receipts per (download, seq)
    std::vector<int> maxSeq; // per download
};

std::string downloadName(int i)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "dl-%04d", i);
    return buf;
}

// utime + stime of a process, in seconds; -1 when unknown.
double cpuSeconds(long pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!pid || !std::getline(in, line))
        return -1;
    const size_t p = line.rfind(')');
    if (p == std::string::npos)
        return -1;
    std::istringstream fields(line.substr(p + 1));
    std::string tok;
    long long ticks = 0;
    for (int field = 3; field <= 15 && (fields >> tok); ++field) {
        if (field == 14 || field == 15)
            ticks += std::atoll(tok.c_str());
    }
    return double(ticks) / double(::sysconf(_SC_CLK_TCK));
}

double selfCpuSeconds()
{
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
        + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct PublisherResult
{
    long accepted = 0;
    long failed = 0;
    long unpublished = 0; // not sent: the run's deadline came first
    std::chrono::steady_clock::time_point lastDone{};
    std::vector<float> lateMs; // how far behind its schedule each publish was sent (batching included)
    std::vector<float> rttMs;
};

int runFiltered(const Options &o, const FilteredOptions &f)
{
    using Clock = std::chrono::steady_clock;
    const auto begin = Clock::now();
    const int perIdEvents = std::max(1, int(std::lround(f.ratePerId * f.seconds)));
    const int downloadStreams = f.ids * f.perId;
    const int total = downloadStreams + f.monitors + f.other;
    const int timeoutS = f.timeoutS > 0 ? f.timeoutS
                                        : f.rampS + int(std::ceil(f.seconds * 1.5)) + o.drainMs / 1000 + 30;
    const auto deadline = begin + std::chrono::seconds(timeoutS);
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    if (rlim_t(total + f.publishers + 32) > lim.rlim_cur) {
        std::fprintf(stderr, "%d streams and %d publishers need more descriptors than the limit (%llu)\n",
                     total, f.publishers, static_cast<unsigned long long>(lim.rlim_cur));
        return 1;
    }

    std::vector<FStream> streams(static_cast<size_t>(total));
    std::vector<MonitorState> monitors(static_cast<size_t>(f.monitors));
    {
        size_t k = 0;
        for (int m = 0; m < f.monitors; ++m, ++k) {
            streams[k].kind = FStream::Kind::Monitor;
            streams[k].index = m;
            monitors[size_t(m)].seen.assign(size_t(f.ids) * size_t(perIdEvents), 0);
            monitors[size_t(m)].maxSeq.assign(size_t(f.ids), -1);
        }
        // Round-robin over the ids, so a partial ramp still covers every download.
        for (int j = 0; j < f.perId; ++j) {
            for (int i = 0; i < f.ids; ++i, ++k) {
                streams[k].kind = FStream::Kind::Download;
                streams[k].index = i;
                streams[k].seen.assign(size_t(perIdEvents), 0);
            }
        }
        for (int i = 0; i < f.other; ++i, ++k) {
            streams[k].kind = FStream::Kind::Other;
            streams[k].index = i;
        }
    }
    auto requestFor = [&](const FStream &s) {
        std::string path;
        char buf[32];
        switch (s.kind) {
        case FStream::Kind::Monitor: path = "/api/v1/events/stream?channels=downloads"; break;
        case FStream::Kind::Download: path = "/api/v1/events/downloads/" + downloadName(s.index); break;
        case FStream::Kind::Other:
            std::snprintf(buf, sizeof buf, "idle-%05d", s.index);
            path = std::string("/api/v1/events/downloads/") + buf;
            break;
        }
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                               "Authorization: Bearer " + o.key + "\r\n\r\n";
    };

    // Counters kept while receiving.
    long connected = 0, failedStreams = 0, closedAfterConnect = 0, resyncs = 0;
    long receipts = 0, distinct = 0, reordered = 0, misrouted = 0, malformed = 0;
    std::vector<int> refusals; // statuses other than 200
    std::vector<float> latMs;
    latMs.reserve(size_t(f.ids) * size_t(perIdEvents) * size_t(f.perId + f.monitors));
    long long lastReceiptNs = 0;
    bool measuring = false;

    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    auto closeStream = [&](FStream &s) {
        if (s.fd < 0)
            return;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
        ::close(s.fd);
        s.fd = -1;
        s.closed = true;
        if (s.connected)
            ++closedAfterConnect;
        else
            ++failedStreams;
    };
    auto count = [&](uint8_t &cell, int &maxSeq, int seq) {
        if (cell == 0) {
            ++distinct;
            if (seq < maxSeq)
                ++reordered; // a late first receipt
        }
        maxSeq = std::max(maxSeq, seq);
        if (cell < 255)
            ++cell;
    };
    auto onFrame = [&](FStream &s, std::string_view frame, long long tNs) {
        if (!s.connected) {
            if (frame.find("\"type\":\"connected\"") != std::string_view::npos) {
                s.connected = true;
                ++connected;
            }
            return;
        }
        if (frame.find("resync_required") != std::string_view::npos) {
            ++resyncs;
            return;
        }
        const size_t at = frame.find("\"download_id\":\"");
        if (at == std::string_view::npos)
            return; // a heartbeat, a comment
        const size_t idEnd = frame.find('"', at + 15);
        const size_t sq = frame.find("\"seq\":");
        const size_t tp = frame.find("\"t_pub_us\":");
        if (idEnd == std::string_view::npos || sq == std::string_view::npos || tp == std::string_view::npos) {
            ++malformed;
            return;
        }
        const std::string_view id = frame.substr(at + 15, idEnd - at - 15);
        const int seq = std::atoi(frame.data() + sq + 6);
        const double pubUs = std::strtod(frame.data() + tp + 11, nullptr);
        int d = -1;
        if (id.size() > 3 && id.substr(0, 3) == "dl-") {
            d = std::atoi(std::string(id.substr(3)).c_str());
            if (d < 0 || d >= f.ids || downloadName(d) != id)
                d = -1;
        }
        if (d < 0 || seq < 0 || seq >= perIdEvents || s.kind == FStream::Kind::Other
            || (s.kind == FStream::Kind::Download && d != s.index)) {
            ++misrouted; // an event this stream should never have seen
            return;
        }
        ++receipts;
        lastReceiptNs = tNs;
        if (measuring)
            latMs.push_back(float((double(tNs) / 1e3 - pubUs) / 1e3));
        if (s.kind == FStream::Kind::Download) {
            count(s.seen[size_t(seq)], s.maxSeq, seq);
        } else {
            MonitorState &m = monitors[size_t(s.index)];
            count(m.seen[size_t(d) * size_t(perIdEvents) + size_t(seq)], m.maxSeq[size_t(d)], seq);
        }
    };
    // De-chunks what arrived and hands every complete SSE frame to onFrame. False: close it.
    auto onBytes = [&](FStream &s, const char *data, size_t n, long long tNs) {
        s.raw.append(data, n);
        size_t pos = 0;
        if (!s.headersDone) {
            const size_t end = s.raw.find("\r\n\r\n");
            if (end == std::string::npos)
                return s.raw.size() < 16384;
            std::string head = s.raw.substr(0, end);
            std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            s.status = head.rfind("http/1.", 0) == 0 && head.size() > 12 ? std::atoi(head.c_str() + 9) : -1;
            s.chunked = head.find("\r\ntransfer-encoding: chunked") != std::string::npos;
            s.headersDone = true;
            pos = end + 4;
            if (s.status != 200) {
                refusals.push_back(s.status);
                return false;
            }
        }
        if (!s.chunked) {
            s.body.append(s.raw, pos, std::string::npos);
            pos = s.raw.size();
        } else {
            while (pos < s.raw.size()) {
                if (s.chunkLeft > 0) {
                    const size_t take = std::min(s.chunkLeft, s.raw.size() - pos);
                    s.body.append(s.raw, pos, take);
                    pos += take;
                    s.chunkLeft -= take;
                    s.needCrlf = s.chunkLeft == 0;
                } else if (s.needCrlf) {
                    if (s.raw.size() - pos < 2)
                        break;
                    if (s.raw.compare(pos, 2, "\r\n") != 0)
                        return false;
                    pos += 2;
                    s.needCrlf = false;
                } else {
                    const size_t eol = s.raw.find("\r\n", pos);
                    if (eol == std::string::npos) {
                        if (s.raw.size() - pos > 32)
                            return false;
                        break;
                    }
                    char *endp = nullptr;
                    const unsigned long size = std::strtoul(s.raw.c_str() + pos, &endp, 16);
                    if (endp == s.raw.c_str() + pos)
                        return false;
                    pos = eol + 2;
                    if (size == 0)
                        return false; // the last chunk: the server ended the stream
                    s.chunkLeft = size;
                }
            }
        }
        s.raw.erase(0, pos);
        size_t start = 0;
        while (true) {
            const size_t end = s.body.find("\n\n", start);
            if (end == std::string::npos)
                break;
            onFrame(s, std::string_view(s.body).substr(start, end - start), tNs);
            start = end + 2;
        }
        s.body.erase(0, start);
        return true;
    };
    char buf[65536];
    auto handle = [&](FStream &s, uint32_t events) {
        if (s.fd < 0)
            return;
        if ((events & EPOLLOUT) && !s.requested) {
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            const std::string req = requestFor(s);
            if (err != 0 || ::send(s.fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
                closeStream(s);
                return;
            }
            s.requested = true;
            epoll_event ev{EPOLLIN, {.ptr = &s}};
            ::epoll_ctl(ep, EPOLL_CTL_MOD, s.fd, &ev);
        }
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            return;
        while (s.fd >= 0) {
            const ssize_t r = ::recv(s.fd, buf, sizeof buf, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                closeStream(s);
                return;
            }
            if (r < 0)
                return;
            if (!onBytes(s, buf, size_t(r), nowNs()))
                closeStream(s);
        }
    };
    auto poll = [&](int timeoutMs) {
        epoll_event evs[512];
        const int k = ::epoll_wait(ep, evs, 512, timeoutMs);
        for (int i = 0; i < k; ++i)
            handle(*static_cast<FStream *>(evs[i].data.ptr), evs[i].events);
    };

    // 1. Open every stream, at most 200 connecting at a time, until each has its `connected`
    // event (events published before it are not promised to it) or failed.
    const long idlePss = o.serverPid ? pssKb(o.serverPid) : -1;
    const auto rampStart = Clock::now();
    const auto rampEnd = std::min(deadline, rampStart + std::chrono::seconds(f.rampS));
    int opened = 0;
    while ((opened < total || connected + failedStreams + closedAfterConnect < opened) && Clock::now() < rampEnd) {
        while (opened < total && opened - connected - failedStreams - closedAfterConnect < 200) {
            FStream &s = streams[size_t(opened++)];
            s.fd = connectTo(o.port);
            if (s.fd < 0) {
                ++failedStreams;
                s.closed = true;
                continue;
            }
            epoll_event ev{EPOLLOUT | EPOLLIN, {.ptr = &s}};
            ::epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
        }
        poll(10);
    }
    const double rampS = std::chrono::duration<double>(Clock::now() - rampStart).count();
    for (FStream &s : streams) {
        if (s.fd >= 0 && !s.connected)
            closeStream(s); // did not connect within the ramp: failed
    }
    for (int i = 0; i < 50; ++i)
        poll(10); // settle
    const long loadedPss = o.serverPid ? pssKb(o.serverPid) : -1;
    const long held = connected - closedAfterConnect;
    std::printf("filtered: streams=%d (downloads/<id>: %d over %d ids x %d, monitors %d, other ids %d) "
                "connected=%ld failed=%ld ramp_s=%.1f\n",
                total, downloadStreams, f.ids, f.perId, f.monitors, f.other, connected, failedStreams, rampS);
    if (!refusals.empty()) {
        std::sort(refusals.begin(), refusals.end());
        std::printf("  refused: %zu streams, statuses %d..%d (429: raise --max-connections-per-key; "
                    "503: --max-connections)\n",
                    refusals.size(), refusals.front(), refusals.back());
    }
    std::fflush(stdout);

    // 2. A second of idle, for what the held streams cost with nothing published.
    const double idleCpu0 = cpuSeconds(o.serverPid);
    const auto idleEnd = Clock::now() + std::chrono::seconds(1);
    while (Clock::now() < idleEnd)
        poll(10);
    const double idleCpuPerS = idleCpu0 < 0 ? -1 : cpuSeconds(o.serverPid) - idleCpu0;

    // 3. Publish: every download reports at ratePerId, spread evenly over the period (download i
    // is offset by i/ids of it), sent in batches every batchMs by a pool of keep-alive
    // publishers. Download i always goes through publisher i % publishers, one publish at a
    // time, so its events have a defined order.
    const auto period = std::chrono::duration<double>(1.0 / f.ratePerId);
    const auto start = Clock::now() + std::chrono::milliseconds(50);
    const long long startNs = nowNs() + 50'000'000;
    const auto scheduleEnd = start + std::chrono::duration_cast<Clock::duration>(period * perIdEvents);
    const auto publishDeadline = std::min(
        deadline - std::chrono::milliseconds(o.drainMs),
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(f.seconds * 1.5 + 5)));
    std::vector<uint8_t> accepted(size_t(f.ids) * size_t(perIdEvents), 0);
    std::vector<PublisherResult> results(size_t(f.publishers));
    std::atomic<int> running{f.publishers};
    const double serverCpu0 = cpuSeconds(o.serverPid);
    const double selfCpu0 = selfCpuSeconds();
    measuring = true;
    std::vector<std::thread> publishers;
    for (int t = 0; t < f.publishers; ++t) {
        publishers.emplace_back([&, t] {
            PublisherResult &res = results[size_t(t)];
            std::vector<int> mine;
            for (int i = t; i < f.ids; i += f.publishers)
                mine.push_back(i); // ascending i is ascending offset
            const long n = long(mine.size());
            res.rttMs.reserve(size_t(n) * size_t(perIdEvents));
            res.lateMs.reserve(size_t(n) * size_t(perIdEvents));
            int fd = -1;
            const auto batch = std::chrono::milliseconds(std::max(1, f.batchMs));
            for (long k = 0; k < n * perIdEvents; ++k) {
                const int i = mine[size_t(k % n)];
                const int seq = int(k / n);
                const auto due = start
                    + std::chrono::duration_cast<Clock::duration>(period * (seq + double(i) / f.ids));
                auto now = Clock::now();
                if (due > now) {
                    // Sleep to the next batch tick that reaches this publish.
                    const auto ticks = (due - start + batch - Clock::duration(1)) / batch;
                    std::this_thread::sleep_until(start + ticks * batch);
                    now = Clock::now();
                }
                if (now > publishDeadline) {
                    res.unpublished += n * perIdEvents - k;
                    break;
                }
                res.lateMs.push_back(float(std::chrono::duration<double, std::milli>(now - due).count()));
                const long long tUs = nowNs() / 1000;
                const std::string body = "{\"channel\":\"download:updates\",\"type\":\"download_progress\","
                                         "\"data\":{\"download_id\":\"" + downloadName(i)
                    + "\",\"status\":\"downloading\",\"progress\":{\"percentage\":" + std::to_string(seq % 100)
                    + ",\"status\":\"downloading\",\"downloaded_bytes\":" + std::to_string(seq * 1048576LL)
                    + ",\"total_bytes\":104857600,\"speed\":2097152,\"eta\":" + std::to_string(50 - seq % 50)
                    + "},\"seq\":" + std::to_string(seq) + ",\"t_pub_us\":" + std::to_string(tUs) + "}}";
                const auto sent = Clock::now();
                const int status = post(fd, o.port, o.key, body);
                const auto done = Clock::now();
                res.rttMs.push_back(float(std::chrono::duration<double, std::milli>(done - sent).count()));
                res.lastDone = done;
                if (status == 202) {
                    accepted[size_t(i) * size_t(perIdEvents) + size_t(seq)] = 1;
                    ++res.accepted;
                } else {
                    ++res.failed;
                    if (res.failed <= 3)
                        std::fprintf(stderr, "publish %s #%d: status %d\n", downloadName(i).c_str(), seq, status);
                }
            }
            if (fd >= 0)
                ::close(fd);
            --running;
        });
    }
    while (running > 0 || Clock::now() < scheduleEnd) {
        if (Clock::now() > publishDeadline + std::chrono::seconds(6))
            break; // a publisher is stuck past its own timeouts; should not happen
        poll(5);
    }
    const auto publishEnd = Clock::now();
    const double serverCpu1 = cpuSeconds(o.serverPid);
    const double selfCpu1 = selfCpuSeconds();
    for (std::thread &t : publishers)
        t.join(); // bounded: every socket operation has a 5 s timeout

    long acceptedCount = 0, failedPublishes = 0, unpublished = 0;
    auto lastDone = start;
    std::vector<float> rtts, lates;
    for (PublisherResult &r : results) {
        acceptedCount += r.accepted;
        failedPublishes += r.failed;
        unpublished += r.unpublished;
        lates.insert(lates.end(), r.lateMs.begin(), r.lateMs.end());
        lastDone = std::max(lastDone, r.lastDone);
        rtts.insert(rtts.end(), r.rttMs.begin(), r.rttMs.end());
    }
    long expected = 0;
    for (const FStream &s : streams) {
        if (!s.connected)
            continue;
        if (s.kind == FStream::Kind::Monitor)
            expected += acceptedCount;
        else if (s.kind == FStream::Kind::Download)
            for (int q = 0; q < perIdEvents; ++q)
                expected += accepted[size_t(s.index) * size_t(perIdEvents) + size_t(q)];
    }

    // 4. Drain: until every expected delivery arrived, or the drain window ends.
    const auto drainEnd = std::min(deadline, Clock::now() + std::chrono::milliseconds(o.drainMs));
    while (distinct < expected && Clock::now() < drainEnd)
        poll(10);
    measuring = false;
    const double drainS = std::chrono::duration<double>(Clock::now() - publishEnd).count();

    // 5. Account: per stream, per event it should have had.
    long delivered = 0, lost = 0, dup = 0, unacked = 0, streamsWithLoss = 0;
    auto tally = [&](uint8_t cell, bool wanted, long &streamLost) {
        if (wanted) {
            if (cell == 0)
                ++streamLost;
            else {
                ++delivered;
                dup += cell - 1;
            }
        } else {
            unacked += cell; // the publish failed (a timeout), yet the event went out
        }
    };
    for (FStream &s : streams) {
        long streamLost = 0;
        if (s.connected && s.kind == FStream::Kind::Download) {
            for (int q = 0; q < perIdEvents; ++q)
                tally(s.seen[size_t(q)], accepted[size_t(s.index) * size_t(perIdEvents) + size_t(q)], streamLost);
        } else if (s.connected && s.kind == FStream::Kind::Monitor) {
            const MonitorState &m = monitors[size_t(s.index)];
            for (size_t c = 0; c < m.seen.size(); ++c)
                tally(m.seen[c], accepted[c] != 0, streamLost);
        }
        lost += streamLost;
        streamsWithLoss += streamLost > 0;
        if (s.fd >= 0)
            ::close(s.fd);
    }
    ::close(ep);

    const double pubWindowS = std::chrono::duration<double>(std::max(lastDone, scheduleEnd) - start).count();
    const double pubEps = pubWindowS > 0 ? double(acceptedCount) / pubWindowS : 0;
    const double deliveryWindowS = std::max(pubWindowS, double(lastReceiptNs - startNs) / 1e9);
    const double deliveredEps = deliveryWindowS > 0 ? double(receipts) / deliveryWindowS : 0;
    const double cpuS = serverCpu0 < 0 || serverCpu1 < 0 ? -1 : serverCpu1 - serverCpu0;
    const double cpuPer1k = cpuS >= 0 && acceptedCount > 0 ? cpuS * 1e6 / double(acceptedCount) : -1;
    const double cpuPer1kDeliveries = cpuS >= 0 && receipts > 0 ? cpuS * 1e6 / double(receipts) : -1;
    const double kbPerStream = idlePss > 0 && loadedPss > 0 && held > 0 ? double(loadedPss - idlePss) / double(held) : -1;
    std::vector<double> lat(latMs.begin(), latMs.end());
    const double p50 = percentile(lat, 50), p99 = percentile(lat, 99);
    const double maxLat = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
    std::vector<double> rtt(rtts.begin(), rtts.end());
    const double rttP50 = percentile(rtt, 50), rttP99 = percentile(rtt, 99);
    const double rttMax = rtt.empty() ? 0 : *std::max_element(rtt.begin(), rtt.end());
    std::vector<double> late(lates.begin(), lates.end());
    const double lateP99 = percentile(late, 99);
    const double lateMax = late.empty() ? 0 : *std::max_element(late.begin(), late.end());

    std::printf("publish: %ld accepted, %ld failed, %ld unpublished of %ld scheduled over %.2f s: %.1f ev/s "
                "(target %.1f) by %d publishers in %d ms batches; sent behind schedule p99/max %.1f/%.1f ms; "
                "POST p50/p99/max %.2f/%.2f/%.1f ms\n",
                acceptedCount, failedPublishes, unpublished, long(f.ids) * perIdEvents, pubWindowS, pubEps,
                f.ids * f.ratePerId, f.publishers, f.batchMs, lateP99, lateMax, rttP50, rttP99, rttMax);
    std::printf("delivery: held=%ld expected=%ld delivered=%ld (%.0f/s) lost=%ld (on %ld streams) dup=%ld "
                "reordered=%ld misrouted=%ld unacked=%ld resyncs=%ld malformed=%ld closed=%ld drain_s=%.2f\n",
                held, expected, delivered, deliveredEps, lost, streamsWithLoss, dup, reordered, misrouted,
                unacked, resyncs, malformed, closedAfterConnect, drainS);
    std::printf("latency (receipt - send): p50 %.1f ms, p99 %.1f ms, max %.1f ms over %zu deliveries\n", p50, p99,
                maxLat, lat.size());
    std::printf("server: cpu %.2f s over the %.2f s publish window (%.1f ms per 1,000 events, %.2f ms per 1,000 "
                "deliveries; idle %.3f s/s), pss idle %ld KB, loaded %ld KB, %.2f KB/stream; "
                "client cpu %.2f s\n",
                cpuS, std::chrono::duration<double>(publishEnd - start).count(), cpuPer1k, cpuPer1kDeliveries,
                idleCpuPerS, idlePss, loadedPss, kbPerStream, selfCpu1 - selfCpu0);
    std::printf("scenario=filtered ids=%d per_id=%d monitors=%d other=%d pub_eps=%.1f delivered_eps=%.0f "
                "p50_ms=%.1f p99_ms=%.1f max_ms=%.1f lost=%ld dup=%ld reordered=%ld cpu_s=%.2f "
                "cpu_ms_per_1k_events=%.1f kb_per_stream=%.2f streams=%d held=%ld expected=%ld delivered=%ld "
                "misrouted=%ld failed_publishes=%ld\n",
                f.ids, f.perId, f.monitors, f.other, pubEps, deliveredEps, p50, p99, maxLat, lost, dup, reordered,
                cpuS, cpuPer1k, kbPerStream, total, held, expected, delivered, misrouted, failedPublishes);
    std::fflush(stdout);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    FilteredOptions f;
    bool filtered = false;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (k == "--filtered") {
            filtered = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "option %s needs a value\n", k.c_str());
            return 64;
        }
        const std::string v = argv[++i];
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
        }
        else if (k == "--ids") f.ids = std::atoi(v.c_str());
        else if (k == "--per-id") f.perId = std::atoi(v.c_str());
        else if (k == "--monitors") f.monitors = std::atoi(v.c_str());
        else if (k == "--other-streams") f.other = std::atoi(v.c_str());
        else if (k == "--rate-per-id") f.ratePerId = std::atof(v.c_str());
        else if (k == "--seconds") f.seconds = std::atof(v.c_str());
        else if (k == "--publishers") f.publishers = std::atoi(v.c_str());
        else if (k == "--batch-ms") f.batchMs = std::atoi(v.c_str());
        else if (k == "--ramp-s") f.rampS = std::atoi(v.c_str());
        else if (k == "--timeout-s") f.timeoutS = std::atoi(v.c_str());
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 64;
        }
    }
    const bool filteredOk = f.ids > 0 && f.ids <= 10000 && f.perId >= 0 && f.monitors >= 0 && f.other >= 0
        && f.ratePerId > 0 && f.seconds > 0 && f.publishers > 0 && f.batchMs > 0 && f.rampS > 0
        && f.ratePerId * f.seconds <= 100000 && o.drainMs >= 0;
    if (o.key.empty() || o.events <= 0 || o.rate <= 0 || (filtered && !filteredOk)) {
        std::fprintf(stderr, "usage: fanoutbench --port P --key KEY [--server-pid PID] "
                             "[--conns 1000,5000] [--events 20] [--rate 2] [--drain-ms 5000]\n"
                             "       fanoutbench --port P --key KEY [--server-pid PID] --filtered [--ids 1000] "
                             "[--per-id 10] [--monitors 10] [--other-streams 0] [--rate-per-id 2] "
                             "[--seconds 20] [--publishers 16] [--batch-ms 10] [--drain-ms 5000] "
                             "[--ramp-s 120] [--timeout-s auto]\n");
        return 64;
    }
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    if (filtered)
        return runFiltered(o, f);
    int seqBase = 0;
    for (int n : o.conns) {
        runStage(o, n, seqBase);
        seqBase += o.events;
        std::this_thread::sleep_for(std::chrono::seconds(1)); // let the server reap the closed streams
    }
    return 0;
}
