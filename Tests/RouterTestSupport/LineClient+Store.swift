import Foundation
import RouterProtocol

/// What the shared-store tests (Redis, etcd) read from a daemon: its routes, a watch's events.
extension LineClient {
    /// Every route's key and tunnel, as `list` streams them.
    public func routes() throws -> [String: String] {
        try send(#"{"id":"list","op":"list"}"#)
        var routes: [String: String] = [:]
        while true {
            let line = try readJSON()
            if let route = line["route"] {
                routes[route["key"]!.stringValue!] = route["tunnel"]?.stringValue
                continue
            }
            guard line["ok"] == .bool(true) else { throw StoreTestError("list failed: \(line)") }
            return routes
        }
    }

    /// Starts a watch (`from_revision` when given) and reads up to its sync event.
    public func startWatch(from revision: UInt64? = nil, instance: String? = nil) throws -> [JSONValue] {
        var line = #"{"id":"w","op":"watch""#
        if let revision { line += #","from_revision":\#(revision)"# }
        if let instance { line += #","instance":"\#(instance)""# }
        try send(line + "}")
        var replayed: [JSONValue] = []
        while true {
            let reply = try readJSON()
            guard let event = reply["event"] else { throw StoreTestError("watch failed: \(reply)") }
            if event["type"] == .string("sync") { return replayed }
            replayed.append(event)
        }
    }

    /// The watch's next `count` events (as `type key revision`).
    public func events(_ count: Int, timeout: Double = 15) throws -> [String] {
        var seen: [String] = []
        while seen.count < count {
            let reply = try readJSON(timeout: timeout)
            guard let event = reply["event"] else { throw StoreTestError("watch ended: \(reply)") }
            seen.append(Self.describe(event))
        }
        return seen
    }

    public static func describe(_ event: JSONValue) -> String {
        "\(event["type"]?.stringValue ?? "?") \(event["key"]?.stringValue ?? "?") \(event["revision"]?.integerValue ?? -1)"
    }
}

public struct StoreTestError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
