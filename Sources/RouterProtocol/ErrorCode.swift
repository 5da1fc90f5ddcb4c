/// The protocol version this module speaks.
public let protocolVersion = 1

/// Stable snake_case error codes, the same in every reply (see docs/protocol.md).
public enum ErrorCode: String, Hashable, Sendable, CaseIterable {
    case badRequest = "bad_request"
    case unknownOp = "unknown_op"
    case invalidName = "invalid_name"
    case notFound = "not_found"
    case conflict
    case reserved
    case forbidden
    case outOfRange = "out_of_range"
    case compacted
    case tooLarge = "too_large"
    case slowConsumer = "slow_consumer"
    case unavailable
    case `internal`
}
