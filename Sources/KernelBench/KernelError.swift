/// Everything KernelBench can refuse. Each message says what, where and how to fix it.
public enum KernelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A dimension that must be a multiple of a block size is not.
    case notBlockAligned(what: String, value: Int, block: Int, precision: Precision)
    /// A buffer does not hold the elements its shape says.
    case shapeMismatch(what: String, expected: Int, actual: Int)
    /// A dimension is zero or negative, or the heads do not divide.
    case invalidShape(String)

    public var description: String {
        switch self {
        case .notBlockAligned(let what, let value, let block, let precision):
            "\(what) = \(value) is not a multiple of \(block), the block size of \(precision.rawValue); use a multiple of \(block) or another precision"
        case .shapeMismatch(let what, let expected, let actual):
            "\(what) holds \(actual) elements, expected \(expected) for its shape"
        case .invalidShape(let message):
            message
        }
    }
}
