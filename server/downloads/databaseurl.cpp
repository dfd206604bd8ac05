#include "downloads/databaseurl.h"

#include <QFile>
#include <QRegularExpression>
#include <QUrl>
#include <QUrlQuery>

namespace Hermes {

static Error invalid(const QString &message)
{
    return Error::invalid("invalid_database_url", message);
}

Result<DatabaseUrl> DatabaseUrl::parse(const QString &text, const QString &passwordFile)
{
    DatabaseUrl out;
    const QString scheme = text.section(u':', 0, 0).toLower();
    if (!text.contains(u"://") || scheme == u"sqlite") {
        out.kind = Kind::Sqlite;
        out.path = text.startsWith(u"sqlite://") ? QUrl(text).path() : text;
        if (out.path.isEmpty())
            return invalid(QStringLiteral("HERMES_DATABASE_URL: no database file in \"%1\"").arg(text));
        return out;
    }
    if (scheme != u"postgresql" && scheme != u"postgres")
        return invalid(QStringLiteral("HERMES_DATABASE_URL: use sqlite:///path/to/file.db or "
                                      "postgresql://user@host:port/database, not \"%1://…\"").arg(scheme));
    const QUrl url(text, QUrl::StrictMode);
    // QUrl's message may quote the URL, password included: say only what is wrong.
    if (!url.isValid())
        return invalid(QStringLiteral("HERMES_DATABASE_URL: not a valid postgresql:// URL"));
    out.kind = Kind::Postgres;
    out.host = url.host();
    out.port = url.port(-1);
    out.user = url.userName(QUrl::FullyDecoded);
    out.password = url.password(QUrl::FullyDecoded);
    out.database = url.path(QUrl::FullyDecoded).mid(1);
    if (out.database.isEmpty() || out.database.contains(u'/'))
        return invalid(QStringLiteral("HERMES_DATABASE_URL: name the database: postgresql://user@host:port/<database>"));
    QStringList options;
    for (const auto &[key, value] : QUrlQuery(url).queryItems(QUrl::FullyDecoded)) {
        if (key == u"password")
            return invalid(QStringLiteral("HERMES_DATABASE_URL: put the password in the URL's user part, "
                                          "in HERMES_DATABASE_PASSWORD_FILE or in PGPASSWORD, not in ?password="));
        static const QRegularExpression safe(QRegularExpression::anchoredPattern(QStringLiteral("[a-z_]+")));
        if (!safe.match(key).hasMatch() || value.contains(u';') || value.contains(u' '))
            return invalid(QStringLiteral("HERMES_DATABASE_URL: unsupported option \"%1\"").arg(key));
        options.append(key + u'=' + value);
    }
    out.options = options.join(u';');
    if (!passwordFile.isEmpty()) {
        QFile file(passwordFile);
        if (!file.open(QIODevice::ReadOnly))
            return invalid(QStringLiteral("HERMES_DATABASE_PASSWORD_FILE: cannot read %1: %2")
                               .arg(passwordFile, file.errorString()));
        // The first line, without its line break (files written by echo end with one).
        out.password = QString::fromUtf8(file.readLine(64 * 1024)).remove(u'\n').remove(u'\r');
    }
    return out;
}

QString DatabaseUrl::redacted() const
{
    if (kind == Kind::Sqlite)
        return QStringLiteral("sqlite://") + path;
    QString out = QStringLiteral("postgresql://");
    if (!user.isEmpty())
        out += user + (password.isEmpty() ? QString() : QStringLiteral(":***")) + u'@';
    out += host;
    if (port > 0)
        out += u':' + QString::number(port);
    out += u'/' + database;
    if (!options.isEmpty())
        out += u'?' + QString(options).replace(u';', u'&');
    return out;
}

} // namespace Hermes
