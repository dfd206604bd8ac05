#include "origin.h"

#include <QDateTime>
#include <QLocale>

namespace DlModel {

using Hermes::Test::FileServer;

Origin::Origin(quint32 seed) : m_contentSeed(seed * 7919u + 17u)
{
    m_thread.setObjectName(QStringLiteral("origin"));
    m_context = new QObject;
    m_context->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
    m_thread.start();
    invoke([this, seed] {
        m_server = new FileServer;
        m_server->setSeed(seed);
        m_port = m_server->port();
    });
}

Origin::~Origin()
{
    invoke([this] {
        delete m_server;
        m_server = nullptr;
    });
    m_thread.quit();
    m_thread.wait();
}

void Origin::invoke(const std::function<void()> &f)
{
    QMetaObject::invokeMethod(m_context, f, Qt::BlockingQueuedConnection);
}

QString Origin::url(const QString &host, const QByteArray &path) const
{
    return QStringLiteral("http://%1:%2%3").arg(host).arg(m_port).arg(QString::fromLatin1(path));
}

QByteArray Origin::contentFor(qint64 size)
{
    return FileServer::makeContent(size, m_contentSeed++);
}

// An HTTP date 10 s further on for each version: a date validator always tells them apart.
static QByteArray httpDate(int fileNumber, int version)
{
    const QDateTime t = QDateTime::fromSecsSinceEpoch(1700000000LL + fileNumber * 100000LL + version * 10LL, Qt::UTC);
    return QLocale::c().toString(t, QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'")).toLatin1();
}

void Origin::applyVersion(const QByteArray &path, const Version &v, const Entry &e, bool first)
{
    const QByteArray tag = '"' + QByteArray::number(e.fileNumber) + "-v" + QByteArray::number(v.number) + '"';
    QByteArray etag, date;
    switch (e.validators) {
    case Validators::StrongEtag: etag = tag; break;
    case Validators::Date: date = httpDate(e.fileNumber, v.number); break;
    case Validators::Both: etag = tag; date = httpDate(e.fileNumber, v.number); break;
    case Validators::WeakEtagAndDate: etag = "W/" + tag; date = httpDate(e.fileNumber, v.number); break;
    }
    call([&](FileServer &s) {
        if (first) {
            FileServer::File f{v.bytes};
            f.etag = etag;
            f.lastModified = date;
            f.version = v.number;
            f.bytesPerSecond = e.rate;
            s.addFile(path, f);
        } else {
            s.replaceContent(path, v.bytes, etag, date);
        }
    });
}

void Origin::addFile(const QByteArray &path, qint64 size, Validators validators, bool ranges, qint64 rate)
{
    Entry e;
    e.validators = validators;
    e.rate = rate;
    e.fileNumber = int(m_catalogue.size()) + 1;
    Version v;
    v.number = 1;
    v.bytes = contentFor(size);
    v.sha256 = sha256Hex(v.bytes);
    v.fromMs = wallMs();
    e.versions.append(v);
    applyVersion(path, v, e, true);
    call([&](FileServer &s) { s.file(path).ranges = ranges; });
    m_catalogue.insert(path, e);
}

int Origin::newVersion(const QByteArray &path, bool sameSize)
{
    Entry &e = m_catalogue[path];
    const Version &last = e.versions.last();
    Version v;
    v.number = last.number + 1;
    const qint64 size = sameSize ? last.bytes.size()
                                 : qMax<qint64>(1000, last.bytes.size() + (v.number % 2 ? 1 : -1) * last.bytes.size() / 5);
    v.bytes = contentFor(size);
    v.sha256 = sha256Hex(v.bytes);
    // The old version ends once the origin answers with the new one, the new one starts
    // before: both bounds are on the safe side for the "current at some moment" check.
    v.fromMs = wallMs();
    applyVersion(path, v, e, false);
    e.versions.last().toMs = wallMs();
    e.versions.append(v);
    return v.number;
}

const QList<Version> &Origin::versions(const QByteArray &path) const
{
    static const QList<Version> none;
    const auto it = m_catalogue.constFind(path);
    return it == m_catalogue.cend() ? none : it->versions;
}

QList<QByteArray> Origin::paths() const
{
    QList<QByteArray> out = m_catalogue.keys();
    std::sort(out.begin(), out.end());
    return out;
}

QList<QByteArray> Origin::activePaths()
{
    return call([](FileServer &s) { return s.activePaths(); });
}

void Origin::setDisposition(const QByteArray &path, const QByteArray &value)
{
    call([&](FileServer &s) { s.file(path).contentDisposition = value; });
}

void Origin::setDrops(const QByteArray &path, int percent)
{
    call([&](FileServer &s) { s.file(path).dropPercent = percent; });
}

void Origin::burst(const QByteArray &path, int count, int status, int retryAfter)
{
    call([&](FileServer &s) {
        FileServer::File &f = s.file(path);
        f.failNext = count;
        f.failStatus = status;
        f.retryAfter = retryAfter;
    });
}

void Origin::setRate(const QByteArray &path, qint64 bytesPerSecond)
{
    call([&](FileServer &s) { s.file(path).bytesPerSecond = bytesPerSecond; });
}

void Origin::clearFaults()
{
    for (auto it = m_catalogue.cbegin(); it != m_catalogue.cend(); ++it) {
        const QByteArray path = it.key();
        const qint64 rate = it->rate;
        call([&](FileServer &s) {
            FileServer::File &f = s.file(path);
            f.dropPercent = 0;
            f.failNext = 0;
            f.bytesPerSecond = rate;
            f.contentDisposition.clear();
        });
    }
}

QList<FileServer::Served> Origin::served()
{
    return call([](FileServer &s) { return s.served(); });
}

} // namespace DlModel
