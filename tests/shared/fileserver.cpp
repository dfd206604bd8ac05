#include "fileserver.h"

#include <QDateTime>
#include <QPointer>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>

namespace Hermes::Test {

FileServer::FileServer(QObject *parent, const QHostAddress &address, quint16 port) : QObject(parent)
{
    m_server.listen(address, port);
    connect(&m_server, &QTcpServer::newConnection, this, &FileServer::onNewConnection);
}

FileServer::~FileServer()
{
    m_server.close();
    for (QTcpSocket *socket : m_server.findChildren<QTcpSocket *>())
        socket->disconnect(this);
}

QString FileServer::url(const QByteArray &path) const
{
    const QHostAddress a = m_server.serverAddress();
    const QString host = a.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + a.toString() + u']' : a.toString();
    return QStringLiteral("http://%1:%2%3").arg(host).arg(port()).arg(QString::fromLatin1(path));
}

void FileServer::replaceContent(const QByteArray &path, const QByteArray &bytes, const QByteArray &etag,
                                const QByteArray &lastModified)
{
    File &f = m_files[path];
    f.content = bytes;
    f.etag = etag;
    f.lastModified = lastModified;
    ++f.version;
}

QList<QByteArray> FileServer::activePaths() const
{
    QList<QByteArray> out;
    for (auto it = m_activePath.cbegin(); it != m_activePath.cend(); ++it) {
        if (it.value() > 0)
            out.append(it.key());
    }
    std::sort(out.begin(), out.end());
    return out;
}

QByteArray FileServer::makeContent(qint64 size, quint32 seed)
{
    QByteArray out(size, Qt::Uninitialized);
    QRandomGenerator rng(seed);
    for (qint64 i = 0; i < size; ++i)
        out[i] = char(rng.generate() & 0xff);
    return out;
}

void FileServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer] {
            *buffer += socket->readAll();
            const qsizetype end = buffer->indexOf("\r\n\r\n");
            if (end < 0)
                return;
            const QList<QByteArray> lines = buffer->left(end).split('\n');
            buffer->clear();
            const QByteArray path = lines.value(0).split(' ').value(1);
            QByteArray range, ifRange;
            QHash<QByteArray, QByteArray> fields;
            for (const QByteArray &l : lines.mid(1)) {
                const qsizetype colon = l.indexOf(':');
                if (colon > 0)
                    fields.insert(l.left(colon).trimmed().toLower(), l.mid(colon + 1).trimmed());
            }
            m_headers[path].append(fields);
            for (const QByteArray &l : lines) {
                if (l.toLower().startsWith("range:"))
                    range = l.mid(6).trimmed();
                if (l.toLower().startsWith("if-range:"))
                    ifRange = l.mid(9).trimmed();
            }
            ++m_requests[path];
            m_ranges[path].append(range);
            m_ifRanges[path].append(ifRange);
            m_times[path].append(QDateTime::currentMSecsSinceEpoch());
            Served answer;
            answer.atMs = m_times[path].last();
            answer.path = path;
            if (!m_files.contains(path)) {
                answer.status = 404;
                m_answers.append(answer);
                socket->write("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
                socket->disconnectFromHost();
                return;
            }
            File &f = m_files[path];
            answer.version = f.version;
            if (f.failNext > 0) {
                --f.failNext;
                answer.status = f.failStatus;
                m_answers.append(answer);
                QByteArray head = "HTTP/1.1 " + QByteArray::number(f.failStatus) + " Error\r\n";
                if (f.retryAfter >= 0)
                    head += "Retry-After: " + QByteArray::number(f.retryAfter) + "\r\n";
                socket->write(head + "Content-Length: 5\r\nConnection: close\r\n\r\nerror");
                socket->disconnectFromHost();
                return;
            }
            if (!f.basicAuth.isEmpty() && fields.value("authorization") != "Basic " + f.basicAuth.toBase64()) {
                answer.status = 401;
                m_answers.append(answer);
                socket->write("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"files\"\r\n"
                              "Content-Length: 6\r\nConnection: close\r\n\r\ndenied");
                socket->disconnectFromHost();
                return;
            }
            if (!f.redirectTo.isEmpty()) {
                socket->write("HTTP/1.1 302 Found\r\nLocation: " + f.redirectTo
                              + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                socket->disconnectFromHost();
                return;
            }
            if (f.status != 200) {
                answer.status = f.status;
                m_answers.append(answer);
                socket->write("HTTP/1.1 " + QByteArray::number(f.status) + " Error\r\nContent-Length: 5\r\n"
                              "Connection: close\r\n\r\nerror");
                socket->disconnectFromHost();
                return;
            }
            qint64 start = 0;
            QByteArray head;
            const qint64 size = f.content.size();
            // If-Range (RFC 9110 13.1.5): the range only while the validator still matches.
            const bool validatorHolds = ifRange.isEmpty() || ifRange == f.etag || ifRange == f.lastModified;
            if (f.ranges && range.startsWith("bytes=") && validatorHolds) {
                start = range.mid(6).split('-').value(0).toLongLong();
                if (start >= size) {
                    socket->write("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */"
                                  + QByteArray::number(size) + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    socket->disconnectFromHost();
                    return;
                }
                head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + QByteArray::number(start)
                       + '-' + QByteArray::number(size - 1) + '/' + QByteArray::number(size) + "\r\n";
            } else {
                head = "HTTP/1.1 200 OK\r\n";
            }
            if (f.ranges)
                head += "Accept-Ranges: bytes\r\n";
            if (!f.etag.isEmpty())
                head += "ETag: " + f.etag + "\r\n";
            if (!f.lastModified.isEmpty())
                head += "Last-Modified: " + f.lastModified + "\r\n";
            if (!f.contentDisposition.isEmpty())
                head += "Content-Disposition: " + f.contentDisposition + "\r\n";
            if (!f.setCookie.isEmpty())
                head += "Set-Cookie: " + f.setCookie + "\r\n";
            const qint64 length = f.declaredLength >= 0 ? f.declaredLength : size - start;
            head += "Content-Type: application/octet-stream\r\nContent-Length: " + QByteArray::number(length)
                    + "\r\nConnection: close\r\n\r\n";
            socket->write(head);

            QByteArray body = f.content.mid(start);
            qint64 limit = body.size();
            if (f.dropTimes > 0) {
                --f.dropTimes;
                limit = qMin(limit, f.dropAfter);
            }
            if (f.dropPercent > 0 && int(m_rng.bounded(100)) < f.dropPercent) {
                limit = qMin(limit, qint64(m_rng.bounded(quint64(body.size()) + 1)));
                answer.dropAt = limit;
            }
            answer.status = head.startsWith("HTTP/1.1 206") ? 206 : 200;
            answer.start = start;
            answer.length = body.size();
            m_answers.append(answer);
            body.truncate(limit);
            ++m_active;
            m_maxActive = qMax(m_maxActive, m_active);
            m_maxActivePath[path] = qMax(m_maxActivePath.value(path), ++m_activePath[path]);
            // Paced in 10 ms slices at the file's rate of the moment (a trickle may end while a
            // transfer is under way); the whole body at once when unthrottled from the start.
            auto offset = std::make_shared<qint64>(0);
            auto timer = new QTimer(socket);
            QPointer<QTcpSocket> guard(socket);
            connect(timer, &QTimer::timeout, this, [this, guard, timer, body, offset, path] {
                if (!guard)
                    return;
                const qint64 rate = m_files.value(path).bytesPerSecond;
                const qint64 slice = rate > 0 ? qMax<qint64>(1, rate / 100) : body.size();
                const QByteArray part = body.mid(*offset, slice);
                *offset += part.size();
                if (!part.isEmpty()) {
                    guard->write(part);
                    m_served[path] += part.size();
                }
                if (*offset >= body.size()) {
                    timer->stop();
                    --m_active;
                    --m_activePath[path];
                    guard->disconnectFromHost(); // drops here when the content was cut short
                }
            });
            connect(socket, &QTcpSocket::disconnected, this, [this, timer, path] {
                if (timer->isActive()) { // the client went away mid-transfer
                    timer->stop();
                    --m_active;
                    --m_activePath[path];
                }
            });
            timer->start(f.bytesPerSecond > 0 ? 10 : 0);
        });
    }
}

} // namespace Hermes::Test
