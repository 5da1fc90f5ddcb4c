import NIOHTTP1

/// How a request and its response are rewritten on the way through: hop-by-hop headers
/// dropped (RFC 9110 §7.6.1), `X-Forwarded-*` added, an absolute-form target made
/// origin-form. The `Host` header goes to the target as the client sent it.
enum HTTPForwarding {
    /// Headers that describe one connection, never forwarded; `Connection` may name more.
    /// (`Transfer-Encoding` stays: SwiftNIO's encoders frame the body by it.)
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
                                        "proxy-authorization", "proxy-authenticate"]

    /// `headers` without the hop-by-hop ones.
    static func endToEnd(_ headers: HTTPHeaders) -> HTTPHeaders {
        var named = hopByHop
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                named.insert(token.trimmingCharacters(in: " \t").lowercased())
            }
        }
        var out = HTTPHeaders()
        out.reserveCapacity(headers.count + 3)
        for (name, value) in headers where !named.contains(name.lowercased()) {
            out.add(name: name, value: value)
        }
        return out
    }

    /// The protocol a request asks to switch to (`Upgrade`, named in `Connection`), if any.
    static func upgrade(of head: HTTPRequestHead) -> String? {
        guard let upgrade = head.headers.first(name: "upgrade"), !upgrade.isEmpty,
              head.headers["connection"].contains(where: { $0.lowercased().contains("upgrade") }) else { return nil }
        return upgrade
    }

    /// The head sent to the target.
    static func upstreamHead(_ head: HTTPRequestHead, host: String, clientIP: String?, scheme: String) -> HTTPRequestHead {
        var headers = endToEnd(head.headers)
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
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: originForm(head.uri), headers: headers)
    }

    /// The head sent back to the client: the target's, without hop-by-hop headers, saying
    /// `close` when the gateway will close the client's connection after it.
    static func downstreamHead(_ head: HTTPResponseHead, version: HTTPVersion, keepAlive: Bool) -> HTTPResponseHead {
        var headers = endToEnd(head.headers)
        if head.status == .switchingProtocols, let upgrade = head.headers.first(name: "upgrade") {
            headers.add(name: "Connection", value: "Upgrade")
            headers.add(name: "Upgrade", value: upgrade)
            return HTTPResponseHead(version: version, status: head.status, headers: headers)
        }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        return HTTPResponseHead(version: version, status: head.status, headers: headers)
    }

    /// `/path?query` of an absolute-form target (`http://host/path`); other forms unchanged.
    static func originForm(_ uri: String) -> String {
        guard let authority = absoluteFormAuthority(uri) else { return uri }
        let rest = uri.utf8.dropFirst(authority.end)
        let path = String(Substring(rest))
        return path.isEmpty ? "/" : (path.hasPrefix("/") ? path : "/" + path)
    }

    /// The host of an absolute-form target, lower-cased, without port, userinfo or trailing
    /// dot; nil for origin-form.
    static func absoluteFormHost(_ uri: String) -> String? {
        guard let authority = absoluteFormAuthority(uri) else { return nil }
        return hostOnly(authority.text)
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

    private static func absoluteFormAuthority(_ uri: String) -> (text: Substring, end: Int)? {
        let lower = uri.prefix(8).lowercased()
        let schemeLength: Int
        if lower.hasPrefix("http://") { schemeLength = 7 } else if lower.hasPrefix("https://") { schemeLength = 8 } else { return nil }
        let bytes = uri.utf8
        let start = bytes.index(bytes.startIndex, offsetBy: schemeLength)
        let end = bytes[start...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.endIndex
        return (Substring(bytes[start..<end]), bytes.distance(from: bytes.startIndex, to: end))
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
