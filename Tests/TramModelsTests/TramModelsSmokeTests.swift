import Testing

@Test func placeholderTramModels() { #expect(Bool(true)) }
