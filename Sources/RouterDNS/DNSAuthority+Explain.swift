import DNSWire
import DomainRouter
import RouterEngine
import RouterProtocol

/// `routerctl dns`: the answer routerd's DNS gives a name, and the table's reason for it.
extension DNSAuthority: DNSExplaining {
    package func explain(name: String, type: String) throws(RouteError) -> JSONValue {
        let qname: DNSName
        do { qname = try DNSName(name) } catch { throw .invalidArgument("'\(name.clipped(80))' is not a DNS name: \(error)") }
        guard let qtype = DNSType(type) else {
            throw .invalidArgument("'\(type.clipped(20))' is not a record type such as A, AAAA, TXT or TYPE65")
        }
        let response = answer(DNSMessage(id: 0, questions: [DNSQuestion(name: qname, type: qtype)]))
        let (zone, resolution) = resolve(qname)
        var fields: [(String, JSONValue)] = [
            ("name", .string(qname.description)),
            ("type", .string(qtype.description)),
            ("zone", zone.map { .string($0.description) } ?? .null),
        ]
        switch resolution {
        case .routed(let via, let wildcard):
            fields += [("resolution", .string("routed")), ("via", .string(via)), ("match", .string(wildcard ? "wildcard" : "exact"))]
        case .nameserver: fields.append(("resolution", .string("nameserver")))
        case .apex: fields.append(("resolution", .string("apex")))
        case .emptyNonTerminal: fields.append(("resolution", .string("empty_non_terminal")))
        case .nonexistent: fields.append(("resolution", .string("nonexistent")))
        case .outside: fields.append(("resolution", .string("outside")))
        }
        fields += [
            ("rcode", .string(response.responseCode.description)),
            ("answers", .array(response.answers.map { .string($0.description) })),
            ("authority", .array(response.authority.map { .string($0.description) })),
            ("serial", zone.map { .number(Double(serial(of: $0))) } ?? .null),
        ]
        return .object(fields)
    }
}
