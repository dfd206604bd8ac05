#pragma once

#include <QProcessEnvironment>
#include <QtGlobal>

namespace Hermes::Test {

/// What a process (a server a suite started) holds and used, read from /proc: for the suites
/// that bound memory and CPU against hostile clients. Each returns -1 when it cannot tell.

/// Resident set size (VmRSS), in KB.
qint64 rssKb(qint64 pid);
/// The most it was ever resident (VmHWM), in KB.
qint64 peakRssKb(qint64 pid);
/// CPU time (user + system) used so far, in ms.
qint64 cpuMs(qint64 pid);
/// Open file descriptors.
int openDescriptors(qint64 pid);
/// How much a sanitizer in the process (its runtime mapped) multiplies what memory costs:
/// AddressSanitizer's redzones and quarantine 4, ThreadSanitizer's shadow memory 16 (measured:
/// 500 slowloris connections cost 9 times what they cost with neither); 1 without either.
int memoryFactor(qint64 pid);
/// For a server whose memory a suite measures: AddressSanitizer keeps freed memory in
/// quarantine (256 MB by default) and gives free pages back only every 5 s, so `env` gets a
/// small quarantine and a short release interval (after any ASAN_OPTIONS already set), and the
/// figures show the server's own memory.
void measureOwnMemory(QProcessEnvironment &env);

} // namespace Hermes::Test
