/// A DNS message (RFC 1035 §4.1): header, question, answer, authority and additional sections.
/// The OPT pseudo-record of EDNS(0) is kept apart (`edns`), not in `additional`.
public struct DNSMessage: Hashable, Sendable {
    public var id: UInt16
    /// The header's flag bits as the wire has them (QR, opcode, AA, TC, RD, RA, Z, AD, CD, and
    /// the low four bits of the response code).
    public var flags: UInt16
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authority: [DNSRecord]
    public var additional: [DNSRecord]
    /// EDNS(0), when the message carries an OPT record.
    public var edns: EDNS?

    public init(id: UInt16, flags: UInt16 = 0, questions: [DNSQuestion] = [], answers: [DNSRecord] = [],
                authority: [DNSRecord] = [], additional: [DNSRecord] = [], edns: EDNS? = nil) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
        self.edns = edns
    }

    /// EDNS(0) (RFC 6891): the largest UDP payload the sender reassembles, the version, the DO
    /// bit, the upper bits of the response code, and options (kept as bytes).
    public struct EDNS: Hashable, Sendable {
        public var payloadSize: UInt16
        public var version: UInt8
        /// The response code's upper eight bits.
        public var extendedCode: UInt8
        public var dnssecOK: Bool
        /// Options: code and data.
        public var options: [Option]

        public struct Option: Hashable, Sendable {
            public var code: UInt16
            public var data: [UInt8]
            public init(code: UInt16, data: [UInt8]) {
                self.code = code
                self.data = data
            }
        }

        public init(payloadSize: UInt16, version: UInt8 = 0, extendedCode: UInt8 = 0, dnssecOK: Bool = false, options: [Option] = []) {
            self.payloadSize = payloadSize
            self.version = version
            self.extendedCode = extendedCode
            self.dnssecOK = dnssecOK
            self.options = options
        }
    }

    // MARK: Flags

    static let qrBit: UInt16 = 0x8000
    static let aaBit: UInt16 = 0x0400
    static let tcBit: UInt16 = 0x0200
    static let rdBit: UInt16 = 0x0100
    static let raBit: UInt16 = 0x0080
    static let adBit: UInt16 = 0x0020
    static let cdBit: UInt16 = 0x0010

    private func bit(_ mask: UInt16) -> Bool { flags & mask != 0 }
    private mutating func set(_ mask: UInt16, _ on: Bool) { flags = on ? flags | mask : flags & ~mask }

    /// QR: a response.
    public var isResponse: Bool { get { bit(Self.qrBit) } set { set(Self.qrBit, newValue) } }
    /// AA: an authoritative answer.
    public var isAuthoritative: Bool { get { bit(Self.aaBit) } set { set(Self.aaBit, newValue) } }
    /// TC: cut to fit; ask again over TCP.
    public var isTruncated: Bool { get { bit(Self.tcBit) } set { set(Self.tcBit, newValue) } }
    /// RD: recursion desired (copied into the response).
    public var recursionDesired: Bool { get { bit(Self.rdBit) } set { set(Self.rdBit, newValue) } }
    /// RA: recursion available.
    public var recursionAvailable: Bool { get { bit(Self.raBit) } set { set(Self.raBit, newValue) } }
    /// CD: checking disabled (copied into the response).
    public var checkingDisabled: Bool { get { bit(Self.cdBit) } set { set(Self.cdBit, newValue) } }

    public var opcode: DNSOpcode {
        get { DNSOpcode(rawValue: UInt8((flags >> 11) & 0xF)) }
        set { flags = (flags & ~0x7800) | (UInt16(newValue.rawValue & 0xF) << 11) }
    }

    /// The response code, with EDNS's upper bits when the message has an OPT record.
    public var responseCode: DNSResponseCode {
        get { DNSResponseCode(rawValue: UInt16(edns?.extendedCode ?? 0) << 4 | (flags & 0xF)) }
        set {
            flags = (flags & ~0xF) | (newValue.rawValue & 0xF)
            if edns != nil { edns!.extendedCode = UInt8(truncatingIfNeeded: newValue.rawValue >> 4) }
        }
    }
}

/// A question: name, type and class.
public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSType
    public var questionClass: DNSClass

    public init(name: DNSName, type: DNSType, questionClass: DNSClass = .internet) {
        self.name = name
        self.type = type
        self.questionClass = questionClass
    }
}
