#include "fileserver.h"

#include <QDateTime>
#include <QPointer>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTimer>

namespace Hermes::Test {

FileServer::FileServer(QObject *parent) : QObject(parent)
{
    m_server.listen(QHostAddress::LocalHost, 0);
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
    return QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(QString::fromLatin1(path));
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
            if (!m_files.contains(path)) {
                socket->write("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
                socket->disconnectFromHost();
                return;
            }
            File &f = m_files[path];
            if (!f.redirectTo.isEmpty()) {
                socket->write("HTTP/1.1 302 Found\r\nLocation: " + f.redirectTo
                              + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                socket->disconnectFromHost();
                return;
            }
            if (f.status != 200) {
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
            body.truncate(limit);
            ++m_active;
            m_maxActive = qMax(m_maxActive, m_active);
            m_maxActivePath[path] = qMax(m_maxActivePath.value(path), ++m_activePath[path]);
            // Paced in 10 ms slices; the whole body at once when unthrottled.
            const qint64 slice = f.bytesPerSecond > 0 ? qMax<qint64>(1, f.bytesPerSecond / 100) : body.size();
            auto offset = std::make_shared<qint64>(0);
            auto timer = new QTimer(socket);
            QPointer<QTcpSocket> guard(socket);
            connect(timer, &QTimer::timeout, this, [this, guard, timer, body, offset, slice, path] {
                if (!guard)
                    return;
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
