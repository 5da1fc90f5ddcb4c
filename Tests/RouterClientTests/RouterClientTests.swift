import Foundation
import RouterClient
import RouterProtocol
import RouterTestSupport
import Testing

/// A routerd binary on a temporary socket for the client to talk to.
final class DaemonProcess {
    let routerd: RouterdProcess
    var socket: String { routerd.socket }

    init() throws {
        routerd = try RouterdProcess(["--domain", "example.com", "--log-level", "critical"])
    }

    /// SIGTERM, then up to 10 s for routerd to exit (a daemon that ignores it is a failure).
    func stop() {
        do {
            try routerd.stop()
        } catch {
            Issue.record("\(error)")
        }
    }
}

@Suite("RouterClient against a real routerd", .serialized)
struct RouterClientTests {
    @Test func greetingCarriesInstanceSessionAndLineLimit() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let client = try RouterClient(path: d.socket)
        let greeting = try client.greeting
        #expect(greeting.server == "routerd")
        #expect(!greeting.instance.isEmpty && !greeting.resumeToken.isEmpty)
        #expect(greeting.maximumLine == 65_536)
    }

    @Test func callReturnsTheResultAndRefusalsCarryTheDaemonsCode() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let client = try RouterClient(path: d.socket)
        let added = try client.call("add", [("key", .string("foo")), ("tunnel", .string("t1"))])
        #expect(added.result["route"]?["key"] == .string("foo.example.com"))
        #expect(added.revision == 1)
        #expect(throws: ClientError.self) { try client.call("add", [("key", .string("foo")), ("tunnel", .string("t2"))]) }
        let miss = #expect(throws: ClientError.self) { try client.call("lookup", [("host", .string("nope.example.com"))]) }
        guard let error = miss?.daemonError else { Issue.record("not a daemon error: \(String(describing: miss))"); return }
        #expect(error.code == .notFound)
        #expect(error.message.contains("nope.example.com"))
    }

    @Test func pipelinedRequestsAnswerInOrder() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let client = try RouterClient(path: d.socket)
        var ids: [Int64] = []
        for i in 0..<200 { ids.append(try client.send("add", [("key", .string("n\(i)"))])) }
        for id in ids {
            let line = try client.read()
            #expect(line.id == .number(String(id)))
        }
    }

    @Test func listStreamsItemsBeforeTheFinalLine() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let client = try RouterClient(path: d.socket)
        for name in ["b", "a", "c"] { try client.call("add", [("key", .string(name))]) }
        var keys: [String] = []
        let (_, result) = try client.call("list") { (line: ReplyLine) throws(ClientError) -> Bool in
            if case .route(_, let route) = line { keys.append(route["key"]?.stringValue ?? "") }
            return true
        }
        #expect(keys == ["a.example.com", "b.example.com", "c.example.com"])
        #expect(result["count"] == .number("3"))
    }

    @Test func unreachableSocketIsAnUnreachableError() {
        let error = #expect(throws: ClientError.self) {
            _ = try RouterClient(path: "/tmp/no-such-routerd.sock")
        }
        #expect(error?.code == "unreachable")
        #expect(error?.description.hasPrefix("cannot reach routerd at /tmp/no-such-routerd.sock: no such socket; is routerd running?") == true)
    }

    @Test func connectionReportsNotAliveOnceTheDaemonStops() throws {
        let d = try DaemonProcess()
        let client = try RouterClient(path: d.socket)
        #expect(client.isAlive)
        d.stop()
        var alive = true
        for _ in 0..<200 where alive {
            alive = client.isAlive
            usleep(10_000)
        }
        #expect(!alive)
    }
}
