import Foundation
import Testing
import TramChat
import TramTestSupport

@Suite struct BuiltInChatTemplateTests {
    /// The built-in Gemma 3 template is the fixture text byte for byte, so jinja2's renders of
    /// that file (templates/renders.json, TemplateFixtureTests) hold for it too.
    @Test func gemma3IsTheFixtureText() throws {
        let fixture = try String(contentsOf: TestResources.fixturesDirectory.appendingPathComponent("templates/gemma-3.jinja"), encoding: .utf8)
        for name in ["gemma3", "Gemma3ForCausalLM", "gemma3_text"] {
            let template = try #require(BuiltInChatTemplate.forArchitecture(name), "\(name)")
            #expect(template.name == "gemma-3" && template.source == fixture)
        }
        #expect(BuiltInChatTemplate.forArchitecture("llama") == nil)
        #expect(BuiltInChatTemplate.forArchitecture("qwen2") == nil)
    }

    /// No system role: the system message opens the first user turn; the assistant is "model";
    /// the prompt ends ready for the model's turn; roles must alternate.
    @Test func gemma3FoldsTheSystemMessageIntoTheFirstUserTurn() throws {
        let template = try ChatTemplate(source: BuiltInChatTemplate.gemma3.source, bosToken: "<bos>", eosToken: "<eos>")
        let messages = [
            ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: " Hi! "),
            ChatMessage(role: "assistant", content: "Hello."), ChatMessage(role: "user", content: "Bye"),
        ]
        #expect(try template.render(messages, addGenerationPrompt: true) == """
            <bos><start_of_turn>user
            Be brief.

            Hi!<end_of_turn>
            <start_of_turn>model
            Hello.<end_of_turn>
            <start_of_turn>user
            Bye<end_of_turn>
            <start_of_turn>model

            """)
        #expect(throws: ChatTemplateError.self) {
            try template.render([ChatMessage(role: "assistant", content: "x")], addGenerationPrompt: true)
        }
    }
}
