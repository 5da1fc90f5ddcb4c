import DomainRouter
import NIOCore
import RouterEngine
import RouterProtocol

extension ConnectionHandler {
    /// Routes streamed per page: a million routes never sit in memory at once.
    static let listPageSize = 1000

    func list(_ request: Request) throws(RouteError) {
        var query = try executor.listQuery(request, as: caller)
        let remaining = query.limit
        query.limit = nil
        streamList(request, query: query, remaining: remaining, count: 0)
    }

    /// Writes a page of routes; when more follow, continues once the page has been written to
    /// the socket, holding back later requests so that replies stay in order.
    func streamList(_ request: Request, query: RouteQuery, remaining: Int?, count: Int) {
        var query = query
        query.limit = min(remaining ?? Self.listPageSize, Self.listPageSize)
        let page = executor.list(query, as: caller)
        let viewer = self.viewer
        for route in page.routes {
            write(Reply.item(request.id, route: Wire.route(route, for: viewer)))
        }
        let total = count + page.routes.count
        let left = remaining.map { $0 - page.routes.count }
        if let next = page.next, left.map({ $0 > 0 }) ?? true, let context {
            state.streamStarted()
            query.after = next
            let nextQuery = query
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: Void.self)
            emitOutbound()
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
            promise.futureResult.whenComplete { result in
                let handler = loopBound.value
                guard case .success = result, handler.context != nil else { return }
                handler.streamList(request, query: nextQuery, remaining: left, count: total)
            }
            return
        }
        succeed(request, .object([("count", .number(total)), ("revision", .number(page.revision)), ("next", page.next.map { .string($0) } ?? .null)]),
                revision: page.revision)
        if state.streamEnded() { drain() }
    }
}
