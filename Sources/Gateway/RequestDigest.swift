/// A fingerprint of a request body for `Idempotency-Key` checks: two 64-bit FNV-1a hashes with
/// different offsets. Not cryptographic; it only has to tell "the same request" from "another one".
enum RequestDigest {
    static func of(_ parts: [UInt8]...) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x6c62_272e_07bb_0142
        for part in parts {
            for byte in part {
                a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            // A separator, so ("ab", "c") and ("a", "bc") differ.
            a = (a ^ 0xff) &* 0x0000_0100_0000_01b3
            b = (b ^ 0xfe) &* 0x0000_0100_0000_01b3
        }
        return String(a, radix: 16) + String(b, radix: 16)
    }
}
