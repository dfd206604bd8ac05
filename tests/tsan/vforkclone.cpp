// Linked into every executable of the tsan build (HERMES_TSAN; see the top CMakeLists.txt), and
// only there.
//
// QProcess starts its child through forkfd, which calls clone(CLONE_VM | CLONE_VFORK): the
// child runs on the parent's memory until it execs. ThreadSanitizer's clone() interceptor
// (GCC 12's libtsan, clang 14's alike) then does its after-fork bookkeeping for the child in
// that shared memory, that is to the parent's own state: the parent's thread is left ignoring
// everything, and the parent dies at its next thread ("starting new threads after
// multi-threaded fork is not supported"; clang 14's runtime fails a CHECK at once). Every suite
// that starts hermes-server does this. Here such a clone() becomes a plain fork-like clone
// (the child gets a copy of the memory, as with fork(); QProcess supports that path, it takes
// it where pidfds are missing), which the interceptor handles correctly.
#include <dlfcn.h>
#include <linux/sched.h>
#include <sys/types.h>

#include <cstdio>
#include <cstdlib>

using Clone = int (*)(int (*)(void *), void *, int, void *, int *, void *, pid_t *);

// glibc declares clone() variadic (<sched.h>, not included here); the three trailing
// arguments are passed the same way on x86-64, as libtsan's own interceptor takes them.
extern "C" int clone(int (*fn)(void *), void *stack, int flags, void *arg, int *parentTid,
                     void *tls, pid_t *childTid)
{
    // The next clone() is libtsan's interceptor (it is loaded before libc).
    static const auto next = reinterpret_cast<Clone>(dlsym(RTLD_NEXT, "clone"));
    if (!next) {
        std::fprintf(stderr, "tsan build: clone() not found: %s\n", dlerror());
        std::abort();
    }
    if ((flags & CLONE_VM) && (flags & CLONE_VFORK) && !(flags & CLONE_THREAD))
        flags &= ~(CLONE_VM | CLONE_VFORK);
    return next(fn, stack, flags, arg, parentTid, tls, childTid);
}
