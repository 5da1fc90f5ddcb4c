#if canImport(Glibc)
import Glibc
#endif

// pipe2(2), which Swift's Glibc module does not export.
@_silgen_name("pipe2")
private func systemPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// A pipe whose two ends close on exec, made in one call: a child process another test starts
/// meanwhile (tests run in parallel, and `ChildProcess` passes on every descriptor that is not
/// close-on-exec) never holds its write end, so a reader sees the pipe's end as soon as this
/// test closes it. Nil when the system refuses one.
public func closeOnExecPipe() -> (read: Int32, write: Int32)? {
    var fds: (Int32, Int32) = (-1, -1)
    let made = withUnsafeMutableBytes(of: &fds) { raw in
        systemPipe2(raw.baseAddress!.assumingMemoryBound(to: Int32.self), O_CLOEXEC)
    }
    return made == 0 ? (fds.0, fds.1) : nil
}

/// Everything read from `fd` until its end (every write end closed) or an error, as UTF-8.
public func readToEnd(_ fd: Int32) -> String {
    var text = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        guard n > 0 else { break }
        text += chunk[..<n]
    }
    return String(decoding: text, as: UTF8.self)
}
