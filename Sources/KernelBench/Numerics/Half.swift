/// IEEE 754 binary16 conversions. Swift's `Float16` is binary16 with round-to-nearest-even
/// conversion from `Float` (F16C `vcvtps2ph` when the target CPU has it).
public enum Half {
    /// The binary16 bit pattern nearest to `value` (ties to even; NaN stays NaN, overflow becomes ±inf).
    @inlinable
    public static func bits(_ value: Float) -> UInt16 { Float16(value).bitPattern }

    /// The exact `Float` value of a binary16 bit pattern.
    @inlinable
    public static func float(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    /// `value` rounded to binary16 and back.
    @inlinable
    public static func round(_ value: Float) -> Float { Float(Float16(value)) }
}
