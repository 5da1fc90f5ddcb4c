import Foundation
import RouterTestSupport
import Testing

/// docs/architecture.md's module graph holds: scripts/check-layers.py (run by the test command)
/// passes on Package.swift, and refuses a front end that imports another front end or a store,
/// and a store that imports a front end.
@Suite("Module layers")
struct ModuleLayersTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")

    /// The check's verdict on a package description of these targets (name, type, dependencies).
    func check(_ targets: [(String, String, [String])]) throws -> Finished {
        let json = "{\"targets\":[" + targets.map { name, type, dependencies in
            "{\"name\":\"\(name)\",\"type\":\"\(type)\",\"dependencies\":[" +
                dependencies.map { "{\"byName\":[\"\($0)\",null]}" }.joined(separator: ",") + "]}"
        }.joined(separator: ",") + "]}"
        let dir = makeTemporaryDirectory("layers-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try ChildProcess("/usr/bin/python3", ["\(Self.root)/scripts/check-layers.py"], stdin: json, directory: dir).wait()
    }

    static let package: [(String, String, [String])] = [
        ("DomainRouter", "regular", []), ("RouterProtocol", "regular", []),
        ("RouterEngine", "regular", ["DomainRouter", "RouterProtocol"]),
        ("RouterServer", "regular", ["RouterEngine", "RouterProtocol"]),
        ("RouterHTTP", "regular", ["RouterEngine"]),
        ("RouterSQLiteStore", "regular", ["RouterEngine"]),
        ("routerd", "executable", ["RouterServer", "RouterHTTP", "RouterSQLiteStore"]),
    ]

    @Test(.enabled(if: python, "needs python3"))
    func aGraphThatDependsOnlyInwardPasses() throws {
        let r = try check(Self.package)
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test(.enabled(if: python, "needs python3"))
    func aFrontEndImportingAFrontEndOrAStoreImportingOneIsRefused() throws {
        var graph = Self.package
        graph[4].2.append("RouterServer")
        graph[5].2.append("RouterHTTP")
        let r = try check(graph)
        #expect(r.status == 1)
        #expect(r.stderr.contains("RouterHTTP (front) depends on RouterServer (front)"), "\(r.stderr)")
        #expect(r.stderr.contains("RouterSQLiteStore (store) depends on RouterHTTP (front)"), "\(r.stderr)")
    }

    @Test(.enabled(if: python, "needs python3"))
    func aNewLibraryTargetMustBeGivenALayer() throws {
        let r = try check(Self.package + [("RouterQUIC", "regular", ["RouterEngine"])])
        #expect(r.status == 1)
        #expect(r.stderr.contains("RouterQUIC: a library target with no layer"), "\(r.stderr)")
    }
}
