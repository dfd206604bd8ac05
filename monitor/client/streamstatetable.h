#pragma once

#include <QFlags>
#include <QObject>

#include <optional>

namespace Hermes {

/**
 * EventStreamClient's reconnect logic as one table: for each phase of the client and each
 * input (a call, a timer, how a connection ended), the next phase and what to do. Pure — no
 * network, no timers — so that a unit test walks every pair; the client carries the actions
 * out, every transition through EventStreamClient::dispatch().
 *
 * The phases, and the State each shows as:
 *
 * | phase        | State        | what is going on                                           |
 * |--------------|--------------|------------------------------------------------------------|
 * | Disconnected | Disconnected | closed, never opened, or stopped (the reason says why)     |
 * | GaveUp       | Disconnected | the attempts ran out; the network coming back starts again |
 * | Connecting   | Connecting   | the first attempt is on its way                            |
 * | Connected    | Connected    | a 200 text/event-stream answer: reading events             |
 * | Renewing     | Connected    | the server ended the stream as planned: the next is on its |
 * |              |              | way at once, with Last-Event-ID (not an outage: only a     |
 * |              |              | renewal that fails shows Reconnecting)                     |
 * | Waiting      | Reconnecting | a reconnect is due when the retry timer fires              |
 * | Retrying     | Reconnecting | a reconnect attempt is on its way                          |
 *
 * How a connection ended is the client's to tell (the HTTP status, whether reconnecting is
 * on, whether attempts are left); the table says what each ending leads to.
 */
class StreamStateTable final
{
    Q_GADGET
public:
    enum class State { Disconnected, Connecting, Connected, Reconnecting };
    Q_ENUM(State)
    enum class DisconnectReason { None, Closed, GaveUp, AuthenticationFailed, StreamEnded, Failed };
    Q_ENUM(DisconnectReason)

    enum class Phase : quint8 { Disconnected, GaveUp, Connecting, Connected, Waiting, Retrying, Renewing };
    Q_ENUM(Phase)
    static constexpr int PhaseCount = 7;

    enum class Input : quint8 {
        Open,          ///< open()
        Close,         ///< close()
        Restart,       ///< reconnectNow(): a fresh connection, attempts reset
        NetworkBack,   ///< retryNow(): the network came back
        Resumed,       ///< resumed(): the machine woke from suspend
        WaitOver,      ///< the retry timer fired
        Streaming,     ///< the answer is 200 text/event-stream
        Stable,        ///< connected for the stable period
        Rejected,      ///< 401 or 403: retrying cannot help
        Lost,          ///< the connection ended or failed; reconnecting, and attempts are left
        AttemptsSpent, ///< the connection ended or failed; the next attempt is past the limit
        Ended,         ///< the server ended the stream, and reconnecting is off
        Failed,        ///< the connection failed, and reconnecting is off
        Renew,         ///< the server ended a stream that had run a while, cleanly, and
                       ///< reconnecting is on: a planned end (connection timeout, rotation)
    };
    Q_ENUM(Input)
    static constexpr int InputCount = 14;

    /// What the client does on a transition, in this order.
    enum class Action : quint16 {
        Drop = 1 << 0,          ///< end the connection, stop every timer
        CancelWait = 1 << 1,    ///< stop the retry timer
        ResetAttempts = 1 << 2, ///< the attempt counter starts again from zero
        ScheduleRetry = 1 << 3, ///< count an attempt, start the retry timer with its delay
        // (the phase changes here; stateChanged when the State did)
        StartStable = 1 << 4,   ///< streaming: start the stable period, arm the watchdog
        Announce = 1 << 5,      ///< stateChanged even when the State stays (a new attempt)
        Connect = 1 << 6,       ///< send a request, unless a slot acted on stateChanged
        ThenOpen = 1 << 7,      ///< afterwards, Open (a restart is a Close, then an Open)
    };
    Q_DECLARE_FLAGS(Actions, Action)

    struct Transition
    {
        Phase next;
        Actions actions;
        /// Set on entering a phase: why it is disconnected (None when it is not).
        std::optional<DisconnectReason> reason;
    };

    /// What `input` does in `phase`. A transition to the same phase without actions or
    /// reason: nothing happens.
    static Transition next(Phase phase, Input input);
    static State stateOf(Phase phase);
};

Q_DECLARE_OPERATORS_FOR_FLAGS(StreamStateTable::Actions)

} // namespace Hermes
