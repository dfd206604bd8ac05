#pragma once

#include <QTimer>
#include <QWidget>

class QLabel;

namespace Hermes {

class MonitorSession;

/**
 * The banner above the download table while the list may be out of date (a snapshot failed):
 * why, when it is tried again (counting down), and a button to try now. Hidden otherwise.
 */
class StaleBanner final : public QWidget
{
    Q_OBJECT
public:
    explicit StaleBanner(MonitorSession *session, QWidget *parent = nullptr);

    QString text() const;

private:
    void refresh();

    MonitorSession *m_session;
    QLabel *m_text;
    QTimer m_countdown;
};

} // namespace Hermes
