import NIOHTTP1

/// How a request's body is delimited, decided once from the client's head (RFC 9112 §6.3);
/// the head sent upstream carries framing written from it, never the client's fields.
enum BodyFraming: Equatable {
    /// No body.
    case none
    /// `Content-Length` bytes.
    case length(Int)
    /// Chunked, until its last chunk.
    case chunked
}

/// Why the gateway answers a request itself instead of forwarding it.
struct RequestRefusal: Error, Equatable {
    enum Code: Equatable {
        /// The body's framing is ambiguous or unsupported.
        case framing
        /// The request-target's form, scheme or authority is not one the gateway forwards.
        case target
        /// The Host field is missing or repeated.
        case host
        /// The method asks for what the gateway does not do (CONNECT).
        case method
    }

    var code: Code
    var status: HTTPResponseStatus
    /// Said to the client; names the field or form at fault.
    var message: String

    /// Framing the gateway cannot trust: where the body ends is unknown, so the connection
    /// closes right after the answer and nothing after the head is read as a request.
    var closesAtOnce: Bool { code == .framing }
}

/// The rules a request head must pass before anything of it goes to a target: framing by
/// RFC 9112 §6 (stricter than the decoder, which accepts codings it does not apply), the
/// request-target's form by §3.2, one Host.
enum RequestRules {
    /// The body framing of `head`, or why it is refused.
    ///
    /// `Transfer-Encoding` must be one field whose value is exactly the token `chunked`
    /// (any case): another coding cannot be framed here (501 when `chunked` is last, else 400),
    /// and a list or a second field is a known smuggling vector. It may not come with
    /// `Content-Length`, nor in HTTP/1.0. `Content-Length` must be one field of digits only
    /// (RFC 9110 §8.6 lets a recipient refuse a list or repeated field even of equal values,
    /// and the gateway does).
    static func framing(of head: HTTPRequestHead) throws(RequestRefusal) -> BodyFraming {
        let codings = head.headers["transfer-encoding"]
        let lengths = head.headers["content-length"]
        if !codings.isEmpty {
            if !lengths.isEmpty {
                throw refusal(.badRequest, "The request has both Transfer-Encoding and Content-Length.")
            }
            guard codings.count == 1 else {
                throw refusal(.badRequest, "The request has more than one Transfer-Encoding field.")
            }
            let value = trimmed(Substring(codings[0]))
            guard value.lowercased() == "chunked" else {
                let codings = value.split(separator: ",", omittingEmptySubsequences: false).map { trimmed($0).lowercased() }
                // Chunked last, once, after codings the gateway does not apply: 501. Chunked
                // twice, or not last, or anything unparseable: 400 (§6.1, §7).
                if codings.last == "chunked" && codings.filter({ $0 == "chunked" }).count == 1
                    && codings.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(RequestDecoder.isTokenByte) }) {
                    throw refusal(.notImplemented, "Transfer-Encoding \(value) is not supported; send chunked alone.")
                }
                throw refusal(.badRequest, "Transfer-Encoding must be chunked.")
            }
            guard head.version.major == 1, head.version.minor >= 1 else {
                throw refusal(.badRequest, "An HTTP/1.0 request cannot be chunked.")
            }
            return .chunked
        }
        guard let field = lengths.first else { return .none }
        guard lengths.count == 1 else { throw refusal(.badRequest, "The request has more than one Content-Length field.") }
        let digits = trimmed(Substring(field))
        guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let length = Int(digits) else {
            throw refusal(.badRequest, "Content-Length must be one decimal number of bytes.")
        }
        return .length(length)
    }

    /// The origin-form target to send upstream (RFC 9112 §3.2), or why `head`'s target is
    /// refused: origin-form as it is; absolute-form only for `http` and `https` without
    /// userinfo and with the Host field's authority; asterisk-form only for OPTIONS;
    /// CONNECT (authority-form) is 405, as no route tunnels.
    static func originTarget(of head: HTTPRequestHead, host: String) throws(RequestRefusal) -> String {
        let uri = head.uri
        if head.method == .CONNECT {
            throw RequestRefusal(code: .method, status: .methodNotAllowed, message: "CONNECT is not served here.")
        }
        if uri.utf8.first == UInt8(ascii: "/") { return uri }
        if uri == "*" {
            guard head.method == .OPTIONS else { throw targetRefusal("Only OPTIONS may ask for *.") }
            return uri
        }
        let bytes = uri.utf8
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
            throw targetRefusal("The request target must be a path or an http:// or https:// URL.")
        }
        let scheme = Substring(bytes[..<colon]).lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw targetRefusal("Only http:// and https:// URLs are forwarded.")
        }
        let rest = bytes[colon...]
        guard rest.starts(with: "://".utf8) else { throw targetRefusal("The request target is not a URL.") }
        let authorityStart = bytes.index(colon, offsetBy: 3)
        let authorityEnd = bytes[authorityStart...].firstIndex {
            $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
        } ?? bytes.endIndex
        let authority = Substring(bytes[authorityStart..<authorityEnd])
        guard !authority.isEmpty, !authority.contains("@") else {
            throw targetRefusal("The request target's authority must be a host, without user information.")
        }
        guard HTTPForwarding.hostOnly(authority) == HTTPForwarding.hostOnly(Substring(host)) else {
            throw targetRefusal("The request target's host is not the Host header's.")
        }
        let path = String(Substring(bytes[authorityEnd...]))
        if path.isEmpty { return "/" }
        return path.hasPrefix("/") ? path : "/" + path
    }

    /// The one Host field of `head`, or why there is not exactly one.
    static func host(of head: HTTPRequestHead) throws(RequestRefusal) -> String {
        var host: String?
        var count = 0
        for (name, value) in head.headers where HeaderNames.equal(name, "host") {
            host = value
            count += 1
        }
        guard count == 1, let host, !host.isEmpty else {
            throw RequestRefusal(code: .host, status: .badRequest,
                                 message: count == 0 ? "The request has no Host header."
                                     : count > 1 ? "The request has more than one Host header." : "The request's Host header is empty.")
        }
        return host
    }

    private static func refusal(_ status: HTTPResponseStatus, _ message: String) -> RequestRefusal {
        RequestRefusal(code: .framing, status: status, message: message)
    }

    private static func targetRefusal(_ message: String) -> RequestRefusal {
        RequestRefusal(code: .target, status: .badRequest, message: message)
    }

    /// `text` without the optional whitespace (SP, HTAB) around it.
    static func trimmed(_ text: Substring) -> Substring {
        // By bytes, not Characters: no grapheme breaking for two ASCII bytes.
        let utf8 = text.utf8
        var start = utf8.startIndex, end = utf8.endIndex
        while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start = utf8.index(after: start) }
        while start < end {
            let last = utf8.index(before: end)
            guard utf8[last] == 0x20 || utf8[last] == 0x09 else { break }
            end = last
        }
        return text[start..<end]
    }
}
