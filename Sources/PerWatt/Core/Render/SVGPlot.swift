import Foundation

/// A small SVG chart builder for the HTML report: axes with ticks (linear or log), points, lines,
/// error bars and labels. Output is plain inline SVG (no scripts, no external resources).
package struct SVGPlot {
    package struct Axis {
        package var label: String
        package var range: ClosedRange<Double>
        package var log = false
        /// Tick marks and values (off for the category axis of a bar chart).
        package var ticked = true

        /// Position in 0…1 along the axis.
        package func fraction(_ value: Double) -> Double {
            if log {
                let (a, b) = (Foundation.log10(range.lowerBound), Foundation.log10(range.upperBound))
                return b > a ? (Foundation.log10(max(value, range.lowerBound)) - a) / (b - a) : 0.5
            }
            let span = range.upperBound - range.lowerBound
            return span > 0 ? (value - range.lowerBound) / span : 0.5
        }

        /// About five readable tick values.
        package var ticks: [Double] {
            guard ticked else { return [] }
            if log {
                let start = Int(Foundation.log10(range.lowerBound).rounded(.down))
                let end = Int(Foundation.log10(range.upperBound).rounded(.up))
                let decades = (start...max(start, end)).map { pow(10, Double($0)) }.filter { range.contains($0) }
                // Less than a decade or two in view: linear steps read better than one lonely power of ten.
                if decades.count >= 2 { return decades }
                return Axis(label: label, range: range).ticks
            }
            let span = range.upperBound - range.lowerBound
            guard span > 0 else { return [range.lowerBound] }
            let raw = span / 5
            let magnitude = pow(10, Foundation.log10(raw).rounded(.down))
            let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
            var ticks: [Double] = []
            var value = (range.lowerBound / step).rounded(.up) * step
            while value <= range.upperBound + step * 1e-9 {
                ticks.append(value)
                value += step
            }
            return ticks
        }

        package init(label: String, range: ClosedRange<Double>, log: Bool = false, ticked: Bool = true) {
            self.label = label
            self.range = range
            self.log = log
            self.ticked = ticked
        }
    }

    package var width = 640.0
    package var height = 380.0
    package let left = 70.0, right = 20.0, top = 30.0, bottom = 55.0
    package var title: String
    package var x: Axis
    package var y: Axis
    private var body: [String] = []

    package init(title: String, x: Axis, y: Axis, width: Double = 640, height: Double = 380) {
        self.title = title
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    package func px(_ value: Double) -> Double { left + x.fraction(value) * (width - left - right) }
    package func py(_ value: Double) -> Double { height - bottom - y.fraction(value) * (height - top - bottom) }

    /// A dot; `hollow` draws a ring (white inside), e.g. for a projected point beside a measured one.
    package mutating func point(
        _ vx: Double, _ vy: Double, color: String, label: String? = nil, radius: Double = 5, hollow: Bool = false
    ) {
        let paint = hollow ? ##"fill="#fff" stroke="\##(color)" stroke-width="2""## : ##"fill="\##(color)""##
        body.append(
            ##"<circle cx="\##(f(px(vx)))" cy="\##(f(py(vy)))" r="\##(f(radius))" \##(paint)><title>\##(escape(label ?? ""))</title></circle>"##
        )
        if let label {
            body.append(
                ##"<text x="\##(f(px(vx) + 7))" y="\##(f(py(vy) - 6))" font-size="11" fill="#333">\##(escape(label))</text>"##
            )
        }
    }

    package mutating func line(
        _ points: [(Double, Double)], color: String, width: Double = 2, dash: String? = nil, label: String? = nil
    ) {
        guard points.count > 1 else { return }
        let path = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
        let dashed = dash.map { ##" stroke-dasharray="\##($0)""## } ?? ""
        body.append(
            ##"<polyline points="\##(path)" fill="none" stroke="\##(color)" stroke-width="\##(f(width))"\##(dashed)/>"##
        )
        if let label, let last = points.last {
            body.append(
                ##"<text x="\##(f(px(last.0) - 4))" y="\##(f(py(last.1) - 6))" font-size="11" text-anchor="end" fill="\##(color)">\##(escape(label))</text>"##
            )
        }
    }

    /// A horizontal error bar at height `vy` from `low` to `high`.
    package mutating func errorBar(low: Double, high: Double, at vy: Double, color: String) {
        let (a, b, yy) = (px(low), px(high), py(vy))
        body.append(
            ##"<path d="M\##(f(a)),\##(f(yy))H\##(f(b))M\##(f(a)),\##(f(yy - 4))v8M\##(f(b)),\##(f(yy - 4))v8" stroke="\##(color)" stroke-width="1.5" fill="none"/>"##
        )
    }

    /// A horizontal bar from the axis start to `value` at height `vy`.
    package mutating func bar(_ value: Double, at vy: Double, thickness: Double, color: String) {
        let x0 = px(x.range.lowerBound)
        let x1 = px(value)
        body.append(
            ##"<rect x="\##(f(x0))" y="\##(f(py(vy) - thickness / 2))" width="\##(f(max(0, x1 - x0)))" height="\##(f(thickness))" fill="\##(color)"/>"##
        )
    }

    package mutating func text(
        _ content: String, atX vx: Double, y vy: Double, anchor: String = "start", size: Int = 11
    ) {
        body.append(
            ##"<text x="\##(f(px(vx)))" y="\##(f(py(vy) + 4))" font-size="\##(size)" text-anchor="\##(anchor)" fill="#333">\##(escape(content))</text>"##
        )
    }

    package func render() -> String {
        var out =
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(f(width))" height="\##(f(height))" viewBox="0 0 \##(f(width)) \##(f(height))" font-family="sans-serif">"##
        out += ##"<rect width="100%" height="100%" fill="white"/>"##
        out +=
            ##"<text x="\##(f(width / 2))" y="18" font-size="14" font-weight="bold" text-anchor="middle">\##(escape(title))</text>"##
        let (x0, x1, y0, y1) = (left, width - right, height - bottom, top)
        out += ##"<path d="M\##(f(x0)),\##(f(y1))V\##(f(y0))H\##(f(x1))" stroke="#444" fill="none"/>"##
        for tick in x.ticks {
            out +=
                ##"<path d="M\##(f(px(tick))),\##(f(y0))v5" stroke="#444"/><text x="\##(f(px(tick)))" y="\##(f(y0 + 18))" font-size="11" text-anchor="middle">\##(label(tick))</text>"##
            out += ##"<path d="M\##(f(px(tick))),\##(f(y0))V\##(f(y1))" stroke="#eee"/>"##
        }
        for tick in y.ticks {
            out +=
                ##"<path d="M\##(f(x0)),\##(f(py(tick)))h-5" stroke="#444"/><text x="\##(f(x0 - 8))" y="\##(f(py(tick) + 4))" font-size="11" text-anchor="end">\##(label(tick))</text>"##
            out += ##"<path d="M\##(f(x0)),\##(f(py(tick)))H\##(f(x1))" stroke="#eee"/>"##
        }
        out +=
            ##"<text x="\##(f((x0 + x1) / 2))" y="\##(f(height - 12))" font-size="12" text-anchor="middle">\##(escape(x.label))</text>"##
        out +=
            ##"<text transform="translate(16,\##(f((y0 + y1) / 2))) rotate(-90)" font-size="12" text-anchor="middle">\##(escape(y.label))</text>"##
        return out + body.joined() + "</svg>"
    }

    private func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 1e4 || abs(value) < 1e-2 { return String(format: "%.0e", value) }
        return String(format: "%g", (value * 1000).rounded() / 1000)
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value.isFinite ? value : 0) }
}
