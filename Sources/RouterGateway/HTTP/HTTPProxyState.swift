import NIOCore
import NIOHTTP1

/// Where one client connection of the HTTP listener stands, as one value: the phase of the
/// exchange in progress, whether a request is open (between its head and its end), and what
/// the client sent that waits its turn. Its methods take what happened and say what to do;
/// `HTTPProxyHandler` does it (writes, connects, timers, the log). Requests are answered one
/// at a time, in order: what arrives behind the request in progress — the next request, a
/// parse error, the end of the client's input — waits until every answer before it is out
/// (RFC 9112 §9.3.2).
struct HTTPProxyState {
    /// One request on its way through.
    struct Exchange: Equatable {
        var key: String
        /// The name the request asked for (its Host as sent), for the access log, which
        /// makes it safe to print: a miss has no key but was asked for something.
        var host = "-"
        var method: HTTPMethod
        var version: HTTPVersion
        var keepAlive: Bool
        var started: NIODeadline
        var requestEnded = false
        var responseStarted = false
        var status = 0
        var bytes = 0
        /// The request asked to switch protocols (WebSocket); a 101 turns the exchange into
        /// a byte splice.
        var upgrade = false
        /// The response's body goes to the client in chunks the gateway frames.
        var chunked = false
    }

    enum Phase {
        /// Waiting for the next request head.
        case idle
        /// Connecting to the target; the request's parts wait in `buffered`.
        case connecting(Exchange, buffered: [HTTPClientRequestPart])
        /// The target has the request head; the rest streams as it comes, then the response.
        case forwarding(Exchange)
        /// Answered by the gateway itself, the connection kept: the rest of the request is
        /// read and dropped, then the next request is served.
        case refused
        /// The last answer is written and the output closed; what the client still sends is
        /// dropped until it closes too (a lingering close, so that it reads the answer rather
        /// than a reset), or the linger time passes.
        case closing
    }

    /// What arrives from the client, in order.
    enum Inbound {
        case part(HTTPServerRequestPart)
        /// The decoder could not parse what followed.
        case malformed
        /// The client closed its side: no more requests.
        case inputClosed
    }

    private(set) var phase = Phase.idle
    /// Between a request's head and its end: its parts are the current exchange's.
    private(set) var requestOpen = false
    private var queue = CircularBuffer<Inbound>()

    /// Nothing the client sent waits its turn.
    var nothingWaiting: Bool { queue.isEmpty }

    /// No exchange in progress and no request open: the next request may start.
    var isIdle: Bool {
        if case .idle = phase { return !requestOpen }
        return false
    }

    /// The exchange in progress, while one is with (or on its way to) a target.
    var exchange: Exchange? {
        switch phase {
        case .connecting(let exchange, _), .forwarding(let exchange): exchange
        case .idle, .refused, .closing: nil
        }
    }

    // MARK: What the client sends

    /// Something arrived from the client; `next()` says when to handle it.
    mutating func arrived(_ inbound: Inbound) {
        queue.append(inbound)
    }

    enum Next {
        /// Handle this now.
        case handle(Inbound)
        /// Closing, and the client has closed its side: close once the last answer is out.
        case closeAfterLastWrite
        /// Nothing to handle until the exchange in progress moves on.
        case wait
    }

    /// The next thing to handle. While a request is open, everything that arrives is about it
    /// (its parts, a parse error in its body, the client leaving mid-request); otherwise it
    /// waits until no exchange is in progress. A closing connection drops what arrives.
    mutating func next() -> Next {
        guard let first = queue.first else { return .wait }
        if case .closing = phase {
            let ended = queue.contains { if case .inputClosed = $0 { true } else { false } }
            queue.removeAll()
            return ended ? .closeAfterLastWrite : .wait
        }
        guard requestOpen || isIdle else { return .wait }
        queue.removeFirst()
        return .handle(first)
    }

    /// A request head is being handled: its parts follow.
    mutating func headArrived() {
        requestOpen = true
    }

    enum BodyAction: Equatable {
        /// Kept with the request's other parts until the target's connection is open.
        case buffered
        /// Write it to the target.
        case forward
        /// Not for any target (the request was refused, or the connection is closing).
        case drop
    }

    /// A piece of the open request's body arrived.
    mutating func bodyArrived(_ part: HTTPClientRequestPart) -> BodyAction {
        switch phase {
        case .connecting(let exchange, var buffered):
            buffered.append(part)
            phase = .connecting(exchange, buffered: buffered)
            return .buffered
        case .forwarding:
            return .forward
        case .idle, .refused, .closing:
            return .drop
        }
    }

    enum EndAction: Equatable {
        /// Kept with the request's other parts until the target's connection is open.
        case buffered
        /// Write it to the target and flush; with `awaitingResponse`, the target's time to
        /// answer runs from now.
        case forward(awaitingResponse: Bool)
        /// The end of a request the gateway refused: the connection is idle again.
        case refusalRead
        case ignore
    }

    /// The open request ended.
    mutating func endArrived(_ part: HTTPClientRequestPart) -> EndAction {
        requestOpen = false
        switch phase {
        case .connecting(var exchange, var buffered):
            buffered.append(part)
            exchange.requestEnded = true
            phase = .connecting(exchange, buffered: buffered)
            return .buffered
        case .forwarding(var exchange):
            exchange.requestEnded = true
            phase = .forwarding(exchange)
            return .forward(awaitingResponse: !exchange.responseStarted)
        case .refused:
            phase = .idle
            return .refusalRead
        case .idle, .closing:
            return .ignore
        }
    }

    enum MalformedAction: Equatable {
        /// The response had begun: it is cut short, the connection closed.
        case cut(Exchange)
        /// Nothing answered yet for the request in progress: a 400 for it, then the
        /// connection closes (its keep-alive is off).
        case answerError(Exchange)
        /// Between requests: a 400, then the connection closes.
        case answerAndClose
    }

    /// The decoder failed: the request in progress is cut short, or, between requests, the
    /// client gets a 400 once every request before it is answered.
    mutating func malformed() -> MalformedAction {
        if requestOpen {
            requestOpen = false
            if var exchange {
                exchange.keepAlive = false
                if exchange.responseStarted {
                    phase = .closing
                    return .cut(exchange)
                }
                return .answerError(exchange)
            }
        }
        return .answerAndClose
    }

    enum InputEndAction: Equatable {
        /// The client left mid-request: as a malformed request.
        case malformed(MalformedAction)
        /// Nothing in progress: close.
        case close
    }

    /// The client has sent all it will.
    mutating func inputEnded() -> InputEndAction {
        if requestOpen { return .malformed(malformed()) }
        phase = .closing
        return .close
    }

    // MARK: The exchange's course (set by the handler as it acts)

    /// The request goes to a fresh connection to its target; `parts` go first.
    mutating func connecting(_ exchange: Exchange, sending parts: [HTTPClientRequestPart]) {
        phase = .connecting(exchange, buffered: parts)
    }

    /// The target's connection is open (or taken from the pool); the request's parts so far,
    /// to write to it, or nil when no exchange is connecting any more.
    mutating func connected() -> (Exchange, [HTTPClientRequestPart])? {
        guard case .connecting(let exchange, let buffered) = phase else { return nil }
        phase = .forwarding(exchange)
        return (exchange, buffered)
    }

    /// The request is with the target.
    mutating func forwarding(_ exchange: Exchange) {
        phase = .forwarding(exchange)
    }

    /// The exchange in progress, changed (its response's status, bytes, keep-alive).
    mutating func update(_ exchange: Exchange) {
        if case .forwarding = phase { phase = .forwarding(exchange) }
    }

    /// The gateway answered the request itself and keeps the connection: the rest of the
    /// request is dropped, then the next one is served.
    mutating func refused() {
        phase = .refused
    }

    /// The exchange is over and the connection kept.
    mutating func idle() {
        phase = .idle
    }

    /// After an answer that was not kept alive: an answer the gateway wrote, or the end of the
    /// request it answered (`requestEnded`).
    mutating func answered(requestEnded: Bool) {
        phase = requestEnded ? .idle : .refused
    }

    /// The connection closes: nothing more is read as a request, nothing waiting is handled.
    /// Returns whether the client may still be sending (something waited, or a request was
    /// open): then the close lingers.
    @discardableResult
    mutating func closing() -> Bool {
        let mayBeSending = !queue.isEmpty || requestOpen
        phase = .closing
        queue.removeAll()
        requestOpen = false
        return mayBeSending
    }

    // MARK: The target's side

    enum UpstreamClosedAction: Equatable {
        /// A pooled connection the target had closed before it took the request: send the
        /// same request again, once, on a fresh connection.
        case sendAgain(Exchange)
        /// The response had begun: it is cut short, the connection closed.
        case cut(Exchange)
        /// No response had begun: a 502.
        case badGateway(Exchange)
        case ignore
    }

    /// The target's connection closed mid-exchange; `canSendAgain`: the request was sent on a
    /// pooled connection and is kept whole to send again.
    mutating func upstreamClosed(canSendAgain: Bool) -> UpstreamClosedAction {
        guard case .forwarding(let exchange) = phase else { return .ignore }
        if !exchange.responseStarted && canSendAgain { return .sendAgain(exchange) }
        if exchange.responseStarted {
            phase = .closing
            return .cut(exchange)
        }
        return .badGateway(exchange)
    }

    enum TimerAction: Equatable {
        /// The target did not begin its response in time: a 504.
        case gatewayTimeout(Exchange)
        /// Idle (or lingering) too long: close.
        case close
        case ignore
    }

    /// The limit of the phase ran out (header, idle, upstream or linger timeout).
    mutating func timerFired() -> TimerAction {
        switch phase {
        case .forwarding(let exchange) where !exchange.responseStarted:
            return .gatewayTimeout(exchange)
        case .idle, .closing:
            phase = .closing
            return .close
        case .forwarding, .connecting, .refused:
            return .ignore
        }
    }

    /// The connection is gone: the exchange in progress, if a target had it, for the log.
    mutating func inactive() -> Exchange? {
        let exchange: Exchange? = if case .forwarding(let exchange) = phase { exchange } else { nil }
        phase = .closing
        queue.removeAll()
        return exchange
    }
}
