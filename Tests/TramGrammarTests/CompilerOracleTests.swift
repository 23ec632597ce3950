import Foundation
import Testing
import TramGrammar
import TramJSON

/// Tram's own compilers (regex, choice, JSON schema, json_object) give xgrammar's masks along
/// the fixtures' walks.
@Suite struct CompilerOracleTests {
    static func grammar(for c: OracleFixture.Case, options: [String: Bool]) throws -> Grammar {
        let json = JSONSchemaCompiler.Options(anyWhitespace: options["any_whitespace"] ?? true)
        switch c.kind {
        case "ebnf": return try EBNFParser.parse(c.source)
        case "regex": return try RegexCompiler.compile(c.source)
        case "choice":
            let list = try JSONParser.parse(Array(c.source.utf8)).arrayValue!.map { $0.stringValue! }
            return try Grammar.choices(list)
        case "json_object": return JSONSchemaCompiler.anyObject(options: json)
        case "json_schema": return try JSONSchemaCompiler.compile(c.source, options: json)
        default: throw UnknownTokenizer(name: c.kind)
        }
    }

    /// Strings with `minLength`/`maxLength`: xgrammar's characters there are `[^"\\\r\n]`, so
    /// raw control characters (invalid JSON) pass and escapes do not; Tram's are JSON's (raw
    /// characters from U+0020, or escapes). Tokens with a control byte or a backslash are left
    /// out of those cases' comparison; everything else must agree.
    static let knownDeviations: Set<String> = ["json_string_length", "json_string_length_compact"]

    @Test(arguments: OracleMaskTests.fixtures)
    func compiledSourcesMatchTheOracle(fixtureName: String) throws {
        let fixture = try OracleFixture.load(fixtureName)
        let vocabulary = try OracleVocabulary.forFixture(fixture)
        var checked = 0
        for c in fixture.cases {
            let compiled = try CompiledGrammar(Self.grammar(for: c, options: c.options), vocabulary: vocabulary)
            let deviates = Self.knownDeviations.contains(c.name)
            let problems = OracleMaskTests.mismatches(c, compiled, stop: fixture.stop_token, ignoring: deviates ? { id in
                vocabulary.bytes(of: id).map { $0.contains { $0 < 0x20 || $0 == UInt8(ascii: "\\") } } ?? false
            } : nil)
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
            checked += 1
        }
        #expect(checked == fixture.cases.count)
    }
}
