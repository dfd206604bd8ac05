#pragma once

#include <QLabel>
#include <QTimer>

namespace Hermes {

class MonitorSession;

/**
 * The status bar's "Free: 12.3 GiB": the room left in the server's download directory, as the
 * server reports it (`download_dir_free_bytes` of a one-row `GET /api/v1/downloads`). Asked
 * when the stream connects and every minute while it stays connected; hidden until a server
 * has said (an older one does not). It also keeps the directory's path, which a monitor on the
 * server's own machine can open.
 */
class FreeSpaceLabel final : public QLabel
{
    Q_OBJECT
public:
    explicit FreeSpaceLabel(MonitorSession *session, QWidget *parent = nullptr);

    /// The server's download directory, empty until known.
    QString downloadDir() const { return m_dir; }
    /// Bytes free there, -1 until known.
    qint64 freeBytes() const { return m_free; }
    /// Whether the server runs on this machine (a loopback address) and its download
    /// directory is here too.
    bool isDirHere() const;
    /// Asks the server now.
    void refresh();
    void setIntervalMs(int ms) { m_poll.setInterval(ms); }

private:
    MonitorSession *m_session;
    QTimer m_poll;
    QString m_dir;
    qint64 m_free = -1;
    bool m_asking = false;
};

} // namespace Hermes
