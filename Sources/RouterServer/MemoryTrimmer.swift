#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// Hands memory malloc keeps back to the system after megabytes were freed at once (a slow
/// consumer's backlog dropped, the table's storage released): glibc keeps freed pages unless
/// asked. At most once a second, a second after the news (once the close has released the
/// buffers), and off the event loops: `malloc_trim` walks the heap.
final class MemoryTrimmer: Sendable {
    private let scheduled = Atomic<Bool>(false)

    /// Megabytes were freed; trims soon.
    func freed() {
        guard scheduled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + 1) { [self] in
            scheduled.store(false, ordering: .relaxed)
            _ = Self.mallocTrim?(0)
        }
    }

    /// glibc's `malloc_trim` (not in Swift's Glibc module: malloc.h is not part of it); nil
    /// where the C library has none.
    static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()
}
