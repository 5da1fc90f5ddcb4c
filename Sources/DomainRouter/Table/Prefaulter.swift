import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Faults in memory that a growing `RawBuffer` is about to use, on a thread of its own, so
/// that the kernel's work for fresh pages — zeroing them, and on a virtual machine whose host
/// took the memory back, the host backing it again (milliseconds a megabyte) — is not done on
/// the table's writer in the middle of an add.
///
/// Only pages of a buffer's own mapping are asked for (from the page it is writing in to two
/// huge pages ahead), and `MADV_POPULATE_WRITE` faults them in without writing a byte: what the
/// buffer writes there meanwhile stays as written. A buffer waits for every request
/// (`settle()`) before it unmaps its memory, so a request never reaches memory mapped again for
/// something else.
enum Prefaulter {
    private static let queue = DispatchQueue(label: "domain-router.prefault", qos: .utility)

    /// Asks for `bytes` from `start` to be faulted in, soon, on the prefault thread. (From the
    /// start of the page `start` is in: `madvise` takes whole pages.)
    static func populate(_ start: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        let end = UInt(bitPattern: start) + UInt(bytes)
        let first = UInt(bitPattern: start) & ~UInt(pageSize - 1)
        queue.async {
            // Fails harmlessly (EINVAL) on a kernel older than 5.14, which lacks it.
            _ = madvise(UnsafeMutableRawPointer(bitPattern: first), Int(end - first), MADV_POPULATE_WRITE)
        }
        #endif
    }

    #if os(Linux)
    private static let pageSize = max(4096, sysconf(Int32(_SC_PAGESIZE)))
    #endif

    /// Returns once every request made before it is done.
    static func settle() {
        queue.sync {}
    }
}
