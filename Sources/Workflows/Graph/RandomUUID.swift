import Synchronization

/// A random (version 4) UUID in lower case, as the GUI makes a graph's id: a per-process random
/// seed and a counter through SplitMix64's mixer (a bijection, so no two in a process repeat),
/// with no system call per id. Foundation's `UUID()` opened, read and closed /dev/urandom for
/// each one. Graph ids only need to differ; nothing secret rides on them.
enum RandomUUID {
    private static let seed = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))
    private static let counter = Atomic<UInt64>(0)

    static func string() -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        var bytes = (mix(seed.0 &+ n), mix(seed.1 &+ n))
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0F | 0x40 // version 4
            raw[8] = raw[8] & 0x3F | 0x80 // RFC 4122 variant
            let hex = Array("0123456789abcdef".utf8)
            return String(unsafeUninitializedCapacity: 36) { text in
                var out = 0
                for (i, byte) in raw.enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 { text[out] = UInt8(ascii: "-"); out += 1 }
                    text[out] = hex[Int(byte >> 4)]
                    text[out + 1] = hex[Int(byte & 0x0F)]
                    out += 2
                }
                return out
            }
        }
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
