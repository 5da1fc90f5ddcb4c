import DomainRouter
import NIOCore
import NIOEmbedded
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Testing
@testable import RouterServer

/// The socket handler without a socket: an `EmbeddedChannel` carries the lines in and out.
@Suite("Connection handler on an embedded channel")
struct ConnectionHandlerTests {
    /// A server (not listening) and one embedded connection to it.
    final class Connection {
        let server: RouterServer
        /// Used, and let go, only on the thread that made it (an `EmbeddedEventLoop` is not
        /// thread-safe, and a test resumes on another thread after `close()`'s first await).
        private(set) var channel: EmbeddedChannel! = EmbeddedChannel()

        init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
            var configuration = ServerConfiguration(socketPath: "/nonexistent/r.sock",
                                                    table: RouteTableConfiguration(baseDomains: ["example.com"]))
            configure(&configuration)
            server = try RouterServer(configuration: configuration)
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: configuration.maximumLineLength)))
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(server: server, id: 1))
            try channel.connect(to: SocketAddress(unixDomainSocketPath: "/nonexistent/r.sock")).wait()
        }

        func send(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
            channel.embeddedEventLoop.run()
        }

        /// Every line written out so far.
        func lines() throws -> [JSONValue] {
            var text = ""
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
            return try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        }

        /// Ends the connection and lets the channel go before anything is awaited (so on the
        /// thread the test began on), then stops the server.
        func close() async {
            _ = try? channel.finish()
            channel = nil
            await server.shutdown()
        }
    }

    @Test func greetsThenAnswersPipelinedRequestsInOrder() async throws {
        let c = try Connection()
        let greeting = try c.lines()
        #expect(greeting.count == 1)
        #expect(greeting.first?["hello"]?["server"] == .string("routerd"))
        try c.send(#"{"id":1,"op":"add","key":"a","tunnel":"t1"}"# + "\n" + #"{"id":2,"op":"lookup","host":"A.example.com:80"}"# + "\n"
                   + "not json\n" + #"{"id":3,"op":"delete","key":"a"}"# + "\n")
        let replies = try c.lines()
        #expect(replies.map { $0["id"] } == [.number("1"), .number("2"), .null, .number("3")])
        #expect(replies[0]["result"]?["route"]?["key"] == .string("a.example.com"))
        #expect(replies[1]["result"]?["match"] == .string("exact"))
        #expect(replies[2]["error"]?["code"] == .string("bad_request"))
        #expect(replies[3]["result"]?["deleted"] == .number("1"))
        await c.close()
    }

    @Test func anOverlongLineIsTooLargeAndTheConnectionGoesOn() async throws {
        let c = try Connection { $0.maximumLineLength = 256 }
        _ = try c.lines()
        try c.send(String(repeating: "x", count: 1000) + "\n" + #"{"id":"p","op":"ping"}"# + "\n")
        let replies = try c.lines()
        #expect(replies.map { $0["error"]?["code"] ?? $0["id"] } == [.string("too_large"), .string("p")])
        await c.close()
    }

    @Test func aHalfClosedPeerIsAnsweredThenClosed() async throws {
        let c = try Connection()
        _ = try c.lines()
        try c.send(#"{"id":1,"op":"ping"}"# + "\n")
        c.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        c.channel.embeddedEventLoop.run()
        #expect(try c.lines().map { $0["id"] } == [.number("1")])
        #expect(!c.channel.isActive, "closed once everything was answered")
        await c.close()
    }

    @Test func aWatchSeesTheChangesItsConnectionMakesAfterTheirReplies() async throws {
        let c = try Connection()
        _ = try c.lines()
        try c.send(#"{"id":"w","op":"watch"}"# + "\n" + #"{"id":1,"op":"add","key":"b","tunnel":"t1"}"# + "\n")
        let lines = try c.lines()
        let reply = lines.firstIndex { $0["id"] == .number("1") }
        let sync = lines.firstIndex { $0["event"]?["type"] == .string("sync") }
        let event = lines.firstIndex { $0["event"]?["type"] == .string("add") }
        #expect(reply != nil && sync != nil && event != nil, "\(lines)")
        #expect(sync! < event!, "live events follow the sync marker")
        #expect(reply! < event!, "the reply comes before the event it caused")
        #expect(lines.last?["event"]?["type"] == .string("add"))
        await c.close()
    }
}
