import DomainRouter
import Foundation
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Testing
@testable import RouterServer

/// The Codable wire types are the specification; the daemon writes lines with JSONWriter.
/// Both must agree: every line decodes, and re-encoding it loses no field.
@Suite("Codable wire types agree with the daemon's lines")
struct WireTypesTests {
    /// `value` without null members (Codable's synthesized encoders leave nil optionals out).
    static func droppingNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): return .object(members.filter { $0.1 != .null }.map { ($0.0, droppingNulls($0.1)) })
        case .array(let elements): return .array(elements.map(droppingNulls))
        case .number(let n): return .number(String(Double(n)!))
        default: return value
        }
    }

    func agree<T: Codable>(_ type: T.Type, _ line: String) throws {
        let decoded = try JSONDecoder().decode(T.self, from: Data(line.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let again = try JSONParser.parse(String(decoding: try encoder.encode(decoded), as: UTF8.self))
        #expect(Self.droppingNulls(again) == Self.droppingNulls(try JSONParser.parse(line)), "\(T.self): \(line)")
    }

    @Test func everyKindOfLineDecodesAndRoundTrips() async throws {
        try await withDaemon { daemon in
            let c = try LineClient(path: daemon.socketPath, readGreeting: false)
            try agree(WireGreetingLine.self, try c.readLine())
            try c.send(#"{"id":1,"op":"add","key":"foo","tunnel":"t1","ttl":1.5,"target":"10.0.0.1:80","labels":{"a":"b"},"session":true}"#)
            try agree(WireReply<WireRouteResult>.self, try c.readLine())
            try c.send(#"{"id":"x","op":"add","key":"foo","tunnel":"t2"}"#)
            let conflict = try c.readLine()
            try agree(WireReply<WireRouteResult>.self, conflict)
            #expect(try JSONDecoder().decode(WireReply<WireRouteResult>.self, from: Data(conflict.utf8)).error?.code == "conflict")
            try c.send(#"{"id":2,"op":"lookup","host":"foo.example.com"}"#)
            try agree(WireReply<WireLookupResult>.self, try c.readLine())
            try c.send(#"{"id":3,"op":"list"}"#)
            try agree(WireRouteItem.self, try c.readLine())
            try agree(WireReply<WireListResult>.self, try c.readLine())
            try c.send(#"{"id":"w","op":"watch","from_revision":1}"#)
            try agree(WireEventLine.self, try c.readLine())
            try agree(WireEventLine.self, try c.readLine())
            try c.send(#"{"id":4,"op":"stats"}"#)
            try agree(WireReply<WireStats>.self, try c.readLine())
        }
    }
}

@Suite("One error vocabulary")
struct ErrorVocabularyTests {
    @Test func everyTableCodeIsAWireCodeUnderTheSameName() {
        for code in RouteError.Code.allCases {
            #expect(ErrorCode(rawValue: code.rawValue).isKnown, "\(code) is not a wire code")
        }
    }

    @Test func aTableRefusalGoesOutUnderItsOwnCode() throws {
        let table = try RouteTable(configuration: RouteTableConfiguration(baseDomains: ["example.com"]))
        do throws(RouteError) {
            _ = try table.key("bad_name")
            Issue.record("accepted")
        } catch {
            let wire = Wire.error(error)
            #expect(wire.code == .invalidName)
            #expect(wire.details?["name"] == .string("bad_name"))
        }
    }
}
