/// Writing a message: names compressed against those already written (RFC 1035 §4.1.4), and a
/// size limit that a UDP answer must fit (512 bytes, or the EDNS payload size).
extension DNSMessage {
    /// The message's bytes. Throws `tooLarge` past `limit` (65,535 at most, TCP's framing).
    public func bytes(limit: Int = 65_535) throws(DNSError) -> [UInt8] {
        var writer = DNSWriter(capacity: min(limit, 512))
        writer.u16(id)
        writer.u16(flags)
        writer.u16(UInt16(questions.count))
        writer.u16(UInt16(answers.count))
        writer.u16(UInt16(authority.count))
        writer.u16(UInt16(additional.count + (edns == nil ? 0 : 1)))
        for question in questions {
            writer.name(question.name)
            writer.u16(question.type.rawValue)
            writer.u16(question.questionClass.rawValue)
        }
        for record in answers { writer.record(record) }
        for record in authority { writer.record(record) }
        for record in additional { writer.record(record) }
        if let edns {
            writer.u8(0)
            writer.u16(DNSType.opt.rawValue)
            writer.u16(edns.payloadSize)
            writer.u32(UInt32(edns.extendedCode) << 24 | UInt32(edns.version) << 16 | (edns.dnssecOK ? 0x8000 : 0))
            let lengthAt = writer.bytes.count
            writer.u16(0)
            for option in edns.options {
                writer.u16(option.code)
                writer.u16(UInt16(option.data.count))
                writer.bytes.append(contentsOf: option.data)
            }
            writer.patchLength(at: lengthAt)
        }
        guard writer.bytes.count <= limit else {
            throw DNSError(.tooLarge, "the message is \(writer.bytes.count) bytes, over its limit of \(limit)")
        }
        return writer.bytes
    }

    /// The message as it fits in `limit` bytes: whole, or (RFC 2181 §9, RFC 1035 §4.2.1) with
    /// TC set and only its question and OPT record, which tells the client to ask over TCP.
    public func bytes(fitting limit: Int) -> [UInt8] {
        if let whole = try? bytes(limit: limit) { return whole }
        var cut = self
        cut.isTruncated = true
        cut.answers = []
        cut.authority = []
        cut.additional = []
        // A question alone always fits a 512-byte limit (header 12 + name 255 + 4 + OPT 11).
        return (try? cut.bytes(limit: max(limit, 512))) ?? []
    }
}

/// Appends a message's fields, remembering where each name was written so later ones point
/// to it.
struct DNSWriter {
    var bytes: [UInt8]
    /// Lowercased wire suffixes already written, by offset (offsets below 0x4000 only: a
    /// pointer has 14 bits).
    private var written: [ArraySlice<UInt8>: UInt16] = [:]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8((v >> 16) & 0xFF))
        bytes.append(UInt8((v >> 8) & 0xFF)); bytes.append(UInt8(v & 0xFF))
    }

    /// Sets the two bytes at `at` to the length of what follows them.
    mutating func patchLength(at: Int) {
        let length = bytes.count - at - 2
        bytes[at] = UInt8(length >> 8)
        bytes[at + 1] = UInt8(length & 0xFF)
    }

    /// Writes `name`, ending in a pointer at the longest suffix already written.
    mutating func name(_ name: DNSName) {
        let lower = name.lowercased().wire
        var i = 0
        while lower[i] != 0 {
            let suffix = lower[i...]
            if let at = written[suffix] {
                u16(0xC000 | at)
                return
            }
            if bytes.count < 0x4000 { written[suffix] = UInt16(bytes.count) }
            let n = Int(name.wire[i])
            bytes.append(contentsOf: name.wire[i...(i + n)])
            i += 1 + n
        }
        bytes.append(0)
    }

    mutating func record(_ record: DNSRecord) {
        name(record.name)
        u16(record.type.rawValue)
        u16(record.recordClass.rawValue)
        u32(record.ttl)
        let lengthAt = bytes.count
        u16(0)
        switch record.data {
        case .a(let v4):
            bytes += [v4.bytes.0, v4.bytes.1, v4.bytes.2, v4.bytes.3]
        case .aaaa(let v6):
            bytes += v6.bytes
        case .ns(let target), .cname(let target):
            name(target)
        case .soa(let soa):
            name(soa.primary)
            name(soa.mailbox)
            u32(soa.serial); u32(soa.refresh); u32(soa.retry); u32(soa.expire); u32(soa.minimum)
        case .txt(let strings):
            for string in strings {
                let piece = string.prefix(255)
                u8(UInt8(piece.count))
                bytes += piece
            }
        case .opaque(let data):
            bytes += data
        }
        patchLength(at: lengthAt)
    }
}
