import Testing

@Test func placeholderTramTokenizer() { #expect(Bool(true)) }
