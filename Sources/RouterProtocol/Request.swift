/// A request's arguments by name: a handful at most, so a short list searched from the end
/// (the last of duplicate names wins, as in a JSON object) beats hashing into a dictionary.
package struct RequestArguments: Sendable, ExpressibleByDictionaryLiteral {
    package private(set) var members: [(String, JSONValue)]

    package init(_ members: [(String, JSONValue)] = []) {
        self.members = members
    }

    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements
    }

    package subscript(name: String) -> JSONValue? {
        get {
            for (n, value) in members.reversed() where n == name { return value }
            return nil
        }
        set {
            members.removeAll { $0.0 == name }
            if let newValue { members.append((name, newValue)) }
        }
    }

    mutating func append(_ name: String, _ value: JSONValue) {
        members.append((name, value))
    }
}

/// A parsed, validated request line.
package struct Request: Sendable {
    package var id: RequestID?
    package var op: String
    /// The arguments, each present only if given, of the type the spec says.
    package var arguments: RequestArguments

    package init(id: RequestID?, op: String, arguments: RequestArguments = [:]) {
        self.id = id
        self.op = op
        self.arguments = arguments
    }

    package func string(_ name: String) -> String? { arguments[name]?.stringValue }
    package func bool(_ name: String) -> Bool { arguments[name]?.boolValue ?? false }
    package func number(_ name: String) -> Double? { arguments[name]?.doubleValue }
    package func integer(_ name: String) -> Int64? { arguments[name]?.integerValue }

    /// Parses one line; on failure returns the error and whatever id could be read.
    package static func parse(_ line: UnsafeBufferPointer<UInt8>) -> Result<Request, RequestFailure> {
        if line.isEmpty || line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            return .failure(RequestFailure(id: nil, error: ProtocolError(.badRequest, "empty line: send one JSON object per line")))
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            return .failure(RequestFailure(id: nil, error: ProtocolError(.badRequest, "malformed JSON: \(error)")))
        }
        return validate(value)
    }

    /// Checks a parsed request object against its operation's spec (a line, or one of a
    /// `batch`'s `ops`, which may only be the operations in `allowed`).
    package static func validate(_ value: JSONValue, allowed: Set<String>? = nil) -> Result<Request, RequestFailure> {
        guard case .object(let members) = value else {
            return .failure(RequestFailure(id: nil, error: ProtocolError(
                .badRequest, "a request is a JSON object such as {\"id\":1,\"op\":\"ping\"}, not \(value.typeName)")))
        }
        var id: RequestID?
        if let raw = value["id"], raw != .null {
            guard let parsed = RequestID(raw) else {
                return .failure(RequestFailure(id: nil, error: ProtocolError(
                    .badRequest, "id must be a string or an integer up to 2^53, not \(raw.typeName == "a number" ? "that number" : raw.typeName)")))
            }
            id = parsed
        }
        guard let opValue = value["op"] else {
            return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, "missing field 'op' (one of \(Operations.all.map(\.name).joined(separator: ", ")))")))
        }
        guard let op = opValue.stringValue else {
            return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, "field 'op' must be a string, not \(opValue.typeName)")))
        }
        if let allowed, !allowed.contains(op) {
            return .failure(RequestFailure(id: id, error: ProtocolError(
                .badRequest, "a batch may hold \(allowed.sorted().joined(separator: ", ")) operations, not '\(op.clipped(40))'")))
        }
        guard let spec = Operations.byName[op] else {
            return .failure(RequestFailure(id: id, error: ProtocolError(
                .unknownOp, "unknown op '\(op.clipped(40))'; known: \(Operations.all.map(\.name).joined(separator: ", "))",
                details: .object([("op", .string(String(op.prefix(100))))]))))
        }
        var arguments = RequestArguments()
        for (name, member) in members where name != "id" && name != "op" {
            guard let arg = spec.arguments.first(where: { $0.name == name }) else {
                var message = "unknown field '\(name.clipped(40))' for \(op)"
                if let close = closest(name, among: spec.arguments.map(\.name)) { message += "; did you mean '\(close)'?" }
                if !spec.arguments.isEmpty { message += " (fields: \(spec.arguments.map(\.name).joined(separator: ", ")))" }
                return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, message, details: .object([("field", .string(String(name.prefix(100))))]))))
            }
            if let problem = typeProblem(member, arg) {
                return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, "field '\(name)' must be \(problem), not \(member.typeName)", details: .object([("field", .string(name))]))))
            }
            arguments.append(name, member)
        }
        for arg in spec.arguments where arg.required && arguments[arg.name] == nil {
            return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, "missing field '\(arg.name)' for \(op): \(arg.summary)", details: .object([("field", .string(arg.name))]))))
        }
        return .success(Request(id: id, op: op, arguments: arguments))
    }

    static func typeProblem(_ value: JSONValue, _ arg: ArgumentSpec) -> String? {
        switch (arg.type, value) {
        case (.string, .string), (.boolean, .bool), (.number, .number), (.array, .array),
             (.optionalString, .string), (.optionalString, .null):
            return nil
        case (.integer, .number):
            return value.integerValue == nil ? "an integer" : nil
        case (.id, _):
            return RequestID(value) == nil ? "a string or an integer" : nil
        case (.stringMap, .object(let members)):
            return members.allSatisfy({ $0.1.stringValue != nil }) ? nil : "an object of strings"
        case (.stringList, .array(let elements)):
            return elements.allSatisfy({ $0.stringValue != nil }) ? nil : "an array of strings"
        case (.stringList, _): return "an array of strings"
        case (.optionalString, _): return "a string or null"
        case (.string, _): return "a string"
        case (.boolean, _): return "a boolean"
        case (.number, _): return "a number"
        case (.integer, _): return "an integer"
        case (.stringMap, _): return "an object of strings"
        case (.array, _): return "an array"
        }
    }

    /// The known name within edit distance 2 of `name`, for "did you mean" hints.
    static func closest(_ name: String, among names: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var current = [i + 1] + Array(repeating: 0, count: b.count)
                for (j, y) in b.enumerated() {
                    current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
                }
                previous = current
            }
            return previous[b.count]
        }
        guard name.count <= 40 else { return nil }
        let a = Array(name)
        return names.map { ($0, distance(a, Array($0))) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }
}

/// A request that could not be parsed: the error and the id, when it could be read.
package struct RequestFailure: Error, Sendable {
    package var id: RequestID?
    package var error: ProtocolError
}
