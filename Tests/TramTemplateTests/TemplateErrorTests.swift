import Testing
import TramTemplate

@Test func templateErrorDescribesItself() {
    #expect(TemplateError.raised("no").description == "no")
}
