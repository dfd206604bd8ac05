#pragma once

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>
#include <type_traits>

namespace Hermes {

/**
 * Bounds a wait on an asynchronous callback (the broker answering a publish or a token lookup):
 * returns a callback that runs `onResult`, and arms a timer that runs `onTimeout` after
 * `timeoutMs` instead. Whichever comes first wins; the other is ignored, so a broker that
 * answers late (or never, or twice) cannot answer a request twice.
 *
 * The timer lives on `context` (the connection): when the client is gone first, nothing runs
 * on timeout, and the late callback only touches the shared flag it owns a reference to.
 */
template <typename... Args>
std::function<void(Args...)> boundedWait(QObject *context, int timeoutMs,
                                         std::type_identity_t<std::function<void(Args...)>> onResult,
                                         std::function<void()> onTimeout)
{
    struct Shared
    {
        bool settled = false;
        QPointer<QTimer> timer; ///< stopped as soon as the result is in: no pile of idle timers
    };
    auto shared = std::make_shared<Shared>();
    if (context) {
        auto *timer = new QTimer(context);
        timer->setSingleShot(true);
        QObject::connect(timer, &QTimer::timeout, timer, [shared, timer, onTimeout = std::move(onTimeout)] {
            timer->deleteLater();
            if (shared->settled)
                return;
            shared->settled = true;
            onTimeout();
        });
        shared->timer = timer;
        timer->start(timeoutMs);
    }
    return [shared, onResult = std::move(onResult)](Args... args) {
        if (shared->settled)
            return;
        shared->settled = true;
        if (shared->timer)
            shared->timer->deleteLater();
        onResult(std::forward<Args>(args)...);
    };
}

} // namespace Hermes
