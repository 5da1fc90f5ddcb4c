import Foundation
import RouterProtocol

/// Raw HTTP/1.1 bytes sent to a proxy as a client would, and every response that came back:
/// the client side of a request-smuggling test.
public enum HTTPProbe {
    /// Where the proxy listens.
    public enum Endpoint: Sendable {
        case tcp(port: Int)
        case unix(path: String)
    }

    /// One response as the client read it.
    public struct Response: Sendable, CustomStringConvertible {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        /// The backend's sequence number of the request this answers (`X-Seq`); nil for a
        /// response the proxy wrote itself.
        public var seq: Int? {
            headers.first { $0.name.lowercased() == "x-seq" }.flatMap { Int($0.value) }
        }

        public var description: String { seq.map { "\(status) (seq \($0))" } ?? "\(status) (proxy)" }
    }

    /// What a probe got back.
    public struct Result: Sendable, CustomStringConvertible {
        /// The responses, in the order they arrived.
        public var responses: [Response]
        /// The proxy closed the connection (not a timeout).
        public var closed: Bool
        /// Bytes after the last whole response that do not make one.
        public var leftover: [UInt8]
        /// Everything the proxy sent, as text.
        public var raw = ""

        public var description: String {
            "\(responses)" + (closed ? "" : " (not closed)") + (leftover.isEmpty ? "" : " + \(leftover.count) stray bytes")
        }
    }

    /// Connects, writes each segment with its own `write`, half-closes when `halfClose` (a
    /// client that has said everything), and reads until the proxy closes or `timeout`
    /// seconds pass.
    public static func send(_ segments: [[UInt8]], to endpoint: Endpoint, halfClose: Bool = true, timeout: Double = 10) -> Result {
        let fd: Int32
        switch endpoint {
        case .tcp(let port): fd = connectTCP(port: port)
        case .unix(let path): fd = UnixSocketAddress.connect(path)
        }
        guard fd >= 0 else { return Result(responses: [], closed: true, leftover: Array("cannot connect".utf8)) }
        defer { close(fd) }
        for segment in segments {
            var sent = 0
            while sent < segment.count {
                // A proxy that stopped reading may reset the connection: what it answered counts.
                let n = segment[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                sent += n
            }
        }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(timeout)
        var closed = false
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) >= 0 else { break }
            if p.revents == 0 { continue }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 {
                closed = true
                break
            }
            bytes += chunk[..<n]
        }
        let (responses, rest) = parseResponses(bytes)
        return Result(responses: responses, closed: closed, leftover: rest, raw: String(decoding: bytes, as: UTF8.self))
    }

    /// The whole responses at the start of `bytes`, and what follows them.
    public static func parseResponses(_ bytes: [UInt8]) -> ([Response], [UInt8]) {
        var responses: [Response] = []
        var index = 0
        while index < bytes.count {
            guard let (response, end) = parseResponse(bytes, from: index) else { break }
            index = end
            if response.status >= 200 { responses.append(response) }
        }
        return (responses, Array(bytes[index...]))
    }

    private static func parseResponse(_ bytes: [UInt8], from start: Int) -> (Response, Int)? {
        var index = start
        var lines: [String] = []
        while true {
            guard let lf = bytes[index...].firstIndex(of: 10) else { return nil }
            var line = bytes[index..<lf]
            if line.last == 13 { line = line.dropLast() }
            index = lf + 1
            if line.isEmpty { break }
            lines.append(String(decoding: line, as: UTF8.self))
        }
        let start = lines.first?.split(separator: " ") ?? []
        guard start.count >= 2, start[0].hasPrefix("HTTP/"), let status = Int(start[1]) else { return nil }
        var response = Response(status: status, headers: [], body: [])
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            response.headers.append((String(line[..<colon]), value))
        }
        func header(_ name: String) -> String? {
            response.headers.first { $0.name.lowercased() == name }?.value
        }
        if status < 200 || status == 204 || status == 304 { return (response, index) }
        if header("transfer-encoding")?.lowercased().contains("chunked") == true {
            while true {
                guard let lf = bytes[index...].firstIndex(of: 10) else { return nil }
                let line = String(decoding: bytes[index..<lf], as: UTF8.self)
                index = lf + 1
                guard let size = Int(line.split(separator: ";")[0].trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) else { return nil }
                if size == 0 {
                    while true {
                        guard let end = bytes[index...].firstIndex(of: 10) else { return nil }
                        let empty = end == index || (end == index + 1 && bytes[index] == 13)
                        index = end + 1
                        if empty { return (response, index) }
                    }
                }
                guard bytes.count >= index + size + 2 else { return nil }
                response.body += bytes[index..<index + size]
                index += size + 2
            }
        }
        if let length = header("content-length").flatMap({ Int($0) }) {
            guard bytes.count >= index + length else { return nil }
            response.body = Array(bytes[index..<index + length])
            return (response, index + length)
        }
        response.body = Array(bytes[index...])
        return (response, bytes.count)
    }
}
