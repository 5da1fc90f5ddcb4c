#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a POSIX reader-writer lock: lookups from many threads read in parallel,
/// changes take the lock alone.
///
/// Hand-written: `Synchronization.Mutex` and NIO's `NIOLockedValueBox` are exclusive locks,
/// and no reachable package offers a reader-writer lock.
///
/// `@unchecked Sendable` is sound because the value is reachable only through `read` and
/// `write`, which hold the lock shared and exclusively for the duration of the closure, and
/// neither hands out a reference that outlives it; the lock and the value live at stable heap
/// addresses for the object's lifetime. (The value sits behind a pointer rather than in a
/// stored property so that `read` lends it in place instead of copying it out.)
final class ReadWriteLocked<Value: ~Copyable>: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    private let value: UnsafeMutablePointer<Value>

    init(_ value: consuming Value) {
        self.value = .allocate(capacity: 1)
        self.value.initialize(to: value)
        lock = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
        // Prefer writers, so that a stream of lookups cannot starve changes and the sweeper.
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    /// Runs `body` under the shared lock, lending it the value.
    @inline(__always)
    func read<R, E: Error>(_ body: (borrowing Value) throws(E) -> R) throws(E) -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value.pointee)
    }

    @inline(__always)
    func write<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        // (Exclusive: no reader or writer holds the lock.)
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value.pointee)
    }
}
