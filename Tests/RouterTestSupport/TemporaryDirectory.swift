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
