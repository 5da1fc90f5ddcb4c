import NIOCore
import NIOHTTP1

/// How a request and its response are rewritten on the way through: hop-by-hop headers
/// dropped (RFC 9110 §7.6.1), the body framed by the gateway itself, `X-Forwarded-*` added,
/// the target made origin-form. The `Host` header goes to the target as the client sent it.
enum HTTPForwarding {
    /// The protocol a request asks to switch to (`Upgrade`, named in `Connection`), if any.
    static func upgrade(of head: HTTPRequestHead) -> String? {
        guard let upgrade = head.headers.first(name: "upgrade"), !upgrade.isEmpty,
              head.headers["connection"].contains(where: { $0.lowercased().contains("upgrade") }) else { return nil }
        return upgrade
    }

    /// The head sent to the target, as bytes: the client's end-to-end fields with framing the
    /// gateway writes for the body it sends (`framing`, decided by `RequestRules`), never the
    /// client's own `Content-Length` or `Transfer-Encoding`; `X-Forwarded-For` with the
    /// client's address appended, `X-Forwarded-Proto` and `-Host` the gateway's own. Written
    /// straight from the client's fields: nothing is copied into another header list.
    static func upstreamHead(_ head: HTTPRequestHead, target: String, framing: BodyFraming, host: String, clientIP: String?,
                             scheme: String, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        let names = HeaderNames(connectionOf: head.headers)
        var bytes = allocator.buffer(capacity: 512)
        bytes.writeString(head.method.rawValue)
        bytes.writeStaticString(" ")
        bytes.writeString(target)
        bytes.writeStaticString(" HTTP/1.1\r\n")
        func field(_ name: String, _ value: String) {
            bytes.writeString(name)
            bytes.writeStaticString(": ")
            bytes.writeString(value)
            bytes.writeStaticString("\r\n")
        }
        var prior: [String] = []
        for (name, value) in head.headers where names.endToEnd(name) {
            if HeaderNames.any(name, of: HeaderNames.framing) || HeaderNames.any(name, of: forwardedFields) {
                if HeaderNames.equal(name, "x-forwarded-for") { prior.append(value) }
                continue
            }
            field(name, value)
        }
        switch framing {
        case .none: break
        case .length(let length): field("Content-Length", String(length))
        case .chunked: field("Transfer-Encoding", "chunked")
        }
        if let upgrade = upgrade(of: head) {
            // The one hop-by-hop exchange passed on: a protocol switch (WebSocket) end to end.
            field("Connection", "Upgrade")
            field("Upgrade", upgrade)
        }
        if clientIP != nil || !prior.isEmpty {
            bytes.writeStaticString("X-Forwarded-For: ")
            for value in prior {
                bytes.writeString(value)
                bytes.writeStaticString(", ")
            }
            if let clientIP { bytes.writeString(clientIP) } else { bytes.moveWriterIndex(to: bytes.writerIndex - 2) }
            bytes.writeStaticString("\r\n")
        }
        field("X-Forwarded-Proto", scheme)
        field("X-Forwarded-Host", host)
        bytes.writeStaticString("\r\n")
        return bytes
    }

    /// The fields the gateway writes itself on the way to the target.
    static let forwardedFields = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]

    /// The response head sent back to the client, as bytes, and how its body goes.
    struct DownstreamHead {
        var bytes: ByteBuffer
        /// The client's connection stays open after the response.
        var keepAlive: Bool
        /// The body goes in chunks the gateway frames (each part's size, then the last chunk).
        var chunked: Bool
    }

    /// The head sent back to the client: the target's status and fields, without hop-by-hop
    /// ones (and those its `Connection` names), framed for the body the gateway sends: a
    /// response without a body (to HEAD; 1xx, 204, 304) keeps `Content-Length` as metadata and
    /// never says chunked; one with a `Content-Length` keeps it; any other (chunked, or
    /// delimited by the target's close) goes chunked to an HTTP/1.1 client and, delimited by the
    /// close, to an HTTP/1.0 one. Says `close` when the client's connection closes after it;
    /// `keepAlive` is false when the framing needs that. The fields kept are copied as the
    /// target sent them, line by line.
    static func downstreamHead(_ head: ResponseParser.Head, version: HTTPVersion, keepAlive: Bool,
                               allocator: ByteBufferAllocator = ByteBufferAllocator()) -> DownstreamHead {
        var bytes = allocator.buffer(capacity: head.fields.readableBytes + head.reason.readableBytes + 64)
        bytes.writeStaticString(version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        let status = head.status
        bytes.writeInteger(UInt8(0x30 + status / 100))
        bytes.writeInteger(UInt8(0x30 + status / 10 % 10))
        bytes.writeInteger(UInt8(0x30 + status % 10))
        bytes.writeStaticString(" ")
        bytes.writeImmutableBuffer(head.reason)
        bytes.writeStaticString("\r\n")
        let switching = head.status == 101 && head.upgrade != nil
        let keepLength = switching || head.framing == .none || (!head.bothFramings && head.framing != .chunked
                                                                 && head.framing != .untilClose)
        head.fields.withUnsafeReadableBytes { fields in
            // Field lines the parser accepted: each `name:` then CRLF.
            var start = 0
            while start < fields.count {
                let colon = fields[start...].firstIndex(of: UInt8(ascii: ":"))!
                let end = fields[colon...].firstIndex(of: 0x0D)! + 2
                let name = fields[start..<colon]
                let kept: Bool
                switch name.count {
                case 17 where HeaderNames.equal(name, "transfer-encoding"): kept = false
                case 14 where HeaderNames.equal(name, "content-length"): kept = keepLength
                default:
                    kept = !HeaderNames.isHopByHop(name)
                        && (head.connectionNames.isEmpty || !head.connectionNames.contains { HeaderNames.equal(name, $0) })
                }
                if kept { bytes.writeBytes(UnsafeRawBufferPointer(rebasing: fields[start..<end])) }
                start = end
            }
        }
        func field(_ line: StaticString) {
            bytes.writeStaticString(line)
        }
        if switching {
            field("Connection: Upgrade\r\n")
            bytes.writeString("Upgrade: \(head.upgrade!)\r\n")
            bytes.writeStaticString("\r\n")
            return DownstreamHead(bytes: bytes, keepAlive: keepAlive, chunked: false)
        }
        var keepAlive = keepAlive
        var chunked = false
        if !keepLength {
            if version == .http1_1 {
                field("Transfer-Encoding: chunked\r\n")
                chunked = true
            } else {
                keepAlive = false
            }
        }
        if !keepAlive {
            field("Connection: close\r\n")
        } else if version == .http1_0 {
            field("Connection: keep-alive\r\n")
        }
        bytes.writeStaticString("\r\n")
        return DownstreamHead(bytes: bytes, keepAlive: keepAlive, chunked: chunked)
    }

    /// The Host header's host, lower-cased, without port or trailing dot.
    static func hostOnly(_ authority: Substring) -> String {
        var text = authority
        if let at = text.lastIndex(of: "@") { text = text[text.index(after: at)...] }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            text = text[...close]
        } else if let colon = text.lastIndex(of: ":") {
            text = text[..<colon]
        }
        if text.hasSuffix(".") { text = text.dropLast() }
        return text.lowercased()
    }
}
