import Testing
import TramModels

/// `--quantization` values, parsed by the loader's API so every command reports them alike.
struct WeightPrecisionTests {
    @Test func acceptedValues() throws {
        #expect(try WeightPrecision(quantization: nil) == .native)
        #expect(try WeightPrecision(quantization: "none") == .native)
        #expect(try WeightPrecision(quantization: "int8") == .int8)
        #expect(WeightPrecision.quantizationNames == ["int8", "none"])
    }

    /// Anything else is an error that lists what is accepted, never a crash.
    @Test(arguments: ["fp8", "INT8", "q8_0", "", "awq"])
    func otherValuesAreRejected(_ value: String) {
        #expect(throws: ModelError.self) { try WeightPrecision(quantization: value) }
        do {
            _ = try WeightPrecision(quantization: value)
        } catch {
            guard case let .unsupportedQuantization(rejected) = error else {
                Issue.record("expected unsupportedQuantization, got \(error)")
                return
            }
            #expect(rejected == value)
            #expect(error.description == "unsupported quantization '\(value)' (accepted: int8, none)")
        }
    }
}
