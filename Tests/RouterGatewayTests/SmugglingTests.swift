import Foundation
import RouterTestSupport
import Testing

/// Request smuggling: the corpus, and seeded random variations of framing fields, each sent
/// through a real routergw and through HAProxy 2.6 (the reference) to backends that parse
/// requests by RFC 9112 framing and record each one. On both, every request a backend parsed
/// must have been answered to the client, in order, and nothing else; routergw must do what
/// the corpus says, and where HAProxy answers N responses, answer N or refuse.
@Suite("routergw: HTTP/1.1 framing against request smuggling", .serialized,
       .enabled(if: GatewayStack.curl != nil, "needs curl"))
struct SmugglingTests {
    @Test func everyProbeOfTheCorpusIsFramedOnceAndAnsweredOrRefusedLikeHAProxy() throws {
        let rig = try SmugglingRig(pooled: false)
        for probe in SmugglingCorpus.probes {
            try rig.check(probe)
        }
        try rig.finish()
    }

    /// The corpus again with connections to the backend kept between clients: no probe
    /// leaves a connection behind that carries anything into the next client's exchange.
    @Test func theCorpusLeavesNothingOnPooledConnectionsForTheNextClient() throws {
        let rig = try SmugglingRig(pooled: true)
        for probe in SmugglingCorpus.probes {
            try rig.check(probe)
        }
        try rig.finish()
    }

    /// A few hundred seeded cases here; `scripts/fuzz-gateway.sh` runs 10,000 (the README's
    /// fuzz command), with `ROUTERGW_FUZZ_CASES` and `ROUTERGW_FUZZ_SEED`.
    @Test func seededVariationsOfFramingFieldsNeverDesynchronize() throws {
        let environment = ProcessInfo.processInfo.environment
        let cases = environment["ROUTERGW_FUZZ_CASES"].flatMap { Int($0) } ?? 300
        let seed = environment["ROUTERGW_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_261_205
        let rig = try SmugglingRig(pooled: false)
        var generator = FramingVariations(seed: seed)
        for index in 0..<cases {
            var probe = generator.nextProbe()
            probe.name = "seed \(seed) case \(index): \(probe.name)"
            try rig.check(probe)
        }
        try rig.finish()
    }
}

/// routergw (following routerd) and HAProxy, each in front of a backend of its own, and a
/// route whose allow list refuses every client of the test.
final class SmugglingRig {
    let stack: GatewayStack
    let backend: FramingBackend
    let secret: FramingBackend
    let referenceBackend: FramingBackend
    let haproxy: HAProxyProcess
    private(set) var failures = 0

    static let refusals: Set<Int> = [400, 403, 405, 413, 414, 431, 501, 505]

    /// Connections to routergw's backend are kept between probes.
    let pooled: Bool
    /// Every backend answer routergw's clients got, over all probes.
    private var answered: [Int] = []

    /// Unpooled, each probe's connections close with it, so the backend has parsed all a probe
    /// sent once they are closed; pooled, what a probe left on a kept connection would reach
    /// the backend with a later probe, and `finish()` compares the whole runs.
    init(pooled: Bool) throws {
        self.pooled = pooled
        stack = try GatewayStack(gateway: ["--idle-timeout", "10s", "--threads", "1"] + (pooled ? [] : ["--max-idle-upstream", "0"]))
        backend = try FramingBackend()
        secret = try FramingBackend()
        referenceBackend = try FramingBackend()
        try stack.request("add", #""key":"\#(SmugglingCorpus.host)","tunnel":"t-app","target":"\#(backend.target)""#)
        try stack.request("add", #""key":"\#(SmugglingCorpus.secretHost)","tunnel":"t-secret","target":"\#(secret.target)","allow":["10.0.0.0/8"]"#)
        haproxy = try HAProxyProcess(backendPort: referenceBackend.port)
        guard try stack.waitRoutable(SmugglingCorpus.host), try eventually(timeout: 10, { try stack.get(SmugglingCorpus.secretHost).status == 403 }) else {
            throw LaunchError("routergw never routed the test's names")
        }
        // What curl asked while waiting for the routes was answered too.
        answered = backend.parsed.map(\.seq)
    }

    /// Sends `probe` through both proxies and records an issue for each rule it breaks.
    func check(_ probe: SmugglingProbe) throws {
        let before = failures
        let gateway = run(probe, to: .tcp(port: stack.gateway.httpPort), backend: backend, via: "routergw", pooled: pooled)
        answered += gateway.result.responses.compactMap(\.seq)
        var reference = run(probe, to: .unix(path: haproxy.socket), backend: referenceBackend, via: "haproxy")
        if reference.result.responses.count < gateway.result.responses.count, reference.result.responses.last?.seq != nil {
            // HAProxy may drop what a client that half-closed pipelined (HAProxyProcess): asked
            // again without the half-close, it answers all it parsed, then closes by its
            // keep-alive timeout.
            reference = run(probe, to: .unix(path: haproxy.socket), halfClose: false, backend: referenceBackend, via: "haproxy")
        }
        let label = "\(probe.name): routergw \(gateway.result), haproxy \(reference.result); sent \(probe.segments.joined().debugDescription.prefix(400))"

        let answered = gateway.result.responses
        let refusedAtEnd = answered.last.map { $0.seq == nil && Self.refusals.contains($0.status) } ?? false && gateway.result.closed
        switch probe.expect {
        case .answers(let count):
            expect(answered.count == count && answered.allSatisfy { $0.seq != nil }, "expected \(count) answered: \(label)")
        case .refuses(let status):
            expect(answered.count == 1 && refusedAtEnd && answered[0].status == status, "expected \(status) and a close: \(label)")
        case .answersThenRefuses(let count):
            expect(answered.count == count + 1 && answered.dropLast().allSatisfy { $0.seq != nil } && refusedAtEnd
                   && answered.last?.status == 400,
                   "expected \(count) answered, then a refusal and a close: \(label)")
        case .any:
            break
        }
        if let bodies = probe.bodies, !answered.isEmpty, answered.allSatisfy({ $0.seq != nil }) {
            expect(gateway.parsed.map(\.body.count) == bodies, "the backend saw bodies of \(gateway.parsed.map(\.body.count)), not \(bodies): \(label)")
        }
        // The reference: as many answers as HAProxy gives, or fewer ended by a refusal of
        // routergw's own.
        let sameCount = answered.count == reference.result.responses.count
        expect(sameCount || (refusedAtEnd && answered.count - 1 <= reference.result.responses.count),
               "HAProxy answered \(reference.result.responses.count), routergw \(answered.count): \(label)")
        if failures > before { print("smuggling probe failed: \(label)") }
    }

    struct Run {
        var result: HTTPProbe.Result
        var parsed: [FramingBackend.Parsed]
    }

    private func run(_ probe: SmugglingProbe, to endpoint: HTTPProbe.Endpoint, halfClose: Bool = true, backend: FramingBackend,
                     via proxy: String, pooled: Bool = false) -> Run {
        let before = backend.parsed.count
        let secretBefore = secret.parsed.count
        let result = HTTPProbe.send(probe.bytes, to: endpoint, halfClose: halfClose)
        // The proxy closes its connections to the backend once the client's is done: after
        // that, the backend has parsed everything the proxy sent for this probe.
        let seqs = result.responses.compactMap(\.seq)
        if pooled {
            // Every answer the client got is one the backend gave for this probe's requests.
            expect(seqs.allSatisfy { $0 > before }, "\(proxy) gave \(probe.name) an answer to an earlier probe: \(result)")
        } else {
            expect(eventually { backend.openConnections == 0 }, "\(proxy) kept a backend connection open after \(probe.name)")
        }
        let parsed = Array(backend.parsed[before...])
        expect(pooled || parsed.map(\.seq) == seqs,
               "\(proxy) desynchronized on \(probe.name): the backend parsed \(parsed), the client got \(result)")
        expect(result.leftover.isEmpty, "\(proxy) sent bytes that are no response on \(probe.name): \(String(decoding: result.leftover.prefix(200), as: UTF8.self))")
        expect(result.closed, "\(proxy) did not close after the client was done: \(probe.name)")
        let reached = Array(secret.parsed[secretBefore...])
        expect(reached.isEmpty, "\(proxy) let \(probe.name) reach the refused route: \(reached)")
        return Run(result: result, parsed: parsed)
    }

    private func expect(_ condition: Bool, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard !condition else { return }
        failures += 1
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }

    /// Stops both proxies: any request still unparsed in a backend connection surfaces now.
    func finish() throws {
        let counts = (backend.parsed.count, referenceBackend.parsed.count)
        try stack.gateway.stop()
        haproxy.stop()
        #expect(eventually { backend.openConnections == 0 && referenceBackend.openConnections == 0 })
        if pooled {
            #expect(backend.parsed.map(\.seq) == answered, "routergw's backend parsed requests its clients got no answer to")
        } else {
            #expect(backend.parsed.count == counts.0, "routergw's backend parsed requests after its probes ended")
        }
        #expect(referenceBackend.parsed.count == counts.1, "HAProxy's backend parsed requests after its probes ended")
        #expect(secret.parsed.isEmpty)
    }
}

/// Seeded variations of a request's framing: field names and values from the TE.TE and
/// CL obfuscation lists, `Connection` naming framing fields, bodies that hide a request,
/// bare LF and obs-fold here and there, and a request pipelined behind.
struct FramingVariations {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(state: seed) }

    private mutating func random() -> UInt64 { generator.next() }

    private mutating func pick<T>(_ items: [T]) -> T { items[Int(random() % UInt64(items.count))] }
    private mutating func chance(_ percent: UInt64) -> Bool { random() % 100 < percent }

    static let methods = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"]
    static let teNames = ["Transfer-Encoding", "transfer-encoding", "TRANSFER-ENCODING", "Transfer-Encoding ", "Transfer_Encoding",
                          " Transfer-Encoding", "Transfer-Encoding\t"]
    static let teValues = ["chunked", "Chunked", " chunked", "chunked ", "\tchunked", "gzip, chunked", "chunked, gzip", "xchunked",
                           "chunked\u{0B}", "identity", "", "chunked;q=1", "\"chunked\"", "chunked, chunked", "CHUNKED"]
    static let clNames = ["Content-Length", "content-length", "CONTENT-LENGTH", "Content-Length ", "Content_Length", " Content-Length"]
    static let clValues = ["5", "0", "+5", "05", " 5", "5 ", "5, 5", "5,6", "-0", "1e1", "", "18446744073709551616", "\(SmugglingCorpus.n)", "3"]
    static let connection = ["close", "keep-alive", "Content-Length", "Transfer-Encoding", "Host", "close, Transfer-Encoding",
                             "keep-alive, Content-Length"]

    mutating func nextProbe() -> SmugglingProbe {
        let method = pick(Self.methods)
        var fields: [String] = []
        var notes: [String] = [method]
        for _ in 0..<Int(random() % 3) {
            let field = chance(50) ? "\(pick(Self.teNames)):\(pick(Self.teValues))" : "\(pick(Self.clNames)):\(pick(Self.clValues))"
            fields.append(field)
        }
        if chance(25) { fields.append("Connection: \(pick(Self.connection))") }
        fields.shuffle(using: &generator)
        notes += fields.map { $0.debugDescription }
        let hidden = chance(50) ? SmugglingCorpus.inner : SmugglingCorpus.innerSameRoute
        var body = pick(["", "hello", SmugglingCorpus.chunk, "0\r\n\r\n" + hidden, hidden,
                         "\(String(hidden.utf8.count, radix: 16))\r\n\(hidden)\r\n0\r\n\r\n"])
        var head = "\(method) /\(random() % 1000) HTTP/1.1\r\nHost: \(SmugglingCorpus.host)\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n"
        if chance(10) {
            head = head.replacingOccurrences(of: "\r\nHost", with: "\nHost")
            notes.append("bare LF")
        }
        if chance(10), !fields.isEmpty {
            head = head.replacingOccurrences(of: "\r\n" + fields[0], with: "\r\nX-Fold: a\r\n " + fields[0])
            notes.append("obs-fold")
        }
        if chance(40) {
            body += SmugglingCorpus.request("GET", "/next")
            notes.append("then GET /next")
        }
        let bytes = head + body
        let segments = chance(30) ? stride(from: 0, to: bytes.utf8.count, by: 17).map {
            String(decoding: Array(bytes.utf8)[$0..<min($0 + 17, bytes.utf8.count)], as: UTF8.self)
        } : [bytes]
        return SmugglingProbe(name: notes.joined(separator: " "), segments: segments, expect: .any)
    }
}
