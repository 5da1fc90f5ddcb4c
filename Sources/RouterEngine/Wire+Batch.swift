import DomainRouter
import RouterProtocol

/// The results of `touch` and `batch`, and an atomic batch's refusal, as every front end sends
/// them (the socket and the HTTP API alike).
extension Wire {
    /// `{route}` for a key, `{routes}` for a tunnel's (`uuid:`) touch.
    package static func touchResult(_ routes: [Route], tunnel: Bool, for viewer: Viewer) -> JSONValue {
        tunnel ? .object([("routes", .array(routes.map { route($0, for: viewer) }))])
            : .object([("route", route(routes[0], for: viewer))])
    }

    /// A lookup's answer, `{route, match, via}`, as a value (`writeLookup` writes the same
    /// bytes straight into a buffer, for the socket's hot path).
    package static func lookup(_ result: LookupResult, for viewer: Viewer) -> JSONValue {
        var w = JSONWriter(capacity: 420)
        w.write(maximumLength: lookupMaximumLength(result)) { writeLookup(result, for: viewer, to: &$0) }
        return .raw(w.bytes)
    }

    /// The most bytes `writeLookup` writes for `result`.
    package static func lookupMaximumLength(_ result: LookupResult) -> Int {
        maximumLength(of: result.route) + JSONOutput.maximumLength(ofString: result.via) + 48
    }

    /// Writes `{route, match, via}` for `result` as `viewer` may see the route.
    package static func writeLookup(_ result: LookupResult, for viewer: Viewer, to out: inout JSONOutput) {
        out.literal("{\"route\":")
        writeRoute(result.route, for: viewer, to: &out)
        out.literal(result.match == .exact ? ",\"match\":\"exact\",\"via\":" : ",\"match\":\"wildcard\",\"via\":")
        out.string(result.via)
        out.byte(UInt8(ascii: "}"))
    }

    /// One batch operation's result: what the operation would have answered on its own.
    package static func batchResult(_ outcome: BatchOutcome, of operation: BatchOperation, for viewer: Viewer) -> JSONValue {
        switch outcome {
        case .added(let result):
            return .object([("route", route(result.route, for: viewer))])
        case .deleted(let removed):
            return .object([("deleted", .number(removed.count))])
        case .touched(let routes):
            guard case .touch(let key, _) = operation else { return .object([]) }
            return touchResult(routes, tunnel: key.kind == nil, for: viewer)
        }
    }

    /// A batch's results, one an operation in order: `{ok: true, result}` or
    /// `{ok: false, error}` (an operation that could not be read has the error that says why).
    package static func batchResults(_ operations: [Result<BatchOperation, RouteError>], _ outcomes: [Result<BatchOutcome, RouteError>],
                                     for viewer: Viewer) -> JSONValue {
        .object([("results", .array(zip(operations, outcomes).map { operation, outcome -> JSONValue in
            switch (operation, outcome) {
            case (.success(let op), .success(let done)):
                return .object([("ok", .bool(true)), ("result", batchResult(done, of: op, for: viewer))])
            case (_, .failure(let error)):
                return .object([("ok", .bool(false)), ("error", Wire.error(error).object)])
            case (.failure(let error), .success):
                // The executor never runs an operation that could not be read.
                preconditionFailure("a batch operation that could not be read succeeded: \(error)")
            }
        }))])
    }

    /// An atomic batch's refusal: the failing operation's error, its message starting
    /// `ops[N] (op):`, and `details.index` (which routerctl turns back into a line number).
    package static func indexed(_ error: ProtocolError, index: Int, op: String) -> ProtocolError {
        var error = error
        error.message = "ops[\(index)] (\(op)): \(error.message); nothing was applied"
        var details: [(String, JSONValue)] = [("index", .number(index))]
        if case .object(let members)? = error.details { details += members }
        error.details = .object(details)
        return error
    }
}

extension Wire {
    /// A page of history: `{entries, next}`, each entry `{revision, at, type, key, principal,
    /// peer, before, after}` with the routes as `viewer` may see them.
    package static func history(_ page: HistoryPage, for viewer: Viewer) -> JSONValue {
        .object([
            ("entries", .array(page.entries.map { entry in
                .object([
                    ("revision", .number(entry.revision)),
                    ("at", timestamp(entry.at)),
                    ("type", .string(entry.kind.rawValue)),
                    ("key", .string(entry.key)),
                    ("principal", .string(entry.principal)),
                    ("peer", .string(entry.peer)),
                    ("before", entry.before.map { route($0, for: viewer) } ?? .null),
                    ("after", entry.after.map { route($0, for: viewer) } ?? .null),
                ])
            })),
            ("next", page.next.map { .number($0) } ?? .null),
        ])
    }
}

extension Wire {
    /// Held names: `{holds: [{key, owner, until}]}`.
    package static func held(_ names: [HeldName]) -> JSONValue {
        .object([("holds", .array(names.map { name in
            .object([("key", .string(name.key)), ("owner", .string(name.owner)), ("until", timestamp(name.until))])
        }))])
    }
}
