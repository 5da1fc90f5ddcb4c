/// Reading a message off the wire. Everything is bounded by the bytes at hand: a count in the
/// header never makes the reader allocate more than the message could hold, a compression
/// pointer must point strictly backwards (so a chain of them ends), and a name is at most 255
/// bytes however it was compressed.
extension DNSMessage {
    /// Reads a whole message; throws naming what is wrong. Bytes after the last record are an
    /// error too (a message is exactly its sections).
    public init(parsing bytes: [UInt8]) throws(DNSError) {
        var reader = DNSReader(bytes)
        let header = try DNSMessage.readHeader(&reader)
        self.init(id: header.id, flags: header.flags)
        // Each question takes at least 5 bytes and each record 11: counts beyond what the
        // message could hold are refused before anything is reserved.
        guard Int(header.qd) * 5 + (Int(header.an) + Int(header.ns) + Int(header.ar)) * 11 <= bytes.count - 12 else {
            throw DNSError(.truncated, "the header counts more records than \(bytes.count) bytes can hold")
        }
        for _ in 0..<header.qd {
            let name = try reader.name()
            let type = DNSType(rawValue: try reader.u16())
            let qclass = DNSClass(rawValue: try reader.u16())
            questions.append(DNSQuestion(name: name, type: type, questionClass: qclass))
        }
        for _ in 0..<header.an { answers.append(try reader.record()) }
        for _ in 0..<header.ns { authority.append(try reader.record()) }
        for _ in 0..<header.ar {
            let record = try reader.record()
            guard record.type == .opt else {
                additional.append(record)
                continue
            }
            // RFC 6891 §6.1.1: one OPT, owned by the root.
            guard edns == nil else { throw DNSError(.badRecord, "more than one OPT record") }
            guard record.name.isRoot else { throw DNSError(.badRecord, "an OPT record not owned by the root") }
            guard case .opaque(let data) = record.data else { throw DNSError(.badRecord, "OPT data") }
            var options: [EDNS.Option] = []
            var r = DNSReader(data)
            while !r.atEnd {
                let code = try r.u16()
                let length = Int(try r.u16())
                options.append(EDNS.Option(code: code, data: try r.bytes(length)))
            }
            edns = EDNS(payloadSize: record.recordClass.rawValue, version: UInt8((record.ttl >> 16) & 0xFF),
                        extendedCode: UInt8(record.ttl >> 24), dnssecOK: record.ttl & 0x8000 != 0, options: options)
        }
        guard reader.atEnd else {
            throw DNSError(.truncated, "\(bytes.count - reader.offset) bytes follow the last record")
        }
    }

    /// Where the message's last record starts, and that record, when it is the last of the
    /// additional section and of `type` (TSIG, RFC 8945 §5.1: always last): what a signature
    /// covers is the bytes before it, with the additional count one less.
    public static func lastRecord(of bytes: [UInt8], type: DNSType) throws(DNSError) -> (offset: Int, record: DNSRecord)? {
        var reader = DNSReader(bytes)
        let header = try readHeader(&reader)
        guard header.ar > 0 else { return nil }
        for _ in 0..<header.qd {
            _ = try reader.name()
            _ = try reader.u16()
            _ = try reader.u16()
        }
        let records = Int(header.an) + Int(header.ns) + Int(header.ar)
        var last: (Int, DNSRecord)?
        for _ in 0..<records {
            let offset = reader.offset
            last = (offset, try reader.record())
        }
        guard reader.atEnd, let (offset, record) = last, record.type == type else { return nil }
        return (offset, record)
    }

    /// The header alone: how a server answers FORMERR to a message it cannot read further.
    public static func header(of bytes: [UInt8]) -> (id: UInt16, flags: UInt16)? {
        guard bytes.count >= 12 else { return nil }
        return (UInt16(bytes[0]) << 8 | UInt16(bytes[1]), UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
    }

    static func readHeader(_ reader: inout DNSReader) throws(DNSError) -> (id: UInt16, flags: UInt16, qd: UInt16, an: UInt16, ns: UInt16, ar: UInt16) {
        guard reader.remaining >= 12 else { throw DNSError(.truncated, "a message of \(reader.remaining) bytes is shorter than a header (12)") }
        return (try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16())
    }
}

/// A cursor over a message's bytes that throws rather than read past them.
struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }
    var atEnd: Bool { offset == bytes.count }

    mutating func u8() throws(DNSError) -> UInt8 {
        guard offset < bytes.count else { throw DNSError(.truncated, "the message ends at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSError) -> UInt16 {
        guard remaining >= 2 else { throw DNSError(.truncated, "the message ends at byte \(offset)") }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(DNSError) -> UInt32 {
        guard remaining >= 4 else { throw DNSError(.truncated, "the message ends at byte \(offset)") }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func bytes(_ count: Int) throws(DNSError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw DNSError(.truncated, "\(count) bytes asked for at byte \(offset), \(remaining) left") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A name, following compression pointers (RFC 1035 §4.1.4): each must point before the
    /// place it was read from, so the walk always ends.
    mutating func name() throws(DNSError) -> DNSName {
        var wire: [UInt8] = []
        var position = offset
        var jumped = false
        var limit = offset  // a pointer must point below this
        while true {
            guard position < bytes.count else { throw DNSError(.truncated, "a name runs past the end of the message") }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    wire.append(0)
                    if !jumped { offset = position + 1 }
                    return DNSName(trustedWire: wire)
                }
                let n = Int(length)
                guard position + 1 + n <= bytes.count else { throw DNSError(.truncated, "a label runs past the end of the message") }
                guard wire.count + 1 + n + 1 <= DNSName.maximumLength else { throw DNSError(.badName, "a name longer than 255 bytes") }
                wire.append(length)
                wire.append(contentsOf: bytes[(position + 1)..<(position + 1 + n)])
                position += 1 + n
            case 0xC0:
                guard position + 1 < bytes.count else { throw DNSError(.truncated, "a compression pointer runs past the end") }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < limit else { throw DNSError(.badPointer, "a compression pointer at byte \(position) points to \(target), not before it") }
                if !jumped { offset = position + 2 }
                jumped = true
                limit = target
                position = target
            default:
                // 0x40 and 0x80: extended label types (RFC 6891 §5), none in use.
                throw DNSError(.badName, "a label type 0x\(String(length & 0xC0, radix: 16)) at byte \(position)")
            }
        }
    }

    /// A resource record; the data of the types routerd knows is read into their shape and must
    /// fill exactly its RDLENGTH.
    mutating func record() throws(DNSError) -> DNSRecord {
        let name = try name()
        let type = DNSType(rawValue: try u16())
        let rclass = DNSClass(rawValue: try u16())
        let ttl = try u32()
        let length = Int(try u16())
        guard remaining >= length else { throw DNSError(.truncated, "a \(type) record's data of \(length) bytes runs past the end") }
        let end = offset + length
        let data: DNSRecordData
        func exact() throws(DNSError) {
            guard offset == end else { throw DNSError(.badRecord, "a \(type) record's data is not \(length) bytes") }
        }
        if length == 0 {
            // Empty data: an OPT without options, or an UPDATE's deletion of a whole RRset.
            return DNSRecord(name: name, type: type, recordClass: rclass, ttl: ttl, data: .opaque([]))
        }
        switch type {
        case .a where length == 4:
            data = .a(.init(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]))
            offset += 4
        case .aaaa where length == 16:
            data = .aaaa(.init(bytes: Array(bytes[offset..<(offset + 16)]))!)
            offset += 16
        case .ns, .cname:
            let target = try self.name()
            try exact()
            data = type == .ns ? .ns(target) : .cname(target)
        case .soa:
            let primary = try self.name()
            let mailbox = try self.name()
            data = .soa(.init(primary: primary, mailbox: mailbox, serial: try u32(), refresh: try u32(), retry: try u32(),
                              expire: try u32(), minimum: try u32()))
            try exact()
        case .txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let n = Int(try u8())
                guard offset + n <= end else { throw DNSError(.badRecord, "a TXT string runs past its record") }
                strings.append(try bytes(n))
            }
            data = .txt(strings)
        case .a, .aaaa:
            throw DNSError(.badRecord, "a \(type) record with \(length) bytes of data")
        default:
            data = .opaque(try bytes(length))
        }
        return DNSRecord(name: name, type: type, recordClass: rclass, ttl: ttl, data: data)
    }
}
