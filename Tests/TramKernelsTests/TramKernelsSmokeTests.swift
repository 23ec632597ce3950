import Testing

@Test func placeholderTramKernels() { #expect(Bool(true)) }
