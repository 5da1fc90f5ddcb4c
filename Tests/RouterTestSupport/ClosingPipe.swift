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
