/// Why a DNS message or name could not be read or written.
public struct DNSError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A name breaks the wire's limits (label over 63 bytes, name over 255, empty label).
        public static let badName = Code(rawValue: "bad_name")
        /// The message ends before what its header or a record says follows.
        public static let truncated = Code(rawValue: "truncated")
        /// A compression pointer points forward, into itself, or past the message.
        public static let badPointer = Code(rawValue: "bad_pointer")
        /// A record's data does not have the shape its type requires.
        public static let badRecord = Code(rawValue: "bad_record")
        /// The message is longer than the limit it is written for.
        public static let tooLarge = Code(rawValue: "too_large")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
