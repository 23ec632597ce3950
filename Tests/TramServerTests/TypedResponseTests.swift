import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TramServer
import TramTestSupport

/// The JSON shapes of responses and stream chunks stay those recorded from the server before
/// its responses became typed (`scripts/reference/record_responses.py` wrote
/// `Tests/Fixtures/responses/`): the same keys at every level and the same JSON types. Values
/// (ids, times, the model name, texts) may differ; key order is not compared (the recording
/// came from unordered dictionaries). Part of `OpenAIServerTests` (one model, serialised).
extension OpenAIServerTests {
    static let recordedResponses = ["completion", "completion_logprobs_echo", "completion_n2_prompt_logprobs", "completion_stop",
                                    "completion_stream", "chat", "chat_logprobs", "chat_stream", "error_bad_request"]

    /// A value's shape: objects keep their keys, arrays the set of their elements' shapes;
    /// objects keyed by tokens or token ids (logprob maps) keep only their values' shapes.
    static func shape(_ value: Any, key: String = "") -> String {
        switch value {
        case let object as [String: Any]:
            let isMap = key == "top_logprobs" || key == "prompt_logprobs[]" || (!object.isEmpty && object.keys.allSatisfy { Int($0) != nil })
            if isMap { return "map{" + Set(object.values.map { shape($0) }).sorted().joined(separator: "|") + "}" }
            return "{" + object.keys.sorted().map { "\($0):" + shape(object[$0]!, key: $0) }.joined(separator: ",") + "}"
        case let array as [Any]:
            return "[" + Set(array.map { shape($0, key: key + "[]") }).sorted().joined(separator: "|") + "]"
        case is NSNull: return "null"
        case is String: return "string"
        case let n as NSNumber: return String(cString: n.objCType) == "c" ? "bool" : "number"
        default: return "?"
        }
    }

    @Test(arguments: recordedResponses)
    func responsesKeepTheirRecordedShape(_ name: String) async throws {
        let fixture = try #require(try JSONSerialization.jsonObject(with: TestResources.fixture("responses/\(name).json")) as? [String: Any])
        let path = try #require(fixture["path"] as? String)
        let request = try JSONSerialization.data(withJSONObject: try #require(fixture["request"]))
        let recorded = try #require(fixture["response"])
        let streamed = recorded is [Any]
        let expected = Self.shape(recorded)
        try await withServer { client in
            let response = try await client.execute(uri: path, method: .post, body: ByteBuffer(bytes: request))
            let text = String(buffer: response.body)
            let now: Any
            if streamed {
                now = try text.split(separator: "\n").filter { $0.hasPrefix("data: {") }.map {
                    try JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8))
                }
                #expect(text.hasSuffix("data: [DONE]\n\n"))
            } else {
                now = try JSONSerialization.jsonObject(with: Data(text.utf8))
            }
            #expect(Self.shape(now) == expected, "\(name)")
        }
    }
}
