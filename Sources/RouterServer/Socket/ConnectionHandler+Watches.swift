import DomainRouter
import NIOCore
import RouterEngine
import RouterProtocol

extension ConnectionHandler {
    func watch(_ request: Request) throws(ProtocolError) {
        guard watches[request.id] == nil else {
            throw ProtocolError(.badRequest, "a watch with id \(request.id?.description ?? "null") is already running on this connection")
        }
        var from: UInt64?
        if let revision = request.integer("from_revision") {
            guard revision >= 0 else { throw ProtocolError(.badRequest, "from_revision must be 0 or more") }
            if let instance = request.string("instance"), instance != executor.instance {
                throw ProtocolError(.compacted, "revision \(revision) belongs to another daemon instance (it restarted); its history is gone: list again, then watch from now",
                                    details: .object([("reason", .string("restarted")), ("instance", .string(executor.instance)),
                                                      ("oldest_revision", .number(table.stats().oldestRevision))]))
            }
            from = UInt64(revision)
        }
        let filter: EventFilter
        do { filter = try executor.watchFilter(request, as: caller) } catch { throw Wire.error(error) }
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let watchID = request.id
        // Runs under the table's lock, in order: hand the event to the connection's loop.
        let deliver: @Sendable (RouteEvent) -> Bool = { event in
            eventLoop.execute { loopBound.value.deliver(event, to: watchID) }
            return true
        }
        let handle: SubscriptionHandle
        do {
            handle = try executor.watch(from: from, filter: filter, as: caller, deliver: deliver)
        } catch {
            throw Wire.error(error)
        }
        watches[request.id] = Watch(handle: handle, ended: false, viewer: Viewer(principal, sharing: filter.shared))
        server.watcherStarted()
    }

    /// Writes one event of a watch into the outbound buffer; it counts toward the backlog from
    /// then until the socket has taken it.
    func deliver(_ event: RouteEvent, to watchID: RequestID?) {
        guard let watch = watches[watchID], !watch.ended, context != nil else { return }
        if event.kind == .reset {
            watches[watchID] = nil
            server.watcherEnded()
            write(Reply.failure(watchID, Wire.error(Wire.storeReset(at: event.revision))))
            scheduleFlush()
            return
        }
        let line = Reply.event(watchID, event: Wire.event(event, for: watch.viewer))
        guard reserveOutbound(line.count) else { return }
        outbound!.writeBytes(line)
        backlog.unsentEvents += 1
        scheduleFlush()
        let limit = server.configuration.watcherBuffer
        let events = backlog.events + backlog.unsentEvents
        if events > max(limit * 16, 131_072) || backlog.bytes + (outbound?.capacity ?? 0) > server.configuration.watcherBufferBytes {
            slowConsumer()
        } else if events > limit, backlog.aboveSince == nil {
            backlog.aboveSince = .now()
            if backlog.check == nil { checkBacklog(in: WatchBacklog.patience) }
        }
    }

    /// The socket took a buffer of events.
    func backlogWritten(events: Int, bytes: Int) {
        backlog.events -= events
        backlog.bytes -= bytes
        if backlog.events <= server.configuration.watcherBuffer { backlog.aboveSince = nil }
    }

    /// Cuts the peer once its backlog has stayed above the limit for the whole patience; while
    /// it has not yet, looks again when it would have.
    func checkBacklog(in delay: TimeAmount) {
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        backlog.check = context.eventLoop.scheduleTask(in: delay) {
            let handler = loopBound.value
            handler.backlog.check = nil
            guard let since = handler.backlog.aboveSince else { return } // came down; the next rise checks again
            let above = NIODeadline.now() - since
            if above >= WatchBacklog.patience {
                handler.slowConsumer()
            } else {
                handler.checkBacklog(in: WatchBacklog.patience - above)
            }
        }
    }

    /// The peer fell behind: every watch on the connection says so, then the connection closes
    /// rather than skip events.
    func slowConsumer() {
        guard let context else { return }
        let failure = Wire.error(RouteError.overflow(capacity: server.configuration.watcherBuffer))
        for (watchID, watch) in watches where !watch.ended {
            watches[watchID]!.ended = true
            watch.handle.cancel()
            write(Reply.failure(watchID, failure))
        }
        backlog.check?.cancel()
        executor.metrics.slowConsumerCut()
        logger.notice("slow consumer disconnected", metadata: ["backlog_events": "\(backlog.events + backlog.unsentEvents)"])
        // Closed at once, like Redis's output buffer limits: the socket takes what it has room
        // for (the slow_consumer lines last, if there is room), and the queued backlog is freed
        // now rather than held for a peer that does not read. A watcher far behind sees the close.
        flushOutbound()
        context.close(promise: nil)
        server.memoryFreed()
    }

    func cancel(_ request: Request) throws(ProtocolError) {
        guard let target = RequestID(request.arguments["watch"]!), let watch = watches[target], !watch.ended else {
            throw ProtocolError(.notFound, "no watch with id \(request.arguments["watch"].map { JSONWriter.encode($0) } ?? "?") on this connection")
        }
        watch.handle.cancel()
        succeed(request, .object([]))
        guard let context else { return }
        // After the events already queued on the loop, the watch's own final line.
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            guard handler.watches.removeValue(forKey: target)?.ended == false else { return }
            handler.server.watcherEnded()
            handler.write(Reply.success(target, revision: handler.table.revision, result: .object([("cancelled", .bool(true))])))
            handler.flushOutbound()
            handler.closeIfIdle()
        }
    }
}
