/// Where the HTTP API is: `http://HOST[:PORT][/PREFIX]` or `https://…`, checked before any
/// connection so that a typo is a usage error, not a network one.
public struct Endpoint: Sendable, Hashable {
    /// Whether it is `https://`.
    public var isTLS: Bool
    /// The host as written (a name, an IPv4 address, or an IPv6 one in brackets).
    public var host: String
    /// The port: as written, else 80 or 443.
    public var port: Int
    /// `HOST[:PORT]` as written: the Host header.
    public var authority: String
    /// The path the API's paths follow (empty, or `/prefix` without a trailing slash).
    public var pathPrefix: String

    /// Reads `url`; throws saying what is wrong with it.
    public init(_ url: String) throws(ConfigurationError) {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("http://") {
            isTLS = false
            rest = url.dropFirst(7)
        } else if lower.hasPrefix("https://") {
            isTLS = true
            rest = url.dropFirst(8)
        } else {
            throw ConfigurationError("'\(url)' is not an http:// or https:// URL (e.g. http://127.0.0.1:8080)")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.hasPrefix(":") else {
            throw ConfigurationError("'\(url)' names no host (e.g. http://127.0.0.1:8080)")
        }
        guard !authority.contains("@") else {
            throw ConfigurationError("'\(url)' has credentials in it: pass the token with --token-file or ROUTER_TOKEN")
        }
        let path = rest.dropFirst(authority.count)
        guard !path.contains("?"), !path.contains("#") else {
            throw ConfigurationError("'\(url)' has a query or fragment: give the API's base URL only")
        }
        var trimmed = String(path)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.authority = String(authority)
        pathPrefix = trimmed
        var hostPart = Substring(authority)
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw ConfigurationError("'\(url)' has an IPv6 address without its closing ]") }
            hostPart = authority[...close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty { throw ConfigurationError("'\(url)' has text after its IPv6 address") }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        host = String(hostPart)
        if let portPart {
            guard let n = Int(portPart), (1...65535).contains(n) else { throw ConfigurationError("'\(url)' has no port 1-65535 after its ':'") }
            port = n
        } else {
            port = isTLS ? 443 : 80
        }
    }
}
