import DomainRouter
import Hummingbird
import NIOCore
import RouterEngine
import RouterProtocol
import ServiceLifecycle

/// `GET /watch`: the change stream, as server-sent events (`text/event-stream`, the default) or,
/// with `Accept: application/x-ndjson`, as the socket's event lines. Replayed history first
/// (`from_revision`, or the `Last-Event-ID` a browser sends back, resumed after it), then one
/// `sync` event, then live events; a comment every 15 s keeps proxies from closing an idle stream.
/// History that is gone is `410 Gone` before the stream starts. A client that does not read is
/// cut (`slow_consumer`, within the socket's bounds: `--watcher-buffer`, `--watcher-buffer-bytes`;
/// see `WatchFeed`) rather than silently skipping events; shutdown ends the stream with
/// `unavailable`. HTTP watchers count in `stats` and `router_watchers` as the socket's do.
extension HTTPAPI {
    /// What the stream carries: an event, a keep-alive, or why it ends.
    enum StreamItem: Sendable {
        case event(RouteEvent)
        case heartbeat
        case end(ProtocolError)
    }

    /// How long a stream may be idle before a keep-alive comment.
    static let heartbeat: Duration = .seconds(15)
    /// How long after a cut the connection is closed: the time a client that reads slowly has
    /// to read what was being written and the `slow_consumer` error.
    static let cutGrace: TimeAmount = .seconds(5)
    /// The most items encoded into one write.
    static let itemsPerWrite = 1024

    func watch(_ request: Request, _ context: APIRequestContext, as caller: Caller) throws -> Response {
        var fields = try Self.query(request, numbers: ["from_revision"])
        if !fields.contains(where: { $0.0 == "from_revision" }), let last = request.headers.first(where: { $0.name.canonicalName == "last-event-id" })?.value, let seen = Int(last) {
            fields.append(("from_revision", .number(seen + 1)))
        }
        let parsed = try protocolRequest(.watch, fields)
        var from: UInt64?
        if let revision = parsed.integer("from_revision") {
            guard revision >= 0 else { throw Failure(.badRequest, "from_revision must be 0 or more") }
            if let instance = parsed.string("instance"), instance != executor.instance {
                throw Failure(ProtocolError(.compacted, "revision \(revision) belongs to another daemon instance (it restarted); its history is gone: list again, then watch from now",
                                            details: .object([("reason", .string("restarted")), ("instance", .string(executor.instance))])))
            }
            from = UInt64(revision)
        }
        let filter: EventFilter
        do { filter = try executor.watchFilter(parsed, as: caller) } catch { throw Failure(Wire.error(error)) }
        let ndjson = request.headers[.accept]?.contains("application/x-ndjson") == true
        let watchers = self.watchers
        let feed = WatchFeed(eventLimit: watchers.eventLimit, byteLimit: watchers.byteLimit)
        let overflow = Wire.error(.overflow(capacity: watchers.eventLimit))
        let channel = context.channel
        let logger = caller.logger
        let handle: SubscriptionHandle
        do {
            handle = try executor.watch(from: from, filter: filter, as: caller) { (event: RouteEvent) -> Bool in
                if event.kind == .reset {
                    feed.end(with: .end(Wire.error(Wire.storeReset(at: event.revision))))
                    return false
                }
                switch feed.push(event, overflow: overflow) {
                case .queued:
                    return true
                case .ended:
                    return false
                case .cut:
                    // As on the socket: counted, logged, the backlog dropped and its memory
                    // returned at once. The error is the stream's last item; the connection
                    // closes after a grace in which a client that reads again gets what was
                    // being written, the error and the end of the body (a close right after
                    // the body ends would drop what the kernel had no room for yet).
                    watchers.cut()
                    logger.notice("slow consumer disconnected", metadata: ["via": "http"])
                    _ = channel.eventLoop.scheduleTask(in: Self.cutGrace) { channel.close(promise: nil) }
                    return false
                }
            }
        } catch {
            throw Failure(Wire.error(error))
        }
        let beat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.heartbeat)
                feed.heartbeat()
            }
        }
        let viewer = Viewer(caller.principal, sharing: filter.shared)
        let body = ResponseBody { writer in
            watchers.started()
            defer {
                handle.cancel()
                beat.cancel()
                watchers.ended()
            }
            try await withGracefulShutdownHandler {
                streaming: while true {
                    let items = await feed.next()
                    if items.isEmpty { break }
                    for start in stride(from: 0, to: items.count, by: Self.itemsPerWrite) {
                        var bytes: [UInt8] = []
                        var events = 0
                        var estimated = 0
                        var ended = false
                        for item in items[start..<min(start + Self.itemsPerWrite, items.count)] {
                            bytes += Self.frame(item, for: viewer, ndjson: ndjson)
                            switch item {
                            case .event(let event):
                                events += 1
                                estimated += WatchFeed.estimatedSize(event)
                            case .end:
                                ended = true
                            case .heartbeat:
                                break
                            }
                        }
                        if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
                        feed.written(events: events, bytes: estimated)
                        if ended { break streaming }
                    }
                }
            } onGracefulShutdown: {
                feed.end(with: .end(ProtocolError(.unavailable, "the daemon is shutting down")))
            }
            try await writer.finish(nil)
        }
        let type = ndjson ? "application/x-ndjson" : "text/event-stream"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: body)
    }

    /// One item as the stream writes it.
    static func frame(_ item: StreamItem, for viewer: Viewer, ndjson: Bool) -> [UInt8] {
        switch item {
        case .heartbeat:
            return ndjson ? [] : Array(": heartbeat\n\n".utf8)
        case .event(let event):
            let json = JSONWriter.encode(Wire.event(event, for: viewer))
            if ndjson { return Array("{\"event\":\(json)}\n".utf8) }
            // The sync marker has no revision of its own: it carries no id to resume from.
            let id = event.kind == .sync ? "" : "id: \(event.revision)\n"
            return Array("\(id)event: \(event.kind.rawValue)\ndata: \(json)\n\n".utf8)
        case .end(let error):
            let json = JSONWriter.encode(error.object)
            return Array((ndjson ? "{\"error\":\(json)}\n" : "event: error\ndata: \(json)\n\n").utf8)
        }
    }
}
