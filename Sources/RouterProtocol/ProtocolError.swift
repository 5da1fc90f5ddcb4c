/// A refusal to send back: the code, a message for a person, optional details.
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable code.
    public var code: ErrorCode
    /// What went wrong and what to do, for a person.
    public var message: String
    /// Facts the refusal names (the conflicting route, the oldest revision, …).
    public var details: JSONValue?

    /// A refusal.
    public init(_ code: ErrorCode, _ message: String, details: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// The protocol's error object, `{code, message, details}` (details `{}` when there are
    /// none): the one shape every front end sends a refusal in — a reply's `error`, an HTTP
    /// error body's, a batch operation's, a watch's end.
    public var object: JSONValue {
        .object([("code", .string(code.rawValue)), ("message", .string(message)), ("details", details ?? .object([]))])
    }

    /// The text for a person: messages and logs.
    public var description: String { "\(code.rawValue): \(message)" }
}
