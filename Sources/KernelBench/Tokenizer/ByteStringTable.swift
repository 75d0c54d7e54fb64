/// A set of byte strings numbered in the order they were added, with lookups that take a buffer and
/// allocate nothing (the BPE and SPM merge loops look up a slice of the text for every candidate pair).
/// All strings live in one buffer; the index is open addressing with linear probing, at most half full.
///
/// Strings are compared as bytes, never as Swift `String`s, whose equality is canonical equivalence:
/// two tokens "é" (U+00E9) and "e\u{301}" are different tokens.
struct ByteStringTable: Sendable {
    private var storage: [UInt8] = []
    /// Where string `i` ends in `storage` (it starts where string `i - 1` ends).
    private var ends: [Int] = []
    /// String ids, or -1 for an empty slot; the count is a power of two.
    private var slots: [Int32] = [Int32](repeating: -1, count: 16)

    var count: Int { ends.count }

    init(capacity: Int = 0) {
        var size = 16
        while size < 2 * capacity { size *= 2 }
        slots = [Int32](repeating: -1, count: size)
        ends.reserveCapacity(capacity)
    }

    /// The bytes of string `id`.
    subscript(id: Int) -> ArraySlice<UInt8> {
        storage[(id == 0 ? 0 : ends[id - 1])..<ends[id]]
    }

    /// FNV-1a, with a final mix so that linear probing on the low bits spreads well.
    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        hash ^= hash >> 32
        hash = hash &* 0xD6E8_FEB8_6659_FD93
        return hash ^ (hash >> 32)
    }

    /// The id of `bytes`, or -1.
    @inline(__always)
    func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
        return storage.withUnsafeBufferPointer { stored in
            while true {
                let id = slots[slot]
                if id < 0 { return -1 }
                let start = id == 0 ? 0 : ends[Int(id) - 1]
                let end = ends[Int(id)]
                if end - start == bytes.count && memoryEqual(stored, start, bytes) { return id }
                slot = (slot + 1) & mask
            }
        }
    }

    func find(_ bytes: [UInt8]) -> Int32 { bytes.withUnsafeBufferPointer { find($0) } }
    func find(_ bytes: ArraySlice<UInt8>) -> Int32 { bytes.withUnsafeBufferPointer { find($0) } }

    @inline(__always)
    private func memoryEqual(_ stored: UnsafeBufferPointer<UInt8>, _ start: Int, _ bytes: UnsafeBufferPointer<UInt8>)
        -> Bool
    {
        var index = 0
        while index < bytes.count {
            if stored[start + index] != bytes[index] { return false }
            index += 1
        }
        return true
    }

    /// Adds `bytes` unless present; returns its id and whether it was added.
    @discardableResult
    mutating func insert(_ bytes: some Collection<UInt8>) -> (id: Int32, inserted: Bool) {
        let array = Array(bytes)
        let existing = find(array)
        if existing >= 0 { return (existing, false) }
        if 2 * (count + 1) > slots.count { grow() }
        let id = Int32(count)
        storage.append(contentsOf: array)
        ends.append(storage.count)
        place(id, hash: array.withUnsafeBufferPointer(Self.hash))
        return (id, true)
    }

    private mutating func place(_ id: Int32, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = id
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        for id in 0..<count {
            let hash = self[id].withUnsafeBufferPointer(Self.hash)
            place(Int32(id), hash: hash)
        }
    }
}
