import NIOCore
import NIOPosix
import Synchronization

/// The victim of a request-smuggling test: an HTTP/1.1 server on 127.0.0.1 with a parser of its
/// own (not SwiftNIO's) that frames requests the way RFC 9112 §6.3 tells a recipient to, and is
/// as forgiving as common servers are elsewhere (bare LF line endings, obs-fold joined, the
/// first `Content-Length` taken). It records every request it parses and answers each with a
/// response carrying the request's sequence number in `X-Seq`, so a test can check that every
/// request the backend saw was answered to the client, in order, and nothing more.
public final class FramingBackend: Sendable {
    /// One request the backend parsed.
    public struct Parsed: Sendable, CustomStringConvertible {
        public var seq: Int
        public var connection: Int
        public var method: String
        public var target: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        /// The values of header `name` (case-insensitive), in order.
        public func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        public var description: String { "#\(seq) \(method) \(target) (\(body.count) body bytes, connection \(connection))" }
    }

    struct State {
        var parsed: [Parsed] = []
        var nextSeq = 1
        var nextConnection = 1
        var open = 0
        var refused = 0
    }

    /// What every connection of the backend records into.
    final class Shared: Sendable {
        let state = Mutex(State())

        func withLock<R>(_ body: (inout State) -> R) -> R { state.withLock { body(&$0) } }
    }

    /// How the backend frames its responses' bodies.
    public enum ResponseFraming: Sendable {
        /// `Content-Length`.
        case sized
        /// `Transfer-Encoding: chunked`, the body in two chunks, then a trailer `X-Trailer: done`.
        case chunked
        /// No framing field: the body runs to the close of the connection.
        case untilClose
    }

    public let port: Int
    private let channel: any Channel
    private let state = Shared()

    /// Starts a backend on a port the kernel picks. With `dropsSecondRequest`, a connection
    /// closes without an answer when a second request arrives on it (a target that closed a
    /// kept-alive connection just as a request was sent on it).
    public init(dropsSecondRequest: Bool = false, framing: ResponseFraming = .sized) throws {
        let state = self.state
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = state.withLock { state in
                        state.open += 1
                        defer { state.nextConnection += 1 }
                        return state.nextConnection
                    }
                    channel.closeFuture.whenComplete { _ in state.withLock { $0.open -= 1 } }
                    try channel.pipeline.syncOperations.addHandler(Connection(id: id, state: state, dropsSecondRequest: dropsSecondRequest,
                                                                                  framing: framing))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress!.port!
    }

    /// `127.0.0.1:PORT`, as a route's target.
    public var target: String { "127.0.0.1:\(port)" }

    /// Every request parsed so far, in order.
    public var parsed: [Parsed] { state.withLock { $0.parsed } }

    /// Connections open to the backend right now.
    public var openConnections: Int { state.withLock { $0.open } }

    /// Connections accepted so far.
    public var connections: Int { state.withLock { $0.nextConnection - 1 } }

    /// Requests the backend itself refused (a framing it could not read): 400 and close.
    public var refused: Int { state.withLock { $0.refused } }

    public func stop() {
        try? channel.close().wait()
    }

    deinit {
        channel.close(promise: nil)
    }

    final class Connection: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let id: Int
        let state: Shared
        let dropsSecondRequest: Bool
        let framing: ResponseFraming
        var buffer: [UInt8] = []
        var closed = false
        var served = 0

        init(id: Int, state: Shared, dropsSecondRequest: Bool, framing: ResponseFraming) {
            self.framing = framing
            self.id = id
            self.state = state
            self.dropsSecondRequest = dropsSecondRequest
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            buffer += bytes.readBytes(length: bytes.readableBytes) ?? []
            drain(context: context)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event {
                drain(context: context)
                context.close(promise: nil)
            }
        }

        private func drain(context: ChannelHandlerContext) {
            while !closed {
                switch RequestParser.parse(buffer) {
                case .needMore:
                    return
                case .invalid:
                    closed = true
                    state.withLock { $0.refused += 1 }
                    let response = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    let channel = context.channel
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).whenComplete { _ in
                        channel.close(promise: nil)
                    }
                    return
                case .request(var request, let consumed):
                    if dropsSecondRequest && served == 1 {
                        closed = true
                        context.close(promise: nil)
                        return
                    }
                    served += 1
                    buffer.removeFirst(consumed)
                    request.connection = id
                    let seq = state.withLock { state in
                        request.seq = state.nextSeq
                        state.nextSeq += 1
                        state.parsed.append(request)
                        return request.seq
                    }
                    let body = request.method == "HEAD" ? "" : "seq=\(seq) \(request.method) \(request.target)\n"
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Seq: \(seq)\r\n"
                    switch framing {
                    case .sized:
                        let response = head + "Content-Length: \(request.method == "HEAD" ? 0 : body.utf8.count)\r\n\r\n\(body)"
                        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
                    case .chunked:
                        var response = head + "Transfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n"
                        if request.method != "HEAD" {
                            let first = body.prefix(4), rest = body.dropFirst(4)
                            response += "4;ext=1\r\n\(first)\r\n\(String(rest.utf8.count, radix: 16))\r\n\(rest)\r\n0\r\nX-Trailer: done\r\n\r\n"
                        }
                        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
                    case .untilClose:
                        closed = true
                        let channel = context.channel
                        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: head + "\r\n" + body))).whenComplete { _ in
                            channel.close(promise: nil)
                        }
                        return
                    }
                }
            }
        }
    }

    /// RFC 9112 framing as a recipient applies it (§6.3): a `Transfer-Encoding` whose last
    /// coding is `chunked` frames by chunks (any other is refused), else `Content-Length`,
    /// else no body.
    enum RequestParser {
        enum Outcome {
            case needMore
            case invalid
            case request(Parsed, consumed: Int)
        }

        static func parse(_ bytes: [UInt8]) -> Outcome {
            var lines: [String] = []
            var index = 0
            // The head: lines ending in LF (a CR before it dropped), up to an empty one.
            while true {
                guard let lf = bytes[index...].firstIndex(of: 10) else { return .needMore }
                var line = bytes[index..<lf]
                if line.last == 13 { line = line.dropLast() }
                index = lf + 1
                if line.isEmpty {
                    if lines.isEmpty { continue }  // empty lines before a request are skipped
                    break
                }
                lines.append(String(decoding: line, as: UTF8.self))
            }
            let start = lines[0].split(separator: " ", omittingEmptySubsequences: false)
            guard start.count == 3, start[2].hasPrefix("HTTP/1.") else { return .invalid }
            var headers: [(name: String, value: String)] = []
            for line in lines.dropFirst() {
                if line.first == " " || line.first == "\t" {
                    guard !headers.isEmpty else { return .invalid }
                    headers[headers.count - 1].value += " " + trim(line)
                    continue
                }
                guard let colon = line.firstIndex(of: ":") else { return .invalid }
                headers.append((String(line[..<colon]), trim(line[line.index(after: colon)...])))
            }
            var request = Parsed(seq: 0, connection: 0, method: String(start[0]), target: String(start[1]),
                                 headers: headers, body: [])
            let codings = request.values("transfer-encoding").flatMap { $0.split(separator: ",") }.map { trim($0).lowercased() }
            if !codings.isEmpty {
                guard codings.last == "chunked" else { return .invalid }
                return chunked(bytes, from: index, request)
            }
            if let length = request.values("content-length").first {
                guard let n = Int(length), n >= 0 else { return .invalid }
                guard bytes.count - index >= n else { return .needMore }
                request.body = Array(bytes[index..<index + n])
                return .request(request, consumed: index + n)
            }
            return .request(request, consumed: index)
        }

        private static func chunked(_ bytes: [UInt8], from start: Int, _ head: Parsed) -> Outcome {
            var request = head
            var index = start
            while true {
                guard let lf = bytes[index...].firstIndex(of: 10) else { return .needMore }
                var line = String(decoding: bytes[index..<lf], as: UTF8.self)
                if line.hasSuffix("\r") { line.removeLast() }
                index = lf + 1
                let sizeText = line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
                guard let size = Int(trim(sizeText), radix: 16), size >= 0 else { return .invalid }
                if size == 0 {
                    // Trailers up to an empty line.
                    while true {
                        guard let end = bytes[index...].firstIndex(of: 10) else { return .needMore }
                        let empty = end == index || (end == index + 1 && bytes[index] == 13)
                        index = end + 1
                        if empty { return .request(request, consumed: index) }
                    }
                }
                guard bytes.count - index >= size else { return .needMore }
                request.body += bytes[index..<index + size]
                index += size
                guard bytes.count > index else { return .needMore }
                if bytes[index] == 13 { index += 1 }
                guard bytes.count > index else { return .needMore }
                guard bytes[index] == 10 else { return .invalid }
                index += 1
            }
        }

        private static func trim<S: StringProtocol>(_ text: S) -> String {
            var s = Substring(text)
            while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
            while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
            return String(s)
        }
    }
}
