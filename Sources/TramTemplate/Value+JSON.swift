import TramJSON

/// `tojson` as Hugging Face defines it: Python's
/// `json.dumps(x, ensure_ascii=False, indent=indent)`. Without an indent the separators are
/// `", "` and `": "`; with one, items end lines and `","` loses its space. Keys keep their order.
extension Value {
    func json(indent: Int?, sortKeys: Bool = false) throws(TemplateError) -> String {
        var out = ""
        try writeJSON(into: &out, indent: indent, level: 0, sortKeys: sortKeys)
        return out
    }

    private func writeJSON(into out: inout String, indent: Int?, level: Int, sortKeys: Bool) throws(TemplateError) {
        switch self {
        case .undefined:
            throw .render("Object of type Undefined is not JSON serializable")
        case .callable:
            throw .render("Object of type function is not JSON serializable")
        case .none: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += Value.pythonFloat(d) }
        case let .string(s): Value.writeJSONString(s, into: &out)
        case let .array(items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += indent == nil ? ", " : "," }
                Value.newline(&out, indent: indent, level: level + 1)
                try item.writeJSON(into: &out, indent: indent, level: level + 1, sortKeys: sortKeys)
            }
            Value.newline(&out, indent: indent, level: level)
            out += "]"
        case let .object(object):
            if object.isEmpty { out += "{}"; return }
            out += "{"
            var pairs = object.pairs
            if sortKeys { pairs.sort { $0.key < $1.key } }
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += indent == nil ? ", " : "," }
                Value.newline(&out, indent: indent, level: level + 1)
                Value.writeJSONString(pair.key, into: &out)
                out += ": "
                try pair.value.writeJSON(into: &out, indent: indent, level: level + 1, sortKeys: sortKeys)
            }
            Value.newline(&out, indent: indent, level: level)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, indent: Int?, level: Int) {
        guard let indent else { return }
        out += "\n" + String(repeating: " ", count: indent * level)
    }

    /// Python's `json` string escaping with `ensure_ascii=False`.
    static func writeJSONString(_ s: String, into out: inout String) {
        JSONWriter.writeString(s, into: &out)
    }
}
