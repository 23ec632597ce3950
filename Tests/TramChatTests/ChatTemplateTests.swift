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
        #expect(fixture.cases.count >= 8)
        for c in fixture.cases {
            #expect(try template.render(c.messages, addGenerationPrompt: c.add_generation_prompt) == c.rendered)
        }
    }

    @Test func plainChatMLHasNoDefaultSystemMessage() throws {
        let source = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
        let template = try ChatTemplate(source: source)
        #expect(try template.render([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: true) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func rendersOtherTemplatesAndReportsTheirErrors() throws {
        let inst = try ChatTemplate(source: "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}", bosToken: "<s>")
        #expect(try inst.render([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: true) == "<s>[INST] hi [/INST]")
        let strict = try ChatTemplate(source: "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation roles must start with user') }}{% endif %}ok")
        #expect(throws: ChatTemplateError.render("Conversation roles must start with user")) {
            try strict.render([ChatMessage(role: "assistant", content: "x")], addGenerationPrompt: false)
        }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(source: "") }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(source: "{% for m in messages %}unclosed") }
    }
}
