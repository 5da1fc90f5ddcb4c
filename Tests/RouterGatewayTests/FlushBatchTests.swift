import NIOCore
import NIOEmbedded
@testable import RouterGateway
import Testing

/// Flushes asked for during an event loop iteration are made after it, each channel's once per
/// request of it, in the order asked; nothing written goes out before.
@Suite("routergw: flushes gathered over a loop iteration")
struct FlushBatchTests {
    @Test func whatIsWrittenGoesOutOnlyAfterTheIterationThatAskedForTheFlush() throws {
        let loop = EmbeddedEventLoop()
        let first = EmbeddedChannel(loop: loop)
        let second = EmbeddedChannel(loop: loop)
        let batch = FlushBatch(loop: loop)
        first.write(ByteBuffer(string: "one"), promise: nil)
        second.write(ByteBuffer(string: "two"), promise: nil)
        batch.add(first)
        batch.add(second)
        // The iteration is still running: nothing is sent yet.
        #expect(try first.readOutbound(as: ByteBuffer.self) == nil)
        #expect(try second.readOutbound(as: ByteBuffer.self) == nil)
        loop.run()
        #expect(try first.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "one"))
        #expect(try second.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "two"))
        // A later iteration's flush is its own.
        first.write(ByteBuffer(string: "three"), promise: nil)
        batch.add(first)
        #expect(try first.readOutbound(as: ByteBuffer.self) == nil)
        loop.run()
        #expect(try first.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "three"))
        _ = try first.finish()
        _ = try second.finish()
    }
}
