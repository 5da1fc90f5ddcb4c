import RouterProtocol

/// A refusal from the daemon: its stable code, its message and details, as sent.
public struct DaemonError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The protocol's snake_case code (`not_found`, `conflict`, …); `code` is nil for a code this
    /// client does not know, whose text is in `codeText`.
    public var code: ErrorCode? { ErrorCode(rawValue: codeText) }
    public var codeText: String
    public var message: String
    public var details: JSONValue
    /// The whole `error` object, for printing as JSON.
    public var object: JSONValue

    public init(object: JSONValue) {
        self.object = object
        codeText = object["code"]?.stringValue ?? "internal"
        message = object["message"]?.stringValue ?? "(no message)"
        details = object["details"] ?? .object([])
    }

    public var description: String { message }
}

/// Why a request did not get an answer, or got a refusal.
public enum ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Nothing listens on the socket path (or it does not exist, or is not a socket).
    case unreachable(path: String, reason: String)
    /// The socket exists but this user may not connect to it.
    case permissionDenied(path: String)
    /// No reply within the timeout.
    case timedOut(after: Duration)
    /// The daemon closed the connection (it stopped, or cut this client off).
    case connectionClosed
    /// The daemon answered with an error.
    case daemon(DaemonError)
    /// A line from the daemon that is not protocol v1.
    case malformedReply(String)
    /// Interrupted (Ctrl-C) before the answer came.
    case interrupted

    /// A stable snake_case code: the daemon's own for a refusal, else one of the client's
    /// (`unreachable`, `permission_denied`, `timed_out`, `connection_closed`, `malformed_reply`,
    /// `interrupted`), so that scripts reading JSON errors can tell every failure apart.
    public var code: String {
        switch self {
        case .daemon(let error): return error.codeText
        case .unreachable: return "unreachable"
        case .permissionDenied: return "permission_denied"
        case .timedOut: return "timed_out"
        case .connectionClosed: return "connection_closed"
        case .malformedReply: return "malformed_reply"
        case .interrupted: return "interrupted"
        }
    }

    /// The error as the protocol's error object, `{code, message, details}`: the daemon's own
    /// object for a refusal, one of the same shape for the client's failures.
    public var object: JSONValue {
        var details: [(String, JSONValue)] = []
        switch self {
        case .daemon(let error): return error.object
        case .unreachable(let path, _), .permissionDenied(let path): details = [("path", .string(path))]
        case .timedOut(let after): details = [("timeout", .string(DurationText.format(after)))]
        case .connectionClosed, .malformedReply, .interrupted: break
        }
        return .object([("code", .string(code)), ("message", .string(description)), ("details", .object(details))])
    }

    public var description: String {
        switch self {
        case .unreachable(let path, let reason):
            return "cannot reach routerd at \(path): \(reason); is it running? (start it with `routerd`, or pass --socket / set ROUTER_SOCKET)"
        case .permissionDenied(let path):
            return "permission denied connecting to \(path): ask for the socket's group (routerd --socket-group) or a wider --socket-mode"
        case .timedOut(let after):
            return "no answer from routerd within \(DurationText.format(after)) (--timeout)"
        case .connectionClosed:
            return "routerd closed the connection"
        case .daemon(let error):
            return error.message
        case .malformedReply(let line):
            return "unexpected reply from routerd: \(line.prefix(200))"
        case .interrupted:
            return "interrupted"
        }
    }
}
