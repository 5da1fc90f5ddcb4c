/// How many routes below a name each owner holds; one owner inline, others spill to a map.
struct OwnerTally {
    var owner: UInt32
    var count: UInt32
    var more: [UInt32: UInt32]?

    init(owner: UInt32) {
        self.owner = owner
        count = 1
    }

    mutating func add(_ o: UInt32) {
        if count == 0 { owner = o; count = 1 } else if owner == o { count += 1 } else { more?[o, default: 0] += 1; if more == nil { more = [o: 1] } }
    }

    /// Returns false when the tally is empty afterwards.
    mutating func remove(_ o: UInt32) -> Bool {
        if owner == o && count > 0 {
            count -= 1
            if count == 0, let (next, n) = more?.first {
                owner = next
                count = n
                more![next] = nil
                if more!.isEmpty { more = nil }
            }
        } else if let n = more?[o] {
            more![o] = n > 1 ? n - 1 : nil
            if more!.isEmpty { more = nil }
        }
        return count > 0
    }

    /// An owner other than `o` holding something here, if any.
    func other(than o: UInt32) -> UInt32? {
        if count > 0 && owner != o { return owner }
        return more?.keys.first { $0 != o }
    }
}
