import Foundation
import TramEngine
import TramInput

/// One line of the output file.
struct BatchResult: Encodable {
    struct Completion: Encodable {
        var index: Int
        var text: String
        var token_ids: [Int]
        var finish_reason: String
        var stop_reason: StopValue?
        var logprobs: [Logprob]?
    }

    struct Logprob: Encodable {
        var token_id: Int
        var logprob: Float
        var rank: Int
        var top: [[String: Float]]
    }

    /// vLLM's `stop_reason`: the matched stop string, or the stop token id.
    enum StopValue: Encodable {
        case string(String), token(Int)
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .string(s): try c.encode(s)
            case let .token(t): try c.encode(t)
            }
        }
    }

    var line: Int
    var prompt: String?
    var prompt_token_count: Int
    var outputs: [Completion]
    var error: String?
}
