#include "actionfactory.h"

#include "icons.h"

#include <QAction>

namespace Hermes {

QAction *makeAction(QObject *parent, const QString &text, const char *icon, const QKeySequence &key,
                    std::function<void()> slot)
{
    auto *a = new QAction(text, parent);
    if (icon)
        a->setIcon(Icons::named(icon));
    if (!key.isEmpty())
        a->setShortcut(key);
    QObject::connect(a, &QAction::triggered, a, [slot = std::move(slot)] { slot(); });
    return a;
}

} // namespace Hermes
