/// A plain aligned text table: left-aligned text columns, right-aligned numeric ones.
package struct Table {
    package var headers: [String]
    package var rightAligned: Set<Int> = []
    package var rows: [[String]] = []

    package init(_ headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    package mutating func add(_ row: [String]) { rows.append(row) }

    package func render(indent: String = "  ") -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func format(_ row: [String]) -> String {
            var cells: [String] = []
            for (index, width) in widths.enumerated() {
                let cell = index < row.count ? row[index] : ""
                let pad = String(repeating: " ", count: width - cell.count)
                let last = index == widths.count - 1
                cells.append(rightAligned.contains(index) ? pad + cell : (last ? cell : cell + pad))
            }
            var line = indent + cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
        return ([format(headers)] + rows.map(format)).joined(separator: "\n") + "\n"
    }
}
