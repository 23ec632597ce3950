import Foundation
import Testing
import TramGrammar

/// Tram's allowed-token sets equal xgrammar's, step by step along the fixtures' walks.
@Suite struct OracleMaskTests {
    static let fixtures = ["grammar_oracle_smollm2.json", "grammar_oracle_qwen2.5.json"]

    /// Compares every step of every walk of `grammarCase` with `grammar`; returns mismatches
    /// described for the failure message (empty when all agree).
    ///
    /// `ignoring` names tokens left out of the comparison (a documented deviation from the
    /// oracle); steps that record only a hash are then not compared.
    static func mismatches(
        _ grammarCase: OracleFixture.Case, _ grammar: CompiledGrammar, stop: Int, ignoring: ((Int) -> Bool)? = nil
    ) -> [String] {
        var problems: [String] = []
        for (w, walk) in grammarCase.walks.enumerated() {
            var matcher = GrammarMatcher(grammar: grammar)
            for (s, step) in walk.steps.enumerated() {
                var allowed = matcher.allowedTokens()
                let place = "\(grammarCase.name) walk \(w) step \(s) (after \(walk.tokens.prefix(s)))"
                if let ignoring {
                    allowed.removeAll(where: ignoring)
                    let oracle: Set<Int>? = step.allowed.map(Set.init) ?? step.disallowed.map { d in
                        Set(0..<grammar.vocabulary.size).subtracting(d)
                    }
                    if let oracle, Set(allowed) != oracle.filter({ !ignoring($0) }) {
                        let a = Set(allowed), e = oracle.filter { !ignoring($0) }
                        problems.append("\(place): extra \(Array(a.subtracting(e)).sorted().prefix(8)), missing \(Array(e.subtracting(a)).sorted().prefix(8))")
                        break
                    }
                } else if allowed.count != step.allowed_count || OracleFixture.hash(allowed) != step.allowed_hash {
                    var detail = "\(allowed.count) allowed, oracle \(step.allowed_count)"
                    if let expected = step.allowed {
                        let a = Set(allowed), e = Set(expected)
                        detail += "; extra \(Array(a.subtracting(e)).sorted().prefix(8)), missing \(Array(e.subtracting(a)).sorted().prefix(8))"
                    } else if let disallowed = step.disallowed {
                        let a = Set(allowed), d = Set(disallowed)
                        detail += "; wrongly allowed \(Array(a.intersection(d)).sorted().prefix(8))"
                    }
                    problems.append("\(place): \(detail)")
                    break
                }
                if matcher.canTerminate != step.can_stop {
                    problems.append("\(place): canTerminate \(matcher.canTerminate), oracle \(step.can_stop)")
                    break
                }
                guard s < walk.tokens.count else { break }
                if !matcher.accept(walk.tokens[s]) {
                    problems.append("\(place): token \(walk.tokens[s]) refused")
                    break
                }
            }
            if walk.ends_with_stop && !matcher.isTerminated && problems.isEmpty {
                problems.append("\(grammarCase.name) walk \(w): not terminated after the stop token")
            }
        }
        return problems
    }

    @Test(arguments: fixtures)
    func ebnfSourcesMatchTheOracle(fixtureName: String) throws {
        let fixture = try OracleFixture.load(fixtureName)
        let vocabulary = try OracleVocabulary.forFixture(fixture)
        let cases = fixture.cases.filter { $0.kind == "ebnf" || $0.kind == "choice" }
        #expect(cases.count >= 3)
        for c in cases where c.kind == "ebnf" {
            let grammar = try CompiledGrammar(EBNFParser.parse(c.source), vocabulary: vocabulary)
            let problems = Self.mismatches(c, grammar, stop: fixture.stop_token)
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        }
    }

    /// xgrammar's own printed grammar of every case (JSON schemas, regexes, choices), read by
    /// Tram's EBNF parser and matched by Tram's automaton, gives xgrammar's masks: the matcher
    /// and the parser against the oracle, independently of Tram's schema and regex compilers.
    /// Cases whose printed grammar calls xgrammar's `Regex(...)` builtin are left to the regex
    /// tests.
    @Test(arguments: fixtures)
    func oracleGrammarsMatchTheOracle(fixtureName: String) throws {
        let fixture = try OracleFixture.load(fixtureName)
        let vocabulary = try OracleVocabulary.forFixture(fixture)
        var checked = 0
        for c in fixture.cases where !c.oracle_ebnf.contains("Regex(") {
            let grammar = try CompiledGrammar(EBNFParser.parse(c.oracle_ebnf), vocabulary: vocabulary)
            let problems = Self.mismatches(c, grammar, stop: fixture.stop_token)
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
            checked += 1
        }
        #expect(checked >= 30)
    }
}
