/// A tunnel: its owner and the head of the doubly linked list of its routes' slots. A UUID
/// id lives in the slots; any other id as bytes in the arena (`textLength` > 0).
struct TunnelRecord: BitwiseCopyable {
    var head: UInt32
    var count: UInt32
    var owner: UInt32
    var textOffset: UInt32
    var textLength: UInt8
}
