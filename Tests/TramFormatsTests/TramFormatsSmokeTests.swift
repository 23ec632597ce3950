import Testing

@Test func placeholderTramFormats() { #expect(Bool(true)) }
