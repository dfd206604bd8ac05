// Linked into every executable of the tsan build (HERMES_TSAN; see the top CMakeLists.txt), and
// only there.
//
// Debian's Qt is not built with ThreadSanitizer. When one thread hands a call to another with
// QMetaObject::invokeMethod(receiver, functor, Qt::QueuedConnection), the functor (and the slot
// object holding it) is written in the caller's code, which is instrumented, and read and
// destroyed in the receiver's, which is instrumented too; but the hand-over between them goes
// through QtCore's posted-event list, locked by a futex-based QMutex in uninstrumented code.
// TSan cannot see that lock, so it would report every queued call as a data race on its own
// captures. A suppression would hide real races in the code those calls run; instead this
// makes the hand-over visible, as an instrumented Qt would:
//
//   - QMetaObject::invokeMethodImpl() — what every functor or member-function invokeMethod()
//     calls from the caller's (inlined) code, through the PLT — is interposed here. It wraps
//     the slot object in a HandOff, releases the HandOff after everything the caller wrote
//     (the captures included) and before QtCore queues it, and calls QtCore's own.
//   - The HandOff acquires when the receiving thread calls it, so the call happens after
//     everything the caller did before invokeMethod(); and when QtCore destroys it, in
//     whichever thread drops the last reference, after the call. For Qt::BlockingQueuedConnection it
//     releases again when the call returns and the caller acquires that once QtCore lets it
//     go, so the caller sees what the call wrote (what QSemaphore gives it in an instrumented
//     Qt).
//
// Nothing else is synchronized: a queued *signal* (connect() across threads), posted events
// and QtCore's own threads are not, and would be reported (none are in the suites TSan runs;
// see tests/tsan/tsan.supp for what is suppressed, and why).
#include <QObject>

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

namespace {

using InvokeMethodImpl = bool (*)(QObject *, QtPrivate::QSlotObjectBase *, Qt::ConnectionType,
                                  void *);

InvokeMethodImpl qtInvokeMethodImpl()
{
    static const auto fn = reinterpret_cast<InvokeMethodImpl>(dlsym(
        RTLD_NEXT, "_ZN11QMetaObject16invokeMethodImplEP7QObjectPN9QtPrivate15QSlotObjectBaseE"
                   "N2Qt14ConnectionTypeEPv"));
    if (!fn)
        qFatal("tsan build: QMetaObject::invokeMethodImpl not found in QtCore: %s", dlerror());
    return fn;
}

/// The slot object QtCore queues: the caller's, called after an acquire.
class HandOff final : public QtPrivate::QSlotObjectBase
{
public:
    HandOff(QtPrivate::QSlotObjectBase *inner, char *done)
        : QSlotObjectBase(&impl), m_inner(inner), m_done(done)
    {
    }

private:
    static void impl(int which, QSlotObjectBase *base, QObject *receiver, void **args, bool *ret)
    {
        auto *self = static_cast<HandOff *>(base);
        switch (which) {
        case Destroy:
            // The last of QtCore's references goes, in either thread, through its own
            // (uninstrumented) reference count: after the caller's release, and after the call.
            __tsan_acquire(self);
            self->m_inner->destroyIfLastRef();
            delete self;
            break;
        case Call:
            __tsan_acquire(self);
            self->m_inner->call(receiver, args);
            __tsan_release(self);
            if (self->m_done)
                __tsan_release(self->m_done);
            break;
        case Compare:
            *ret = false;
            break;
        }
    }

    QtPrivate::QSlotObjectBase *const m_inner;
    char *const m_done; ///< BlockingQueuedConnection: the caller's, released when the call returned
};

} // namespace

bool QMetaObject::invokeMethodImpl(QObject *object, QtPrivate::QSlotObjectBase *slot,
                                   Qt::ConnectionType type, void *ret)
{
    char done = 0;
    auto *handOff = new HandOff(slot, type == Qt::BlockingQueuedConnection ? &done : nullptr);
    __tsan_release(handOff);
    const bool invoked = qtInvokeMethodImpl()(object, handOff, type, ret);
    __tsan_acquire(&done);
    return invoked;
}
