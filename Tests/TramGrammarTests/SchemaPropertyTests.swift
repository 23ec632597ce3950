import Foundation
import Testing
import TramGrammar
import TramJSON
import TramTestSupport

/// Random schemas with random values labelled by the `jsonschema` package
/// (`Tests/Fixtures/grammar_schema_cases.json`, made by
/// `scripts/grammar-oracle/make_schema_cases.py`): each value's text is accepted by the
/// schema's grammar exactly when jsonschema says the value is valid. The texts are in the
/// form the grammar describes (keys in the schema's order, `", "` and `": "` separators, no
/// exponents), so that form is tested in both whitespace modes.
@Suite struct SchemaPropertyTests {
    /// The cases with each schema's text as written in the fixture (key order matters: the
    /// grammar follows `properties` order), read with TramJSON.
    static func cases() throws -> [(schema: String, values: [(text: String, valid: Bool)])] {
        let root = try JSONParser.parse(Array(TestResources.fixture("grammar_schema_cases.json")))
        return try (root["cases"]?.arrayValue ?? []).map { c in
            guard let schema = c["schema"], let values = c["values"]?.arrayValue else { throw UnknownTokenizer(name: "a case without schema or values") }
            return (JSONWriter.serialize(schema), values.map { ($0["text"]?.stringValue ?? "", $0["valid"]?.boolValue ?? false) })
        }
    }

    @Test(arguments: [true, false])
    func acceptedExactlyWhenValid(anyWhitespace: Bool) throws {
        let vocabulary = try OracleVocabulary.smolLM2.get()
        let cases = try Self.cases()
        #expect(cases.count >= 200)
        var checked = 0, valid = 0
        var problems: [String] = []
        for c in cases {
            let grammar = try CompiledGrammar(JSONSchemaCompiler.compile(c.schema, options: .init(anyWhitespace: anyWhitespace)), vocabulary: vocabulary)
            for value in c.values {
                var matcher = GrammarMatcher(grammar: grammar)
                let accepted = matcher.accept(bytes: value.text.utf8) && matcher.canTerminate
                if accepted != value.valid { problems.append("\(c.schema)\n  \(value.text): accepted \(accepted), jsonschema valid \(value.valid)") }
                checked += 1
                if value.valid { valid += 1 }
            }
        }
        #expect(checked > 2000 && valid > 1000)
        #expect(problems.isEmpty, "\(problems.count) disagreements:\n\(problems.prefix(12).joined(separator: "\n"))")
    }
}
