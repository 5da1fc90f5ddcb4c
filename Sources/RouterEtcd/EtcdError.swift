/// Why an etcd call did not give an answer: no member could be reached, etcd refused it (with
/// its gRPC code and message), the history asked for is compacted, the answer was not what the
/// v3 API sends, or the configuration is unusable.
public struct EtcdError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// No member answered in time, or the connection broke: the call may or may not have
        /// been applied.
        case unreachable
        /// The member has no leader (quorum lost, an election under way): nothing was applied.
        case noLeader
        /// The revision asked for is older than etcd's compaction.
        case compacted
        /// Authentication failed or the user may not do this.
        case denied
        /// etcd refused the call for another reason.
        case refused
        /// What answered at the member's address is not etcd's v3 gateway but an HTTP error
        /// page (another server on that port, a proxy, a peer port): nothing was applied, and
        /// another member may answer.
        case notEtcd
        /// The answer is not what etcd's v3 JSON gateway sends.
        case malformed
        /// The URL, files or credentials are unusable.
        case configuration
    }

    public var code: Code
    public var message: String
    /// etcd's gRPC status code, when etcd answered with one.
    public var grpcCode: Int?

    public init(_ code: Code, _ message: String, grpcCode: Int? = nil) {
        self.code = code
        self.message = message
        self.grpcCode = grpcCode
    }

    static func configuration(_ message: String) -> EtcdError { EtcdError(.configuration, message) }
    static func malformed(_ message: String) -> EtcdError { EtcdError(.malformed, message) }

    public var description: String {
        switch code {
        case .unreachable: "etcd unreachable: \(message)"
        case .noLeader: "etcd has no leader: \(message)"
        case .compacted: "etcd compacted that history: \(message)"
        case .denied: "etcd denied: \(message)"
        case .refused: "etcd refused: \(message)"
        case .notEtcd: "not etcd: \(message)"
        case .malformed, .configuration: message
        }
    }
}
