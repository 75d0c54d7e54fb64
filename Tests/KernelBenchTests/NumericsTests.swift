import Foundation
import Testing

@testable import KernelBench

/// Independent decoders written from the format definitions, to check the library's conversions.
enum BitMath {
    /// binary16: 1 sign, 5 exponent (bias 15), 10 fraction bits.
    static func half(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1f)
        let fraction = Double(bits & 0x3ff)
        switch exponent {
        case 0: return sign * fraction * pow(2, -24)
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * pow(2, Double(exponent - 15))
        }
    }

    /// bfloat16: 1 sign, 8 exponent (bias 127), 7 fraction bits.
    static func bfloat(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 7) & 0xff)
        let fraction = Double(bits & 0x7f)
        switch exponent {
        case 0: return sign * fraction * pow(2, -133)
        case 255: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 128) * pow(2, Double(exponent - 127))
        }
    }
}

@Suite struct NumericsTests {
    @Test func blockStructsHaveGGMLsByteSizes() {
        // ggml-common.h: static_assert(sizeof(block_q8_0) == sizeof(ggml_half) + QK8_0, ...)
        #expect(MemoryLayout<BlockQ8_0>.size == 34 && MemoryLayout<BlockQ8_0>.stride == 34)
        #expect(MemoryLayout<BlockQ4_0>.size == 18 && MemoryLayout<BlockQ4_0>.stride == 18)
        #expect(BlockQ8_0.byteCount == MemoryLayout<BlockQ8_0>.size)
        #expect(BlockQ4_0.byteCount == MemoryLayout<BlockQ4_0>.size)
        #expect(Precision.q4_0.bitsPerWeight == 4.5 && Precision.q8_0.bitsPerWeight == 8.5)
    }

    @Test func everyHalfBitPatternDecodesExactlyAndRoundTrips() {
        var failures = 0
        for pattern in 0...UInt16.max {
            let value = Half.float(pattern)
            let expected = BitMath.half(pattern)
            if expected.isNaN {
                if !value.isNaN || !Half.float(Half.bits(value)).isNaN { failures += 1 }
            } else if Double(value) != expected || Half.bits(value) != pattern {
                failures += 1
            }
        }
        #expect(failures == 0)
    }

    @Test func everyBFloat16BitPatternDecodesExactlyAndRoundTrips() {
        var failures = 0
        for pattern in 0...UInt16.max {
            let value = BFloat16.float(pattern)
            let expected = BitMath.bfloat(pattern)
            if expected.isNaN {
                // NaN stays NaN; a signalling one comes back quiet (ggml sets bit 6).
                if !value.isNaN || BFloat16.bits(value) != pattern | 64 { failures += 1 }
            } else if Double(value) != expected || BFloat16.bits(value) != pattern {
                failures += 1
            }
        }
        #expect(failures == 0)
    }

    @Test func conversionsRoundToNearestEven() {
        // 1 + 2⁻¹¹ lies halfway between binary16 1 and 1 + 2⁻¹⁰: ties to the even one, 1.
        #expect(Half.round(1 + 0x1p-11) == 1)
        #expect(Half.round(1 + 3 * 0x1p-11) == 1 + 2 * 0x1p-10)
        #expect(Half.round(65520) == .infinity, "halfway to the next binade above 65504 rounds up to inf")
        #expect(Half.round(65519) == 65504)
        // bfloat16: 0x3F808000 is halfway, below is even 0x3F80; 0x3F818000 rounds up to 0x3F82.
        #expect(BFloat16.bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)
        #expect(BFloat16.bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        #expect(BFloat16.bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(BFloat16.float(BFloat16.bits(.greatestFiniteMagnitude)) == .infinity)
        #expect(BFloat16.bits(-0.0) == 0x8000)
    }
}

/// Byte-for-byte agreement with ggml's reference code (vectors made by Vectors/make_vectors.py).
@Suite struct GGMLVectorTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    @Test(arguments: [Precision.q8_0, .q4_0])
    func quantizersMatchGGMLByteForByte(precision: Precision) throws {
        let input = try Self.floats("input.f32")
        let expected = try Self.bytes("\(precision.rawValue).bin")
        let matrix = try WeightMatrix(input, rows: 1, columns: input.count, precision: precision)
        #expect(matrix.storage.count == expected.count)
        let firstDifference = zip(matrix.storage, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(
            firstDifference == nil,
            "first differing byte \(firstDifference ?? -1), block \((firstDifference ?? 0) / precision.blockBytes)")
    }

    /// q4_1 (a scale and a minimum per block) against gguf-py's port of `quantize_row_q4_1_ref`, and its
    /// dequantization against gguf-py's. (One block is near the fp16 range: its minimum rounds to −inf
    /// in both, as GGML_FP32_TO_FP16 does.)
    @Test func q4_1MatchesGGMLByteForByte() throws {
        let input = try Self.floats("input.f32")
        let expected = try Self.bytes("q4_1.bin")
        var ours = [UInt8](repeating: 0, count: input.count / 32 * BlockQ4_1.byteCount)
        input.withUnsafeBufferPointer { x in ours.withUnsafeMutableBytes { QuantizeReference.q4_1(x, into: $0) } }
        let firstDifference = zip(ours, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(ours.count == expected.count && firstDifference == nil, "first differing byte \(firstDifference ?? -1)")
        let reference = try Self.floats("q4_1-dequantized.f32")
        var decoded = [Float](repeating: 0, count: input.count)
        ours.withUnsafeBytes { blocks in
            decoded.withUnsafeMutableBufferPointer { QuantizeReference.dequantizeQ4_1(blocks, into: $0) }
        }
        let mismatches = zip(decoded, reference).filter {
            $0.0.bitPattern != $0.1.bitPattern && !($0.0.isNaN && $0.1.isNaN)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) values differ, e.g. \(mismatches.prefix(3))")
        #expect(
            MemoryLayout<BlockQ4_1>.size == BlockQ4_1.byteCount
                && GGMLType.q4_1.layout.bytesPerBlock == BlockQ4_1.byteCount)
    }

    /// q8_1, the activation format of q4_1 weights, against ggml's own `quantize_row_q8_1_ref`
    /// (gguf-py has no port of it; `Vectors/make_q8_1.c` links ggml to make the vector).
    @Test func q8_1MatchesGGMLByteForByte() throws {
        let input = try Self.floats("input.f32")
        let expected = try Self.bytes("q8_1.bin")
        var ours = [UInt8](repeating: 0, count: input.count / 32 * BlockQ8_1.byteCount)
        input.withUnsafeBufferPointer { x in ours.withUnsafeMutableBytes { QuantizeReference.q8_1(x, into: $0) } }
        let firstDifference = zip(ours, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(
            ours.count == expected.count && firstDifference == nil,
            "first differing byte \(firstDifference ?? -1), block \((firstDifference ?? 0) / BlockQ8_1.byteCount)")
        #expect(MemoryLayout<BlockQ8_1>.size == BlockQ8_1.byteCount)
    }

    @Test func bfloat16MatchesGGMLIncludingNaNAndTies() throws {
        let input = try Self.floats("bf16-input.f32")
        let expected = try Self.bytes("bf16.bin")
        let ours = input.flatMap { value -> [UInt8] in
            let bits = BFloat16.bits(value)
            return [UInt8(bits & 0xff), UInt8(bits >> 8)]
        }
        #expect(ours == expected)
    }

    @Test func dequantizedBlocksAreWithinHalfAStepOfTheInput() throws {
        let input = try Self.floats("input.f32")
        for precision in [Precision.q8_0, .q4_0] {
            let matrix = try WeightMatrix(input, rows: 1, columns: input.count, precision: precision)
            let decoded = matrix.decodedRow(0)
            for block in 0..<(input.count / 32) {
                let values = input[(block * 32)..<(block * 32 + 32)]
                let amax = values.map(abs).max()!
                // q8_0 steps are amax/127, q4_0 steps amax/8; the fp16 scale adds 2⁻¹¹ relative error,
                // or, once it is subnormal (below 2⁻¹⁴), up to 2⁻²⁵ absolute, times the largest |q|.
                let largestQ = precision == .q8_0 ? 127.0 : 8.0
                let step = Double(amax) / largestQ
                let bound =
                    step * (precision == .q8_0 ? 0.5 : 1.0) * (1 + 0x1p-10) + Double(amax) * 0x1p-10
                    + largestQ * 0x1p-25
                for j in 0..<32 {
                    let error = abs(Double(decoded[block * 32 + j]) - Double(input[block * 32 + j]))
                    #expect(error <= bound, "\(precision) block \(block) value \(j): error \(error) > \(bound)")
                }
            }
        }
    }
}
