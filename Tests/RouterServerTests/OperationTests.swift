import Foundation
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Testing
@testable import RouterServer

@Suite("Daemon operations over a real socket", .serialized)
struct OperationTests {
    @Test func greetingCarriesSessionInstanceAndPrincipal() async throws {
        try await withDaemon { daemon in
            let client = try daemon.connect()
            #expect(client.greeting["server"] == .string("routerd"))
            #expect(client.greeting["protocol"] == .number(1))
            #expect(client.greeting["instance"]?.stringValue == daemon.server.instance)
            #expect(client.greeting["session"]?["resume_token"]?.stringValue?.count == 32)
            #expect(client.greeting["principal"]?["admin"] == .bool(geteuid() == 0 || true))
            let hello = try client.request(#"{"id":1,"op":"hello","protocol":1}"#)
            #expect(hello.ok)
            #expect(try client.request(#"{"id":2,"op":"hello","protocol":2}"#).errorCode == "bad_request")
        }
    }

    @Test func addLookupTouchListDeleteRoundTrip() async throws {
        try await withDaemon { daemon in
            let c = try daemon.connect()
            let added = try c.request(#"{"id":1,"op":"add","key":"foo","tunnel":"t1","ttl":30,"target":"10.0.0.1:8080","labels":{"env":"prod"}}"#)
            #expect(added.ok)
            #expect(added.result?["route"]?["key"] == .string("foo.example.com"))
            #expect(added.result?["route"]?["ttl"] == .number(30))
            #expect(added["revision"] == .number(1))

            let byHost = try c.request(#"{"id":2,"op":"lookup","host":"FOO.Example.com:8443"}"#)
            #expect(byHost.result?["match"] == .string("exact"))
            #expect(byHost.result?["route"]?["target"] == .string("10.0.0.1:8080"))
            #expect(try c.request(#"{"id":3,"op":"lookup","sni":"foo.example.com"}"#).ok)
            #expect(try c.request(#"{"id":4,"op":"lookup","key":"foo.example.com"}"#).ok)

            #expect(try c.request(#"{"id":5,"op":"add","key":"*.w.example.com","tunnel":"t1"}"#).ok)
            let wild = try c.request(#"{"id":6,"op":"lookup","host":"a.b.w.example.com"}"#)
            #expect(wild.result?["match"] == .string("wildcard"))
            #expect(wild.result?["via"] == .string("*.w.example.com"))

            let tunnel = try c.request(#"{"id":7,"op":"lookup","key":"uuid:t1"}"#)
            #expect(tunnel.result?["tunnel"]?["routes"] == .number(2))
            #expect(try c.request(#"{"id":8,"op":"lookup","key":"tunnel:t1"}"#).ok)

            let touched = try c.request(#"{"id":9,"op":"touch","key":"foo.example.com","ttl":60}"#)
            #expect(touched.result?["route"]?["ttl"] == .number(60))

            try c.send(#"{"id":10,"op":"list"}"#)
            #expect(try c.readJSON()["route"]?["key"] == .string("*.w.example.com"))
            #expect(try c.readJSON()["route"]?["key"] == .string("foo.example.com"))
            let end = try c.readJSON()
            #expect(end.result?["count"] == .number(2))
            #expect(end.result?["next"] == .null)

            #expect(try c.request(#"{"id":11,"op":"delete","key":"uuid:t1"}"#).result?["deleted"] == .number(2))
            #expect(try c.request(#"{"id":12,"op":"lookup","host":"foo.example.com"}"#).errorCode == "not_found")
            let stats = try c.request(#"{"id":13,"op":"stats"}"#)
            #expect(stats.result?["routes"]?["total"] == .number(0))
            #expect(stats.result?["connections"] == .number(1))
            #expect((stats.result?["rss_bytes"]?.integerValue ?? 0) > 0)
            let describe = try c.request(#"{"id":14,"op":"describe"}"#)
            if case .array(let ops)? = describe.result?["ops"] { #expect(ops.count == Operations.all.count) } else { Issue.record("no ops") }
        }
    }

    @Test func addCarriesAllowAndDenyAndRefusesABadBlockByName() async throws {
        try await withDaemon { daemon in
            let c = try daemon.connect()
            let added = try c.request(#"{"id":1,"op":"add","key":"ui","tunnel":"t1","allow":["10.0.0.0/8","2001:db8::/32"],"deny":["10.1.0.0/16"]}"#)
            #expect(added.result?["route"]?["allow"] == .array([.string("10.0.0.0/8"), .string("2001:db8::/32")]))
            #expect(added.result?["route"]?["deny"] == .array([.string("10.1.0.0/16")]))
            let plain = try c.request(#"{"id":2,"op":"add","key":"open","tunnel":"t1"}"#)
            #expect(plain.result?["route"]?["allow"] == .array([]) && plain.result?["route"]?["deny"] == .array([]))
            let bad = try c.request(#"{"id":3,"op":"add","key":"x","tunnel":"t1","deny":["10.0.0.0/40"]}"#)
            #expect(bad.errorCode == "bad_request")
            #expect(bad["error"]?["message"]?.stringValue?.contains("'10.0.0.0/40': the prefix length must be 0 to 32") == true, "\(bad)")
            let notStrings = try c.request(#"{"id":4,"op":"add","key":"x","tunnel":"t1","allow":[10]}"#)
            #expect(notStrings.errorCode == "bad_request")
            #expect(notStrings["error"]?["message"]?.stringValue?.contains("field 'allow' must be an array of strings") == true)
        }
    }

    @Test func listPagesWithAfterAndLimit() async throws {
        try await withDaemon { daemon in
            let c = try daemon.connect()
            for i in 0..<2500 { try c.send(#"{"op":"add","key":"n\#(10000 + i)"}"#) }
            for _ in 0..<2500 { #expect(try c.readJSON().ok) }
            try c.send(#"{"id":"all","op":"list","prefix":"n1"}"#)
            var keys: [String] = []
            while true {
                let line = try c.readJSON()
                if let key = line["route"]?["key"]?.stringValue { keys.append(key); continue }
                #expect(line.result?["count"] == .number(2500))
                break
        }
        #expect(keys == (0..<2500).map { "n\(10000 + $0).example.com" })
        try c.send(#"{"id":"p","op":"list","limit":2}"#)
        _ = try c.readJSON(); _ = try c.readJSON()
        #expect(try c.readJSON().result?["next"] == .string("n10001.example.com"))
        }
    }

    @Test func everyErrorCodeHasItsCause() async throws {
        try await withDaemon({ $0.table.tcpPorts = 50000...50000; $0.table.historyLimit = 4 }) { daemon in
            let c = try daemon.connect()
            #expect(try c.request(#"{"id":1,"op":"add","key":"bad_name"}"#).errorCode == "invalid_name")
            #expect(try c.request(#"{"id":2,"op":"delete","key":"nope.example.com"}"#).errorCode == "not_found")
            #expect(try c.request(#"{"id":3,"op":"add","key":"a","tunnel":"t1"}"#).ok)
            #expect(try c.request(#"{"id":4,"op":"add","key":"a","tunnel":"t2"}"#).errorCode == "conflict")
            #expect(try c.request(#"{"id":5,"op":"add","key":"b","tunnel":"t1","owner":"bob"}"#).errorCode == "forbidden")
            #expect(try c.request(#"{"id":6,"op":"add","key":"tcp:auto"}"#).ok)
            #expect(try c.request(#"{"id":7,"op":"add","key":"tcp:auto"}"#).errorCode == "out_of_range")
            for i in 0..<6 { _ = try c.request(#"{"op":"add","key":"h\#(i)"}"#) }
            #expect(try c.request(#"{"id":8,"op":"watch","from_revision":1}"#).errorCode == "compacted")
            #expect(try c.request(#"{"id":9,"op":"nope"}"#).errorCode == "unknown_op")
            #expect(try c.request(#"{"id":10,"op":"add"}"#).errorCode == "bad_request")
            #expect(try c.request(#"{"id":11,"op":"cancel","watch":99}"#).errorCode == "not_found")
            #expect(try c.request(#"{"id":12,"op":"watch","from_revision":1000}"#).errorCode == "out_of_range")
        }
    }

    @Test func reservedNamesAreRefusedForUsers() async throws {
        // Admins may take reserved names; the refusal is checked at the table level for users
        // (RouteTableAddTests) and end to end as `nobody` in PeerTests.
        try await withDaemon { daemon in
            let c = try daemon.connect()
            #expect(try c.request(#"{"id":1,"op":"add","key":"www"}"#).ok)
        }
    }

    @Test func aRunOfPipelinedAddsAnswersEachInOrderWithItsOwnError() async throws {
        // Consecutive adds run together under one table lock; each still stands alone.
        try await withDaemon { daemon in
            let c = try daemon.connect()
            var lines: [String] = []
            for i in 0..<300 {
                switch i % 50 {
                case 7: lines.append(#"{"id":\#(i),"op":"add","key":"bad_name"}"#)
                case 9: lines.append(#"{"id":\#(i),"op":"add","key":"r\#(i - 1)","tunnel":"other"}"#)
                default: lines.append(#"{"id":\#(i),"op":"add","key":"r\#(i)","tunnel":"mine"}"#)
                }
            }
            lines.append(#"{"id":"look","op":"lookup","key":"r299"}"#)
            try c.sendRaw(Array((lines.joined(separator: "\n") + "\n").utf8))
            var revision = 0
            for i in 0..<300 {
                let reply = try c.readJSON()
                #expect(reply["id"] == .number(i))
                switch i % 50 {
                case 7: #expect(reply.errorCode == "invalid_name", "\(i): \(reply)")
                case 9: #expect(reply.errorCode == "conflict", "\(i): \(reply)")
                default:
                    #expect(reply.ok, "\(i): \(reply)")
                    let created = reply.result?["route"]?["create_revision"]?.integerValue.map(Int.init) ?? 0
                    #expect(created == revision + 1, "revisions follow request order")
                    revision = created
                }
            }
            let look = try c.readJSON()
            #expect(look["id"] == .string("look") && look.ok)
        }
    }

    @Test func tenThousandPipelinedRequestsAreAnsweredInOrder() async throws {
        try await withDaemon { daemon in
            let c = try daemon.connect()
            var batch: [UInt8] = []
            for i in 0..<10_000 {
                let op = i % 3 == 0 ? #""op":"add","key":"p\#(i)""# : i % 3 == 1 ? #""op":"ping""# : #""op":"lookup","host":"p\#(i - 2).example.com""#
                batch += Array(#"{"id":\#(i),\#(op)}"#.utf8) + [0x0A]
        }
        try c.sendRaw(batch)
        for i in 0..<10_000 {
            let reply = try c.readJSON()
            #expect(reply["id"] == .number(i))
            #expect(reply.ok, "\(i): \(reply)")
        }
        }
    }

    @Test func twoHundredConnectionsRaceForFiftyNames() async throws {
        try await withDaemon { daemon in
            let path = daemon.socketPath
            let names = (0..<50).map { "race\($0)" }
            let outcomes = try await withThrowingTaskGroup(of: [(String, Bool, String?)].self) { group in
                for worker in 0..<200 {
                    group.addTask {
                        let c = try LineClient(path: path)
                        var results: [(String, Bool, String?)] = []
                        for name in names.shuffled() {
                            let reply = try c.request(#"{"op":"add","key":"\#(name)","tunnel":"w\#(worker)"}"#)
                            results.append((name, reply.ok, reply.errorCode))
                        }
                        return results.map { ($0.0, $0.1, $0.1 ? "w\(worker)" : $0.2) }
                    }
                }
                var all: [(String, Bool, String?)] = []
                for try await part in group { all += part }
                return all
        }
        let winners = outcomes.filter { $0.1 }
        #expect(winners.count == 50)
        #expect(Set(winners.map(\.0)).count == 50)
        #expect(outcomes.filter { !$0.1 }.allSatisfy { $0.2 == "conflict" })
        let c = try daemon.connect()
        for (name, _, tunnel) in winners {
            #expect(try c.request(#"{"op":"lookup","key":"\#(name)"}"#).result?["route"]?["tunnel"] == .string(tunnel!))
        }
        }
    }
}

@Suite("Connection limits")
struct ConnectionLimitTests {
    @Test func aBurstOfAThousandConnectsIsAllAcceptedWhileTheLoopIsBusy() async throws {
        try await withDaemon({ $0.threads = 1 }) { daemon in
            // Hold the only event loop, so nothing is accepted during the burst: every connect
            // must find room in the listen backlog.
            let loop = daemon.server.group.next()
            let running = DispatchSemaphore(value: 0)
            let held = loop.submit {
                running.signal()
                usleep(1_500_000)
            }
            running.wait()
            var descriptors: [Int32] = []
            defer { descriptors.forEach { Glibc.close($0) } }
            var refused = 0
            for _ in 0..<1_000 {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                guard fd >= 0 else { Issue.record("socket: \(errno)"); return }
                descriptors.append(fd)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                var address = sockaddr_un()
                address.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &address.sun_path) { raw in
                    let path = Array(daemon.socketPath.utf8)
                    raw.copyBytes(from: path)
                    raw[path.count] = 0
                }
                let rc = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                if rc != 0 { refused += 1 }
            }
            #expect(refused == 0, "\(refused) of 1,000 connects refused")
            _ = try await held.get()
            // Every one of them is then served.
            #expect(eventually(timeout: 30) { daemon.server.counts.connections >= 1_000 })
        }
    }

    @Test func connectionsBeyondTheLimitAreRefusedWithUnavailable() async throws {
        try await withDaemon({ $0.maximumConnections = 2 }) { daemon in
            let first = try daemon.connect()
            let second = try daemon.connect()
            let third = try LineClient(path: daemon.socketPath, readGreeting: false)
            let refusal = try third.readJSON()
            #expect(refusal.errorCode == "unavailable")
            #expect(third.isClosed())
            #expect(try first.request(#"{"op":"ping"}"#).ok)
            second.close()
            #expect(eventually { (try? LineClient(path: daemon.socketPath).request(#"{"op":"ping"}"#).ok) == true })
        }
    }
}
