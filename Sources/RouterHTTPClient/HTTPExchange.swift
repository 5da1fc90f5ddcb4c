import RouterProtocol

/// One protocol request as an HTTP request to routerd's API, and how its response becomes the
/// reply lines the socket would have sent: the same result objects, the same error objects.
///
/// | op | HTTP |
/// |---|---|
/// | `add` | `POST /routes` |
/// | `delete` | `DELETE /routes/{key}` |
/// | `touch` | `POST /routes/{key}/touch` |
/// | `lookup` | `GET /lookup?host=…` (or `sni`, `key`) |
/// | `list` | `GET /routes?…`, a page at a time, each route one `route` line |
/// | `batch` | `POST /batch` |
/// | `watch` | `GET /watch?…` with `Accept: application/x-ndjson`, each event one line |
/// | `history`, `holds` | `GET /history?…`, `GET /holds?…` |
/// | `stats`, `hello` | `GET /stats` (the greeting is made of the daemon's facts there) |
/// | `ping` | `GET /healthz` |
struct HTTPExchange {
    /// How the response is read.
    enum Shape {
        /// One JSON body, the request's result.
        case single
        /// A page of `GET /routes`; more pages follow until `remaining` is met or `next` is null.
        case listPage(query: [(String, String)], remaining: Int?, count: Int)
        /// The NDJSON change stream: lines as they come, until routerd ends it or `cancel`.
        case watch
        /// `hello`: the greeting, from `GET /stats`.
        case hello
    }

    /// The request methods the API's calls use.
    enum Method: String {
        case GET, POST, PATCH, DELETE
    }

    var id: RequestID?
    var op: String
    var method: Method
    /// The path and query, after the base URL's path.
    var target: String
    var body: [UInt8]?
    var shape: Shape

    /// The request line `request` as an exchange, or the refusal the daemon would have sent.
    static func make(_ request: Request) -> Result<HTTPExchange, ProtocolError> {
        let id = request.id
        let fields = request.arguments.members
        func exchange(_ method: Method, _ target: String, body: [(String, JSONValue)]? = nil, _ shape: Shape = .single) -> Result<HTTPExchange, ProtocolError> {
            .success(HTTPExchange(id: id, op: request.op, method: method, target: target,
                                  body: body.map { JSONWriter.encode(.object($0)).utf8.map { $0 } }, shape: shape))
        }
        switch Operation(rawValue: request.op) {
        case .add:
            return exchange(.POST, "/routes", body: fields)
        case .delete:
            guard let key = request.string("key") else { return .failure(ProtocolError(.badRequest, "delete needs key")) }
            return exchange(.DELETE, "/routes/" + pathEscaped(key))
        case .update:
            guard let key = request.string("key") else { return .failure(ProtocolError(.badRequest, "update needs key")) }
            return exchange(.PATCH, "/routes/" + pathEscaped(key), body: fields.filter { $0.0 != "key" })
        case .touch:
            guard let key = request.string("key") else { return .failure(ProtocolError(.badRequest, "touch needs key")) }
            return exchange(.POST, "/routes/" + pathEscaped(key) + "/touch", body: fields.filter { $0.0 != "key" })
        case .lookup:
            return exchange(.GET, "/lookup" + queryString(textFields(fields)))
        case .list:
            var query = textFields(fields).filter { $0.0 != "limit" }
            let limit = request.integer("limit").map { Int($0) }
            if let limit, limit < 0 { return .failure(ProtocolError(.badRequest, "limit must be 0 or more")) }
            query.append(("limit", String(min(limit ?? pageSize, pageSize))))
            return exchange(.GET, "/routes" + queryString(query), .listPage(query: query, remaining: limit, count: 0))
        case .batch:
            return exchange(.POST, "/batch", body: fields)
        case .watch:
            return exchange(.GET, "/watch" + queryString(textFields(fields)), .watch)
        case .stats:
            return exchange(.GET, "/stats")
        case .history:
            return exchange(.GET, "/history" + queryString(textFields(fields)))
        case .holds:
            return exchange(.GET, "/holds" + queryString(textFields(fields)))
        case .dns:
            return exchange(.GET, "/dns" + queryString(textFields(fields)))
        case .hello:
            if request.arguments["resume"] != nil {
                return .failure(ProtocolError(.badRequest, "resume is for the socket: the HTTP API has no sessions (give routes a ttl and touch them)"))
            }
            return exchange(.GET, "/stats", .hello)
        case .ping:
            return exchange(.GET, "/healthz")
        case .cancel, .describe, nil:
            return .failure(ProtocolError(.unknownOp, "'\(request.op)' is not available over the HTTP API"))
        }
    }

    /// The most routes one page asks for (the server's own page size).
    static let pageSize = 1000

    /// The next page of a list after a page that said `next`, or nil when the list is done.
    func nextPage(after next: String?, received: Int) -> HTTPExchange? {
        guard case .listPage(var query, let remaining, let count) = shape, let next else { return nil }
        let left = remaining.map { $0 - received }
        if let left, left <= 0 { return nil }
        query.removeAll { $0.0 == "after" || $0.0 == "limit" }
        query.append(("after", next))
        query.append(("limit", String(min(left ?? Self.pageSize, Self.pageSize))))
        var page = self
        page.target = "/routes" + Self.queryString(query)
        page.shape = .listPage(query: query, remaining: left, count: count + received)
        return page
    }

    // MARK: Encoding

    /// Query parameters from protocol fields: strings as they are, numbers and booleans as
    /// written in JSON.
    static func textFields(_ fields: [(String, JSONValue)]) -> [(String, String)] {
        fields.map { name, value in
            switch value {
            case .string(let s): return (name, s)
            default: return (name, JSONWriter.encode(value))
            }
        }
    }

    static func queryString(_ parameters: [(String, String)]) -> String {
        guard !parameters.isEmpty else { return "" }
        return "?" + parameters.map { queryEscaped($0.0) + "=" + queryEscaped($0.1) }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func queryEscaped(_ text: String) -> String {
        escaped(text) { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                return true
            default:
                return false
            }
        }
    }

    /// A key as one path segment: `*` and `:` stay (routerd reads `*.foo` and `tcp:N` as they
    /// are); `/`, `%`, `?`, `#`, spaces, controls and non-ASCII bytes are percent-encoded.
    static func pathEscaped(_ key: String) -> String {
        escaped(key) { byte in
            switch byte {
            case UInt8(ascii: "/"), UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "#"), 0...0x20, 0x7F...: return false
            default: return true
            }
        }
    }

    private static func escaped(_ text: String, keeping keep: (UInt8) -> Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if keep(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
