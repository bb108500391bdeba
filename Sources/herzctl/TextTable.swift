/// A plain-text table with left-aligned columns separated by two spaces.
///
/// Pure value: add rows, then `rendered()`. Rows shorter than the header are padded with `""`.
struct TextTable {
    private(set) var rows: [[String]]

    init(header: [String]) { rows = [header] }

    mutating func add(_ row: [String]) { rows.append(row) }

    func rendered() -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            var line = ""
            for i in 0..<columns {
                let cell = i < row.count ? row[i] : ""
                line += i == columns - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            return line
        }.joined(separator: "\n")
    }
}
