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

    /// The text for a person: messages and logs.
    public var description: String { "\(code.rawValue): \(message)" }
}
