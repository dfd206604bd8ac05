#include "downloadactions.h"

#include "actionfactory.h"
#include "apiclient.h"
#include "icons.h"
#include "monitorsession.h"
#include "threadaffinity.h"

#include <QPushButton>
#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QJsonArray>
#include <QMessageBox>
#include <QPointer>

namespace Hermes {

DownloadActions::DownloadActions(MonitorSession *session, std::function<QStringList()> selection, QWidget *window)
    : QObject(window), m_session(session), m_selection(std::move(selection)), m_window(window)
{
    using Move = QueuePlanner::Move;
    const auto perDownload = [this](DownloadAction a, const QString &text, const char *icon, const QKeySequence &key) {
        m_perDownload.append(add(wireName(a), text, icon, key, [this, a] { run(a); }));
    };
    // In DownloadAction's order, so that action() indexes them. The keys are qBittorrent's
    // where it has one (Ctrl+P pause, Ctrl+S start; with Shift: all); Ctrl+R stays Refresh's.
    perDownload(DownloadAction::Pause, tr("&Pause"), "media-playback-pause", QKeySequence(Qt::CTRL | Qt::Key_P));
    perDownload(DownloadAction::Resume, tr("&Resume"), "media-playback-start", QKeySequence(Qt::CTRL | Qt::Key_S));
    perDownload(DownloadAction::Cancel, tr("&Cancel"), "process-stop", QKeySequence(Qt::CTRL | Qt::Key_K));
    perDownload(DownloadAction::Retry, tr("Re&try"), "view-refresh", QKeySequence(Qt::CTRL | Qt::Key_T));
    m_remove = add(QStringLiteral("remove"), tr("Re&move…"), "edit-delete", QKeySequence::Delete,
                   [this] { removeSelected(); });
    // Space, as in file managers and torrent clients: pauses what runs, else resumes. Only in
    // the table, so that a space typed into the filter stays a space.
    m_toggle = add(QStringLiteral("pauseresume"), tr("Pause or Resume"), nullptr, QKeySequence(Qt::Key_Space), [this] {
        run(action(DownloadAction::Pause)->isEnabled() ? DownloadAction::Pause : DownloadAction::Resume);
    });
    m_toggle->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_pauseAll = add(QStringLiteral("pauseall"), tr("Pause &All"), "media-playback-pause",
                     QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P), [this] { runOnAll(DownloadAction::Pause); });
    m_resumeAll = add(QStringLiteral("resumeall"), tr("Resume A&ll"), "media-playback-start",
                      QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S), [this] { runOnAll(DownloadAction::Resume); });
    m_moves = {
        add(QStringLiteral("top"), tr("Move to &Top"), "go-top", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Up),
            [this] { moveQueue(Move::Top); }),
        add(QStringLiteral("up"), tr("Move &Up"), "go-up", QKeySequence(Qt::CTRL | Qt::Key_Up),
            [this] { moveQueue(Move::Up); }),
        add(QStringLiteral("down"), tr("Move &Down"), "go-down", QKeySequence(Qt::CTRL | Qt::Key_Down),
            [this] { moveQueue(Move::Down); }),
        add(QStringLiteral("bottom"), tr("Move to &Bottom"), "go-bottom", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Down),
            [this] { moveQueue(Move::Bottom); }),
    };
    m_copyUrl = add(QStringLiteral("copyurl"), tr("&Copy URL"), "edit-copy", QKeySequence::Copy, [this] {
        QStringList urls;
        for (const QString &id : m_selection()) {
            if (const DownloadRow *r = m_session->model().row(id))
                urls.append(r->url);
        }
        if (!urls.isEmpty())
            QGuiApplication::clipboard()->setText(urls.join(u'\n'));
    });
    m_copyUrl->setShortcutContext(Qt::WidgetWithChildrenShortcut);
}

QAction *DownloadActions::add(const QString &name, const QString &text, const char *icon, const QKeySequence &key,
                              std::function<void()> slot)
{
    QAction *a = makeAction(this, text, icon, key, std::move(slot));
    m_byName.insert(name, a);
    return a;
}

bool DownloadActions::applies(DownloadAction action, const ReceivedStatus &status)
{
    return status.known && DownloadRules::allows(*status.known, action);
}

bool DownloadActions::canReorder(const ReceivedStatus &status)
{
    // A status this version does not know is not finished: it keeps its place in the queue.
    return !status.known || DownloadRules::canReorder(*status.known);
}

void DownloadActions::update()
{
    HERMES_ASSERT_THREAD(this);
    bool enabled[DownloadActionCount] = {};
    bool reorder = false;
    const QStringList ids = m_selection();
    for (const QString &id : ids) {
        const DownloadRow *r = m_session->model().row(id);
        if (!r)
            continue;
        for (DownloadAction a : allDownloadActions())
            enabled[int(a)] |= applies(a, r->status);
        reorder |= canReorder(r->status);
    }
    for (DownloadAction a : allDownloadActions())
        action(a)->setEnabled(enabled[int(a)]);
    m_toggle->setEnabled(enabled[int(DownloadAction::Pause)] || enabled[int(DownloadAction::Resume)]);
    m_remove->setEnabled(!ids.isEmpty());
    m_copyUrl->setEnabled(!ids.isEmpty());
    for (QAction *move : std::as_const(m_moves))
        move->setEnabled(reorder);
}

void DownloadActions::run(DownloadAction action)
{
    QStringList ids;
    QHash<QString, QString> names;
    for (const QString &id : m_selection()) {
        const DownloadRow *r = m_session->model().row(id);
        // Only those the action applies to: a bulk pause skips the completed ones silently.
        if (!r || !applies(action, r->status))
            continue;
        ids.append(id);
        names.insert(id, r->name);
    }
    // One request per MaxBulkIds (a selection of 5,000 is five), not one per download.
    for (qsizetype at = 0; at < ids.size(); at += ApiClient::MaxBulkIds)
        sendBulk(action, ids.mid(at, ApiClient::MaxBulkIds), names);
}

void DownloadActions::sendBulk(DownloadAction action, const QStringList &ids, const QHash<QString, QString> &names)
{
    const QPointer<DownloadActions> self(this);
    const auto failed = [self, action](const QString &name, const QString &why) {
        if (self)
            Q_EMIT self->message(tr("%1 of \"%2\" failed: %3").arg(wireName(action), name, why));
    };
    m_session->api().actOnMany(action, ids, [self, action, ids, names, failed](Result<QJsonObject> answer) {
        if (!self)
            return;
        if (!answer && ApiClient::isMissingRoute(answer.error())) {
            self->actOneByOne(action, ids, names); // an older server
            return;
        }
        if (!answer) {
            if (ids.size() == 1)
                failed(names.value(ids.first()), answer.error().message);
            else
                Q_EMIT self->message(tr("%1 of %n download(s) failed: %2", nullptr, int(ids.size()))
                                         .arg(wireName(action), answer.error().message));
            return;
        }
        // Refused by the server (the row changed since the table showed it) or gone.
        for (const QJsonValue &v : answer->value(QStringLiteral("skipped")).toArray()) {
            const QString id = v[QStringLiteral("id")].toString();
            const QString status = v[QStringLiteral("status")].toString();
            failed(names.value(id, id), status.isEmpty() ? tr("it no longer exists") : tr("it is %1").arg(status));
        }
    });
}

void DownloadActions::actOneByOne(DownloadAction action, const QStringList &ids, const QHash<QString, QString> &names)
{
    const QPointer<DownloadActions> self(this);
    for (const QString &id : ids) {
        m_session->api().act(id, action, [self, action, name = names.value(id)](Result<QJsonObject> answer) {
            if (self && !answer)
                Q_EMIT self->message(tr("%1 of \"%2\" failed: %3").arg(wireName(action), name, answer.error().message));
        });
    }
}

void DownloadActions::runOnAll(DownloadAction action)
{
    // One request: the server applies it to every download in a status the action applies
    // to, loaded in the table or not; `more` (past 10,000 a call) asks again.
    const QPointer<DownloadActions> self(this);
    m_session->api().actOnStatuses(action, DownloadRules::appliesTo(action), [self, action](Result<QJsonObject> answer) {
        if (!self)
            return;
        if (!answer && ApiClient::isMissingRoute(answer.error())) {
            QStringList ids; // an older server: one request per download in the table
            DownloadListModel &model = self->m_session->model();
            for (int i = 0; i < model.rowCount(); ++i) {
                if (applies(action, model.rowAt(i).status))
                    ids.append(model.rowAt(i).id);
            }
            self->actOneByOne(action, ids, {});
        } else if (!answer) {
            Q_EMIT self->message(tr("%1 of all downloads failed: %2").arg(wireName(action), answer.error().message));
        } else if (answer->value(QStringLiteral("more")).toBool()
                   && !answer->value(QStringLiteral("changed")).toArray().isEmpty()) {
            self->runOnAll(action);
        }
    });
}

void DownloadActions::moveQueue(QueuePlanner::Move move)
{
    DownloadListModel &model = m_session->model();
    QList<QueuePlanner::Entry> entries;
    const QStringList order = model.queueOrder();
    for (const QString &id : order) {
        const DownloadRow *r = model.row(id);
        entries.append({id, r->priority, r->added});
    }
    const QStringList selected = m_selection();
    const QSet<QString> moved(selected.cbegin(), selected.cend());
    const QStringList wanted = QueuePlanner::reorder(order, moved, move);
    const QHash<QString, int> changes = QueuePlanner::priorities(entries, wanted, moved);
    const QPointer<DownloadActions> self(this);
    for (auto it = changes.cbegin(); it != changes.cend(); ++it) {
        m_session->api().setPriority(it.key(), it.value(), [self](Result<QJsonObject> answer) {
            if (!self)
                return;
            if (answer) // the new priority, before the event's fetch
                self->m_session->model().upsertDownload(DownloadResource::fromJson(*answer));
            else
                Q_EMIT self->message(tr("The queue was not reordered: %1").arg(answer.error().message));
        });
    }
}

void DownloadActions::removeSelected()
{
    const QStringList ids = m_selection();
    if (ids.isEmpty())
        return;
    const DownloadRow *first = m_session->model().row(ids.first());
    const QString question = ids.size() == 1 && first ? tr("Remove \"%1\" from the list?").arg(first->name)
                                                      : tr("Remove %n download(s) from the list?", nullptr, int(ids.size()));
    QMessageBox box(QMessageBox::Question, tr("Remove Downloads"), question, QMessageBox::Cancel, m_window);
    QAbstractButton *keep = box.addButton(tr("Remove, keep the files"), QMessageBox::AcceptRole);
    QAbstractButton *wipe = box.addButton(tr("Remove and delete the files"), QMessageBox::DestructiveRole);
    box.exec();
    if (box.clickedButton() != keep && box.clickedButton() != wipe)
        return;
    const QPointer<DownloadActions> self(this);
    for (const QString &id : ids) {
        m_session->api().remove(id, box.clickedButton() == wipe, [self](Result<QJsonObject> answer) {
            if (self && !answer)
                Q_EMIT self->message(tr("Remove failed: %1").arg(answer.error().message));
        });
    }
}

} // namespace Hermes
