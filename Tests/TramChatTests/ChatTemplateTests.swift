import Foundation
import Testing
import TramChat
import TramTestSupport

/// Renders of the SmolLM2 template made by Python jinja2 the way Hugging Face renders chat
/// templates (`Tests/Fixtures/chat_smollm2.json`, scripts/reference/make_fixtures.py).
struct ChatFixture: Decodable {
    struct Case: Decodable {
        var messages: [ChatMessage]
        var add_generation_prompt: Bool
        var rendered: String
    }

    var template: String
    var cases: [Case]
}

@Suite struct ChatTemplateTests {
    let fixture: ChatFixture

    init() throws {
        fixture = try JSONDecoder().decode(ChatFixture.self, from: TestResources.fixture("chat_smollm2.json"))
    }

    @Test func rendersExactlyAsJinja2() throws {
        let template = try ChatTemplate(source: fixture.template)
        #expect(template.defaultSystemMessage == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(fixture.cases.count >= 8)
        for c in fixture.cases {
            #expect(template.render(c.messages, addGenerationPrompt: c.add_generation_prompt) == c.rendered)
        }
    }

    @Test func plainChatMLHasNoDefaultSystemMessage() throws {
        let source = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
        let template = try ChatTemplate(source: source)
        #expect(template.defaultSystemMessage == nil)
        #expect(template.render([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: true) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func refusesTemplatesItCannotRender() {
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(source: "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}") }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(source: "") }
    }
}
