import Foundation
import RouterProtocol
import RouterTestSupport

/// A redis-server of the test's own and routerd processes sharing one table in it.
final class SharedStore {
    let redis: RedisServerProcess
    private(set) var daemons: [RouterdProcess] = []
    let arguments: [String]

    /// Starts Redis (with `redisArguments`) and `count` routerd on it.
    init(daemons count: Int, redisArguments: [String] = [], arguments: [String] = []) throws {
        redis = try RedisServerProcess(redisArguments)
        self.arguments = ["--store", "redis+unix://\(redis.socket)", "--domain", "example.com"] + arguments
        for _ in 0..<count { daemons.append(try RouterdProcess(self.arguments)) }
    }

    deinit { stop() }

    func stop() {
        for daemon in daemons { _ = try? daemon.stop() }
        daemons = []
        redis.stop()
    }

    /// Starts one more routerd on the store; returns its index.
    @discardableResult
    func join() throws -> Int {
        daemons.append(try RouterdProcess(arguments))
        return daemons.count - 1
    }

    func connect(_ index: Int) throws -> LineClient {
        try LineClient(path: daemons[index].socket)
    }

    /// Runs redis-cli against the test's Redis; returns its output.
    @discardableResult
    func redisCLI(_ words: String...) -> String {
        let cli = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) }!
        let child = try? ChildProcess(cli, ["-s", redis.socket] + words, directory: redis.directory)
        return child?.wait().stdout ?? ""
    }
}

extension LineClient {
    /// Every route's key and tunnel, as `list` streams them.
    func routes() throws -> [String: String] {
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
    func startWatch(from revision: UInt64? = nil, instance: String? = nil) throws -> [JSONValue] {
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
    func events(_ count: Int, timeout: Double = 15) throws -> [String] {
        var seen: [String] = []
        while seen.count < count {
            let reply = try readJSON(timeout: timeout)
            guard let event = reply["event"] else { throw StoreTestError("watch ended: \(reply)") }
            seen.append(Self.describe(event))
        }
        return seen
    }

    static func describe(_ event: JSONValue) -> String {
        "\(event["type"]?.stringValue ?? "?") \(event["key"]?.stringValue ?? "?") \(event["revision"]?.integerValue ?? -1)"
    }
}

struct StoreTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
