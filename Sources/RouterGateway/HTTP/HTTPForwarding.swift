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
        let upgrade = upgrade(of: head)
        // Room for every field of the client's (more than those kept) and each the gateway adds.
        var room = head.method.rawValue.utf8.count + target.utf8.count + 12
        for (name, value) in head.headers { room += name.utf8.count + value.utf8.count + 4 }
        room += 40 + (upgrade.map { $0.utf8.count + 32 } ?? 0) + (clientIP?.utf8.count ?? 0) + 19
        room += scheme.utf8.count + 21 + host.utf8.count + 20 + 2
        var bytes = allocator.buffer(capacity: room)
        HeadBytes.write(into: &bytes, capacity: room) { out in
            out.put(head.method.rawValue)
            out.put(" ")
            out.put(target)
            out.put(" HTTP/1.1\r\n")
            func field(_ name: StaticString, _ value: String) {
                out.put(name)
                out.put(value)
                out.put("\r\n")
            }
            var prior: [String] = []
            for (name, value) in head.headers where names.endToEnd(name) {
                if HeaderNames.any(name, of: HeaderNames.framing) || HeaderNames.any(name, of: forwardedFields) {
                    if HeaderNames.equal(name, "x-forwarded-for") { prior.append(value) }
                    continue
                }
                out.put(name)
                out.put(": ")
                out.put(value)
                out.put("\r\n")
            }
            switch framing {
            case .none: break
            case .length(let length):
                out.put("Content-Length: ")
                out.put(decimal: length)
                out.put("\r\n")
            case .chunked: out.put("Transfer-Encoding: chunked\r\n")
            }
            if let upgrade {
                // The one hop-by-hop exchange passed on: a protocol switch (WebSocket) end to end.
                out.put("Connection: Upgrade\r\n")
                field("Upgrade: ", upgrade)
            }
            if clientIP != nil || !prior.isEmpty {
                out.put("X-Forwarded-For: ")
                for (index, value) in prior.enumerated() {
                    if index > 0 { out.put(", ") }
                    out.put(value)
                }
                if let clientIP {
                    if !prior.isEmpty { out.put(", ") }
                    out.put(clientIP)
                }
                out.put("\r\n")
            }
            field("X-Forwarded-Proto: ", scheme)
            field("X-Forwarded-Host: ", host)
            out.put("\r\n")
        }
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
        let switching = head.status == 101 && head.upgrade != nil
        let keepLength = switching || head.framing == .none || (!head.bothFramings && head.framing != .chunked
                                                                 && head.framing != .untilClose)
        var keepAlive = keepAlive
        var chunked = false
        if !switching && !keepLength {
            if version == .http1_1 { chunked = true } else { keepAlive = false }
        }
        // The status line, the fields kept (at most all of them), and the few the gateway adds.
        let room = 13 + head.reason.readableBytes + 2 + head.fields.readableBytes + 64 + (head.upgrade?.utf8.count ?? 0)
        var bytes = allocator.buffer(capacity: room)
        HeadBytes.write(into: &bytes, capacity: room) { out in
            out.put(version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
            let status = head.status
            out.put(UInt8(0x30 + status / 100))
            out.put(UInt8(0x30 + status / 10 % 10))
            out.put(UInt8(0x30 + status % 10))
            out.put(" ")
            head.reason.withUnsafeReadableBytes { out.put($0) }
            out.put("\r\n")
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
                    if kept { out.put(UnsafeRawBufferPointer(rebasing: fields[start..<end])) }
                    start = end
                }
            }
            if switching {
                out.put("Connection: Upgrade\r\nUpgrade: ")
                out.put(head.upgrade!)
                out.put("\r\n\r\n")
                return
            }
            if chunked { out.put("Transfer-Encoding: chunked\r\n") }
            if !keepAlive {
                out.put("Connection: close\r\n")
            } else if version == .http1_0 {
                out.put("Connection: keep-alive\r\n")
            }
            out.put("\r\n")
        }
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
