import RouterClient
import RouterProtocol

/// routerctl's exit codes (routerctl(1), EXIT STATUS), the same in every subcommand, in batches and in a
/// scripted shell.
enum ExitStatus {
    static let ok: Int32 = 0
    /// `not_found`: no such route (a lookup miss, a delete of nothing).
    static let notFound: Int32 = 1
    /// Any other refusal: invalid_name, out_of_range, bad_request, unknown_op, too_large.
    static let refused: Int32 = 2
    /// `conflict`: the name is taken.
    static let conflict: Int32 = 3
    /// `quota_exceeded`: a namespace's quota, or the caller's in it, is used up.
    static let quotaExceeded: Int32 = 4
    /// Bad command line (EX_USAGE).
    static let usage: Int32 = 64
    /// The daemon is unreachable, `unavailable` (shutting down), or did not answer within
    /// `--timeout` (EX_UNAVAILABLE).
    static let unavailable: Int32 = 69
    /// `internal`, `compacted`, `slow_consumer`, or a reply this client cannot read (EX_SOFTWARE).
    static let software: Int32 = 70
    /// Not allowed (EX_NOPERM): the socket cannot be opened, the HTTP API refused the token
    /// (`unauthorized`, 401), or the principal may not do this (`forbidden`, `reserved`: 403).
    static let noPermission: Int32 = 77
    /// Interrupted by Ctrl-C (128 + SIGINT), except where Ctrl-C is the normal end (watch).
    static let interrupted: Int32 = 130

    static func of(_ code: String) -> Int32 {
        switch ErrorCode(rawValue: code) {
        case .notFound: return notFound
        case .conflict: return conflict
        case .quotaExceeded: return quotaExceeded
        case .invalidName, .outOfRange, .badRequest, .unknownOp, .tooLarge: return refused
        case .forbidden, .reserved, .unauthorized: return noPermission
        case .unavailable: return unavailable
        default: return software // internal, compacted, slow_consumer, and codes this client does not know
        }
    }

    static func of(_ error: ClientError) -> Int32 {
        switch error.kind {
        case .daemon(let e): return of(e.codeText)
        case .unreachable, .timedOut, .connectionClosed: return unavailable
        case .permissionDenied: return noPermission
        case .malformedReply: return software
        case .interrupted: return interrupted
        }
    }

    /// The text for `--help` and the man page.
    static let summary = """
        EXIT STATUS:
          0   success
          1   not_found: no such route (a lookup miss, delete of nothing)
          2   refused: invalid_name, out_of_range, bad_request,
              unknown_op, too_large
          3   conflict: the name is taken
          4   quota_exceeded: a namespace's quota (or yours in it) is used
              up
          64  usage: a bad command line
          69  unavailable: routerd unreachable, shutting down, or silent
              past --timeout
          70  internal, compacted, slow_consumer, or an unreadable reply
          77  not allowed: permission denied opening the socket, no or a
              bad token (HTTP 401), forbidden or reserved (HTTP 403)
          130 interrupted by Ctrl-C (watch and add --session exit 0)
          batch and a scripted shell exit with the highest status of any line.
        """
}
