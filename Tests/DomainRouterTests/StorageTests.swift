#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DomainRouter

@Suite("Table storage")
struct StorageTests {
    @Test func slotIsTwoCacheLinesWithTheKeyFirst() {
        #expect(MemoryLayout<Slot>.stride == 128)
        #expect(MemoryLayout<Slot>.offset(of: \Slot.key) == 0)
        #expect(MemoryLayout<Slot>.offset(of: \Slot.uuidLow)! + 8 <= 64)
    }

    @Test func longKeysTextTunnelsAndTargetsSurviveArenaCompaction() throws {
        let table = try makeTable()
        let long = String(repeating: "l", count: 60)
        // Churn enough bytes through the arena to trigger compaction several times.
        for round in 0..<40 {
            for i in 0..<100 {
                try table.add("\(long)\(i).example.com", tunnel: "text-tunnel-\(round)-\(i)", as: root,
                              target: "unix:/run/gw/\(round)/\(i).sock")
            }
            if round < 39 {
                for i in 0..<100 { try table.delete(.tunnel(TunnelID("text-tunnel-\(round)-\(i)")), as: root) }
            }
        }
        #expect(table.stats().total == 100)
        for i in 0..<100 {
            let hit = try #require(table.lookup(host: "\(long)\(i).example.com"))
            #expect(hit.route.tunnel.rawValue == "text-tunnel-39-\(i)")
            #expect(hit.route.target == .unixSocket(path: "/run/gw/39/\(i).sock"))
            #expect(try table.tunnel(TunnelID("text-tunnel-39-\(i)")).routes.count == 1)
        }
        #expect(table.keys().count == 100)
    }

    @Test func slotsAreReusedWithoutStaleData() throws {
        let table = try makeTable()
        try table.add("a", tunnel: "t1", as: alice, ttl: .seconds(5), target: nil, labels: ["x": "1"])
        try table.delete(.host("a.example.com"), as: alice)
        let reused = try table.add("b", tunnel: "5f0c7a4e-1d2b-4c3a-8e9f-0a1b2c3d4e5f", as: bob).route
        #expect(reused.labels.isEmpty)
        #expect(reused.expiresAt == nil)
        #expect(reused.owner == "bob")
        #expect(reused.tunnel.rawValue == "5f0c7a4e-1d2b-4c3a-8e9f-0a1b2c3d4e5f")
    }

    @Test func uppercaseUUIDTunnelIdsStayDistinct() throws {
        let table = try makeTable()
        try table.add("a", tunnel: "5f0c7a4e-1d2b-4c3a-8e9f-0a1b2c3d4e5f", as: alice)
        try table.add("b", tunnel: "5F0C7A4E-1D2B-4C3A-8E9F-0A1B2C3D4E5F", as: alice)
        #expect(try table.tunnel(TunnelID("5F0C7A4E-1D2B-4C3A-8E9F-0A1B2C3D4E5F")).routes.map(\.key) == ["b.example.com"])
        #expect(try table.tunnel(TunnelID("5f0c7a4e-1d2b-4c3a-8e9f-0a1b2c3d4e5f")).routes.map(\.key) == ["a.example.com"])
    }

    @Test func hashIndexSurvivesGrowthAndRemovals() throws {
        let table = try makeTable()
        for i in 0..<5000 { try table.add("h\(i)", tunnel: "t\(i % 7)", as: alice) }
        for i in stride(from: 0, to: 5000, by: 2) { try table.delete(.host("h\(i).example.com"), as: alice) }
        for i in 0..<5000 {
            #expect((table.lookup(host: "h\(i).example.com") != nil) == (i % 2 == 1))
        }
        #expect(try table.tunnel(TunnelID("t3")).routes.count == (0..<5000).filter { $0 % 7 == 3 && $0 % 2 == 1 }.count)
    }

    @Test func uuidAndTextTunnelsAreFoundAndForgottenAsTheirRoutesComeAndGo() throws {
        // UUID tunnels are indexed by their bits, text ones by their bytes: both kinds, many of
        // each, through growth, removals and a tunnel's last route going.
        let table = try makeTable()
        let uuids = (0..<300).map { _ in TunnelID.random() }
        for i in 0..<1200 {
            try table.add("u\(i)", tunnel: uuids[i % 300].rawValue, as: alice)
            try table.add("t\(i)", tunnel: "text-\(i % 300)", as: alice)
        }
        for i in 0..<1200 where i % 300 < 100 {
            try table.delete(.host("u\(i).example.com"), as: alice)
            try table.delete(.host("t\(i).example.com"), as: alice)
        }
        for n in 0..<300 {
            let expected = n < 100 ? 0 : 4
            #expect(((try? table.tunnel(uuids[n]).routes.count) ?? 0) == expected)
            #expect(((try? table.tunnel(TunnelID("text-\(n)")).routes.count) ?? 0) == expected)
        }
        // A forgotten tunnel is made anew by its next route.
        try table.add("again", tunnel: uuids[0].rawValue, as: alice)
        #expect(try table.tunnel(uuids[0]).routes.map(\.key) == ["again.example.com"])
    }

    @Test func drawnTunnelIdsAreVersion7UUIDsInTheOrderDrawn() throws {
        let clock = ManualClock(Timestamp(millisecondsSinceEpoch: 1_796_000_000_000))
        let table = try makeTable(clock: clock)
        var drawn: [String] = []
        for i in 0..<50 {
            drawn.append(try table.add("v\(i)", as: root).route.tunnel.rawValue)
            clock.advance(by: .milliseconds(1))
        }
        #expect(drawn == drawn.sorted(), "later ids sort after earlier ones")
        #expect(drawn.allSatisfy { Array($0)[14] == "7" && "89ab".contains(Array($0)[19]) })
        #expect(drawn[0].hasPrefix("01a229f1-2800-7"), "the first 48 bits are the time in milliseconds")
    }

    @Test func tunnelIdsAreEqualExactlyWhenTheirTextsAre() throws {
        let drawn = TunnelID.random()
        let parsed = try TunnelID(drawn.rawValue)
        #expect(parsed == drawn)
        #expect(Set([drawn, parsed]).count == 1)
        #expect(parsed.uuid != nil, "a canonical lower-case UUID is held as its bits")
        let upper = try TunnelID(drawn.rawValue.uppercased())
        #expect(upper != drawn && upper.uuid == nil)
        #expect(try TunnelID("t1").rawValue == "t1")
        let written = [UInt8](unsafeUninitializedCapacity: TunnelID.maximumLength) { out, count in
            count = drawn.writeText(to: out.baseAddress!)
        }
        #expect(String(decoding: written, as: UTF8.self) == drawn.rawValue)
    }

    @Test func onlyACanonicalLowerCaseUUIDIsHeldAsBitsAndItsTextComesBackTheSame() throws {
        let canonical = "0123abcd-4567-89ef-a0b1-c2d3e4f5a6b7"
        let id = try TunnelID(canonical)
        #expect(id.uuid.map { [$0.0, $0.1] } == [0x0123_abcd_4567_89ef, 0xa0b1_c2d3_e4f5_a6b7])
        #expect(id.rawValue == canonical)
        #expect(try TunnelID("ffffffff-ffff-ffff-ffff-ffffffffffff").uuid.map { [$0.0, $0.1] } == [.max, .max])
        #expect(try TunnelID("00000000-0000-0000-0000-000000000000").uuid.map { [$0.0, $0.1] } == [0, 0])
        // Every character just outside a digit's ranges, at every digit's place, and the hyphens
        // moved: a text id, kept as written.
        var places = Array(canonical.utf8)
        for i in places.indices where places[i] != UInt8(ascii: "-") {
            for near in [UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "`"), UInt8(ascii: "g"), UInt8(ascii: "A"), UInt8(ascii: "F")] {
                let saved = places[i]
                places[i] = near
                let text = String(decoding: places, as: UTF8.self)
                let parsed = try? TunnelID(text)
                #expect(parsed?.uuid == nil && (parsed == nil || parsed?.rawValue == text), "\(text)")
                places[i] = saved
            }
        }
        #expect(try TunnelID("0123abcd4-567-89ef-a0b1-c2d3e4f5a6b7").uuid == nil)
        #expect(try TunnelID("0123abcd-4567-89ef-a0b1c-2d3e4f5a6b7").uuid == nil)
    }

    #if os(Linux)
    @Test func aGrowingMappedBufferHasTheMemoryAheadOfItFaultedInBeforeItGetsThere() {
        var buffer = RawBuffer<UInt64>(capacity: 16)
        // Past the move to a mapping (2 MB: 262,144 values) and a little into it.
        for i in 0..<300_000 { buffer.append(UInt64(i)) }
        Prefaulter.settle()
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let from = (Int(bitPattern: buffer.base + buffer.count) + page - 1) / page * page
        // The next huge page's worth, none of it written yet: every page resident.
        let length = 2 << 20
        var resident = [UInt8](repeating: 0, count: length / page)
        #expect(mincore(UnsafeMutableRawPointer(bitPattern: from), length, &resident) == 0)
        #expect(resident.allSatisfy { $0 & 1 == 1 }, "\(resident.filter { $0 & 1 == 0 }.count) of \(resident.count) pages not resident")
        #expect((0..<300_000).allSatisfy { buffer[$0] == UInt64($0) })
    }
    #endif

    @Test func rawBufferKeepsItsElementsWhileGrowingPastItsReservation() {
        var buffer = RawBuffer<UInt64>(capacity: 16)
        // 3 million 8-byte values: from malloc to a mapping, then growth inside the mapping.
        for i in 0..<3_000_000 { buffer.append(UInt64(i) &* 2_654_435_761) }
        #expect(buffer.count == 3_000_000)
        #expect((0..<3_000_000).allSatisfy { buffer[$0] == UInt64($0) &* 2_654_435_761 })
    }

    @Test func namesAreMatchedToTheirBaseDomainByLabelBoundary() {
        #expect(TableState.baseStart(of: "foo.example.com", under: "example.com") == 4)
        #expect(TableState.baseStart(of: "example.com", under: "example.com") == 0)
        #expect(TableState.baseStart(of: "fooexample.com", under: "example.com") == nil)
        #expect(TableState.baseStart(of: "com", under: "example.com") == nil)
        #expect(TableState.isChild("foo.example.com", of: "example.com"))
        #expect(!TableState.isChild("a.foo.example.com", of: "example.com"))
        #expect(!TableState.isChild("example.com", of: "example.com"))
    }

    @Test func anEmptiedTableStartsItsStorageAfreshAndWorksOn() throws {
        let table = try makeTable()
        let many = TableState.storageReleaseThreshold + 1000
        for i in 0..<many {
            try table.add("n\(i)", tunnel: "bulk", as: root, ttl: i % 2 == 0 ? .seconds(60) : nil)
        }
        try table.add("tcp:49000", tunnel: "bulk", as: root)
        try table.add("*.w.example.com", tunnel: "bulk", as: root)
        #expect(!table.releaseStorageIfEmpty(), "routes are live")
        try table.delete(.tunnel(TunnelID("bulk")), as: root)
        let revision = table.revision
        #expect(table.releaseStorageIfEmpty())
        #expect(!table.releaseStorageIfEmpty(), "nothing left to release")
        // Deadlines of the deleted routes are gone with the slots they named.
        #expect(table.sweep() == 0)
        // The history stays, and the table carries on from the same revision.
        #expect(table.revision == revision)
        try table.add("again", tunnel: "t1", as: alice, ttl: .seconds(30))
        try table.add("tcp:49001", tunnel: "t1", as: alice)
        #expect(table.lookup(host: "again.example.com")?.route.tunnel.rawValue == "t1")
        #expect(try table.lookup(key: .tcp(49001)).route.key == "tcp:49001")
        #expect(table.lookup(host: "n1.example.com") == nil)
        #expect(table.list(RouteQuery(), as: root).routes.map(\.key) == ["again.example.com", "tcp:49001"])
        #expect(table.stats().total == 2)
    }

    @Test func aSmallTableKeepsItsStorage() throws {
        let table = try makeTable()
        try table.add("a", tunnel: "t1", as: alice)
        try table.delete(.host("a.example.com"), as: alice)
        #expect(!table.releaseStorageIfEmpty())
    }
}
