import Foundation
import Testing
import TramTemplate
import TramTestSupport

/// One case from `Tests/Fixtures/templates/renders.json` or `snippets.json`, written by
/// `scripts/reference/make_template_fixtures.py` with Python jinja2 configured as Hugging Face does.
struct TemplateCase: CustomTestStringConvertible, Sendable {
    let name: String
    let source: String
    let context: [String: Value]
    let rendered: String?
    let error: String?

    var testDescription: String { name }

    /// The instant the fixtures' `strftime_now` reports: 2024-09-26 12:00:00 UTC.
    static let fixedNow = Date(timeIntervalSince1970: 1_727_352_000)

    static func load(_ file: String) throws -> [TemplateCase] {
        guard case let .array(items) = try Value(json: try TestResources.fixture("templates/" + file)) else {
            throw FixtureError( "\(file) is not a JSON array")
        }
        return try items.map { item in
            guard case let .object(object) = item, case let .string(template)? = object["template"],
                  case let .object(context)? = object["context"]
            else { throw FixtureError( "malformed case in \(file)") }
            var source = template
            var name = template
            if file == "renders.json" {
                source = try String(contentsOf: TestResources.fixturesDirectory.appendingPathComponent("templates/\(template).jinja"), encoding: .utf8)
                if case let .string(description)? = object["description"] { name = "\(template): \(description)" }
            }
            var variables: [String: Value] = [:]
            for (key, value) in context.pairs { variables[key] = value }
            let rendered: String? = if case let .string(s)? = object["rendered"] { s } else { nil }
            let error: String? = if case let .string(s)? = object["error"] { s } else { nil }
            return TemplateCase(name: name, source: source, context: variables, rendered: rendered, error: error)
        }
    }

    func check() throws {
        let template = try Template(source)
        let result = Result { () throws(TemplateError) -> String in
            try template.render(context, now: TemplateCase.fixedNow, timeZone: TimeZone(identifier: "UTC")!)
        }
        switch result {
        case let .success(output):
            #expect(error == nil)
            #expect(output == rendered)
        case let .failure(failure):
            #expect(failure == TemplateError.raised(error ?? "(no error expected)"))
        }
    }
}

struct FixtureError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

@Suite struct TemplateFixtureTests {
    static let renders = (try? TemplateCase.load("renders.json")) ?? []
    static let snippets = (try? TemplateCase.load("snippets.json")) ?? []

    @Test func fixturesLoad() {
        #expect(Self.renders.count > 50)
        #expect(Self.snippets.count > 50)
    }

    @Test(arguments: renders) func modelTemplateRendersLikeJinja2(_ testCase: TemplateCase) throws {
        try testCase.check()
    }

    @Test(arguments: snippets) func snippetRendersLikeJinja2(_ testCase: TemplateCase) throws {
        try testCase.check()
    }
}
