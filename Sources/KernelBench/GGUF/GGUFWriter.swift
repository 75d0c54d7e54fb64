import Foundation

/// Writes GGUF v3 files (little-endian): the header, the metadata in the order given, the tensor
/// descriptions, and the tensor data, each tensor at an offset aligned to `general.alignment`
/// (default 32), as gguf.cpp's `gguf_write_to_buf` lays them out.
public enum GGUFWriter {
    /// One tensor to write: its name, dimensions in ggml's order (`ne[0]` is the row length), type and
    /// bytes (a whole number of rows of that type).
    public struct Tensor: Sendable {
        public var name: String
        public var dimensions: [Int]
        public var type: GGMLType
        public var bytes: [UInt8]

        public init(name: String, dimensions: [Int], type: GGMLType, bytes: [UInt8]) {
            self.name = name
            self.dimensions = dimensions
            self.type = type
            self.bytes = bytes
        }
    }

    /// The bytes of a GGUF v3 file holding `metadata` and `tensors`.
    public static func encode(metadata: [(key: String, value: GGUFValue)], tensors: [Tensor]) -> [UInt8] {
        let alignment = metadata.first { $0.key == "general.alignment" }?.value.intValue ?? 32
        var out: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
        func string(_ text: String) {
            append(UInt64(text.utf8.count))
            out += Array(text.utf8)
        }
        func value(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): append(x)
            case .int8(let x): append(x)
            case .uint16(let x): append(x)
            case .int16(let x): append(x)
            case .uint32(let x): append(x)
            case .int32(let x): append(x)
            case .float32(let x): append(x.bitPattern)
            case .bool(let x): append(UInt8(x ? 1 : 0))
            case .string(let x): string(x)
            case .array(let type, let elements):
                append(type.rawValue)
                append(UInt64(elements.count))
                for element in elements { value(element) }
            case .uint64(let x): append(x)
            case .int64(let x): append(x)
            case .float64(let x): append(x.bitPattern)
            }
        }
        func type(of v: GGUFValue) -> GGUFValueType {
            switch v {
            case .uint8: .uint8
            case .int8: .int8
            case .uint16: .uint16
            case .int16: .int16
            case .uint32: .uint32
            case .int32: .int32
            case .float32: .float32
            case .bool: .bool
            case .string: .string
            case .array: .array
            case .uint64: .uint64
            case .int64: .int64
            case .float64: .float64
            }
        }
        func pad() { while out.count % alignment != 0 { out.append(0) } }

        out += Array("GGUF".utf8)
        append(UInt32(3))
        append(UInt64(tensors.count))
        append(UInt64(metadata.count))
        for (key, v) in metadata {
            string(key)
            append(type(of: v).rawValue)
            value(v)
        }
        var offset = 0
        for tensor in tensors {
            string(tensor.name)
            append(UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { append(UInt64(dimension)) }
            append(tensor.type.rawValue)
            append(UInt64(offset))
            offset += (tensor.bytes.count + alignment - 1) / alignment * alignment
        }
        pad()
        for tensor in tensors {
            out += tensor.bytes
            pad()
        }
        return out
    }
}

/// Requantization of a whole model file, as `llama-quantize --pure --allow-requantize` does it.
public enum GGUFRequantizer {
    /// llama.cpp's `llama_ftype` for a file whose matrices are all `precision` (`general.file_type`).
    public static func fileType(_ precision: Precision) -> UInt32 {
        switch precision {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q4_1: 3
        case .q8_0: 7
        case .bf16: 32
        }
    }

    /// Every weight matrix of `file` (a 2-D tensor whose name ends in `weight`, the embedding and the
    /// output head included) dequantized and quantized to `precision` with perwatt's ggml-exact reference
    /// quantizers; a matrix already at `precision` is copied, and every other tensor (norms, biases) is
    /// kept as it is. Metadata is kept, with `general.file_type` and `general.quantization_version` (2)
    /// set as llama-quantize sets them. Returns the new file's bytes.
    public static func requantize(_ file: GGUFFile, to precision: Precision) throws(ModelError) -> [UInt8] {
        var tensors: [GGUFWriter.Tensor] = []
        for info in file.tensors {
            let bytes = [UInt8](file.bytes(of: info))
            let isMatrix = info.dimensions.count == 2 && info.name.hasSuffix("weight")
            guard isMatrix, info.type != precision.ggmlType else {
                tensors.append(.init(name: info.name, dimensions: info.dimensions, type: info.type, bytes: bytes))
                continue
            }
            guard let source = Precision(ggml: info.type) else {
                throw ModelError(
                    file: file.path, context: info.name,
                    message: "is \(info.type.name); perwatt requantizes from "
                        + Precision.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let (columns, rows) = (info.dimensions[0], info.dimensions[1])
            let matrix = WeightMatrix(
                precision: source, rows: rows, columns: columns, rowBytes: info.byteCount / rows, storage: bytes)
            let converted = try TransformerWeights.requantized(matrix, to: precision, name: info.name, file: file.path)
            tensors.append(
                .init(name: info.name, dimensions: info.dimensions, type: precision.ggmlType, bytes: converted.storage))
        }
        var metadata = file.metadata
        for (key, value) in [
            ("general.quantization_version", GGUFValue.uint32(2)),
            ("general.file_type", GGUFValue.uint32(fileType(precision))),
        ] {
            if let index = metadata.firstIndex(where: { $0.key == key }) {
                metadata[index].value = value
            } else {
                metadata.append((key, value))
            }
        }
        return GGUFWriter.encode(metadata: metadata, tensors: tensors)
    }
}
