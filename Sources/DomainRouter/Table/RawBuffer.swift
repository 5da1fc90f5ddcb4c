#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable array of plain values in memory the table manages itself: cache-line aligned,
/// backed by transparent huge pages when large (the hash index and the slots are touched at
/// random, so TLB misses are a large part of a lookup), and free of reference counting, so
/// lookups on several threads never write to shared memory.
///
/// Hand-written: `Array` offers neither alignment nor huge pages, and its buffer is retained
/// and released around accesses from a class. Noncopyable, so ownership of the memory is
/// unambiguous; `deinit` frees it.
struct RawBuffer<Element: BitwiseCopyable>: ~Copyable {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private(set) var capacity: Int
    /// Elements the memory mapping behind `base` holds (0: the memory is from malloc). A
    /// growing buffer maps far more address space than it uses: pages are only backed once
    /// touched, so later growth happens in place instead of copying every element again.
    private var mapped = 0
    /// In a mapping: the elements up to which pages were asked to be faulted in ahead of use
    /// (`Prefaulter`), and the count at which `append` asks for more.
    private var prefaultedTo = 0
    private var nextPrefault = Int.max

    /// An empty buffer with room for `capacity` elements; with `zeroed`, all of them read as
    /// zero bytes (and `count` is `capacity`).
    init(capacity: Int, zeroed: Bool = false) {
        self.capacity = max(capacity, 1)
        (base, mapped) = RawBuffer.allocate(self.capacity, reserve: self.capacity, zeroed: zeroed)
        if zeroed { count = self.capacity }
    }

    deinit {
        if prefaultedTo > 0 { Prefaulter.settle() }
        RawBuffer.free(base, mapped: mapped)
    }

    /// Elements in a huge page: how far apart `append` asks for memory ahead.
    private static var region: Int { max(1, hugePage / MemoryLayout<Element>.stride) }

    private static var hugePage: Int { 2 << 20 }

    /// Address space a growing buffer reserves once it is large: 1 GiB (8 million slots).
    private static var growthReservation: Int { (1 << 30) / MemoryLayout<Element>.stride }

    /// Memory for `capacity` elements; large blocks are mappings of `reserve` elements.
    private static func allocate(_ capacity: Int, reserve: Int, zeroed: Bool) -> (UnsafeMutablePointer<Element>, Int) {
        let bytes = capacity * MemoryLayout<Element>.stride
        if bytes >= hugePage {
            // Anonymous mappings are zero-filled and page-aligned; ask for huge pages before
            // the first touch so that the kernel backs them that way from the start.
            // MAP_NORESERVE: the unused part of a reservation is not committed memory.
            var elements = max(capacity, reserve)
            var raw = mmap(nil, elements * MemoryLayout<Element>.stride, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            if raw == MAP_FAILED && elements > capacity {
                elements = capacity
                raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            }
            precondition(raw != MAP_FAILED, "out of memory allocating \(bytes) bytes")
            #if canImport(Glibc)
            _ = madvise(raw, elements * MemoryLayout<Element>.stride, MADV_HUGEPAGE)
            #endif
            return (raw!.bindMemory(to: Element.self, capacity: elements), elements)
        }
        var raw: UnsafeMutableRawPointer?
        precondition(posix_memalign(&raw, 64, max(bytes, 64)) == 0, "out of memory allocating \(bytes) bytes")
        if zeroed { memset(raw!, 0, bytes) }
        return (raw!.bindMemory(to: Element.self, capacity: capacity), 0)
    }

    private static func free(_ base: UnsafeMutablePointer<Element>, mapped: Int) {
        if mapped > 0 {
            munmap(base, mapped * MemoryLayout<Element>.stride)
        } else {
            #if canImport(Glibc)
            Glibc.free(base)
            #else
            Darwin.free(base)
            #endif
        }
    }

    @inline(__always)
    subscript(_ i: Int) -> Element {
        get {
            assert(i >= 0 && i < count, "index \(i) out of range 0..<\(count)")
            return base[i]
        }
        set {
            assert(i >= 0 && i < count, "index \(i) out of range 0..<\(count)")
            base[i] = newValue
        }
    }

    @inline(__always)
    func pointer(_ i: Int) -> UnsafeMutablePointer<Element> {
        assert(i >= 0 && i < count, "index \(i) out of range 0..<\(count)")
        return base + i
    }

    mutating func append(_ element: Element) {
        if count == capacity { grow(to: capacity * 2) }
        (base + count).initialize(to: element)
        count += 1
        if count >= nextPrefault { prefaultAhead() }
    }

    /// Asks for the next two huge pages' worth of the mapping past `count` to be faulted in,
    /// those not asked for yet; called once a huge page's worth of appends.
    private mutating func prefaultAhead() {
        let target = min(mapped, count + 2 * RawBuffer.region)
        if target > prefaultedTo {
            let stride = MemoryLayout<Element>.stride
            Prefaulter.populate(UnsafeMutableRawPointer(base + prefaultedTo), bytes: (target - prefaultedTo) * stride)
            prefaultedTo = target
        }
        nextPrefault = count + RawBuffer.region
    }

    private mutating func grow(to newCapacity: Int) {
        if newCapacity <= mapped {
            capacity = newCapacity
            return
        }
        let (fresh, freshMapped) = RawBuffer.allocate(newCapacity, reserve: max(newCapacity * 2, RawBuffer.growthReservation), zeroed: false)
        fresh.update(from: base, count: count)
        if prefaultedTo > 0 { Prefaulter.settle() }
        RawBuffer.free(base, mapped: mapped)
        base = fresh
        mapped = freshMapped
        capacity = newCapacity
        // A new mapping: what it holds was just written; ahead of it nothing was asked for.
        prefaultedTo = freshMapped > 0 ? count : 0
        nextPrefault = freshMapped > 0 ? count : .max
    }
}
