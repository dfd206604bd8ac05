#include "http/requestparser.h"

#include <QStringList>

#include <limits>

namespace Hermes {

// RFC 9110 §5.6.2: token characters.
static bool isTchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

static bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        if (!isTchar(c))
            return false;
    }
    return true;
}

static QByteArrayView trimmedOws(QByteArrayView s)
{
    while (!s.isEmpty() && (s.front() == ' ' || s.front() == '\t'))
        s = s.sliced(1);
    while (!s.isEmpty() && (s.back() == ' ' || s.back() == '\t'))
        s.chop(1);
    return s;
}

static int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static constexpr qsizetype MaxChunkSizeLine = 4096; // hex size and chunk extensions
static constexpr qint64 Unrepresentable = std::numeric_limits<qint64>::max();

HttpRequestParser::HttpRequestParser(const HttpLimits &limits) : m_limits(limits) {}


void HttpRequestParser::reset()
{
    m_state = State::Start;
    m_request = HttpRequest();
    m_request.m_remote = m_remote;
    m_error = Error();
    m_line.clear();
    m_skipped = 0;
    m_methodChecked = false;
    m_headerBytes = 0;
    m_fields = 0;
    m_contentLength = 0;
    m_chunked = false;
    m_expectContinue = false;
    m_bodyLimit = 0;
    m_chunkLeft = 0;
}

bool HttpRequestParser::readingBody() const
{
    return m_state == State::Body || m_state == State::ChunkSize || m_state == State::ChunkData
        || m_state == State::ChunkEnd || m_state == State::Trailer;
}

HttpRequest HttpRequestParser::takeRequest()
{
    HttpRequest r = std::move(m_request);
    m_request = HttpRequest();
    m_request.m_remote = m_remote;
    return r;
}

HttpRequestParser::Status HttpRequestParser::fail(int status, const char *code,
                                                  const QString &message)
{
    m_state = State::Failed;
    m_error = {status, QByteArray(code), message};
    m_line.clear();
    return Status::Error;
}

bool HttpRequestParser::takeLine(QByteArrayView data, qsizetype *pos, qsizetype limit,
                                 QByteArray *line, bool *tooLong)
{
    *tooLong = false;
    const QByteArrayView rest = data.sliced(*pos);
    const qsizetype lf = rest.indexOf('\n');
    const QByteArrayView piece = lf < 0 ? rest : rest.first(lf);
    // +1: the CR of a CRLF does not count against the limit.
    if (m_line.size() + piece.size() > limit + 1) {
        *tooLong = true;
        return false;
    }
    m_line += piece;
    if (lf < 0) {
        *pos = data.size();
        return false;
    }
    *pos += lf + 1;
    if (m_line.endsWith('\r'))
        m_line.chop(1);
    if (m_line.size() > limit) {
        *tooLong = true;
        return false;
    }
    *line = std::move(m_line);
    m_line.clear();
    return true;
}

HttpRequestParser::Status HttpRequestParser::feed(QByteArrayView data, qsizetype *consumed)
{
    qsizetype pos = 0;
    Status status = Status::NeedMore;
    auto done = [&](Status s) {
        *consumed = pos;
        return s;
    };
    Q_ASSERT(m_state != State::AwaitLimit && m_state != State::Done && m_state != State::Failed);
    while (pos < data.size() && status == Status::NeedMore) {
        QByteArray line;
        bool tooLong = false;
        switch (m_state) {
        case State::Start:
            // RFC 9112 §2.2: empty lines before a request line are ignored (a client may end
            // its previous body with an extra CRLF). They count against the request line.
            if (data[pos] == '\r' || data[pos] == '\n') {
                ++pos;
                if (++m_skipped > m_limits.maxRequestLine)
                    return done(fail(400, "bad_request", QStringLiteral("no request line")));
                continue;
            }
            m_state = State::RequestLine;
            continue;
        case State::RequestLine: {
            // The method is a token: a stream that starts otherwise (TLS, binary garbage) is
            // refused at its first byte instead of at the line limit or the timeout.
            // Only as far as the line may go, so the answer (400 or 414) never depends on how
            // the bytes were split (found by fuzz_httprequest).
            const qsizetype room = qMax<qsizetype>(0, m_limits.maxRequestLine + 1 - m_line.size());
            const qsizetype end = qMin(data.size(), pos + room);
            for (qsizetype i = pos; !m_methodChecked && i < end; ++i) {
                if (data[i] == ' ' || data[i] == '\r' || data[i] == '\n')
                    m_methodChecked = true;
                else if (!isTchar(data[i]))
                    return done(fail(400, "bad_request", QStringLiteral("malformed request method")));
            }
            if (!takeLine(data, &pos, m_limits.maxRequestLine, &line, &tooLong)) {
                if (tooLong)
                    return done(fail(414, "uri_too_long",
                                     QStringLiteral("the request line is longer than %1 bytes")
                                         .arg(m_limits.maxRequestLine)));
                continue;
            }
            status = onRequestLine(line);
            break;
        }
        case State::HeaderLine:
        case State::Trailer:
            if (!takeLine(data, &pos, m_limits.maxHeaderBytes - m_headerBytes, &line, &tooLong)) {
                if (tooLong)
                    return done(fail(431, "headers_too_large",
                                     QStringLiteral("the header block is larger than %1 bytes")
                                         .arg(m_limits.maxHeaderBytes)));
                continue;
            }
            m_headerBytes += line.size() + 2;
            status = onHeaderLine(line, m_state == State::Trailer);
            break;
        case State::Body: {
            const qint64 n = qMin<qint64>(data.size() - pos, m_contentLength - m_request.m_body.size());
            m_request.m_body += data.sliced(pos, n);
            pos += n;
            if (m_request.m_body.size() == m_contentLength) {
                m_state = State::Done;
                status = Status::Complete;
            }
            break;
        }
        case State::ChunkSize:
            if (!takeLine(data, &pos, MaxChunkSizeLine, &line, &tooLong)) {
                if (tooLong)
                    return done(fail(400, "invalid_chunk", QStringLiteral("a chunk size line is too long")));
                continue;
            }
            status = onChunkSize(line);
            break;
        case State::ChunkData: {
            const qint64 n = qMin<qint64>(data.size() - pos, m_chunkLeft);
            m_request.m_body += data.sliced(pos, n);
            pos += n;
            m_chunkLeft -= n;
            if (m_chunkLeft == 0)
                m_state = State::ChunkEnd;
            break;
        }
        case State::ChunkEnd:
            // Exactly CRLF (or LF) after the chunk's data.
            if (!takeLine(data, &pos, 0, &line, &tooLong)) {
                if (tooLong)
                    return done(fail(400, "invalid_chunk",
                                     QStringLiteral("a chunk's data is longer than its size")));
                continue;
            }
            m_state = State::ChunkSize;
            break;
        case State::AwaitLimit:
        case State::Done:
        case State::Failed:
            Q_UNREACHABLE();
        }
    }
    return done(status);
}

HttpRequestParser::Status HttpRequestParser::onRequestLine(QByteArrayView line)
{
    if (line.contains('\r'))
        return fail(400, "bad_request", QStringLiteral("a bare CR in the request line"));
    // method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || sp2 == sp1 + 1)
        return fail(400, "bad_request", QStringLiteral("malformed request line"));
    const QByteArrayView method = line.first(sp1);
    const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (!isToken(method))
        return fail(400, "bad_request", QStringLiteral("malformed request method"));
    if (version.size() != 8 || !version.startsWith("HTTP/") || version[6] != '.'
        || !QChar::isDigit(uchar(version[5])) || !QChar::isDigit(uchar(version[7])))
        return fail(400, "bad_request", QStringLiteral("malformed HTTP version"));
    if (version[5] != '1')
        return fail(505, "http_version_not_supported",
                    QStringLiteral("only HTTP/1.0 and HTTP/1.1 are supported"));
    m_request.m_minorVersion = version[7] == '0' ? 0 : 1;
    m_request.m_method = HttpRequest::methodFromName(method);
    if (m_request.m_method == HttpRequest::Method::Unknown)
        return fail(501, "not_implemented",
                    QStringLiteral("the method %1 is not implemented")
                        .arg(QString::fromLatin1(method.first(qMin<qsizetype>(method.size(), 32)))));
    for (char c : target) {
        if (uchar(c) <= 0x20 || uchar(c) >= 0x7f || c == '#')
            return fail(400, "bad_request", QStringLiteral("invalid character in the request target"));
    }

    // origin-form ("/path?query"), absolute-form ("http://host/path"), asterisk-form for
    // OPTIONS. The path is split on "/" before decoding, so "%2F" stays inside a segment.
    QByteArrayView path = target;
    if (target == "*" && m_request.m_method == HttpRequest::Method::Options) {
        path = {};
    } else if (!target.startsWith('/')) {
        const qsizetype scheme = target.indexOf("://");
        const QByteArrayView name = scheme > 0 ? target.first(scheme) : QByteArrayView();
        if (name.compare("http", Qt::CaseInsensitive) != 0
            && name.compare("https", Qt::CaseInsensitive) != 0)
            return fail(400, "bad_request", QStringLiteral("the request target must be a path"));
        const qsizetype slash = target.indexOf('/', scheme + 3);
        path = slash < 0 ? QByteArrayView("/") : target.sliced(slash);
    }
    const qsizetype question = path.indexOf('?');
    const QByteArrayView pathOnly = question < 0 ? path : path.first(question);
    m_request.m_target = target.toByteArray();
    m_request.m_url = QUrl::fromEncoded(path.toByteArray());
    if (!path.isEmpty() && !m_request.m_url.isValid())
        return fail(400, "bad_request", QStringLiteral("the request target is not a valid URL"));
    for (const QByteArray &segment : pathOnly.toByteArray().split('/')) {
        if (!segment.isEmpty())
            m_request.m_segments.append(QString::fromUtf8(QByteArray::fromPercentEncoding(segment)));
    }
    m_state = State::HeaderLine;
    return Status::NeedMore;
}

HttpRequestParser::Status HttpRequestParser::onHeaderLine(QByteArrayView line, bool trailer)
{
    if (line.isEmpty()) {
        if (!trailer)
            return onHeadEnd();
        m_state = State::Done;
        return Status::Complete;
    }
    if (line.front() == ' ' || line.front() == '\t')
        return fail(400, "bad_request", QStringLiteral("obsolete line folding in a header"));
    if (++m_fields > m_limits.maxHeaderFields)
        return fail(431, "headers_too_large",
                    QStringLiteral("more than %1 header fields").arg(m_limits.maxHeaderFields));
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0 || !isToken(line.first(colon)))
        return fail(400, "bad_request", QStringLiteral("malformed header field name"));
    const QByteArrayView value = trimmedOws(line.sliced(colon + 1));
    for (char c : value) {
        const uchar u = uchar(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f)
            return fail(400, "bad_request", QStringLiteral("invalid character in a header value"));
    }
    if (!trailer) // trailers are checked, never used (RFC 9110 §6.5.1)
        m_request.m_headers.append({line.first(colon).toByteArray(), value.toByteArray()});
    return Status::NeedMore;
}

HttpRequestParser::Status HttpRequestParser::onHeadEnd()
{
    HttpRequest &r = m_request;
    int hosts = 0;
    int lengths = 0;
    QList<QByteArray> codings;
    bool connectionClose = false;
    for (const auto &[name, value] : std::as_const(r.m_headers)) {
        if (name.compare("host", Qt::CaseInsensitive) == 0) {
            ++hosts;
        } else if (name.compare("content-length", Qt::CaseInsensitive) == 0) {
            if (++lengths > 1)
                return fail(400, "bad_request", QStringLiteral("more than one Content-Length"));
            if (value.isEmpty())
                return fail(400, "bad_request", QStringLiteral("invalid Content-Length"));
            for (char c : value) {
                if (c < '0' || c > '9')
                    return fail(400, "bad_request", QStringLiteral("invalid Content-Length"));
            }
            // More than 18 digits is above any limit; it stays "too large", never wraps.
            m_contentLength = value.size() > 18 ? Unrepresentable : value.toLongLong();
        } else if (name.compare("transfer-encoding", Qt::CaseInsensitive) == 0) {
            for (const QByteArray &coding : value.split(','))
                codings.append(coding.trimmed().toLower());
        } else if (name.compare("connection", Qt::CaseInsensitive) == 0) {
            for (const QByteArray &option : value.split(',')) {
                if (option.trimmed().compare("close", Qt::CaseInsensitive) == 0)
                    connectionClose = true;
            }
        } else if (name.compare("expect", Qt::CaseInsensitive) == 0) {
            if (value.compare("100-continue", Qt::CaseInsensitive) != 0)
                return fail(417, "expectation_failed",
                            QStringLiteral("only Expect: 100-continue is supported"));
            m_expectContinue = r.m_minorVersion == 1;
        }
    }
    if (r.m_minorVersion == 1 && hosts != 1)
        return fail(400, "bad_request", QStringLiteral("an HTTP/1.1 request needs exactly one Host"));
    if (hosts > 1)
        return fail(400, "bad_request", QStringLiteral("more than one Host"));
    if (!codings.isEmpty()) {
        // RFC 9112 §6.1-6.3: both framings at once, or chunked framing from an HTTP/1.0
        // client, make the end of the body ambiguous.
        if (lengths > 0)
            return fail(400, "bad_request",
                        QStringLiteral("Content-Length and Transfer-Encoding together"));
        if (r.m_minorVersion == 0)
            return fail(400, "bad_request", QStringLiteral("Transfer-Encoding in an HTTP/1.0 request"));
        if (codings.last() != "chunked")
            return fail(400, "bad_request", QStringLiteral("the last transfer coding must be chunked"));
        if (codings.size() > 1)
            return fail(501, "not_implemented", QStringLiteral("only the chunked transfer coding is supported"));
        m_chunked = true;
    }
    r.m_keepAlive = r.m_minorVersion == 1 && !connectionClose;
    if (!hasBody())
        m_expectContinue = false;
    m_state = State::AwaitLimit;
    return Status::HeadReady;
}

HttpRequestParser::Status HttpRequestParser::setBodyLimit(qint64 bytes)
{
    Q_ASSERT(m_state == State::AwaitLimit);
    m_bodyLimit = bytes;
    if (m_chunked) {
        m_state = State::ChunkSize;
        return Status::NeedMore;
    }
    if (m_contentLength > bytes)
        return fail(413, "payload_too_large",
                    QStringLiteral("the body is larger than %1 bytes").arg(bytes));
    if (m_contentLength == 0) {
        m_state = State::Done;
        return Status::Complete;
    }
    m_request.m_body.reserve(m_contentLength);
    m_state = State::Body;
    return Status::NeedMore;
}

HttpRequestParser::Status HttpRequestParser::onChunkSize(QByteArrayView line)
{
    // chunk-size [ chunk-ext ]: 1*HEXDIG, then nothing, or BWS ";" extensions (ignored).
    qsizetype i = 0;
    qint64 size = 0;
    while (i < line.size() && hexValue(line[i]) >= 0) {
        if (i == 15) // 2^60 and more: above any limit, and it must not wrap
            return fail(413, "payload_too_large",
                        QStringLiteral("the body is larger than %1 bytes").arg(m_bodyLimit));
        size = size * 16 + hexValue(line[i]);
        ++i;
    }
    if (i == 0)
        return fail(400, "invalid_chunk", QStringLiteral("a chunk size is not a hexadecimal number"));
    QByteArrayView rest = line.sliced(i);
    while (!rest.isEmpty() && (rest.front() == ' ' || rest.front() == '\t'))
        rest = rest.sliced(1);
    if (!rest.isEmpty() && rest.front() != ';')
        return fail(400, "invalid_chunk", QStringLiteral("a chunk size is not a hexadecimal number"));
    for (char c : rest) {
        const uchar u = uchar(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f)
            return fail(400, "invalid_chunk", QStringLiteral("invalid character in a chunk extension"));
    }
    if (size > m_bodyLimit - m_request.m_body.size())
        return fail(413, "payload_too_large",
                    QStringLiteral("the body is larger than %1 bytes").arg(m_bodyLimit));
    if (size == 0) {
        m_state = State::Trailer;
        return Status::NeedMore;
    }
    m_chunkLeft = size;
    m_state = State::ChunkData;
    return Status::NeedMore;
}

} // namespace Hermes
