import NIOCore
import RouterEngine
import RouterProtocol

// Replies are gathered into one buffer per read burst (pipelined requests then cost one socket
// write, not one each) and handed to the pipeline at the end of the burst, or when the next
// reply does not fit: order is kept. Hot replies are written straight into it (`writeReply`).
// Watch events go into the same buffers, so they keep their place among the replies; a buffer
// holding events counts toward the watch backlog until the socket has taken it.
extension ConnectionHandler {
    /// Outbound buffers are never grown (a full one is handed on and another started), so none
    /// is copied or crosses malloc's mmap threshold. A burst starts with a small one (most
    /// bursts are a few replies) and continues with large ones once it has filled it.
    static let firstOutboundCapacity = 8_192
    static let outboundCapacity = 65_536

    /// Appends bytes to the outbound buffer.
    func write(_ bytes: [UInt8]) {
        guard reserveOutbound(bytes.count) else { return }
        outbound!.writeBytes(bytes)
    }

    /// Writes one reply line of at most `maximumLength` bytes (newline included) straight into
    /// the outbound buffer.
    func writeReply(maximumLength: Int, _ body: (inout JSONOutput) -> Void) {
        guard reserveOutbound(maximumLength) else { return }
        outbound!.writeWithUnsafeMutableBytes(minimumWritableBytes: maximumLength) { raw in
            var out = JSONOutput(raw)
            body(&out)
            return out.count
        }
    }

    /// Makes room for `count` more bytes in `outbound`, handing a full buffer on first; false
    /// once the connection is gone.
    func reserveOutbound(_ count: Int) -> Bool {
        guard let context else { return false }
        var size = Self.firstOutboundCapacity
        if let buffer = outbound, buffer.writableBytes < count, buffer.readableBytes > 0 {
            emitOutbound()
            size = Self.outboundCapacity
        }
        if outbound == nil { outbound = context.channel.allocator.buffer(capacity: max(size, count)) }
        return true
    }

    /// Hands the gathered replies to the pipeline (without flushing). Adds read before are
    /// answered first.
    func emitOutbound() {
        flushAdds()
        guard let context, let buffer = outbound else { return }
        outbound = nil
        let events = backlog.unsentEvents
        guard events > 0 else {
            context.write(wrapOutboundOut(buffer), promise: nil)
            return
        }
        backlog.unsentEvents = 0
        let bytes = buffer.capacity
        backlog.events += events
        backlog.bytes += bytes
        let written = context.eventLoop.makePromise(of: Void.self)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in loopBound.value.backlogWritten(events: events, bytes: bytes) }
        context.write(wrapOutboundOut(buffer), promise: written)
    }

    func flushOutbound() {
        emitOutbound()
        context?.flush()
    }

    /// One flush after the events queued on the loop so far, rather than one per event.
    func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            handler.flushOutbound()
        }
    }

    func succeed(_ request: Request, _ result: JSONValue, revision: UInt64? = nil) {
        write(Reply.success(request.id, revision: revision ?? table.revision, result: result))
    }

    /// Answers a refusal this handler made itself (a malformed line, a bad argument), logging it.
    func fail(_ id: RequestID?, _ error: ProtocolError, op: String?) {
        executor.refused(code: error.code.rawValue, message: error.message, op: op, as: caller)
        write(Reply.failure(id, error))
    }

    /// Answers a refusal the executor made (and logged).
    func refuse(_ id: RequestID?, _ error: ProtocolError) {
        write(Reply.failure(id, error))
    }
}
