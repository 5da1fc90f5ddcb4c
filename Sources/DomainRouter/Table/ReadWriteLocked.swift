#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A value guarded by a sharded reader-writer lock: lookups from many threads read in
/// parallel without writing to a shared cache line, changes take every shard alone.
///
/// Each reader thread is given its own shard (a POSIX rwlock on its own cache lines) the
/// first time it reads; a writer passes a spinning writer gate, then locks all shards in
/// order. One shared rwlock made two threads slower than one, its lock word bouncing between
/// cores on every lookup.
///
/// Hand-written: `Synchronization.Mutex` and NIO's `NIOLockedValueBox` are exclusive locks,
/// and no reachable package offers a reader-writer lock, sharded or not.
///
/// `@unchecked Sendable` is sound because the value is reachable only through `read` and
/// `write`, which hold a shard shared, or every shard exclusively, for the duration of the
/// closure, and neither hands out a reference that outlives it; the locks and the value live
/// at stable heap addresses for the object's lifetime. (The value sits behind a pointer rather
/// than in a stored property so that `read` lends it in place instead of copying it out.)
final class ReadWriteLocked<Value: ~Copyable>: @unchecked Sendable {
    static var shards: Int { 8 }
    private static var stride: Int { 128 }

    private let locks: UnsafeMutableRawPointer
    private let value: UnsafeMutablePointer<Value>
    /// Writers queue here first, spinning briefly (yielding after a while) rather than sleeping
    /// on the shards' futexes: a change holds the lock for microseconds, less than a futex sleep
    /// and wake-up costs (README's performance section has the figures).
    private let writerGate = Atomic<Bool>(false)

    init(_ value: consuming Value) {
        self.value = .allocate(capacity: 1)
        self.value.initialize(to: value)
        locks = .allocate(byteCount: Self.shards * Self.stride, alignment: Self.stride)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
        // Prefer writers, so that a stream of lookups cannot starve changes and the sweeper.
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        for i in 0..<Self.shards {
            let lock = lock(i)
            lock.initialize(to: pthread_rwlock_t())
            pthread_rwlock_init(lock, &attributes)
        }
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        for i in 0..<Self.shards { pthread_rwlock_destroy(lock(i)) }
        locks.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    @inline(__always)
    private func lock(_ i: Int) -> UnsafeMutablePointer<pthread_rwlock_t> {
        (locks + i * Self.stride).assumingMemoryBound(to: pthread_rwlock_t.self)
    }

    /// Runs `body` under this thread's shared shard, lending it the value.
    @inline(__always)
    func read<R, E: Error>(_ body: (borrowing Value) throws(E) -> R) throws(E) -> R {
        let lock = lock(ReaderShard.current & (Self.shards - 1))
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value.pointee)
    }

    /// Runs `body` with every shard held exclusively: no reader or writer is inside.
    @inline(__always)
    func write<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        var spins = 0
        while !writerGate.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            repeat {
                spins += 1
                if spins > 4000 { sched_yield() }
            } while writerGate.load(ordering: .relaxed)
        }
        for i in 0..<Self.shards { pthread_rwlock_wrlock(lock(i)) }
        defer {
            for i in (0..<Self.shards).reversed() { pthread_rwlock_unlock(lock(i)) }
            writerGate.store(false, ordering: .releasing)
        }
        return try body(&value.pointee)
    }
}

/// Each thread's reader shard, handed out round-robin on its first read and kept in
/// thread-specific storage.
enum ReaderShard {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
    private static let next = Atomic<Int>(0)

    static var current: Int {
        if let stored = pthread_getspecific(key) { return Int(bitPattern: stored) &- 1 }
        let shard = next.add(1, ordering: .relaxed).oldValue
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: shard &+ 1))
        return shard
    }
}
