#pragma once

#include "http/httplimits.h"
#include "http/httprequest.h"

#include <QByteArray>
#include <QString>

namespace Hermes {

/**
 * Incremental, bounded, strict HTTP/1.1 request parser (RFC 9112).
 *
 * Feed it bytes as they arrive, in pieces of any size. It keeps at most one request line, one
 * header block and the body the caller allowed, and fails as soon as the bytes say a limit is
 * exceeded (a line that is too long, too many fields, a Content-Length above the limit, a
 * chunk that would pass it) — never after buffering them. Framing is strict where leniency
 * lets two parsers disagree about where a request ends (request smuggling): Content-Length
 * with Transfer-Encoding, repeated or malformed Content-Length, unknown transfer codings,
 * malformed chunk sizes, obs-fold, whitespace before a colon, bare CR are errors. A bare LF
 * ends a line, as RFC 9112 §2.2 allows.
 *
 * After the head it stops with HeadReady: the caller picks the body limit (it depends on the
 * route) with setBodyLimit(), then feeds on until Complete. Bytes after a complete request are
 * not consumed: they are the next request on the connection.
 */
class HttpRequestParser final
{
public:
    enum class Status { NeedMore, HeadReady, Complete, Error };
    struct Error
    {
        int status = 0;     ///< 400, 413, 414, 417, 431, 501, 505
        QByteArray code;    ///< for the JSON error body, e.g. "header_too_large"
        QString message;
    };

    explicit HttpRequestParser(const HttpLimits &limits);
    /// Stamped on every request (HttpRequest::remoteAddress()).
    void setRemoteAddress(const QHostAddress &address) { m_remote = m_request.m_remote = address; }

    /// Consumes bytes from `data`; `*consumed` says how many. Stops after the head (HeadReady)
    /// and after a complete request.
    Status feed(QByteArrayView data, qsizetype *consumed);
    /// After HeadReady: the largest body this request may have. Returns Error (413) when its
    /// Content-Length is larger, Complete when it has no body, else NeedMore.
    Status setBodyLimit(qint64 bytes);

    /// The request so far: after HeadReady its method, target, headers; after Complete all.
    const HttpRequest &request() const { return m_request; }
    HttpRequest takeRequest();
    const Error &error() const { return m_error; }
    bool expectsContinue() const { return m_expectContinue; }
    bool hasBody() const { return m_chunked || m_contentLength > 0; }
    /// Any byte of a request (beyond the empty lines allowed before one) has been seen.
    bool inProgress() const { return m_state != State::Start || m_skipped > 0; }
    bool readingBody() const;
    qint64 bodyBytesRead() const { return m_request.m_body.size(); }
    /// Ready for the next request on the same connection.
    void reset();

private:
    enum class State {
        Start, RequestLine, HeaderLine, AwaitLimit, Body, ChunkSize, ChunkData, ChunkEnd,
        Trailer, Done, Failed
    };
    Status fail(int status, const char *code, const QString &message);
    /// Collects one line; true with `*line` once its LF arrived. `limit` bounds its length.
    bool takeLine(QByteArrayView data, qsizetype *pos, qsizetype limit, QByteArray *line,
                  bool *tooLong);
    Status onRequestLine(QByteArrayView line);
    Status onHeaderLine(QByteArrayView line, bool trailer);
    Status onHeadEnd();
    Status onChunkSize(QByteArrayView line);

    HttpLimits m_limits;
    QHostAddress m_remote;
    State m_state = State::Start;
    HttpRequest m_request;
    Error m_error;
    QByteArray m_line;
    qsizetype m_skipped = 0;     ///< empty lines before the request line
    bool m_methodChecked = false;
    qsizetype m_headerBytes = 0; ///< header block (and trailers) so far
    int m_fields = 0;
    qint64 m_contentLength = 0;
    bool m_chunked = false;
    bool m_expectContinue = false;
    qint64 m_bodyLimit = 0;
    qint64 m_chunkLeft = 0;
};

} // namespace Hermes
