/// The protocol version this module speaks.
public let protocolVersion = 1

/// Stable snake_case error codes, the same in every reply (see docs/protocol.md).
///
/// The table's own refusals (`RouteError.Code` in DomainRouter) are sent under their raw
/// values, so the wire codes of table refusals come from the core, with no bridge to keep up
/// (a test checks that every one of them is listed here). The rest are the transport's. A
/// struct rather than an enum: a code this build does not know (from a newer daemon) is still
/// a code, and new codes do not break code that switches over them.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The stable snake_case text, as the protocol sends it.
    public let rawValue: String
    /// The code for its wire text; one this build does not know is kept as given.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// An unparseable or malformed line or argument.
    public static let badRequest = ErrorCode(rawValue: "bad_request")
    /// An `op` this daemon does not have.
    public static let unknownOp = ErrorCode(rawValue: "unknown_op")
    /// A name that breaks a rule (table).
    public static let invalidName = ErrorCode(rawValue: "invalid_name")
    /// Nothing there (table).
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// Taken (table).
    public static let conflict = ErrorCode(rawValue: "conflict")
    /// Kept for admins (table).
    public static let reserved = ErrorCode(rawValue: "reserved")
    /// Not allowed for this principal (table).
    public static let forbidden = ErrorCode(rawValue: "forbidden")
    /// Outside what is available (table).
    public static let outOfRange = ErrorCode(rawValue: "out_of_range")
    /// A namespace's quota (or a member's in it) is used up (table).
    public static let quotaExceeded = ErrorCode(rawValue: "quota_exceeded")
    /// History that is gone (table).
    public static let compacted = ErrorCode(rawValue: "compacted")
    /// A line over the daemon's limit.
    public static let tooLarge = ErrorCode(rawValue: "too_large")
    /// A watcher that did not read (table).
    public static let slowConsumer = ErrorCode(rawValue: "slow_consumer")
    /// The daemon is full or shutting down.
    public static let unavailable = ErrorCode(rawValue: "unavailable")
    /// A bug in the daemon.
    public static let `internal` = ErrorCode(rawValue: "internal")
    /// The HTTP API's refusal of a request without a valid bearer token (401); never sent on
    /// the socket, where the peer's uid says who it is.
    public static let unauthorized = ErrorCode(rawValue: "unauthorized")

    /// Every code this version of the protocol defines.
    public static let allCases: [ErrorCode] = [
        .badRequest, .unknownOp, .invalidName, .notFound, .conflict, .reserved, .forbidden, .outOfRange,
        .quotaExceeded, .compacted, .tooLarge, .slowConsumer, .unavailable, .internal,
    ]

    /// Whether this version of the protocol defines the code.
    public var isKnown: Bool { Self.allCases.contains(self) }

    /// The text for a person: messages and logs.
    public var description: String { rawValue }
}
