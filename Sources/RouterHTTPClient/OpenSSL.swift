#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// TLS for `https://` URLs from the system's OpenSSL (libssl 3 or 1.1), loaded with dlopen the
// first time an https URL is used. Loaded lazily on purpose: routerctl is started once per
// command, and linking a TLS library (or SwiftNIO's) into it costs every command, socket ones
// included, its load and start-up time; this costs nothing until a TLS connection is made.
// Only the calls below are used; certificate and host-name verification are OpenSSL's own.

/// The OpenSSL calls an HTTPS connection makes, looked up in the system's libssl.
final class OpenSSL: @unchecked Sendable {
    // @unchecked Sendable: every stored property is a `let` set once in `init` (C function
    // pointers and the library handle, which is never closed), so sharing is read-only.
    typealias Pointer = OpaquePointer
    let method: @convention(c) () -> Pointer?
    let ctxNew: @convention(c) (Pointer?) -> Pointer?
    let ctxFree: @convention(c) (Pointer?) -> Void
    let ctxSetVerify: @convention(c) (Pointer?, Int32, UnsafeRawPointer?) -> Void
    let ctxLoadVerifyLocations: @convention(c) (Pointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    let ctxSetDefaultVerifyPaths: @convention(c) (Pointer?) -> Int32
    let sslNew: @convention(c) (Pointer?) -> Pointer?
    let sslFree: @convention(c) (Pointer?) -> Void
    let sslSetFD: @convention(c) (Pointer?, Int32) -> Int32
    let sslCtrl: @convention(c) (Pointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    let sslSet1Host: @convention(c) (Pointer?, UnsafePointer<CChar>?) -> Int32
    let sslGet0Param: @convention(c) (Pointer?) -> Pointer?
    let paramSet1IPAsc: @convention(c) (Pointer?, UnsafePointer<CChar>?) -> Int32
    let sslConnect: @convention(c) (Pointer?) -> Int32
    let sslRead: @convention(c) (Pointer?, UnsafeMutableRawPointer?, Int32) -> Int32
    let sslWrite: @convention(c) (Pointer?, UnsafeRawPointer?, Int32) -> Int32
    let sslGetError: @convention(c) (Pointer?, Int32) -> Int32
    let sslPending: @convention(c) (Pointer?) -> Int32
    let sslShutdown: @convention(c) (Pointer?) -> Int32
    let sslGetVerifyResult: @convention(c) (Pointer?) -> Int
    let verifyErrorString: @convention(c) (Int) -> UnsafePointer<CChar>?
    let errGetError: @convention(c) () -> UInt
    let errErrorStringN: @convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void

    static let SSL_VERIFY_PEER: Int32 = 1
    static let SSL_CTRL_SET_TLSEXT_HOSTNAME: Int32 = 55
    static let TLSEXT_NAMETYPE_host_name = 0
    static let SSL_ERROR_WANT_READ: Int32 = 2
    static let SSL_ERROR_WANT_WRITE: Int32 = 3
    static let SSL_ERROR_ZERO_RETURN: Int32 = 6

    /// The library, loaded on first use; a failure saying so when this system has no libssl.
    static let shared: Result<OpenSSL, ConfigurationError> = {
        for name in ["libssl.so.3", "libssl.so.1.1", "libssl.so"] {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
                if let library = OpenSSL(handle) { return .success(library) }
            }
        }
        return .failure(ConfigurationError("https:// needs the system's OpenSSL (libssl3 on Debian), which is not installed"))
    }()

    private init?(_ handle: UnsafeMutableRawPointer) {
        func symbol<T>(_ name: String, as: T.Type) -> T? {
            guard let p = dlsym(handle, name) else { return nil }
            return unsafeBitCast(p, to: T.self)
        }
        guard let method = symbol("TLS_client_method", as: (@convention(c) () -> Pointer?).self),
              let ctxNew = symbol("SSL_CTX_new", as: (@convention(c) (Pointer?) -> Pointer?).self),
              let ctxFree = symbol("SSL_CTX_free", as: (@convention(c) (Pointer?) -> Void).self),
              let ctxSetVerify = symbol("SSL_CTX_set_verify", as: (@convention(c) (Pointer?, Int32, UnsafeRawPointer?) -> Void).self),
              let ctxLoadVerifyLocations = symbol("SSL_CTX_load_verify_locations", as: (@convention(c) (Pointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32).self),
              let ctxSetDefaultVerifyPaths = symbol("SSL_CTX_set_default_verify_paths", as: (@convention(c) (Pointer?) -> Int32).self),
              let sslNew = symbol("SSL_new", as: (@convention(c) (Pointer?) -> Pointer?).self),
              let sslFree = symbol("SSL_free", as: (@convention(c) (Pointer?) -> Void).self),
              let sslSetFD = symbol("SSL_set_fd", as: (@convention(c) (Pointer?, Int32) -> Int32).self),
              let sslCtrl = symbol("SSL_ctrl", as: (@convention(c) (Pointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int).self),
              let sslSet1Host = symbol("SSL_set1_host", as: (@convention(c) (Pointer?, UnsafePointer<CChar>?) -> Int32).self),
              let sslGet0Param = symbol("SSL_get0_param", as: (@convention(c) (Pointer?) -> Pointer?).self),
              let paramSet1IPAsc = symbol("X509_VERIFY_PARAM_set1_ip_asc", as: (@convention(c) (Pointer?, UnsafePointer<CChar>?) -> Int32).self),
              let sslConnect = symbol("SSL_connect", as: (@convention(c) (Pointer?) -> Int32).self),
              let sslRead = symbol("SSL_read", as: (@convention(c) (Pointer?, UnsafeMutableRawPointer?, Int32) -> Int32).self),
              let sslWrite = symbol("SSL_write", as: (@convention(c) (Pointer?, UnsafeRawPointer?, Int32) -> Int32).self),
              let sslGetError = symbol("SSL_get_error", as: (@convention(c) (Pointer?, Int32) -> Int32).self),
              let sslPending = symbol("SSL_pending", as: (@convention(c) (Pointer?) -> Int32).self),
              let sslShutdown = symbol("SSL_shutdown", as: (@convention(c) (Pointer?) -> Int32).self),
              let sslGetVerifyResult = symbol("SSL_get_verify_result", as: (@convention(c) (Pointer?) -> Int).self),
              let verifyErrorString = symbol("X509_verify_cert_error_string", as: (@convention(c) (Int) -> UnsafePointer<CChar>?).self),
              let errGetError = symbol("ERR_get_error", as: (@convention(c) () -> UInt).self),
              let errErrorStringN = symbol("ERR_error_string_n", as: (@convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void).self)
        else { return nil }
        self.method = method
        self.ctxNew = ctxNew
        self.ctxFree = ctxFree
        self.ctxSetVerify = ctxSetVerify
        self.ctxLoadVerifyLocations = ctxLoadVerifyLocations
        self.ctxSetDefaultVerifyPaths = ctxSetDefaultVerifyPaths
        self.sslNew = sslNew
        self.sslFree = sslFree
        self.sslSetFD = sslSetFD
        self.sslCtrl = sslCtrl
        self.sslSet1Host = sslSet1Host
        self.sslGet0Param = sslGet0Param
        self.paramSet1IPAsc = paramSet1IPAsc
        self.sslConnect = sslConnect
        self.sslRead = sslRead
        self.sslWrite = sslWrite
        self.sslGetError = sslGetError
        self.sslPending = sslPending
        self.sslShutdown = sslShutdown
        self.sslGetVerifyResult = sslGetVerifyResult
        self.verifyErrorString = verifyErrorString
        self.errGetError = errGetError
        self.errErrorStringN = errErrorStringN
    }

    /// The oldest queued OpenSSL error, said for a person (and the queue emptied).
    func lastError() -> String {
        var text = ""
        while case let code = errGetError(), code != 0 {
            guard text.isEmpty else { continue }
            var buffer = [CChar](repeating: 0, count: 256)
            errErrorStringN(code, &buffer, buffer.count)
            text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return text.isEmpty ? "the TLS handshake failed" : text
    }
}

/// One TLS session over a connected socket: handshake with verification, then reads and writes.
final class TLSSession {
    private let ssl: OpenSSL
    private let context: OpaquePointer
    private let session: OpaquePointer
    private var established = false

    /// Shakes hands over `fd` (blocking, bounded by the socket's timeouts), verifying the
    /// server's certificate against `caFile` (else the system's trust store) and `host`.
    init(fd: Int32, host: String, caFile: String?) throws(ConfigurationError) {
        let ssl: OpenSSL
        switch OpenSSL.shared {
        case .success(let library): ssl = library
        case .failure(let error): throw error
        }
        self.ssl = ssl
        guard let context = ssl.ctxNew(ssl.method()) else { throw ConfigurationError("TLS: \(ssl.lastError())") }
        self.context = context
        ssl.ctxSetVerify(context, OpenSSL.SSL_VERIFY_PEER, nil)
        if let caFile {
            guard ssl.ctxLoadVerifyLocations(context, caFile, nil) == 1 else {
                ssl.ctxFree(context)
                throw ConfigurationError("TLS: cannot read the certificates in --cacert \(caFile): \(ssl.lastError())")
            }
        } else {
            _ = ssl.ctxSetDefaultVerifyPaths(context)
        }
        guard let session = ssl.sslNew(context) else {
            ssl.ctxFree(context)
            throw ConfigurationError("TLS: \(ssl.lastError())")
        }
        self.session = session
        _ = ssl.sslSetFD(session, fd)
        let isAddress = host.contains(":") || host.allSatisfy { $0 == "." || $0.isNumber }
        if isAddress {
            _ = ssl.paramSet1IPAsc(ssl.sslGet0Param(session), host)
        } else {
            _ = host.withCString { ssl.sslCtrl(session, OpenSSL.SSL_CTRL_SET_TLSEXT_HOSTNAME, OpenSSL.TLSEXT_NAMETYPE_host_name, UnsafeMutableRawPointer(mutating: $0)) }
            _ = ssl.sslSet1Host(session, host)
        }
        // From here on a failure leaves the freeing to deinit (it runs: every property is set).
        guard ssl.sslConnect(session) == 1 else {
            let verify = ssl.sslGetVerifyResult(session)
            let reason = verify != 0 ? String(cString: ssl.verifyErrorString(verify)!) : ssl.lastError()
            throw ConfigurationError("TLS: \(reason) (for a private CA or a self-signed certificate, pass --cacert)")
        }
        established = true
    }

    deinit {
        if established { _ = ssl.sslShutdown(session) }
        ssl.sslFree(session)
        ssl.ctxFree(context)
    }

    /// Decrypted bytes already here (a read will not wait for the socket).
    var pending: Bool { ssl.sslPending(session) > 0 }

    /// Reads up to `count` bytes: > 0 read, 0 the end, -1 an error, -2 nothing yet.
    func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        let n = ssl.sslRead(session, buffer, Int32(min(count, Int(Int32.max))))
        if n > 0 { return Int(n) }
        switch ssl.sslGetError(session, n) {
        case OpenSSL.SSL_ERROR_ZERO_RETURN: return 0
        case OpenSSL.SSL_ERROR_WANT_READ, OpenSSL.SSL_ERROR_WANT_WRITE: return -2
        default: return n == 0 ? 0 : -1
        }
    }

    /// Writes all of `bytes`; false when the connection failed.
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = ssl.sslWrite(session, bytes.baseAddress! + offset, Int32(min(bytes.count - offset, Int(Int32.max))))
            if n <= 0 {
                let error = ssl.sslGetError(session, n)
                if error == OpenSSL.SSL_ERROR_WANT_WRITE || error == OpenSSL.SSL_ERROR_WANT_READ { continue }
                return false
            }
            offset += Int(n)
        }
        return true
    }
}
