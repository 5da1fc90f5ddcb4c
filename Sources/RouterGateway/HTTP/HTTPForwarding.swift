import NIOHTTP1

/// How a request and its response are rewritten on the way through: hop-by-hop headers
/// dropped (RFC 9110 §7.6.1), the body framed by the gateway itself, `X-Forwarded-*` added,
/// the target made origin-form. The `Host` header goes to the target as the client sent it.
enum HTTPForwarding {
    /// Headers that describe one connection, never forwarded; `Connection` may name more.
    static let hopByHop = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
                           "proxy-authorization", "proxy-authenticate"]

    /// Fields a `Connection` header may not remove: the message's framing and its Host. A
    /// `Connection` naming them is ignored for them (the request is still served): the
    /// framing is rewritten by the gateway anyway, and Host routes the request.
    static let protected: Set<String> = ["content-length", "transfer-encoding", "host"]

    /// `headers` without the hop-by-hop ones, and without `dropping` (lower-case names).
    /// Names compare case-insensitively in place: nothing is copied unless removed.
    static func endToEnd(_ headers: HTTPHeaders, dropping: [String] = []) -> HTTPHeaders {
        var out = headers
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                let name = RequestRules.trimmed(token).lowercased()
                if !name.isEmpty && !protected.contains(name) { out.remove(name: name) }
            }
        }
        for name in hopByHop where out.contains(name: name) { out.remove(name: name) }
        for name in dropping where out.contains(name: name) { out.remove(name: name) }
        return out
    }

    /// The protocol a request asks to switch to (`Upgrade`, named in `Connection`), if any.
    static func upgrade(of head: HTTPRequestHead) -> String? {
        guard let upgrade = head.headers.first(name: "upgrade"), !upgrade.isEmpty,
              head.headers["connection"].contains(where: { $0.lowercased().contains("upgrade") }) else { return nil }
        return upgrade
    }

    static let framingFields = ["content-length", "transfer-encoding"]

    /// The head sent to the target: the client's end-to-end fields with framing the gateway
    /// writes for the body it sends (`framing`, decided by `RequestRules`), never the
    /// client's own `Content-Length` or `Transfer-Encoding`.
    static func upstreamHead(_ head: HTTPRequestHead, target: String, framing: BodyFraming, host: String, clientIP: String?,
                             scheme: String) -> HTTPRequestHead {
        var headers = endToEnd(head.headers, dropping: framingFields)
        switch framing {
        case .none: break
        case .length(let length): headers.add(name: "Content-Length", value: String(length))
        case .chunked: headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        if let upgrade = upgrade(of: head) {
            // The one hop-by-hop exchange passed on: a protocol switch (WebSocket) end to end.
            headers.add(name: "Connection", value: "Upgrade")
            headers.add(name: "Upgrade", value: upgrade)
        }
        if let clientIP {
            let prior = headers["x-forwarded-for"].joined(separator: ", ")
            headers.replaceOrAdd(name: "X-Forwarded-For", value: prior.isEmpty ? clientIP : "\(prior), \(clientIP)")
        }
        headers.replaceOrAdd(name: "X-Forwarded-Proto", value: scheme)
        headers.replaceOrAdd(name: "X-Forwarded-Host", value: host)
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: target, headers: headers)
    }

    /// The head sent back to the client: the target's, without hop-by-hop headers, framed for
    /// the body the gateway sends (the response encoder adds nothing): a response without a
    /// body (to HEAD; 1xx, 204, 304) keeps `Content-Length` as metadata and never says
    /// chunked; one with a `Content-Length` keeps it; any other (chunked, or delimited by the
    /// target's close) goes chunked to an HTTP/1.1 client and, delimited by the close, to an
    /// HTTP/1.0 one. Says `close` when the client's connection closes after it; `keepAlive` is
    /// false when the framing needs that.
    static func downstreamHead(_ head: HTTPResponseHead, to method: HTTPMethod, version: HTTPVersion,
                               keepAlive: Bool) -> (head: HTTPResponseHead, keepAlive: Bool) {
        var headers = endToEnd(head.headers)
        if head.status == .switchingProtocols, let upgrade = head.headers.first(name: "upgrade") {
            headers.add(name: "Connection", value: "Upgrade")
            headers.add(name: "Upgrade", value: upgrade)
            return (HTTPResponseHead(version: version, status: head.status, headers: headers), keepAlive)
        }
        var keepAlive = keepAlive
        let code = head.status.code
        if method == .HEAD || code < 200 || code == 204 || code == 304 {
            headers.remove(name: "transfer-encoding")
        } else if !headers.contains(name: "content-length") || headers.contains(name: "transfer-encoding") {
            headers.remove(name: "content-length")
            headers.remove(name: "transfer-encoding")
            if version == .http1_1 {
                headers.add(name: "Transfer-Encoding", value: "chunked")
            } else {
                keepAlive = false
            }
        }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        return (HTTPResponseHead(version: version, status: head.status, headers: headers), keepAlive)
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
