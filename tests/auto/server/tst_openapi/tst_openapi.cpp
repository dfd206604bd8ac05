// docs/openapi.json describes exactly the routes the real server registers (both ways: no
// route undocumented, no documented route missing; HEAD for every GET and OPTIONS for every
// path, which the front door answers itself), is served at /api/v1/openapi.json with the
// running version, holds together (every $ref resolves, every path parameter is declared,
// every operation has responses and a unique operationId), and passes `redocly lint` with the
// recommended rules (@redocly/cli, installed with npm into the build dir when npm is there).

#include "serverprocess.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
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
    void headAndOptionsAnswerAsDocumented();
    void redoclyLintRecommended();
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

    // The front door answers HEAD wherever GET is routed, and OPTIONS on every routed path.
    const QSet<QString> registered = routes;
    for (const QString &r : registered) {
        const QString path = r.section(u' ', 1);
        if (r.startsWith(u"GET "))
            routes.insert(QStringLiteral("HEAD ") + path);
        routes.insert(QStringLiteral("OPTIONS ") + path);
    }

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
    // (Nor the HEAD and OPTIONS the front door answers for them.)
    for (const QString &path : {QStringLiteral("/"), QStringLiteral("/ui"), QStringLiteral("/ui/{}")}) {
        QVERIFY2(routes.remove(QStringLiteral("GET ") + path), qPrintable(path + QStringLiteral(" is not served")));
        routes.remove(QStringLiteral("HEAD ") + path);
        routes.remove(QStringLiteral("OPTIONS ") + path);
    }
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
        const QStringList parts = ref.split(u'/');
        QVERIFY2(parts.size() == 4 && parts[0] == u"#" && parts[1] == u"components", qPrintable(ref));
        QVERIFY2(components.value(parts[2]).toObject().contains(parts[3]), qPrintable(ref));
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

// What the document says of HEAD and OPTIONS is what the server does: OPTIONS answers 204
// with exactly the documented methods in Allow, HEAD answers as GET without a body.
void tst_OpenApi::headAndOptionsAnswerAsDocumented()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    const QList<QPair<QByteArray, QByteArray>> auth{{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}};
    const QJsonObject paths = readDocument().value(QStringLiteral("paths")).toObject();
    static const QRegularExpression param(QStringLiteral("\\{[^}/]*\\}"));
    for (auto path = paths.begin(); path != paths.end(); ++path) {
        const QByteArray concrete = QString(path.key()).replace(param, QStringLiteral("no-such-id")).toUtf8();
        // Every documented path the request matches (/api/v1/downloads/actions is also an {id}).
        QStringList documented;
        for (auto other = paths.begin(); other != paths.end(); ++other) {
            const QRegularExpression pattern(QRegularExpression::anchoredPattern(
                QRegularExpression::escape(other.key()).replace(QStringLiteral("\\{id\\}"), QStringLiteral("[^/]+"))));
            if (!pattern.match(QString::fromUtf8(concrete)).hasMatch())
                continue;
            for (const QString &method : other.value().toObject().keys()) {
                if (method != u"parameters" && !documented.contains(method.toUpper()))
                    documented.append(method.toUpper());
            }
        }
        const HttpReply options = httpRequest(server.port(), "OPTIONS", concrete);
        QCOMPARE(options.status, 204);
        QStringList allow = QString::fromLatin1(options.header("allow")).split(QStringLiteral(", "));
        allow.sort();
        documented.sort();
        QVERIFY2(allow == documented, qPrintable(path.key() + QStringLiteral(": Allow ") + allow.join(u',') + QStringLiteral(" vs ") + documented.join(u',')));
        if (!documented.contains(u"GET"))
            continue;
        const HttpReply get = httpRequest(server.port(), "GET", concrete, auth);
        if (get.header("content-type").startsWith("text/event-stream"))
            continue; // a stream: its HEAD is checked in tst_serverhttp; a GET here would not end
        const HttpReply head = httpRequest(server.port(), "HEAD", concrete, auth);
        QVERIFY2(head.status == get.status, qPrintable(path.key()));
        QVERIFY2(head.body.isEmpty(), qPrintable(path.key()));
    }
}

// `redocly lint` (the recommended ruleset) on the document, with @redocly/cli pinned and
// installed by npm into the build dir on first use. Skipped without npm (CI installs nodejs
// and npm from Debian when the node/npm commands are missing; see scripts/common.sh).
void tst_OpenApi::redoclyLintRecommended()
{
    static const QString Version = QStringLiteral("1.34.20"); // supports bookworm's nodejs 18
    const QString npm = QStandardPaths::findExecutable(QStringLiteral("npm"));
    if (npm.isEmpty() || QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty())
        QSKIP("npm or node is not installed: redocly lint skipped (apt-get install nodejs npm)");
    const QString cache = QStringLiteral(HERMES_BUILD_DIR "/redocly-cache");
    const QString redocly = cache + QStringLiteral("/node_modules/.bin/redocly");
    const auto run = [](const QString &program, const QStringList &args, int timeoutMs, QByteArray *out) {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(program, args);
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished(5000);
            *out = "timed out: " + program.toUtf8() + ' ' + args.join(u' ').toUtf8();
            return -1;
        }
        *out = p.readAll();
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    };
    QByteArray out;
    if (run(redocly, {QStringLiteral("--version")}, 60000, &out) != 0 || out.trimmed() != Version.toUtf8()) {
        QDir().mkpath(cache);
        const int code = run(npm, {QStringLiteral("install"), QStringLiteral("--no-audit"), QStringLiteral("--no-fund"),
                                   QStringLiteral("--loglevel=error"), QStringLiteral("--prefix"), cache,
                                   QStringLiteral("--cache"), cache + QStringLiteral("/npm"),
                                   QStringLiteral("@redocly/cli@") + Version}, 240000, &out);
        if (code != 0 && out.contains("ENOTFOUND"))
            QSKIP(qPrintable(QStringLiteral("npm cannot reach its registry: redocly lint skipped\n") + QString::fromUtf8(out)));
        QVERIFY2(code == 0, out.constData());
    }
    QTemporaryDir dir;
    QFile config(dir.filePath(QStringLiteral("redocly.yaml")));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write("extends:\n  - recommended\n");
    config.close();
    const int code = run(redocly, {QStringLiteral("lint"), QStringLiteral("--config"), config.fileName(),
                                   QStringLiteral(HERMES_SOURCE_DIR "/docs/openapi.json")}, 120000, &out);
    // Warnings count too: the recommended rules' warnings are what a reader of the API trips on.
    QVERIFY2(code == 0 && out.contains("is valid") && !out.contains("warning"), out.constData());
}

QTEST_GUILESS_MAIN(tst_OpenApi)
#include "tst_openapi.moc"
