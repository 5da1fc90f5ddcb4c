/// An HTTP/1.1 response read as its bytes arrive: the head, then the body by `Content-Length`,
/// by chunks, or up to the connection's end (RFC 9112 §6). A state machine: `feed` takes bytes
/// and returns the body bytes they complete; `isFinished` says when the response is whole.
struct ResponseParser {
    /// What went wrong reading a response, said for a person.
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private enum State {
        case head
        case body(left: Int)
        case chunkSize
        case chunkData(left: Int)
        case chunkEnd
        case trailers
        case untilClose
        case done
    }

    /// The status code, once the head is in.
    private(set) var status: Int?
    /// Whether the server said it closes the connection after this response.
    private(set) var closes = false
    private var state = State.head
    private var pending: [UInt8] = []
    /// The longest response head read (status line and headers).
    static let headLimit = 65_536

    var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// Whether the body runs to the connection's end (then EOF finishes it).
    var endsAtClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// Marks a body that runs to the connection's end as finished (the connection ended).
    mutating func connectionEnded() {
        if case .untilClose = state { state = .done }
    }

    /// Takes bytes from the connection and returns the body bytes among them.
    mutating func feed(_ bytes: ArraySlice<UInt8>) throws(Malformed) -> [UInt8] {
        pending += bytes
        var body: [UInt8] = []
        var i = 0
        loop: while true {
            switch state {
            case .head:
                guard let end = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: pending, from: i) else {
                    if pending.count - i > Self.headLimit { throw Malformed(description: "a response head over \(Self.headLimit) bytes") }
                    break loop
                }
                try readHead(pending[i..<end])
                i = end + 4
            case .body(let left):
                let n = min(left, pending.count - i)
                body += pending[i..<(i + n)]
                i += n
                state = left == n ? .done : .body(left: left - n)
                if left != n { break loop }
            case .chunkSize:
                guard let end = Self.find([0x0D, 0x0A], in: pending, from: i) else {
                    if pending.count - i > 1024 { throw Malformed(description: "a chunk size line over 1024 bytes") }
                    break loop
                }
                let line = pending[i..<end].prefix { $0 != UInt8(ascii: ";") }
                guard let size = Int(String(decoding: line, as: UTF8.self).trimmingSpaces, radix: 16), size >= 0 else {
                    throw Malformed(description: "a chunk size that is not a hex number")
                }
                i = end + 2
                state = size == 0 ? .trailers : .chunkData(left: size)
            case .chunkData(let left):
                let n = min(left, pending.count - i)
                body += pending[i..<(i + n)]
                i += n
                state = left == n ? .chunkEnd : .chunkData(left: left - n)
                if left != n { break loop }
            case .chunkEnd:
                guard pending.count - i >= 2 else { break loop }
                guard pending[i] == 0x0D, pending[i + 1] == 0x0A else { throw Malformed(description: "a chunk not ended by CRLF") }
                i += 2
                state = .chunkSize
            case .trailers:
                guard let end = Self.find([0x0D, 0x0A], in: pending, from: i) else { break loop }
                if end == i { state = .done }
                i = end + 2
            case .untilClose:
                body += pending[i...]
                i = pending.count
                break loop
            case .done:
                break loop
            }
        }
        pending.removeFirst(i)
        return body
    }

    private mutating func readHead(_ head: ArraySlice<UInt8>) throws(Malformed) {
        let lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self)
        }
        let statusLine = lines.first ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]), (100..<600).contains(code) else {
            throw Malformed(description: "not an HTTP/1.1 response: \(statusLine.prefix(80))")
        }
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...]).trimmingSpaces
            switch name {
            case "content-length":
                guard let n = Int(value), n >= 0 else { throw Malformed(description: "a Content-Length of '\(value.prefix(20))'") }
                length = n
            case "transfer-encoding":
                chunked = value.lowercased().hasSuffix("chunked")
            case "connection":
                closes = value.lowercased().contains("close")
            default:
                break
            }
        }
        if (100..<200).contains(code) {
            state = .head // an interim response (100 Continue): the real one follows
            return
        }
        status = code
        if code == 204 || code == 304 {
            state = .done
        } else if chunked {
            state = .chunkSize
        } else if let length {
            state = length == 0 ? .done : .body(left: length)
        } else {
            state = .untilClose
            closes = true
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count - start >= needle.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let bytes = utf8.drop { $0 == 0x20 || $0 == 0x09 }
        let trimmed = bytes.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        return String(decoding: Array(trimmed), as: UTF8.self)
    }
}
