/// Why a Redis command did not give a value: Redis refused it (an error reply), the
/// connection failed or closed, the reply was not RESP, or the configuration is unusable.
///
/// A struct over an internal kind, so that new failures do not break code that uses it.
public struct RedisError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Kind: Hashable, Sendable {
        case reply(String)
        case connection(String)
        case malformed(RESPError)
        case configuration(String)
    }

    package let kind: Kind

    package init(_ kind: Kind) {
        self.kind = kind
    }

    /// Redis answered with an error reply (`ERR …`, `NOSCRIPT …`, `WRONGPASS …`).
    public static func reply(_ message: String) -> RedisError { RedisError(.reply(message)) }
    /// The connection could not be made, or broke.
    public static func connection(_ message: String) -> RedisError { RedisError(.connection(message)) }
    /// Redis sent something that is not RESP2.
    public static func malformed(_ error: RESPError) -> RedisError { RedisError(.malformed(error)) }
    /// The URL or settings are unusable.
    public static func configuration(_ message: String) -> RedisError { RedisError(.configuration(message)) }

    /// For an error reply: its text (the first word is its kind).
    public var replyMessage: String? {
        if case .reply(let message) = kind { return message }
        return nil
    }

    /// Whether the command failed because the connection did (rather than being refused).
    public var isConnectionFailure: Bool {
        switch kind {
        case .connection, .malformed: return true
        case .reply, .configuration: return false
        }
    }

    public var description: String {
        switch kind {
        case .reply(let message): return "Redis refused: \(message)"
        case .connection(let message): return "Redis connection: \(message)"
        case .malformed(let error): return error.description
        case .configuration(let message): return message
        }
    }
}
