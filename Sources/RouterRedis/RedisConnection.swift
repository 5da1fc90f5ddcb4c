import DequeModule
import NIOCore
import NIOPosix

/// One connection to Redis on SwiftNIO, pipelined: commands are written as they come and
/// their replies matched to them in order (Redis answers a connection's commands in order).
/// Connecting logs in (`AUTH`) and selects the database (`SELECT`) before it returns.
///
/// Hand-written: no Swift Redis client is among the packages reachable here. It speaks RESP2,
/// which every Redis since 2.0 does and which is all the table needs.
public final class RedisConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Connects, logs in and selects the database; throws when any of it fails.
    public static func connect(_ configuration: RedisConfiguration, on group: any EventLoopGroup,
                               timeout: TimeAmount = .seconds(5)) async throws(RedisError) -> RedisConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisCommandHandler())
                }
            }
        let channel: any Channel
        do {
            switch configuration.endpoint {
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .tcp(let host, let port):
                channel = try await bootstrap.connect(host: host, port: port).get()
            }
        } catch {
            throw .connection("cannot connect to \(configuration.description): \(Self.cause(error))")
        }
        let connection = RedisConnection(channel: channel)
        do {
            if let password = configuration.password {
                let auth = configuration.user.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                _ = try await connection.command(auth)
            }
            if configuration.database != 0 {
                _ = try await connection.command(["SELECT", String(configuration.database)])
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// Whether the connection is still open.
    public var isOpen: Bool { channel.isActive }

    /// Sends one command (its words as bulk strings) and completes with its reply, which may be
    /// an error reply; fails when the connection does.
    public func send(_ words: [String]) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        var buffer = channel.allocator.buffer(capacity: 16 + words.reduce(0) { $0 + $1.utf8.count + 16 })
        RESPEncoder.command(words, into: &buffer)
        write(RedisCommandHandler.Request(bytes: buffer, replies: [promise]))
        return promise.futureResult
    }

    /// Sends one command of binary-safe words.
    public func send(_ words: [[UInt8]]) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        var buffer = channel.allocator.buffer(capacity: 16 + words.reduce(0) { $0 + $1.count + 16 })
        RESPEncoder.command(words, into: &buffer)
        write(RedisCommandHandler.Request(bytes: buffer, replies: [promise]))
        return promise.futureResult
    }

    /// Sends a call of the script `sha` with `arguments` and completes with its reply.
    func send(script sha: String, arguments: RedisScriptArguments) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        write(script: sha, arguments: arguments, reply: promise)
        return promise.futureResult
    }

    /// Sends a call of the script `sha` whose arguments `encode` writes on `loop`: a caller
    /// hands the encoding over and goes on. Calls handed to one loop are sent in the order they
    /// were handed over (a loop runs its tasks in order).
    func send(script sha: String, on loop: any EventLoop, encode: @escaping @Sendable () -> RedisScriptArguments) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        loop.execute {
            self.write(script: sha, arguments: encode(), reply: promise)
        }
        return promise.futureResult
    }

    /// Writes `EVALSHA sha` with `arguments` (already RESP) behind it; `reply` gets its reply.
    private func write(script sha: String, arguments: RedisScriptArguments, reply: EventLoopPromise<RESPValue>) {
        var head = channel.allocator.buffer(capacity: 96)
        RESPEncoder.header(UInt8(ascii: "*"), 3 + arguments.count, into: &head)
        for word in ["EVALSHA", sha, String(arguments.keyCount)] { RESPEncoder.bulkString(word, into: &head) }
        write(RedisCommandHandler.Request(bytes: head, replies: [reply], rest: arguments.buffer))
    }

    /// Sends several commands in one write and completes with their replies, in order.
    public func pipeline(_ commands: [[String]]) -> EventLoopFuture<[RESPValue]> {
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        var buffer = channel.allocator.buffer(capacity: 64 * commands.count)
        for words in commands { RESPEncoder.command(words, into: &buffer) }
        write(RedisCommandHandler.Request(bytes: buffer, replies: promises))
        return EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: channel.eventLoop)
    }

    /// Writes a request; when the write fails (the connection closed before it, so the handler
    /// never saw its replies), its replies fail too rather than wait forever. (A promise
    /// completed twice keeps its first result.)
    private func write(_ request: RedisCommandHandler.Request) {
        let written = channel.eventLoop.makePromise(of: Void.self)
        let replies = request.replies
        written.futureResult.whenFailure { error in
            for reply in replies { reply.fail(RedisError.connection("the command could not be sent: \(error)")) }
        }
        channel.writeAndFlush(request, promise: written)
    }

    /// Sends one command and returns its reply; an error reply throws `RedisError.reply`.
    @discardableResult
    public func command(_ words: [String]) async throws(RedisError) -> RESPValue {
        let reply: RESPValue
        do {
            reply = try await send(words).get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw .connection("\(error)")
        }
        if case .error(let message) = reply { throw .reply(message) }
        return reply
    }

    /// Closes the connection; commands still waiting fail.
    public func close() {
        channel.close(promise: nil)
    }
}

/// Writes commands as RESP arrays of bulk strings.
enum RESPEncoder {
    static func command(_ words: [[UInt8]], into buffer: inout ByteBuffer) {
        header(UInt8(ascii: "*"), words.count, into: &buffer)
        for word in words { word.withUnsafeBytes { bulkString(bytes: $0, into: &buffer) } }
    }

    /// The same for text words, written as their UTF-8 without an intermediate array.
    static func command(_ words: [String], into buffer: inout ByteBuffer) {
        header(UInt8(ascii: "*"), words.count, into: &buffer)
        for word in words { bulkString(word, into: &buffer) }
    }

    /// One bulk string of text, as its UTF-8.
    static func bulkString(_ word: String, into buffer: inout ByteBuffer) {
        header(UInt8(ascii: "$"), word.utf8.count, into: &buffer)
        buffer.writeString(word)
        buffer.writeStaticString("\r\n")
    }

    /// One bulk string of bytes.
    static func bulkString(bytes word: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        header(UInt8(ascii: "$"), word.count, into: &buffer)
        buffer.writeBytes(word)
        buffer.writeStaticString("\r\n")
    }

    /// `*N\r\n` or `$N\r\n`, the digits written without building a String.
    static func header(_ kind: UInt8, _ n: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(kind)
        writeDecimal(n, into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    /// How many decimal digits `n` (not negative) has.
    static func decimalLength(_ n: Int) -> Int {
        var digits = 1
        var rest = n / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }

    /// Writes the decimal digits of `n` (not negative) in one write.
    static func writeDecimal(_ n: Int, into buffer: inout ByteBuffer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { out in
            var i = 20
            var rest = n
            repeat {
                i -= 1
                out[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(out)[i...]))
        }
    }
}

/// Matches replies to the commands written, in order; fails what waits when the connection
/// closes or sends something that is not RESP.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    struct Request {
        var bytes: ByteBuffer
        var replies: [EventLoopPromise<RESPValue>]
        /// The rest of the request's bytes, written after `bytes` (a script call's arguments,
        /// written by the caller before the command's head was known).
        var rest: ByteBuffer? = nil
    }

    private var waiting = Deque<EventLoopPromise<RESPValue>>()
    private var received: ByteBuffer?
    private let parser = RESPParser()
    /// Where the reply being received ends, once it has all come: it is parsed only then.
    private lazy var scanner = RESPReplyScanner(limits: parser)
    private var failure: RedisError?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            for reply in request.replies { reply.fail(failure) }
            promise?.fail(failure)
            return
        }
        waiting.append(contentsOf: request.replies)
        if let rest = request.rest {
            context.write(wrapOutboundOut(request.bytes), promise: nil)
            context.write(wrapOutboundOut(rest), promise: promise)
        } else {
            context.write(wrapOutboundOut(request.bytes), promise: promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if received == nil { received = incoming } else { received!.writeBuffer(&incoming) }
        while let buffer = received, buffer.readableBytes > 0 {
            let parsed: (value: RESPValue, consumed: Int)?
            let outcome: Result<(value: RESPValue, consumed: Int)?, RESPError> = buffer.withUnsafeReadableBytes { raw in
                Result { () throws(RESPError) in
                    guard let length = try scanner.replyLength(in: raw) else { return nil }
                    return try parser.parse(UnsafeRawBufferPointer(rebasing: raw[..<length]))
                }
            }
            switch outcome {
            case .success(let value): parsed = value
            case .failure(let error):
                fail(context: context, .malformed(error))
                return
            }
            guard let (value, consumed) = parsed else { break }
            received!.moveReaderIndex(forwardBy: consumed)
            guard let reply = waiting.popFirst() else {
                fail(context: context, .malformed(RESPError("a reply came for no command")))
                return
            }
            reply.succeed(value)
        }
        if let buffer = received, buffer.readableBytes == 0 { received = nil } else { received?.discardReadBytes() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connection("the connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, .connection("\(error)"))
    }

    private func fail(context: ChannelHandlerContext, _ error: RedisError) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if failure == nil { failure = error }
        while let reply = waiting.popFirst() { reply.fail(error) }
    }
}

extension RedisConnection {
    /// What went wrong connecting, for a person: the system's words for the failure (SwiftNIO's
    /// own descriptions name its internal calls and do not balance their parentheses).
    static func cause(_ error: any Error) -> String {
        if let failure = error as? NIOConnectionError {
            if let dns = failure.dnsAAAAError ?? failure.dnsAError { return "cannot resolve the host (\(dns))" }
            if let first = failure.connectionErrors.first { return cause(first.error) }
            return "no address to connect to"
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if error is ChannelError, case .connectTimeout(let after) = error as! ChannelError {
            return "no answer within \(after.nanoseconds / 1_000_000) ms"
        }
        return "\(error)"
    }
}
