import RouterProtocol

/// A refusal from the daemon: its stable code, its message and details, as sent.
public struct DaemonError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The protocol's snake_case code (`not_found`, `conflict`, …); one this client does not
    /// know (`isKnown` false) is still a code, its text in `codeText`.
    public var code: ErrorCode { ErrorCode(rawValue: codeText) }
    /// The code's text, as the daemon sent it.
    public var codeText: String
    /// The daemon's message.
    public var message: String
    /// The daemon's details.
    public var details: JSONValue
    /// The whole `error` object, for printing as JSON.
    public var object: JSONValue

    /// A refusal from the daemon's `error` object.
    public init(object: JSONValue) {
        self.object = object
        codeText = object["code"]?.stringValue ?? "internal"
        message = object["message"]?.stringValue ?? "(no message)"
        details = object["details"] ?? .object([])
    }

    /// The text for a person: messages and logs.
    public var description: String { message }
}

/// Why a request did not get an answer, or got a refusal: a stable `code`, a message
/// (`description`), and for a refusal the daemon's own error (`daemonError`).
///
/// A struct over an internal kind, so that new failures do not break code that embeds the
/// client: compare `code`s rather than switching over cases.
public struct ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, with its facts.
    package enum Kind: Hashable, Sendable {
        case unreachable(path: String, reason: String)
        case permissionDenied(path: String)
        case timedOut(after: Duration)
        case connectionClosed
        case daemon(DaemonError)
        case malformedReply(String)
        case interrupted
    }

    package let kind: Kind

    package init(_ kind: Kind) {
        self.kind = kind
    }

    /// Nothing listens on the socket path (or it does not exist, or is not a socket).
    public static func unreachable(path: String, reason: String) -> ClientError { ClientError(.unreachable(path: path, reason: reason)) }
    /// The socket exists but this user may not connect to it.
    public static func permissionDenied(path: String) -> ClientError { ClientError(.permissionDenied(path: path)) }
    /// No reply within the timeout.
    public static func timedOut(after: Duration) -> ClientError { ClientError(.timedOut(after: after)) }
    /// The daemon closed the connection (it stopped, or cut this client off).
    public static let connectionClosed = ClientError(.connectionClosed)
    /// The daemon answered with an error.
    public static func daemon(_ error: DaemonError) -> ClientError { ClientError(.daemon(error)) }
    /// A line from the daemon that is not protocol v1.
    public static func malformedReply(_ line: String) -> ClientError { ClientError(.malformedReply(line)) }
    /// Interrupted (Ctrl-C) before the answer came.
    public static let interrupted = ClientError(.interrupted)

    /// The daemon's refusal, when the daemon refused.
    public var daemonError: DaemonError? {
        if case .daemon(let error) = kind { return error }
        return nil
    }

    /// A stable snake_case code: the daemon's own for a refusal, else one of the client's
    /// (`unreachable`, `permission_denied`, `timed_out`, `connection_closed`, `malformed_reply`,
    /// `interrupted`), so that scripts reading JSON errors can tell every failure apart.
    public var code: String {
        switch kind {
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
        switch kind {
        case .daemon(let error): return error.object
        case .unreachable(let path, _), .permissionDenied(let path): details = [("path", .string(path))]
        case .timedOut(let after): details = [("timeout", .string(DurationText.format(after)))]
        case .connectionClosed, .malformedReply, .interrupted: break
        }
        return .object([("code", .string(code)), ("message", .string(description)), ("details", .object(details))])
    }

    /// The text for a person: messages and logs.
    public var description: String {
        switch kind {
        case .unreachable(let path, let reason):
            return "cannot reach routerd at \(path): \(reason)"
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
