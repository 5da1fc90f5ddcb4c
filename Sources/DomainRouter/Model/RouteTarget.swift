#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, as parsed by `inet_pton` (dotted-quad only: no `0x7f.1` forms).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public let bytes: [UInt8]

    /// An IPv4 or IPv6 address from its text; nil when it is not one.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    /// Whether the address is IPv6.
    public var isIPv6: Bool { bytes.count == 16 }

    /// The address of the same family with only the first `length` bits of this one (the
    /// network of a block).
    func masked(to length: Int) -> IPAddress {
        var copy = bytes
        var remaining = length
        for i in copy.indices {
            let bits = min(8, max(0, remaining))
            copy[i] &= UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            remaining -= 8
        }
        return IPAddress(bytes: copy)
    }


    /// The text for a person: messages and logs.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var copy = bytes
        _ = copy.withUnsafeMutableBytes { raw in
            inet_ntop(isIPv6 ? AF_INET6 : AF_INET, raw.baseAddress, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address block such as `10.0.0.0/8` or `fd00::/8`; a bare address is a single-host block.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The network's address.
    public let address: IPAddress
    /// How many leading bits are the network.
    public let prefixLength: Int

    /// A block from `a.b.c.d/n` or `v6/n` (a bare address is /32 or /128). Host bits are
    /// cleared, as `ip route` does: `10.0.0.1/8` is the block `10.0.0.0/8`, and says so.
    public init(_ text: String) throws(RouteError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else {
            throw .invalidArgument("'\(text)' is not a CIDR block such as 10.0.0.0/8 or fd00::/8")
        }
        let maximum = address.bytes.count * 8
        var length = maximum
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...maximum).contains(n) else {
                throw .invalidArgument("'\(text)': the prefix length must be 0 to \(maximum)")
            }
            length = n
        }
        self.address = address.masked(to: length)
        self.prefixLength = length
    }

    /// Whether `ip` lies inside this block (same address family only).
    public func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == address.bytes.count else { return false }
        var remaining = prefixLength
        for i in 0..<ip.bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if ip.bytes[i] & mask != address.bytes[i] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The text for a person: messages and logs.
    public var description: String { "\(address)/\(prefixLength)" }
}

/// Where a gateway forwards a route's traffic: `host:port` (`[v6]:port` for IPv6) or `unix:/path`.
public enum RouteTarget: Hashable, Sendable, CustomStringConvertible {
    case address(host: String, port: UInt16)
    case unixSocket(path: String)

    /// Parses a target; throws `invalidArgument` saying what form was expected.
    public init(parsing text: String) throws(RouteError) {
        if text.utf8.starts(with: "unix:".utf8) {
            let path = String(Substring(text.utf8.dropFirst(5)))
            guard path.hasPrefix("/"), !path.utf8.contains(0), path.utf8.count <= 107 else {
                throw .invalidArgument(
                    "target '\(text)': a Unix socket target is unix:/absolute/path (at most 107 bytes)")
            }
            self = .unixSocket(path: path)
            return
        }
        let usage = "target '\(text)' is not host:port, [ipv6]:port or unix:/path"
        guard let colon = text.lastIndex(of: ":") else { throw .invalidArgument(usage) }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = UInt16(portText), port > 0 else {
            throw .invalidArgument("target '\(text)': the port must be a number from 1 to 65535")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard let ip = IPAddress(host), ip.isIPv6 else { throw .invalidArgument(usage) }
            self = .address(host: ip.description, port: port)
            return
        }
        if let ip = IPAddress(host), !ip.isIPv6 {
            self = .address(host: ip.description, port: port)
            return
        }
        do {
            host = try HostNames.canonicalize(host, as: .name, allowWildcard: false, validateIDN: true)
        } catch {
            throw .invalidArgument("target '\(text)': \(error)")
        }
        self = .address(host: host, port: port)
    }

    /// The IP address of an `address` target, when its host is one.
    public var ipAddress: IPAddress? {
        if case .address(let host, _) = self { return IPAddress(host) }
        return nil
    }

    /// The text for a person: messages and logs.
    public var description: String {
        switch self {
        case .address(let host, let port):
            return host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket(let path):
            return "unix:\(path)"
        }
    }
}
