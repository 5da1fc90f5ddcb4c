import DomainRouter
import NIOCore
import NIOPosix
import RouterEngine
import RouterProtocol

// Consecutive adds of a burst of pipelined requests run together, one call to the executor (and
// so one table lock in the memory store): fewer lock hand-offs between event loops adding at
// once. The run is cut before any other request, error or output, so replies keep request order.
//
// A full run (a bulk load) goes to the server's table writer thread instead, so that this loop
// parses the next run while the store takes the last one: the way Redis's I/O threads parse and
// write while one thread executes. Up to `ConnectionState.submittedRunLimit` runs are out at
// once; their replies are written when they come back, in order. Until then, anything that is
// not a valid add waits at the head of `pending`, as do all frames while the limit is reached.
// Connections that watch keep every add on their own loop, so that the reply to an add is
// always written before the event it caused.
extension ConnectionHandler {
    static let addRunLimit = 128

    /// An add read from the wire: queued, or answered in its place when it cannot be made.
    func handleAdd(_ id: RequestID?, _ arguments: AddArguments, _ frame: InboundFrame) {
        do throws(RouteError) {
            queueAdd(id, try executor.addRequest(arguments, session: self.id, for: principal))
        } catch {
            if waitsForRuns(frame) { return }
            flushAdds()
            fail(id, Wire.error(error), op: Operation.add.rawValue)
        }
    }

    func queueAdd(_ id: RequestID?, _ add: AddRequest) {
        addRunIDs.append(id)
        addRun.append(add)
        if addRun.count >= Self.addRunLimit { flushAdds() }
    }

    /// Runs the queued adds and writes their replies, or hands them to the table writer behind
    /// runs already there (and for a full run).
    func flushAdds() {
        guard !addRun.isEmpty else { return }
        if context == nil || state.runsAtWriter == 0 && (addRun.count < Self.addRunLimit || !watches.isEmpty) {
            let run = addRun
            let ids = addRunIDs
            addRun.removeAll(keepingCapacity: true) // emptied first: writing may emit, which flushes
            addRunIDs.removeAll(keepingCapacity: true)
            guard context != nil else {
                // Gone: applied all the same (they were read), nobody to answer.
                executor.add(run, as: caller) { _ in }
                return
            }
            perform({ executor.add(run, as: caller, completion: $0) }) { handler, results in
                handler.answer(ids, results)
            }
        } else {
            submitAdds()
        }
    }

    /// Hands the queued adds to the table writer, which also writes their replies into one
    /// buffer; `runAnswered` sends it.
    func submitAdds() {
        let run = addRun
        let ids = addRunIDs
        addRun = []
        addRunIDs = []
        addRun.reserveCapacity(Self.addRunLimit)
        addRunIDs.reserveCapacity(Self.addRunLimit)
        state.runSubmitted()
        let executor = self.executor
        let caller = self.caller
        // The routes an add answers with are the caller's own (or an admin's to see).
        let viewer = Viewer(caller.principal)
        let allocator = context!.channel.allocator
        let loop = context!.eventLoop
        let loopBound = NIOLoopBound(self, eventLoop: loop)
        let apply: @Sendable () -> Void = {
            executor.add(run, as: caller) { results in
                var replies = allocator.buffer(capacity: results.count * Self.typicalReplyLength)
                for i in results.indices {
                    switch results[i] {
                    case .success(let added): Self.writeReply(ids[i], added, for: viewer, to: &replies)
                    case .failure(let error): replies.writeBytes(Reply.failure(ids[i], Wire.error(error)))
                    }
                }
                let answered = replies
                loop.execute { loopBound.value.runAnswered(answered) }
            }
        }
        server.tableWriter.submit { work in
            // A stopped writer (the daemon shutting down) leaves the run to this loop.
            if work == .active { apply() } else { loop.execute(apply) }
        }
    }

    /// An add's reply without target or labels is about 330 bytes; a run's buffer grows if
    /// its replies are longer.
    static let typicalReplyLength = 384

    /// The oldest submitted run is done: its replies go out, then whatever waited for it. (The
    /// writer is one thread taking work in order, so runs come back in the order they went.)
    func runAnswered(_ replies: ByteBuffer) {
        // Still counted as out while its replies are sent: an add queued meanwhile is
        // submitted behind it, not run ahead of it.
        emitOutbound()
        context?.write(wrapOutboundOut(replies), promise: nil)
        workReturned(state.runAnswered())
    }

    /// Writes the replies of a run of adds into the outbound buffer.
    func answer(_ ids: [RequestID?], _ results: [Result<AddResult, RouteError>]) {
        for i in results.indices {
            let id = ids[i]
            switch results[i] {
            case .success(let added):
                if reserveOutbound(Self.maximumReplyLength(id, added)) {
                    Self.writeReply(id, added, for: Viewer(principal), to: &outbound!)
                }
            case .failure(let error):
                refuse(id, Wire.error(error))
            }
        }
    }

    /// The most bytes `writeReply` writes for a successful add's reply. (A success is taken
    /// out of its `Result` once, by the caller: each match of it is a copy of the route, every
    /// string of it retained and released.)
    static func maximumReplyLength(_ id: RequestID?, _ added: AddResult) -> Int {
        Reply.maximumSuccessHeadLength(id) + Wire.maximumLength(of: added.route) + 16
    }

    /// Writes a successful add's reply line, as `viewer` may see it.
    static func writeReply(_ id: RequestID?, _ added: AddResult, for viewer: Viewer, to buffer: inout ByteBuffer) {
        let length = maximumReplyLength(id, added)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            var out = JSONOutput(raw)
            Reply.writeSuccessHead(id, revision: added.revision, to: &out)
            out.literal("{\"route\":")
            Wire.writeRoute(added.route, for: viewer, to: &out)
            out.literal("}}\n")
            return out.count
        }
    }
}
