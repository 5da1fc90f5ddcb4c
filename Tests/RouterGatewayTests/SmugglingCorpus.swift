/// Hostile HTTP/1.1 requests from the public literature on request smuggling and framing,
/// each with what routergw must do with it. Families: RFC 9112 §6.1–6.3 (Transfer-Encoding,
/// Content-Length, message body length) and §11.2 (request smuggling); CL.TE and TE.CL
/// (Linhart et al., "HTTP Request Smuggling", 2005; Kettle, "HTTP Desync Attacks", 2019);
/// TE.TE obfuscations (Kettle's list: case, whitespace, duplicate fields, line folding);
/// framing fields named in `Connection` (hop-by-hop abuse); bodies on GET, HEAD, DELETE,
/// OPTIONS and TRACE; chunk-size overflow and chunk extensions (CVE-2023-44487's cousins in
/// Node's llhttp, CVE-2022-32213/32215); bare LF and bare CR (RFC 9112 §2.2); absolute-form
/// for every scheme (§3.2.2); pipelining in one segment and after a parse error (§9.3.2).
struct SmugglingProbe: Sendable {
    /// What routergw must do with a probe.
    enum Expectation: Sendable {
        /// Forward `n` requests and return the backend's `n` responses.
        case answers(Int)
        /// Answer one response of its own with this status and close; nothing reaches a backend.
        case refuses(Int)
        /// Forward and answer `n` requests, then refuse the next one with 400 and close.
        case answersThenRefuses(Int)
        /// Only the invariants: nothing unanswered reaches the backend, no more answers than
        /// HAProxy gives unless routergw refuses.
        case any
    }

    var name: String
    var segments: [String]
    var expect: Expectation
    /// The body lengths the backend must see, request by request, when routergw forwards.
    var bodies: [Int]? = nil

    var bytes: [[UInt8]] { segments.map { Array($0.utf8) } }
}

enum SmugglingCorpus {
    static let host = "app.example.com"
    /// A route whose allow list refuses every client of the tests (they come from 127.0.0.1).
    static let secretHost = "secret.example.com"

    /// A request head (CRLF line endings) with `fields` after Host, and `body`.
    static func request(_ method: String = "GET", _ target: String = "/", host: String = host, _ fields: [String] = [],
                        body: String = "") -> String {
        "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n" + body
    }

    /// A request to `/` with `fields` after Host, and `body`.
    static func request(_ method: String, _ fields: [String], body: String = "") -> String {
        request(method, "/", fields, body: body)
    }

    /// The request a desync would smuggle: to the refused route, with a forged client address.
    static let inner = "GET /smuggled HTTP/1.1\r\nHost: \(secretHost)\r\nX-Forwarded-For: 10.1.2.3\r\n\r\n"
    static let innerSameRoute = "GET /smuggled HTTP/1.1\r\nHost: \(host)\r\n\r\n"
    static let n = inner.utf8.count
    static let chunk = "5\r\nhello\r\n0\r\n\r\n"

    static let probes: [SmugglingProbe] = [
        // Baseline: each must pass untouched.
        .init(name: "a plain GET", segments: [request()], expect: .answers(1), bodies: [0]),
        .init(name: "POST with Content-Length", segments: [request("POST", ["Content-Length: 5"], body: "hello")],
              expect: .answers(1), bodies: [5]),
        .init(name: "POST chunked", segments: [request("POST", ["Transfer-Encoding: chunked"], body: chunk)],
              expect: .answers(1), bodies: [5]),
        .init(name: "POST chunked with trailers", segments: [request("POST", ["Transfer-Encoding: chunked"],
                                                                     body: "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")],
              expect: .answers(1), bodies: [5]),
        .init(name: "a chunk extension within bounds", segments: [request("POST", ["Transfer-Encoding: chunked"],
                                                                          body: "5;name=value\r\nhello\r\n0\r\n\r\n")],
              expect: .answers(1), bodies: [5]),
        .init(name: "Transfer-Encoding: Chunked (a token compares case-insensitively)",
              segments: [request("POST", ["Transfer-Encoding: Chunked"], body: chunk)], expect: .answers(1), bodies: [5]),
        .init(name: "HTTP/1.0 with Content-Length", segments: ["POST / HTTP/1.0\r\nHost: \(host)\r\nContent-Length: 5\r\n\r\nhello"],
              expect: .answers(1), bodies: [5]),

        // Pipelining (RFC 9112 §9.3.2): all answered, in order, in one segment or many.
        .init(name: "two GETs pipelined in one segment", segments: [request("GET", "/1") + request("GET", "/2")],
              expect: .answers(2)),
        .init(name: "three GETs pipelined in three segments",
              segments: [request("GET", "/1"), request("GET", "/2"), request("GET", "/3")], expect: .answers(3)),
        .init(name: "POST then GET pipelined, the second split across segments",
              segments: [request("POST", ["Content-Length: 5"], body: "hello") + "GET /2 HTTP/1.1\r\nHo", "st: \(host)\r\n\r\n"],
              expect: .answers(2), bodies: [5, 0]),
        .init(name: "chunked POST then GET pipelined", segments: [request("POST", ["Transfer-Encoding: chunked"], body: chunk)
                                                                  + request("GET", "/2")],
              expect: .answers(2), bodies: [5, 0]),
        .init(name: "a parse error after a good request: the 200 first, then 400",
              segments: [request("GET", "/1") + "GET / HTTP/1.1\r\nHost \(host)\r\n\r\n"], expect: .answersThenRefuses(1)),
        .init(name: "CL+TE after two good requests", segments: [request("GET", "/1") + request("GET", "/2")
                                                                + request("POST", ["Content-Length: 5", "Transfer-Encoding: chunked"], body: chunk)],
              expect: .answersThenRefuses(2)),
        .init(name: "a good request after a refused one is never forwarded",
              segments: [request("POST", ["Content-Length: 5", "Transfer-Encoding: chunked"], body: chunk) + request("GET", "/after")],
              expect: .refuses(400)),

        // CL.TE and TE.CL (RFC 9112 §6.1: both present → refuse, and close).
        .init(name: "CL.TE", segments: [request("POST", ["Content-Length: 6", "Transfer-Encoding: chunked"],
                                                body: "0\r\n\r\nG")], expect: .refuses(400)),
        .init(name: "TE.CL", segments: [request("POST", ["Transfer-Encoding: chunked", "Content-Length: 3"],
                                                body: "8\r\nSMUGGLED\r\n0\r\n\r\n")], expect: .refuses(400)),
        .init(name: "CL.TE smuggling a request to the refused route",
              segments: [request("POST", ["Content-Length: \(n + 5)", "Transfer-Encoding: chunked"], body: "0\r\n\r\n" + inner)],
              expect: .refuses(400)),

        // TE.TE: any coding list but exactly `chunked` is refused (RFC 9112 §6.1, §7).
        .init(name: "Transfer-Encoding: gzip, chunked", segments: [request("POST", ["Transfer-Encoding: gzip, chunked"], body: chunk)],
              expect: .refuses(501)),
        .init(name: "Transfer-Encoding: xchunked", segments: [request("POST", ["Transfer-Encoding: xchunked"], body: chunk)],
              expect: .refuses(400)),
        .init(name: "Transfer-Encoding: chunked, chunked", segments: [request("POST", ["Transfer-Encoding: chunked, chunked"], body: chunk)],
              expect: .refuses(400)),
        .init(name: "two Transfer-Encoding fields", segments: [request("POST", ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
                                                                       body: chunk)], expect: .refuses(400)),
        .init(name: "Transfer-Encoding: chunked and identity", segments: [request("POST", ["Transfer-Encoding: chunked", "Transfer-Encoding: identity"],
                                                                                  body: chunk)], expect: .refuses(400)),
        .init(name: "Transfer-Encoding: identity", segments: [request("POST", ["Transfer-Encoding: identity"], body: chunk)],
              expect: .refuses(400)),
        .init(name: "whitespace before the colon", segments: [request("POST", ["Transfer-Encoding : chunked"], body: chunk)],
              expect: .refuses(400)),
        .init(name: "Transfer-Encoding with a vertical tab", segments: [request("POST", ["Transfer-Encoding: chunked\u{0B}"], body: chunk)],
              expect: .refuses(400)),
        .init(name: "Transfer-Encoding folded onto the next line (obs-fold)",
              segments: [request("POST", ["Transfer-Encoding:", " chunked"], body: chunk)], expect: .refuses(400)),
        .init(name: "a header folded into Transfer-Encoding", segments: [request("POST", ["X-Padding: x", " Transfer-Encoding: chunked"], body: chunk)],
              expect: .refuses(400)),
        .init(name: "Transfer_Encoding is just a field: the body is not framed by it",
              segments: [request("POST", ["Transfer_Encoding: chunked", "Content-Length: 5"], body: "hello")], expect: .any),
        .init(name: "GET with gzip, chunked smuggling to the refused route",
              segments: [request("GET", ["Transfer-Encoding: gzip, chunked"], body: "\(String(n, radix: 16))\r\n\(inner)\r\n0\r\n\r\n")],
              expect: .refuses(501)),
        .init(name: "DELETE with Transfer-Encoding: Chunked", segments: [request("DELETE", ["Transfer-Encoding: Chunked"], body: chunk)],
              expect: .answers(1), bodies: [5]),

        // Content-Length (RFC 9110 §8.6, RFC 9112 §6.3).
        .init(name: "Content-Length: +5", segments: [request("POST", ["Content-Length: +5"], body: "hello")], expect: .refuses(400)),
        .init(name: "Content-Length: 1e3", segments: [request("POST", ["Content-Length: 1e3"], body: "hello")], expect: .refuses(400)),
        .init(name: "Content-Length: -1", segments: [request("POST", ["Content-Length: -1"], body: "hello")], expect: .refuses(400)),
        .init(name: "Content-Length: 0x5", segments: [request("POST", ["Content-Length: 0x5"], body: "hello")], expect: .refuses(400)),
        .init(name: "Content-Length: 5, 6", segments: [request("POST", ["Content-Length: 5, 6"], body: "hello!")], expect: .refuses(400)),
        .init(name: "two Content-Length fields that differ", segments: [request("POST", ["Content-Length: 5", "Content-Length: 6"], body: "hello!")],
              expect: .refuses(400)),
        .init(name: "Content-Length past 2^64", segments: [request("POST", ["Content-Length: 99999999999999999999999"], body: "hello")],
              expect: .refuses(400)),
        .init(name: "Content-Length with a space inside", segments: [request("POST", ["Content-Length: 1 0"], body: "helloworld")],
              expect: .refuses(400)),
        .init(name: "two equal Content-Length fields", segments: [request("POST", ["Content-Length: 5", "Content-Length: 5"], body: "hello")],
              expect: .refuses(400)),
        .init(name: "Content-Length: 5, 5", segments: [request("POST", ["Content-Length: 5, 5"], body: "hello")], expect: .refuses(400)),

        // Framing fields named in Connection (RFC 9110 §7.6.1 must not strip them).
        .init(name: "Connection: Content-Length on a GET whose body is a request",
              segments: [request("GET", "/p", ["Connection: Content-Length", "Content-Length: \(n)"], body: inner)],
              expect: .answers(1), bodies: [n]),
        .init(name: "Connection: Transfer-Encoding on a chunked POST",
              segments: [request("POST", ["Connection: Transfer-Encoding", "Transfer-Encoding: chunked"],
                                 body: "\(String(n, radix: 16))\r\n\(inner)\r\n0\r\n\r\n")],
              expect: .answers(1), bodies: [n]),
        .init(name: "Connection: Host", segments: [request("GET", "/p", ["Connection: Host"])], expect: .answers(1)),
        .init(name: "Connection: close, Content-Length, with a body that is a request",
              segments: [request("POST", ["Connection: close, Content-Length", "Content-Length: \(n)"], body: inner)],
              expect: .answers(1), bodies: [n]),

        // Bodies on methods that usually have none: framed exactly like POST bodies.
        .init(name: "GET with a Content-Length body that is a request", segments: [request("GET", ["Content-Length: \(n)"], body: inner)],
              expect: .answers(1), bodies: [n]),
        .init(name: "GET chunked whose chunk is a request",
              segments: [request("GET", ["Transfer-Encoding: chunked"], body: "\(String(n, radix: 16))\r\n\(inner)\r\n0\r\n\r\n")],
              expect: .answers(1), bodies: [n]),
        .init(name: "DELETE with a Content-Length body", segments: [request("DELETE", ["Content-Length: \(n)"], body: inner)],
              expect: .answers(1), bodies: [n]),
        .init(name: "OPTIONS with a Content-Length body", segments: [request("OPTIONS", ["Content-Length: \(n)"], body: inner)],
              expect: .answers(1), bodies: [n]),
        .init(name: "TRACE with a Content-Length body that is a request",
              segments: [request("TRACE", ["Content-Length: \(n)"], body: inner)], expect: .answers(1), bodies: [n]),
        .init(name: "HEAD with a Content-Length body", segments: [request("HEAD", ["Content-Length: \(n)"], body: inner)],
              expect: .answers(1), bodies: [n]),

        // Chunks (RFC 9112 §7.1).
        .init(name: "chunk-size overflow", segments: [request("POST", ["Transfer-Encoding: chunked"],
                                                              body: "10000000000000005\r\nhello\r\n0\r\n\r\n")], expect: .refuses(400)),
        .init(name: "chunk-size with 0x", segments: [request("POST", ["Transfer-Encoding: chunked"], body: "0x5\r\nhello\r\n0\r\n\r\n")],
              expect: .refuses(400)),
        .init(name: "negative chunk-size", segments: [request("POST", ["Transfer-Encoding: chunked"], body: "-5\r\nhello\r\n0\r\n\r\n")],
              expect: .refuses(400)),
        .init(name: "bare LF in chunk lines", segments: [request("POST", ["Transfer-Encoding: chunked"], body: "5\nhello\n0\n\n")],
              expect: .refuses(400)),
        .init(name: "chunk data longer than its size", segments: [request("POST", ["Transfer-Encoding: chunked"],
                                                                          body: "3\r\nhello\r\n0\r\n\r\n")], expect: .refuses(400)),
        .init(name: "a chunk extension of 8 KiB", segments: [request("POST", ["Transfer-Encoding: chunked"],
                                                                     body: "5;x=\(String(repeating: "a", count: 8192))\r\nhello\r\n0\r\n\r\n")],
              expect: .refuses(400)),
        .init(name: "a chunk extension with a bare LF inside", segments: [request("POST", ["Transfer-Encoding: chunked"],
                                                                                  body: "5;x=\"a\nb\"\r\nhello\r\n0\r\n\r\n")],
              expect: .refuses(400)),
        .init(name: "a chunk size of 16 hex digits", segments: [request("POST", ["Transfer-Encoding: chunked"],
                                                                        body: "0000000000000005\r\nhello\r\n0\r\n\r\n")],
              expect: .refuses(400)),
        .init(name: "a trailer folded onto the next line", segments: [request("POST", ["Transfer-Encoding: chunked"],
                                                                              body: "5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n")],
              expect: .refuses(400)),
        .init(name: "a body cut short by the client's close", segments: [request("POST", ["Content-Length: 10"], body: "hello")],
              expect: .any),

        // Line endings and field syntax (RFC 9112 §2.2, §5).
        .init(name: "bare LF line endings in the head", segments: ["GET / HTTP/1.1\nHost: \(host)\n\n"], expect: .refuses(400)),
        .init(name: "a bare LF ending one field", segments: ["POST / HTTP/1.1\r\nHost: \(host)\r\nContent-Length: 5\nX: y\r\n\r\nhello"],
              expect: .refuses(400)),
        .init(name: "a bare CR inside the head", segments: ["GET / HTTP/1.1\rHost: \(host)\r\n\r\n"], expect: .refuses(400)),
        .init(name: "a NUL in a field value", segments: [request("GET", ["X-A: a\u{00}b"])], expect: .refuses(400)),
        .init(name: "a field without a colon", segments: [request("GET", ["X-A a"])], expect: .refuses(400)),
        .init(name: "two Host fields", segments: ["GET / HTTP/1.1\r\nHost: \(host)\r\nHost: \(secretHost)\r\n\r\n"], expect: .refuses(400)),
        .init(name: "no Host field", segments: ["GET / HTTP/1.1\r\n\r\n"], expect: .refuses(400)),
        .init(name: "HTTP/2.0 in a request line", segments: ["GET / HTTP/2.0\r\nHost: \(host)\r\n\r\n"], expect: .refuses(400)),
        // RFC 9112 §3 lets a recipient split the request line on whitespace; HAProxy does too.
        .init(name: "a request line with two spaces", segments: ["GET  / HTTP/1.1\r\nHost: \(host)\r\n\r\n"], expect: .any),

        // Request targets (RFC 9112 §3.2): absolute-form only for http and https, to Host.
        .init(name: "absolute-form http to the Host", segments: [request("GET", "http://\(host)/x")], expect: .answers(1)),
        .init(name: "absolute-form HTTPS in capitals", segments: [request("GET", "HTTPS://APP.example.com/x")], expect: .answers(1)),
        .init(name: "absolute-form ws:// to another host", segments: [request("GET", "ws://\(secretHost)/x")], expect: .refuses(400)),
        .init(name: "absolute-form ws:// to the Host", segments: [request("GET", "ws://\(host)/x")], expect: .refuses(400)),
        .init(name: "absolute-form ftp://", segments: [request("GET", "ftp://\(host)/x")], expect: .refuses(400)),
        .init(name: "absolute-form to another authority", segments: [request("GET", "http://\(secretHost)/x")], expect: .refuses(400)),
        .init(name: "absolute-form with userinfo", segments: [request("GET", "http://user@\(host)/x")], expect: .refuses(400)),
        .init(name: "CONNECT", segments: ["CONNECT \(host):443 HTTP/1.1\r\nHost: \(host):443\r\n\r\n"], expect: .refuses(405)),
        .init(name: "OPTIONS *", segments: [request("OPTIONS", "*")], expect: .answers(1)),
        .init(name: "GET *", segments: [request("GET", "*")], expect: .refuses(400)),
        .init(name: "authority-form on a GET", segments: [request("GET", "\(host):80")], expect: .refuses(400)),

        // The refused route is never reached through another route's connection.
        .init(name: "Connection: Content-Length aimed at the refused route",
              segments: [request("GET", ["Connection: Content-Length", "Content-Length: \(n)"], body: inner) + request("GET", "/after")],
              expect: .answers(2), bodies: [n, 0]),
        .init(name: "TE.CL aimed at the refused route",
              segments: [request("POST", ["Transfer-Encoding: chunked", "Content-Length: 4"],
                                 body: "\(String(n, radix: 16))\r\n\(inner)\r\n0\r\n\r\n")], expect: .refuses(400)),
        .init(name: "Transfer-Encoding: Chunked on a GET aimed at the refused route",
              segments: [request("GET", ["Transfer-Encoding: Chunked"], body: "\(String(n, radix: 16))\r\n\(inner)\r\n0\r\n\r\n")],
              expect: .answers(1), bodies: [n]),
        .init(name: "a second request to the refused route pipelined after a good one",
              segments: [request("GET", "/1") + inner], expect: .any),
    ]
}
