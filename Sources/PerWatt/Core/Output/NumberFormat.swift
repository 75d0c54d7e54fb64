/// A number as a person writes it in a message: whole numbers without ".0", others as Swift prints them.
package func formatNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}
