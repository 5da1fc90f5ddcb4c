import Foundation
import RouterTestSupport
import Testing

/// Responses from a target, ordinary and hostile, through routergw and through HAProxy 2.6 in
/// the same test: routergw passes on what HAProxy passes on (the same status and body) or
/// refuses it with a 502, never anything else, and passes on every ordinary response.
@Suite("routergw: responses against HAProxy", .serialized,
       .enabled(if: GatewayStack.curl != nil && HAProxyProcess.path != nil, "needs curl and haproxy"))
struct ResponseDifferentialTests {
    /// Responses any HTTP/1.1 proxy passes on: routergw must not refuse them.
    static let ordinary: [(String, String)] = [
        ("sized", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
        ("chunked with an extension and a trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"),
        ("to the close", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close"),
        ("HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        ("HTTP/1.0 to the close", "HTTP/1.0 200 OK\r\n\r\nold"),
        ("204 with a length", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
        ("304", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
        ("100 Continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"),
        ("103 Early Hints first", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"),
        ("empty reason", "HTTP/1.1 404 \r\nContent-Length: 1\r\n\r\nc"),
        ("no reason", "HTTP/1.1 404\r\nContent-Length: 1\r\n\r\nc"),
        ("odd status", "HTTP/1.1 299 Whatever It Is\r\nContent-Length: 1\r\n\r\nd"),
        ("repeated Set-Cookie", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 1\r\n\r\ne"),
        ("equal lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nf"),
        ("obs-text in a value", "HTTP/1.1 200 OK\r\nX-Name: caf\u{e9}\r\nContent-Length: 1\r\n\r\ng"),
        ("Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nh"),
        ("a field named in Connection", "HTTP/1.1 200 OK\r\nConnection: X-Private\r\nX-Private: 1\r\nContent-Length: 1\r\n\r\ni"),
        ("uppercase chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\nj\r\n0\r\n\r\n"),
    ]

    /// Responses from the public families of response splitting and desynchronisation (RFC 9112
    /// §6.3, §11.1; duplicate and malformed framing fields, obs-fold, bare LF, chunk abuse).
    static let hostile: [(String, String)] = [
        ("different lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
        ("length list of different values", "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab"),
        ("signed length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\na"),
        ("length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"),
        ("chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"),
        ("gzip then chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nk\r\n0\r\n\r\n"),
        ("gzip alone", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
        ("obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 1\r\n\r\na"),
        ("space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\na"),
        ("bare LF", "HTTP/1.1 200 OK\nContent-Length: 1\n\na"),
        ("NUL in a value", "HTTP/1.1 200 OK\r\nX-A: a\u{0}b\r\nContent-Length: 1\r\n\r\na"),
        ("HTTP/2 status line", "HTTP/2 200 OK\r\nContent-Length: 1\r\n\r\na"),
        ("two-digit status", "HTTP/1.1 20 OK\r\nContent-Length: 1\r\n\r\na"),
        ("chunk size overflow", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\na\r\n0\r\n\r\n"),
        ("chunk longer than its size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n"),
        ("cut inside the body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        ("a second response", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"),
        ("nothing", ""),
    ]

    /// What a client got: a status and body, or the proxy's refusal.
    enum Outcome: Equatable, CustomStringConvertible {
        case passed(Int, String)
        case refused
        var description: String {
            switch self {
            case .passed(let status, let body): "\(status) \(body.debugDescription)"
            case .refused: "refused"
            }
        }
    }

    static func outcome(_ result: HTTPProbe.Result) -> Outcome {
        guard let response = result.responses.first, response.status != 502 else { return .refused }
        return .passed(response.status, String(decoding: response.body, as: UTF8.self))
    }

    @Test func bytesAfterAResponseNeverAnswerTheNextClient() throws {
        let stack = try GatewayStack(gateway: ["--threads", "1"])
        let backend = try ScriptedBackend(keepsOpen: true)
        // Each request gets its response and, in the same write, one nobody asked for.
        backend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!")
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        let request = Array("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n".utf8)
        for _ in 0..<5 {
            let result = HTTPProbe.send([request], to: .tcp(port: stack.gateway.httpPort), timeout: 5)
            #expect(Self.outcome(result) == .passed(200, "a"), "\(result) \(result.raw.debugDescription)")
        }
    }

    @Test func everyResponseIsPassedOnLikeHAProxyOrRefused() throws {
        let stack = try GatewayStack(gateway: ["--max-idle-upstream", "0"])
        let backend = try ScriptedBackend()
        let haproxy = try HAProxyProcess(backendPort: backend.port)
        backend.answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        let request = Array("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n".utf8)
        var stricter: [String] = []
        for (ordinary, cases) in [(true, Self.ordinary), (false, Self.hostile)] {
            for (name, response) in cases {
                backend.answer(response)
                let gateway = Self.outcome(HTTPProbe.send([request], to: .tcp(port: stack.gateway.httpPort), timeout: 5))
                let reference = Self.outcome(HTTPProbe.send([request], to: .unix(path: haproxy.socket), timeout: 5))
                #expect(gateway == reference || gateway == .refused, "\(name): routergw \(gateway), HAProxy \(reference)")
                if ordinary { #expect(gateway != .refused, "\(name): routergw refused what HAProxy gave as \(reference)") }
                if gateway == .refused && reference != .refused { stricter.append("\(name) (HAProxy: \(reference))") }
            }
        }
        // Where routergw is stricter than HAProxy, said in the test's output.
        print("routergw refuses, HAProxy passes on: \(stricter.isEmpty ? "none" : stricter.joined(separator: "; "))")
        // Every hostile response above is refused by routergw (or, for the ones HAProxy can pass
        // on safely — a cut body, a second response — passed on the same way).
    }
}
