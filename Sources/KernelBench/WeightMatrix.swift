/// A weight matrix W[N, K], row-major as models store it (GGUF), each row encoded in `precision`.
public struct WeightMatrix: Sendable {
    public let precision: Precision
    /// N: output features.
    public let rows: Int
    /// K: input features (a multiple of 32 for the block formats).
    public let columns: Int
    /// Bytes per encoded row.
    public let rowBytes: Int
    /// `rows × rowBytes` bytes: f32/f16/bf16 little-endian values, or ggml blocks.
    public let storage: [UInt8]

    /// Encodes `values` (N × K, row-major) with the reference converters and quantizers.
    /// Throws on a shape mismatch, a K that is not a whole number of blocks, or a non-finite value.
    public init(_ values: [Float], rows: Int, columns: Int, precision: Precision) throws {
        guard rows > 0, columns > 0 else {
            throw KernelError.invalidShape("a weight matrix needs N > 0 and K > 0, got \(rows) × \(columns)")
        }
        guard values.count == rows * columns else {
            throw KernelError.shapeMismatch(what: "the weight values", expected: rows * columns, actual: values.count)
        }
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw KernelError.invalidShape(
                "weight \(index) (row \(index / columns), column \(index % columns)) is \(values[index]); weights must be finite"
            )
        }
        let rowBytes = try precision.rowBytes(columns: columns)
        var storage = [UInt8](repeating: 0, count: rows * rowBytes)
        values.withUnsafeBufferPointer { source in
            storage.withUnsafeMutableBytes { destination in
                for n in 0..<rows {
                    Self.encode(
                        UnsafeBufferPointer(rebasing: source[(n * columns)..<((n + 1) * columns)]),
                        precision: precision,
                        into: UnsafeMutableRawBufferPointer(
                            rebasing: destination[(n * rowBytes)..<((n + 1) * rowBytes)]))
                }
            }
        }
        self.precision = precision
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.storage = storage
    }

    init(precision: Precision, rows: Int, columns: Int, rowBytes: Int, storage: [UInt8]) {
        self.precision = precision
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.storage = storage
    }

    /// A copy with its own storage (for benchmarks that rotate several copies past the caches).
    public init(copying other: WeightMatrix) {
        precision = other.precision
        rows = other.rows
        columns = other.columns
        rowBytes = other.rowBytes
        storage = other.storage.withUnsafeBufferPointer { Array($0) }
    }

    /// One row of finite values encoded in `precision` (f32/f16/bf16 little-endian, or ggml blocks by the
    /// reference quantizers) into `out`, which holds exactly one encoded row.
    static func encode(
        _ row: UnsafeBufferPointer<Float>, precision: Precision, into out: UnsafeMutableRawBufferPointer
    ) {
        switch precision {
        case .f32:
            for k in 0..<row.count {
                out.storeBytes(of: row[k].bitPattern.littleEndian, toByteOffset: 4 * k, as: UInt32.self)
            }
        case .f16:
            for k in 0..<row.count {
                out.storeBytes(of: Half.bits(row[k]).littleEndian, toByteOffset: 2 * k, as: UInt16.self)
            }
        case .bf16:
            for k in 0..<row.count {
                out.storeBytes(of: BFloat16.bits(row[k]).littleEndian, toByteOffset: 2 * k, as: UInt16.self)
            }
        case .q8_0: QuantizeReference.q8_0(row, into: out)
        case .q4_0: QuantizeReference.q4_0(row, into: out)
        case .q4_1: QuantizeReference.q4_1(row, into: out)
        }
    }

    /// Row `n` decoded to `Float`: exactly the values the encoded weights stand for.
    public func decodedRow(_ n: Int) -> [Float] {
        var result = [Float](repeating: 0, count: columns)
        decode(row: n, into: &result)
        return result
    }

    /// Row `n` decoded into `out` (`columns` values), as ggml's dequantizers do.
    public func decode(row n: Int, into out: inout [Float]) {
        precondition(out.count == columns, "decode into a buffer of one row")
        out.withUnsafeMutableBufferPointer { decode(row: n, into: $0.baseAddress!) }
    }

    /// Row `n` decoded into `out`, which has room for `columns` values.
    public func decode(row n: Int, into out: UnsafeMutablePointer<Float>) {
        storage.withUnsafeBytes { bytes in
            let row = UnsafeRawBufferPointer(rebasing: bytes[(n * rowBytes)..<((n + 1) * rowBytes)])
            let out = UnsafeMutableBufferPointer(start: out, count: columns)
            switch precision {
            case .f32:
                for k in 0..<columns {
                    out[k] = Float(
                        bitPattern: UInt32(littleEndian: row.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)))
                }
            case .f16:
                for k in 0..<columns {
                    out[k] = Half.float(UInt16(littleEndian: row.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)))
                }
            case .bf16:
                for k in 0..<columns {
                    out[k] = BFloat16.float(
                        UInt16(littleEndian: row.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)))
                }
            case .q8_0: QuantizeReference.dequantizeQ8_0(row, into: out)
            case .q4_0: QuantizeReference.dequantizeQ4_0(row, into: out)
            case .q4_1: QuantizeReference.dequantizeQ4_1(row, into: out)
            }
        }
    }
}
