import DomainRouter
import Hummingbird
import RouterProtocol
import RouterServer
import ServiceLifecycle

/// `GET /watch`: the change stream, as server-sent events (`text/event-stream`, the default) or,
/// with `Accept: application/x-ndjson`, as the socket's event lines. Replayed history first
/// (`from_revision`, or the `Last-Event-ID` a browser sends back, resumed after it), then one
/// `sync` event, then live events; a comment every 15 s keeps proxies from closing an idle stream.
/// History that is gone is `410 Gone` before the stream starts. A client that does not read is
/// cut (`slow_consumer`) rather than silently skipping events; shutdown ends the stream with
/// `unavailable`.
extension HTTPAPI {
    /// What the stream carries: an event, a keep-alive, or why it ends.
    enum StreamItem: Sendable {
        case event(RouteEvent)
        case heartbeat
        case end(ProtocolError)
    }

    /// How long a stream may be idle before a keep-alive comment.
    static let heartbeat: Duration = .seconds(15)
    /// Events a watcher may be behind before it is cut.
    static let watchBuffer = 65_536

    func watch(_ request: Request, _ context: APIRequestContext) throws -> Response {
        let caller = try caller(request, context)
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
        let filter = EventFilter(prefix: parsed.string("prefix"), tunnel: parsed.string("tunnel").flatMap { try? TunnelID($0) })
        let ndjson = request.headers[.accept]?.contains("application/x-ndjson") == true
        let (stream, continuation) = AsyncStream.makeStream(of: StreamItem.self, bufferingPolicy: .bufferingOldest(Self.watchBuffer))
        let handle: SubscriptionHandle
        do {
            handle = try executor.watch(from: from, filter: filter, as: caller) { event in
                if event.kind == .reset {
                    continuation.yield(.end(Wire.error(Wire.storeReset(at: event.revision))))
                    continuation.finish()
                    return false
                }
                if case .dropped = continuation.yield(.event(event)) {
                    continuation.yield(.end(Wire.error(.overflow(capacity: Self.watchBuffer))))
                    continuation.finish()
                    return false
                }
                return true
            }
        } catch {
            continuation.finish()
            throw Failure(Wire.error(error))
        }
        let beat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.heartbeat)
                continuation.yield(.heartbeat)
            }
        }
        let viewer = caller.principal
        let body = ResponseBody { writer in
            defer {
                handle.cancel()
                beat.cancel()
            }
            try await withGracefulShutdownHandler {
                for await item in stream {
                    try await writer.write(ByteBuffer(bytes: Self.frame(item, for: viewer, ndjson: ndjson)))
                    if case .end = item { break }
                }
            } onGracefulShutdown: {
                continuation.yield(.end(ProtocolError(.unavailable, "the daemon is shutting down")))
                continuation.finish()
            }
            try await writer.finish(nil)
        }
        let type = ndjson ? "application/x-ndjson" : "text/event-stream"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: body)
    }

    /// One item as the stream writes it.
    static func frame(_ item: StreamItem, for viewer: Principal, ndjson: Bool) -> [UInt8] {
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
            let json = JSONWriter.encode(.object([
                ("code", .string(error.code.rawValue)), ("message", .string(error.message)), ("details", error.details ?? .object([])),
            ]))
            return Array((ndjson ? "{\"error\":\(json)}\n" : "event: error\ndata: \(json)\n\n").utf8)
        }
    }
}
