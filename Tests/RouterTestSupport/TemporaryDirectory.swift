import Foundation

/// A fresh folder under /tmp (`prefix` then six random characters); the caller removes it.
public func makeTemporaryDirectory(_ prefix: String = "rt-") -> String {
    var template = Array("/tmp/\(prefix)XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// Polls `condition` until it holds or `timeout` seconds pass; returns whether it held.
public func eventually(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}

/// Why a process or daemon a test needs could not be started or stopped; carries what the
/// process wrote to stderr.
public struct LaunchError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A TCP connection to 127.0.0.1:`port` (Nagle off), or -1 when nothing accepts there.
public func connectTCP(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if ok != 0 {
        close(fd)
        return -1
    }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    return fd
}

/// A TCP port on 127.0.0.1 that nothing listens on right now, for a server the test starts
/// next. It is drawn at random below Linux's ephemeral range (32768–60999), so that neither
/// a port-0 bind nor an outgoing connection's source port, which the kernel draws from that
/// range for the tests running beside this one, can take it before the caller binds it.
public func freeTCPPort() -> Int {
    for _ in 0..<1_000 {
        let port = Int.random(in: 20_000..<32_000)
        if canBind(port) { return port }
    }
    return kernelPickedPort()
}

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } } == 0
}

private func kernelPickedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The path of `relative` in the repository (the folder holding README.md above this file).
public func repositoryFile(_ relative: String, file: String = #filePath) -> String {
    var folder = URL(fileURLWithPath: file).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("README.md").path), folder.path != "/" {
        folder.deleteLastPathComponent()
    }
    return folder.appendingPathComponent(relative).path
}

/// The first fenced code block after the README heading `heading` (e.g. "## The HTTP API"),
/// for tests that replay README examples as written.
public func readmeExample(under heading: String, file: String = #filePath) throws -> String {
    guard let first = try readmeBlocks(under: heading, file: file).first else {
        throw LaunchError("README.md's section '\(heading)' has no code block")
    }
    return first
}

/// Every fenced code block of the README section `heading` (up to the next heading of the same
/// or a higher level), in order.
public func readmeBlocks(under heading: String, file: String = #filePath) throws -> [String] {
    let readme = try String(contentsOfFile: repositoryFile("README.md", file: file), encoding: .utf8)
    let level = heading.prefix { $0 == "#" }.count
    var blocks: [String] = []
    var inSection = false
    var block: [Substring]?
    for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
        if block == nil, line.hasPrefix("#") {
            let hashes = line.prefix { $0 == "#" }.count
            if line == heading { inSection = true; continue }
            if inSection, hashes <= level { break }
        }
        guard inSection else { continue }
        if line.hasPrefix("```") {
            if let open = block { blocks.append(open.joined(separator: "\n") + "\n"); block = nil } else { block = [] }
        } else if block != nil {
            block!.append(line)
        }
    }
    guard !blocks.isEmpty else { throw LaunchError("README.md has no section '\(heading)', or it has no code block") }
    return blocks
}
