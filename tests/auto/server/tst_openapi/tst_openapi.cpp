// docs/openapi.json describes exactly the routes the real server registers (both ways: no
// route undocumented, no documented route missing), is served at /api/v1/openapi.json with
// the running version, and holds together (every $ref resolves, every path parameter is
// declared, every operation has responses and a unique operationId).

#include "serverprocess.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace Hermes::Test;

static QJsonObject readDocument()
{
    QFile f(QStringLiteral(HERMES_SOURCE_DIR "/docs/openapi.json"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

// "/api/v1/downloads/{id}/pause" -> "/api/v1/downloads/{}/pause", as the router writes it.
static QString normalized(QString path)
{
    static const QRegularExpression param(QStringLiteral("\\{[^}/]*\\}"));
    return path.replace(param, QStringLiteral("{}"));
}

static void collectRefs(const QJsonValue &v, QStringList *out)
{
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (it.key() == u"$ref")
                out->append(it.value().toString());
            else
                collectRefs(it.value(), out);
        }
    } else if (v.isArray()) {
        for (const QJsonValue &x : v.toArray())
            collectRefs(x, out);
    }
}

class tst_OpenApi : public QObject
{
    Q_OBJECT

private slots:
    void documentMatchesTheRoutes();
    void documentHoldsTogether();
    void servedWithTheRunningVersion();
    void validatorAcceptsTheDocument();
};

void tst_OpenApi::documentMatchesTheRoutes()
{
    QTemporaryDir data;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HERMES_DATA_DIR"), data.path());
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(HERMES_SERVER_BINARY), {QStringLiteral("--print-routes")});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 0);
    QSet<QString> routes;
    for (const QString &line : QString::fromUtf8(p.readAllStandardOutput()).split(u'\n', Qt::SkipEmptyParts))
        routes.insert(line.trimmed());
    QVERIFY2(routes.size() >= 15, qPrintable(routes.values().join(u'\n')));

    QSet<QString> documented;
    const QJsonObject paths = readDocument().value(QStringLiteral("paths")).toObject();
    for (auto path = paths.begin(); path != paths.end(); ++path) {
        const QJsonObject ops = path.value().toObject();
        for (auto op = ops.begin(); op != ops.end(); ++op) {
            if (op.key() == u"parameters")
                continue;
            documented.insert(op.key().toUpper() + u' ' + normalized(path.key()));
        }
    }
    // The built-in web page (WebUiRoute) serves files for people, not the API: not described.
    for (const QString &page : {QStringLiteral("GET /"), QStringLiteral("GET /ui"), QStringLiteral("GET /ui/{}")})
        QVERIFY2(routes.remove(page), qPrintable(page + QStringLiteral(" is not served")));
    for (const QString &r : routes)
        QVERIFY2(documented.contains(r), qPrintable(r + QStringLiteral(" is served but missing from docs/openapi.json")));
    for (const QString &d : documented)
        QVERIFY2(routes.contains(d), qPrintable(d + QStringLiteral(" is in docs/openapi.json but the server has no such route")));
}

void tst_OpenApi::documentHoldsTogether()
{
    const QJsonObject doc = readDocument();
    QVERIFY2(doc.value(QStringLiteral("openapi")).toString().startsWith(u"3."), "not OpenAPI 3");
    QVERIFY(!doc.value(QStringLiteral("info")).toObject().value(QStringLiteral("title")).toString().isEmpty());
    QStringList refs;
    collectRefs(doc, &refs);
    QVERIFY(refs.size() > 10);
    const QJsonObject components = doc.value(QStringLiteral("components")).toObject();
    for (const QString &ref : refs) {
        QVERIFY2(ref.startsWith(u"#/components/schemas/"), qPrintable(ref));
        QVERIFY2(components.value(QStringLiteral("schemas")).toObject().contains(ref.sliced(21)), qPrintable(ref));
    }
    const QJsonObject schemes = components.value(QStringLiteral("securitySchemes")).toObject();
    QSet<QString> operationIds;
    const QJsonObject paths = doc.value(QStringLiteral("paths")).toObject();
    static const QRegularExpression param(QStringLiteral("\\{([^}/]+)\\}"));
    for (auto path = paths.begin(); path != paths.end(); ++path) {
        QSet<QString> inPath;
        for (const auto &m : param.globalMatch(path.key()))
            inPath.insert(m.captured(1));
        const QJsonObject ops = path.value().toObject();
        for (auto op = ops.begin(); op != ops.end(); ++op) {
            const QJsonObject o = op.value().toObject();
            const QString where = op.key() + u' ' + path.key();
            QVERIFY2(!o.value(QStringLiteral("responses")).toObject().isEmpty(), qPrintable(where));
            const QString id = o.value(QStringLiteral("operationId")).toString();
            QVERIFY2(!id.isEmpty() && !operationIds.contains(id), qPrintable(where));
            operationIds.insert(id);
            QSet<QString> declared;
            for (const QJsonValue &p : o.value(QStringLiteral("parameters")).toArray()) {
                if (p.toObject().value(QStringLiteral("in")).toString() == u"path")
                    declared.insert(p.toObject().value(QStringLiteral("name")).toString());
            }
            QCOMPARE(declared, inPath);
            for (const QJsonValue &requirement : o.value(QStringLiteral("security")).toArray()) {
                for (const QString &scheme : requirement.toObject().keys())
                    QVERIFY2(schemes.contains(scheme), qPrintable(where + u' ' + scheme));
            }
        }
    }
}

void tst_OpenApi::servedWithTheRunningVersion()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    const HttpReply r = httpRequest(server.port(), "GET", "/api/v1/openapi.json"); // no credential
    QCOMPARE(r.status, 200);
    QVERIFY(r.header("content-type").startsWith("application/json"));
    QJsonObject served = QJsonDocument::fromJson(r.body).object();
    const QString version = served.value(QStringLiteral("info")).toObject().value(QStringLiteral("version")).toString();
    QVERIFY2(QRegularExpression(QStringLiteral("^[0-9]+\\.[0-9]+\\.[0-9]+")).match(version).hasMatch(), qPrintable(version));
    QJsonObject info = served.value(QStringLiteral("info")).toObject();
    info.insert(QStringLiteral("version"), QStringLiteral("0.0.0"));
    served.insert(QStringLiteral("info"), info);
    QCOMPARE(served, readDocument());
}

// An independent validator of the OpenAPI 3 schema, where the machine has one (the Python
// openapi-spec-validator; Debian does not package it).
void tst_OpenApi::validatorAcceptsTheDocument()
{
    QProcess probe;
    probe.start(QStringLiteral("python3"), {QStringLiteral("-c"), QStringLiteral("import openapi_spec_validator")});
    if (!probe.waitForFinished(30000) || probe.exitStatus() != QProcess::NormalExit || probe.exitCode() != 0)
        QSKIP("python3 with openapi_spec_validator is not available");
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("python3"), {QStringLiteral("-c"), QStringLiteral(
        "import json, sys\n"
        "from openapi_spec_validator import validate\n"
        "validate(json.load(open(sys.argv[1])))\n"), QStringLiteral(HERMES_SOURCE_DIR "/docs/openapi.json")});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAll().constData());
}

QTEST_GUILESS_MAIN(tst_OpenApi)
#include "tst_openapi.moc"
